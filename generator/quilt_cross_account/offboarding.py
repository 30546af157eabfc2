"""Buckets leaving Quilt: `generate` compares the new config with the tree it generated before.

Dropping a bucket from `buckets` would make Terraform destroy its resources: DeleteBucketPolicy
removes the whole policy, the owner's merged statements included, and deleting the ownership
controls turns ACLs back on. So a bucket the previous tree managed may only disappear after a
run that marked it `leaving` (its policy back to the owner's statements, its Object Ownership
as chosen), and then its resources must be forgotten, not destroyed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from quilt_cross_account.errors import ConfigError
from quilt_cross_account.model import DataAccountSetup

BUCKETS_KEY = "buckets"
LEAVING_KEY = "leaving"


def record(model: DataAccountSetup) -> dict[str, Any]:
    """What the root's manifest remembers for the next run."""
    return {BUCKETS_KEY: sorted(model.bucket_names), LEAVING_KEY: sorted(model.leaving_buckets)}


def check_dropped(
    previous: Mapping[str, Any],
    model: DataAccountSetup,
    where: str,
    addresses: Callable[[str], Sequence[str]],
) -> list[str]:
    """Notes for buckets that left after a `leaving` run; ConfigError for any other bucket the
    previous tree (`where`) managed and this config drops. `addresses` names a bucket's
    Terraform resource addresses, for the `terraform state rm` advice."""
    before = previous.get(BUCKETS_KEY)
    if not isinstance(before, list):
        return []  # a tree from before this check, or none
    left = set(previous.get(LEAVING_KEY) or [])
    dropped = [b for b in before if isinstance(b, str) and b not in set(model.bucket_names)]
    problems = [
        f"buckets: {bucket!r} was connected by the previous generate ({where}) and is not in "
        "this config; dropping it would make Terraform delete its whole bucket policy (the "
        "owner's statements too) and its Object Ownership setting. To offboard it, put it "
        "back with leaving = true in its table, generate and apply, then remove it "
        "(README: Removing a bucket, leaving Quilt); if that tree was never applied, delete "
        f"{where} instead"
        for bucket in dropped
        if bucket not in left
    ]
    if problems:
        raise ConfigError(problems)
    notes = []
    for bucket in dropped:
        forget = " ".join(f"'{address}'" for address in addresses(bucket))
        notes.append(
            f"{bucket!r} has left Quilt; before the next apply, make Terraform forget its "
            f"resources without deleting them: terraform state rm {forget}"
        )
    return notes


def module_addresses(bucket: str, module: str = "module.quilt_cross_account") -> list[str]:
    """A bucket's resources in the generated module, as `terraform state rm` takes them."""
    return [
        f'{module}.aws_s3_bucket_policy.this["{bucket}"]',
        f'{module}.aws_s3_bucket_ownership_controls.this["{bucket}"]',
    ]
