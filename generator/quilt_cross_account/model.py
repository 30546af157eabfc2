"""The validated model: what every renderer takes. Built only by `generator.config`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

SelectorStyle = Literal["auto", "basic", "advanced"]
ReadWriteType = Literal["All", "ReadOnly", "WriteOnly"]
TrailMode = Literal["create", "external", "none"]
PolicyMode = Literal["managed", "statement-only"]


@dataclass(frozen=True)
class DataResource:
    """A basic event selector's `data_resource` block."""

    type: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class EventSelector:
    """A basic event selector."""

    read_write_type: ReadWriteType
    include_management_events: bool
    data_resources: tuple[DataResource, ...] = ()


@dataclass(frozen=True)
class FieldSelector:
    """One condition of an advanced event selector; only the operators we emit or accept."""

    field: str
    equals: tuple[str, ...] = ()
    not_equals: tuple[str, ...] = ()
    starts_with: tuple[str, ...] = ()
    not_starts_with: tuple[str, ...] = ()
    ends_with: tuple[str, ...] = ()
    not_ends_with: tuple[str, ...] = ()

    # The same operators as the CloudTrail API names them.
    API_NAMES = {
        "equals": "Equals",
        "not_equals": "NotEquals",
        "starts_with": "StartsWith",
        "not_starts_with": "NotStartsWith",
        "ends_with": "EndsWith",
        "not_ends_with": "NotEndsWith",
    }
    OPERATORS = tuple(API_NAMES)

    def value_count(self) -> int:
        return sum(len(getattr(self, op)) for op in self.OPERATORS)


@dataclass(frozen=True)
class AdvancedEventSelector:
    name: str
    field_selectors: tuple[FieldSelector, ...]

    def value_count(self) -> int:
        return sum(f.value_count() for f in self.field_selectors)


@dataclass(frozen=True)
class SelectorPlan:
    """The selectors a trail needs: exactly one of the two tuples is non-empty."""

    style: Literal["basic", "advanced"]
    event_selectors: tuple[EventSelector, ...] = ()
    advanced_event_selectors: tuple[AdvancedEventSelector, ...] = ()


@dataclass(frozen=True)
class TrailShard:
    """One trail of the buckets' data events: trail 1 is `trail_name` (and alone keeps the extra
    selectors and management events), trail n > 1 is `<trail_name>-<n>`."""

    number: int
    name: str
    buckets: tuple[str, ...]
    selectors: SelectorPlan


@dataclass(frozen=True)
class CloudTrail:
    mode: TrailMode
    trail_name: str
    create_log_bucket: bool
    log_bucket_name: str | None
    selector_style: SelectorStyle
    read_write_type: ReadWriteType
    include_management_events: bool
    is_multi_region_trail: bool
    enable_log_file_validation: bool
    kms_key_arn: str | None
    extra_event_selectors: tuple[EventSelector, ...]
    extra_advanced_event_selectors: tuple[AdvancedEventSelector, ...]
    selectors: SelectorPlan | None  # the first trail's; None in mode "none": nothing to log
    # Every trail, the first one first (empty in mode "none"); each connected bucket in one.
    shards: tuple[TrailShard, ...] = ()

    @property
    def create_trail(self) -> bool:
        return self.mode == "create"

    @property
    def trail_shards(self) -> dict[str, int]:
        """Bucket -> trail number for the buckets of trails after the first (the module's
        `trail_shards` input), in the buckets' order."""
        return {b: s.number for s in self.shards[1:] for b in s.buckets}

    @property
    def creates_log_bucket(self) -> bool:
        return self.mode == "create" and self.create_log_bucket


@dataclass(frozen=True)
class Bucket:
    """A data bucket and its per-bucket options."""

    name: str
    existing_policy: str | None = None  # canonical JSON of its current policy, to merge with
    sns_topic_arn: str | None = None  # the topic receiving its event notifications
    kms_key_arn: str | None = None  # the customer-managed key encrypting it
    # Leaving Quilt: its policy goes back to the owner's statements alone and its Object
    # Ownership becomes `object_ownership_after` (unchanged by default); nothing else of ours.
    leaving: bool = False
    object_ownership_after: str = "BucketOwnerEnforced"


@dataclass(frozen=True)
class DataAccountSetup:
    """Everything needed to connect Quilt in the control account(s) to the data buckets."""

    control_account_ids: tuple[str, ...]
    buckets: tuple[Bucket, ...]
    partition: str
    region: str
    action_set: str
    actions: tuple[str, ...]
    cloudtrail: CloudTrail
    tags: tuple[tuple[str, str], ...] = ()
    # managed: the module owns each bucket policy; statement-only: it outputs Quilt's statement.
    policy_mode: PolicyMode = "managed"
    # The files the config named and validation read (not part of what is rendered): a run
    # must never delete them, even with --force.
    input_files: tuple[Path, ...] = field(default=(), compare=False)
    # Topic ARN -> canonical JSON of the topic's current policy, to merge with (sorted by ARN).
    topic_policies: tuple[tuple[str, str], ...] = ()

    @property
    def bucket_names(self) -> tuple[str, ...]:
        """Every bucket the module manages, leaving ones included."""
        return tuple(b.name for b in self.buckets)

    @property
    def connected(self) -> tuple[Bucket, ...]:
        """The buckets Quilt uses: not leaving."""
        return tuple(b for b in self.buckets if not b.leaving)

    @property
    def leaving_buckets(self) -> dict[str, str]:
        """Leaving bucket -> the Object Ownership it is left with (the module's input)."""
        return {b.name: b.object_ownership_after for b in self.buckets if b.leaving}

    # The per-bucket options as the module's map inputs take them: bucket name -> value for the
    # buckets that have one, sorted by name.
    @property
    def existing_policies(self) -> dict[str, str]:
        return _by_name((b.name, b.existing_policy) for b in self.buckets)

    @property
    def sns_topic_arns(self) -> dict[str, str]:
        return _by_name((b.name, b.sns_topic_arn) for b in self.connected)

    @property
    def topics(self) -> dict[str, list[str]]:
        """Topic ARN -> the connected buckets publishing to it, for every topic of any bucket
        (leaving buckets' topics with no buckets), sorted by ARN."""
        topics: dict[str, list[str]] = {}
        for bucket in self.buckets:
            if bucket.sns_topic_arn is not None:
                names = topics.setdefault(bucket.sns_topic_arn, [])
                if not bucket.leaving:
                    names.append(bucket.name)
        return {topic: sorted(names) for topic, names in sorted(topics.items())}

    @property
    def kms_key_arns(self) -> dict[str, str]:
        return _by_name((b.name, b.kms_key_arn) for b in self.connected)


def _by_name(pairs: Iterable[tuple[str, str | None]]) -> dict[str, str]:
    return {name: value for name, value in sorted(pairs) if value is not None}


@dataclass(frozen=True)
class DataAccount:
    """One data account of a fleet: its own root (or stack), provider and credentials."""

    name: str  # its directory and stack name
    account_id: str  # what its provider pins (`allowed_account_ids`)
    setup: DataAccountSetup
    role_arn: str | None = None  # the role its provider (and import-policies) assumes
    profile: str | None = None  # the AWS profile import-policies reads it with

    @property
    def region(self) -> str:
        return self.setup.region


@dataclass(frozen=True)
class Fleet:
    """Many data accounts connected to the same control account(s): one root each."""

    accounts: tuple[DataAccount, ...]
    # The config and every file its accounts read: a run must never delete them.
    input_files: tuple[Path, ...] = field(default=(), compare=False)
