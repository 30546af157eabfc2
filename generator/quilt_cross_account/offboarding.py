"""Buckets leaving Quilt: `generate` compares the new config with the tree it generated before.

Dropping a bucket from `buckets` would make Terraform destroy its resources: DeleteBucketPolicy
removes the whole policy, the owner's merged statements included, and deleting the ownership
controls turns ACLs back on. So a bucket the previous tree managed may only disappear after a
run that marked it `leaving` (its policy back to the owner's statements, its Object Ownership
as chosen), and then its resources must be forgotten, not destroyed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from quilt_cross_account import cloudtrail
from quilt_cross_account.errors import ConfigError
from quilt_cross_account.model import DataAccountSetup

BUCKETS_KEY = "buckets"
LEAVING_KEY = "leaving"
TOPICS_KEY = "topics"  # topic ARN -> whether Quilt still used it (False: all its buckets left)
POLICY_MODE_KEY = "policy_mode"


@dataclass(frozen=True)
class Addresses:
    """Where a renderer puts a bucket's and a topic's resources, for `terraform state rm`."""

    bucket: Callable[[str], Sequence[str]]
    topic: Callable[[str], str]
    forget_policies: str  # how to make Terraform forget every bucket and topic policy


def record(model: DataAccountSetup) -> dict[str, Any]:
    """What the root's manifest remembers for the next run."""
    managed = model.policy_mode == "managed"
    return {
        BUCKETS_KEY: sorted(model.bucket_names),
        LEAVING_KEY: sorted(model.leaving_buckets),
        POLICY_MODE_KEY: model.policy_mode,
        TOPICS_KEY: {topic: bool(buckets) for topic, buckets in model.topics.items()}
        if managed
        else {},
        # Which trail logs each bucket, so the next run keeps them there.
        cloudtrail.TRAILS_KEY: cloudtrail.assignment_record(model.cloudtrail),
    }


def check_dropped(
    previous: Mapping[str, Any],
    model: DataAccountSetup,
    where: str,
    addresses: Addresses,
    force: bool = False,
) -> list[str]:
    """Notes for what left after a `leaving` run; ConfigError for anything else the previous
    tree (`where`) managed and this config would make Terraform delete: a bucket's policy and
    ownership, a topic's policy, every policy when `policy_mode` becomes statement-only. With
    `force` (the user has made Terraform forget them), notes instead of errors."""
    before = previous.get(BUCKETS_KEY)
    if not isinstance(before, list):
        return []  # a tree from before this check, or none
    left = set(previous.get(LEAVING_KEY) or [])
    dropped = [b for b in before if isinstance(b, str) and b not in set(model.bucket_names)]
    topics = previous.get(TOPICS_KEY)
    topics = topics if isinstance(topics, dict) else {}
    gone_topics = {t: used for t, used in topics.items() if t not in model.topics}
    escape = (
        f"if that tree was never applied, or Terraform has forgotten them (terraform state rm), "
        f"pass --force or delete {where}"
    )
    problems = [
        f"buckets: {bucket!r} was connected by the previous generate ({where}) and is not in "
        "this config; dropping it would make Terraform delete its whole bucket policy (the "
        "owner's statements too) and its Object Ownership setting. To offboard it, put it "
        "back with leaving = true in its table, generate and apply, then remove it "
        f"(README: Removing a bucket, leaving Quilt); {escape}"
        for bucket in dropped
        if bucket not in left
    ]
    problems += [
        f"buckets: the policy of SNS topic {topic!r} was managed by the previous generate "
        f"({where}) and no bucket of this config names it; dropping it would make Terraform "
        "reset the topic's policy to the default, the owner's statements too. Keep it on its "
        f"buckets with leaving = true for one apply, then remove them; {escape}"
        for topic, used in gone_topics.items()
        if used
    ]
    if previous.get(POLICY_MODE_KEY) == "managed" and model.policy_mode != "managed":
        problems.append(
            "policy_mode: the previous generate managed the bucket and topic policies; with "
            '"statement-only" Terraform would delete them, the owners\' statements too. First '
            f"make Terraform forget them: {addresses.forget_policies}; then {escape}"
        )
    if problems and not force:
        raise ConfigError(problems)
    notes = [f"--force: {problem}" for problem in problems]
    for bucket in dropped:
        forget = " ".join(f"'{address}'" for address in addresses.bucket(bucket))
        notes.append(
            f"{bucket!r} has left Quilt; before the next apply, make Terraform forget its "
            f"resources without deleting them: terraform state rm {forget}"
        )
    for topic in gone_topics:
        notes.append(
            f"the policy of topic {topic!r} is no longer managed; before the next apply: "
            f"terraform state rm '{addresses.topic(topic)}'"
        )
    return notes


def _module_bucket(bucket: str, module: str = "module.quilt_cross_account") -> list[str]:
    return [
        f'{module}.aws_s3_bucket_policy.this["{bucket}"]',
        f'{module}.aws_s3_bucket_ownership_controls.this["{bucket}"]',
    ]


# The generated root's module call, as `terraform state rm` takes its resources.
MODULE_ADDRESSES = Addresses(
    bucket=_module_bucket,
    topic=lambda topic: f'module.quilt_cross_account.aws_sns_topic_policy.this["{topic}"]',
    forget_policies="terraform state rm 'module.quilt_cross_account.aws_s3_bucket_policy.this' "
    "'module.quilt_cross_account.aws_sns_topic_policy.this'",
)
