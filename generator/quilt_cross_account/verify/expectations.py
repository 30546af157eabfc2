"""What the config says the live account should look like, from the validated model: the
single source both the checks and the reads work from."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from quilt_cross_account import domain, policy
from quilt_cross_account.model import DataAccountSetup, PolicyMode, ReadWriteType, TrailMode


@dataclass(frozen=True)
class BucketExpectation:
    name: str
    at: str  # the config key naming it, e.g. "buckets[2]"
    leaving: bool
    quilt_statement: dict[str, Any]
    owner_statements: tuple[dict[str, Any], ...]  # of its existing policy, Quilt's excluded
    # What `terraform apply` writes (managed mode); None: it deletes the policy.
    applied_policy: dict[str, Any] | None
    object_ownership: str


@dataclass(frozen=True)
class TrailExpectation:
    name: str
    ours: bool  # the module creates it (mode "create"); else the user's (mode "external")
    buckets: tuple[str, ...]  # the connected buckets whose data events it must log
    read_write_type: ReadWriteType
    is_multi_region_trail: bool
    enable_log_file_validation: bool
    log_bucket_name: str | None


@dataclass(frozen=True)
class LogBucketExpectation:
    name: str | None  # None: the trail's own bucket, learnt from the trail (mode "external")
    ours: bool  # the module creates it and writes its policy (create_log_bucket); else the
    # user's, perhaps in another (logging) account


@dataclass(frozen=True)
class TopicExpectation:
    arn: str
    at: str
    buckets: tuple[str, ...]
    owner_statements: tuple[dict[str, Any], ...]

    @property
    def region(self) -> str:
        return self.arn.split(":")[3]


@dataclass(frozen=True)
class KeyExpectation:
    arn: str
    at: str
    buckets: tuple[str, ...]

    @property
    def region(self) -> str:
        return self.arn.split(":")[3]


@dataclass(frozen=True)
class Expectations:
    partition: str
    control_account_ids: tuple[str, ...]
    policy_mode: PolicyMode
    trail_mode: TrailMode
    buckets: tuple[BucketExpectation, ...]
    trails: tuple[TrailExpectation, ...]
    log_bucket: LogBucketExpectation | None
    topics: tuple[TopicExpectation, ...]
    keys: tuple[KeyExpectation, ...]

    @property
    def bucket_count(self) -> int:
        return len(self.buckets)


def expect(model: DataAccountSetup) -> Expectations:
    p, accounts = model.partition, model.control_account_ids
    positions = {bucket.name: i for i, bucket in enumerate(model.buckets)}
    buckets = []
    for i, bucket in enumerate(model.buckets):
        existing = None if bucket.existing_policy is None else json.loads(bucket.existing_policy)
        owners = tuple(
            s for s in policy.statements_of(existing or {"Statement": []})
            if s.get("Sid") != domain.QUILT_SID
        )  # fmt: skip
        buckets.append(
            BucketExpectation(
                name=bucket.name,
                at=f"buckets[{i}]",
                leaving=bucket.leaving,
                quilt_statement=policy.quilt_statement(p, accounts, model.actions, bucket.name),
                owner_statements=owners,
                applied_policy=policy.applied_bucket_policy(
                    p, accounts, model.actions, bucket.name, bucket.existing_policy, bucket.leaving
                ),
                object_ownership=(
                    bucket.object_ownership_after if bucket.leaving else domain.OBJECT_OWNERSHIP
                ),
            )
        )
    trail = model.cloudtrail
    connected = tuple(b.name for b in model.connected)
    trails: tuple[TrailExpectation, ...] = ()
    log_bucket = None
    if trail.mode != "none":
        # One expectation per trail the buckets are sharded over, each with its own buckets.
        shards = [(s.name, s.buckets) for s in trail.shards] or [(trail.trail_name, connected)]
        trails = tuple(
            TrailExpectation(
                name=name,
                ours=trail.mode == "create",
                buckets=names,
                read_write_type=trail.read_write_type,
                is_multi_region_trail=trail.is_multi_region_trail,
                enable_log_file_validation=trail.enable_log_file_validation,
                log_bucket_name=trail.log_bucket_name,
            )
            for name, names in shards
        )
        log_bucket = LogBucketExpectation(trail.log_bucket_name, trail.creates_log_bucket)
    elif trail.log_bucket_name is not None:
        log_bucket = LogBucketExpectation(trail.log_bucket_name, False)
    existing_topics = dict(model.topic_policies)
    topics = tuple(
        TopicExpectation(
            arn=arn,
            at=f"buckets[{_first(positions, model, lambda b, a=arn: b.sns_topic_arn == a)}]"
            ".sns_topic_arn",
            buckets=tuple(names),
            owner_statements=tuple(
                s
                for s in policy.statements_of(
                    json.loads(existing_topics[arn])
                    if arn in existing_topics
                    else {"Statement": []}
                )
                if s.get("Sid") not in domain.SNS_QUILT_SIDS
            ),
        )
        for arn, names in model.topics.items()
    )
    key_buckets: dict[str, list[str]] = {}
    for bucket in model.connected:
        if bucket.kms_key_arn is not None:
            key_buckets.setdefault(bucket.kms_key_arn, []).append(bucket.name)
    keys = tuple(
        KeyExpectation(
            arn=arn,
            at=f"buckets[{positions[names[0]]}].kms_key_arn",
            buckets=tuple(names),
        )
        for arn, names in sorted(key_buckets.items())
    )
    return Expectations(
        partition=p,
        control_account_ids=accounts,
        policy_mode=model.policy_mode,
        trail_mode=trail.mode,
        buckets=tuple(buckets),
        trails=trails,
        log_bucket=log_bucket,
        topics=topics,
        keys=keys,
    )


def _first(positions: dict[str, int], model: DataAccountSetup, wanted: Any) -> int:
    return min(positions[b.name] for b in model.buckets if wanted(b))
