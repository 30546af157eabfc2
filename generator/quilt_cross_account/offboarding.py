"""Buckets leaving Quilt: `generate` compares the new config with the tree it generated before.

Dropping a bucket from `buckets` would make Terraform destroy its resources: DeleteBucketPolicy
removes the whole policy, the owner's merged statements included, and deleting the ownership
controls turns ACLs back on. So a bucket the previous tree managed may only disappear after a
run that marked it `leaving` (its policy back to the owner's statements, its Object Ownership
as chosen), and then its resources must be forgotten, not destroyed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from quilt_cross_account import cloudtrail
from quilt_cross_account.errors import ConfigError
from quilt_cross_account.model import DataAccountSetup, Fleet

BUCKETS_KEY = "buckets"
LEAVING_KEY = "leaving"
TOPICS_KEY = "topics"  # topic ARN -> whether Quilt still used it (False: all its buckets left)
POLICY_MODE_KEY = "policy_mode"
ACCOUNTS_KEY = "accounts"  # a fleet: account name -> its account id and its root's record
ACCOUNT_ID_KEY = "account_id"
FLEET_KEY = "data_accounts"


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
    now = set(model.bucket_names)
    dropped = [b for b in before if isinstance(b, str) and b not in now]
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


# ---------------------------------------------------------------------------------------------
# Fleets: one record per account root, and whole accounts leaving


def root_record(model: DataAccountSetup | Fleet) -> dict[str, Any]:
    """The generated roots' manifest: a single root's record, or one per fleet account."""
    if not isinstance(model, Fleet):
        return record(model)
    return {
        ACCOUNTS_KEY: {
            a.name: {ACCOUNT_ID_KEY: a.account_id, **record(a.setup)} for a in model.accounts
        }
    }


def check_roots(
    previous: Mapping[str, Any],
    model: DataAccountSetup | Fleet,
    root: str,
    addresses: Addresses,
    force: bool = False,
    directory_of: Callable[[str], str] | None = None,
    way_out: str = "pass --force",
) -> list[str]:
    """`check_dropped` for every root under `root` (one, or one per fleet account), and for
    roots that would disappear: an account left out of the fleet, a single root replaced by a
    fleet's or the other way round. ConfigError lists every account's problems at once.
    `directory_of`: where a fleet account's root (or stack) is, by its name; `way_out`: how
    this command goes on regardless."""
    directory_of = directory_of or (lambda name: f"{root}/{name}")
    accounts = previous.get(ACCOUNTS_KEY)
    accounts = accounts if isinstance(accounts, dict) else {}
    names = [a.name for a in model.accounts] if isinstance(model, Fleet) else []
    escape = (
        "if that root was never applied, or its state now lives elsewhere (terraform state mv, "
        f"or its resources are to stay as they are, unmanaged), {way_out}"
    )
    problems: list[str] = []
    notes: list[str] = []
    for name, before in sorted(accounts.items()):
        if name in names or not isinstance(before, dict):
            continue
        where = directory_of(name)
        buckets = before.get(BUCKETS_KEY) or []
        if buckets and set(buckets) <= set(before.get(LEAVING_KEY) or []):
            notes.append(
                f"account {name!r} has left Quilt: its root {where} is removed; its resources "
                "stay as its last apply left them"
            )
            continue
        problems.append(
            f"{FLEET_KEY}: account {name!r} ({before.get(ACCOUNT_ID_KEY)}) was generated by the "
            f"previous generate ({where}) and is not in this config; removing it deletes its "
            "root (with any Terraform state kept there) and leaves Quilt's policies, ownership "
            "settings and trail in that account unmanaged. To offboard it, keep its table with "
            "leaving = true on every bucket, generate and apply its root, then remove it; "
            f"{escape}"
        )
    if not isinstance(model, Fleet):
        if accounts:
            problems.append(
                f"{FLEET_KEY}: the previous generate wrote one root per data account under "
                f"{root} ({', '.join(sorted(accounts))}); this single-account config replaces "
                f"them with one root there. Keep the fleet config ({FLEET_KEY}), or {escape}"
            )
            if not force:
                raise ConfigError(problems)
            return [f"--force: {p}" for p in problems]
        return check_dropped(previous, model, root, addresses, force)
    if isinstance(previous.get(BUCKETS_KEY), list):
        problems.append(
            f"{FLEET_KEY}: the previous generate wrote a single-account root ({root}); this "
            f"fleet config replaces it with one root per account ({root}/<name>), so its "
            "main.tf and any Terraform state kept beside it go. Move that state into the "
            f"account's new root first (terraform state mv or init -migrate-state); then {escape}"
        )
    for i, account in enumerate(model.accounts):
        before = accounts.get(account.name)
        before = before if isinstance(before, dict) else {}
        where = directory_of(account.name)
        known = before.get(ACCOUNT_ID_KEY)
        if known is not None and known != account.account_id and not force:
            problems.append(
                f"{FLEET_KEY}[{i}].account_id: root {where} was generated for account {known}; "
                f"its state belongs there, not to {account.account_id}. Give the new account "
                "its own name, or pass --force if that root was never applied"
            )
            continue
        try:
            notes += check_dropped(before, account.setup, where, addresses, force)
        except ConfigError as exc:
            problems += [f"{FLEET_KEY}[{i}].{line}" for line in exc.problems]
    if problems and not force:
        raise ConfigError(problems)
    return [f"--force: {p}" for p in problems] + notes


def remember_trails(
    previous: Mapping[str, Any], model: DataAccountSetup | Fleet
) -> DataAccountSetup | Fleet:
    """The model with each root's buckets kept in the trails its previous run put them in
    (`previous`: the roots' manifest, a single root's record or one per fleet account)."""
    if not isinstance(model, Fleet):
        return cloudtrail.remembering(model, previous)
    accounts = previous.get(ACCOUNTS_KEY)
    accounts = accounts if isinstance(accounts, dict) else {}
    return dataclasses.replace(
        model,
        accounts=tuple(
            dataclasses.replace(
                a, setup=cloudtrail.remembering(a.setup, _record_of(accounts, a.name))
            )
            for a in model.accounts
        ),
    )


def _record_of(accounts: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    record = accounts.get(name)
    return record if isinstance(record, dict) else {}
