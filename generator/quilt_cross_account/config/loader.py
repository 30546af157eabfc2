"""Read a TOML config (plus CLI overrides), check every rule, and build the validated model.

Nothing here writes files: all problems are collected and raised together as `ConfigError`,
one line per problem, each naming its key and the rule it breaks.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from quilt_cross_account import domain, files, policy
from quilt_cross_account.cloudtrail import SelectorLimitError, plan_trails
from quilt_cross_account.config import bucket_tables, documents, fields, selector_tables
from quilt_cross_account.config.fields import Problems
from quilt_cross_account.config.locations import DEFAULT_POLICIES_DIR, Locations
from quilt_cross_account.errors import ConfigError
from quilt_cross_account.model import (
    Bucket,
    CloudTrail,
    DataAccountSetup,
    EventSelector,
    TrailShard,
)

__all__ = ["ConfigError", "load", "read_config", "validate", "example_config_text"]

EXAMPLE_CONFIG = "reference.toml"
FLEET_KEY = "data_accounts"  # a fleet config's account tables (config.fleet)
MAX_CONTROL_ACCOUNTS = 1_000
_TAG_CHARS = (
    f"only letters, numbers, spaces and {' '.join(domain.TAG_PUNCTUATION)} (AWS's tag rule)"
)
DEFAULT_REGION = "us-east-1"
# Without `region`, a region of the config's partition.
DEFAULT_REGIONS = {"aws": DEFAULT_REGION, "aws-us-gov": "us-gov-west-1", "aws-cn": "cn-north-1"}

TOP_LEVEL_KEYS = {
    "control_account_ids",
    "buckets",
    "partition",
    "region",
    "action_set",
    "grant_notification_actions",
    "policy_mode",
    "existing_policies_dir",
    "tags",
    "cloudtrail",
}
CLOUDTRAIL_DEFAULTS: dict[str, Any] = {
    "mode": "create",
    "trail_name": "quilt-data-events",
    "create_log_bucket": True,
    "log_bucket_name": None,
    "selector_style": "auto",
    "read_write_type": "All",
    "include_management_events": False,
    "is_multi_region_trail": True,
    "enable_log_file_validation": True,
    "kms_key_arn": None,
    "extra_event_selectors": [],
    "extra_advanced_event_selectors": [],
    "existing_selectors_file": None,
}


# ---------------------------------------------------------------------------------------------
# Reading


def example_config_text() -> str:
    return (
        resources.files("quilt_cross_account")
        .joinpath("examples", EXAMPLE_CONFIG)
        .read_text("utf-8")
    )


def read_config(path: Path | None) -> tuple[dict[str, Any], Path | None]:
    """The raw TOML table, and the directory relative paths in it are resolved against."""
    if path is None:
        return _parse_toml(example_config_text(), f"<built-in {EXAMPLE_CONFIG}>"), None
    try:
        text = files.read_text(path, documents.MAX_CONFIG_BYTES)
    except files.UnreadableFile as exc:
        raise ConfigError([f"--config: file {str(path)!r} {exc}"]) from None
    return _parse_toml(text, str(path)), path.parent


def _parse_toml(text: str, origin: str) -> dict[str, Any]:
    try:
        return documents.parse_toml(text)
    except documents.DocumentError as exc:
        raise ConfigError([f"<toml>: {origin} {exc}"]) from None


def load(
    path: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    notes: list[str] | None = None,
) -> DataAccountSetup:
    """The validated model of a config with CLI overrides; `notes` collects what a user should
    know about how the overrides were applied."""
    raw, base_dir = read_config(path)
    return from_raw(raw, base_dir, path, overrides, notes)


def from_raw(
    raw: dict[str, Any],
    base_dir: Path | None,
    path: Path | None,
    overrides: Mapping[str, Any] | None = None,
    notes: list[str] | None = None,
) -> DataAccountSetup:
    """`load` of a config already read from `path`."""
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    if "buckets" in overrides:
        overrides["buckets"] = _bucket_overrides(raw.get("buckets"), overrides["buckets"], notes)
    raw.update(overrides)
    model = validate(raw, base_dir)
    if path is None:
        return model
    return dataclasses.replace(model, input_files=(path, *model.input_files))


def _bucket_overrides(
    configured: object, names: Sequence[str], notes: list[str] | None
) -> list[object]:
    """`--bucket` names with the config's own table for each bucket it describes (its existing
    policy, topic, key): replacing the list must not drop what the owner configured."""
    listed = configured if isinstance(configured, list) else []
    tables = {item.get("name"): item for item in listed if isinstance(item, Mapping)}
    chosen: list[object] = []
    for name in names:
        chosen.append(tables.get(name, name))
        if name not in tables and name not in listed and notes is not None:
            notes.append(f"--bucket {name}: not in the config; no per-bucket options")
    return chosen


# ---------------------------------------------------------------------------------------------
# Validation


def validate(
    raw: Mapping[str, Any],
    base_dir: Path | None = None,
    *,
    read_files: bool = True,
    problems: Problems | None = None,
    default_policies_dir: str = DEFAULT_POLICIES_DIR,
) -> DataAccountSetup:
    """Check every rule, report all problems at once, and return the model.

    Relative paths in the config (policy files) are resolved against `base_dir`. With
    `read_files` false, the policy and selector files are not read (`import-policies` checks
    the config before it writes them). `problems` and `default_policies_dir` are a fleet
    account's (config.fleet): its keys named under its table, its own policies directory.
    """
    p = problems if problems is not None else Problems()
    if FLEET_KEY in raw:
        raise ConfigError([f"{FLEET_KEY}: a fleet config; load it with config.load_any"])
    fields.unknown_keys(p, "", raw, TOP_LEVEL_KEYS)

    accounts = fields.string_list(
        p, raw, "control_account_ids", required=True, limit=MAX_CONTROL_ACCOUNTS
    )
    for i, account in enumerate(accounts):
        if not re.fullmatch(domain.ACCOUNT_ID_PATTERN, account):
            p.add(f"control_account_ids[{i}]", f"{account!r} must be exactly 12 digits")
    fields.unique(p, "control_account_ids", accounts)

    partition = fields.choice(p, raw, "partition", domain.PARTITIONS, "aws")
    region = fields.string(p, raw, "region", DEFAULT_REGIONS.get(partition, DEFAULT_REGION))
    if region is not None and not re.fullmatch(domain.REGION_PATTERN, region):
        p.add("region", f"{region!r} is not an AWS region name such as 'us-east-1'")
    elif region is not None and domain.region_partition(region) != partition:
        p.add(
            "region",
            f"{region!r} is in partition {domain.region_partition(region)!r}, not {partition!r}",
        )
    action_set = fields.choice(p, raw, "action_set", tuple(domain.ACTION_SETS), "reference")
    notifications = fields.boolean(p, raw, "grant_notification_actions", True)
    actions = tuple(
        a
        for a in domain.ACTION_SETS[action_set]
        if notifications or a not in domain.NOTIFICATION_ACTIONS
    )
    policy_mode = fields.choice(p, raw, "policy_mode", domain.POLICY_MODES, "managed")
    policies_dir = fields.path(p, raw, "existing_policies_dir")
    locations = Locations(base_dir, policies_dir, default_policies_dir) if read_files else None
    buckets = bucket_tables.parse(p, raw, partition, locations)
    if policy_mode == "statement-only" and (buckets.existing_policies or buckets.topic_policies):
        merged = sorted(buckets.existing_policies) + sorted(buckets.topic_policies)
        p.add(
            "policy_mode",
            '"statement-only" leaves each bucket and topic policy to you, so existing policies '
            f"({', '.join(merged)}) cannot be merged here; "
            'remove them or use "managed"',
        )
    tags = _tags(p, raw.get("tags", {}))
    trail_raw = fields.table(p, "cloudtrail", raw.get("cloudtrail", {}))
    connected = [name for name in buckets.names if name not in buckets.leaving]
    cloudtrail = _cloudtrail(p, trail_raw, partition, buckets.names, connected, locations)

    if not p.items and policy_mode == "managed":
        _check_policy_sizes(p, partition, accounts, actions, buckets)
    if not p.items and cloudtrail is not None and cloudtrail.creates_log_bucket:
        _check_log_bucket_policy_size(p, partition, accounts, cloudtrail)
    if p.items:
        raise ConfigError(p.items)
    assert cloudtrail is not None
    return DataAccountSetup(
        control_account_ids=tuple(accounts),
        buckets=tuple(
            Bucket(
                name,
                existing_policy=buckets.existing_policies.get(name),
                sns_topic_arn=buckets.sns_topic_arns.get(name),
                kms_key_arn=buckets.kms_key_arns.get(name),
                leaving=name in buckets.leaving,
                object_ownership_after=buckets.leaving.get(name, domain.OBJECT_OWNERSHIP),
            )
            for name in buckets.names
        ),
        partition=partition,
        region=region,
        action_set=action_set,
        actions=actions,
        cloudtrail=cloudtrail,
        tags=tags,
        policy_mode=policy_mode,
        input_files=tuple(p.files_read),
        topic_policies=tuple(sorted(buckets.topic_policies.items())),
    )


def _cloudtrail(
    p: Problems,
    raw: Mapping[str, Any],
    partition: str,
    buckets: Sequence[str],
    connected: Sequence[str],
    locations: Locations | None,
) -> CloudTrail | None:
    key = "cloudtrail."
    fields.unknown_keys(p, key, raw, set(CLOUDTRAIL_DEFAULTS))
    d = CLOUDTRAIL_DEFAULTS
    mode = fields.choice(p, raw, "mode", domain.TRAIL_MODES, d["mode"], key)
    create_log_bucket = fields.boolean(p, raw, "create_log_bucket", d["create_log_bucket"], key)
    trail_name = fields.string(p, raw, "trail_name", d["trail_name"], key)
    if trail_name and not _valid_trail_name(trail_name):
        p.add(
            "cloudtrail.trail_name",
            f"{trail_name!r} must be 3-128 letters, digits, '.', '_' or '-', start and end with a "
            "letter or digit, and have no adjacent '.', '_' or '-'",
        )
    log_bucket = fields.string(p, raw, "log_bucket_name", d["log_bucket_name"], key)
    if log_bucket is not None:
        for rule in domain.bucket_name_problems(log_bucket):
            p.add("cloudtrail.log_bucket_name", f"{log_bucket!r} {rule}")
        if log_bucket in buckets:
            p.add(
                "cloudtrail.log_bucket_name",
                f"{log_bucket!r} is also a data bucket; CloudTrail logs need a bucket of their own",
            )
    elif mode == "create":
        p.add("cloudtrail.log_bucket_name", 'is required when mode = "create"')
    style = fields.choice(
        p, raw, "selector_style", domain.SELECTOR_STYLES, d["selector_style"], key
    )
    rw = fields.choice(
        p, raw, "read_write_type", domain.READ_WRITE_TYPES, d["read_write_type"], key
    )
    management = fields.boolean(
        p, raw, "include_management_events", d["include_management_events"], key
    )
    multi_region = fields.boolean(p, raw, "is_multi_region_trail", d["is_multi_region_trail"], key)
    validation = fields.boolean(
        p, raw, "enable_log_file_validation", d["enable_log_file_validation"], key
    )
    kms = fields.string(p, raw, "kms_key_arn", d["kms_key_arn"], key)
    if kms is not None and not re.fullmatch(domain.KMS_KEY_ARN_PATTERN, kms):
        p.add("cloudtrail.kms_key_arn", f"{kms!r} must be a KMS key or alias ARN")
    elif kms is not None and kms.split(":")[1] != partition:
        p.add("cloudtrail.kms_key_arn", f"{kms!r} is not in partition {partition!r}")
    if kms is not None and mode != "create":
        p.add("cloudtrail.kms_key_arn", 'applies only when mode = "create"')
    extra_basic = selector_tables.event_selectors(p, raw.get("extra_event_selectors"))
    extra_advanced = selector_tables.advanced_selectors(
        p, raw.get("extra_advanced_event_selectors")
    )
    selectors_file = fields.path(p, raw, "existing_selectors_file", key)
    # The trail's own selectors (saved by import-policies): merged, so that the hand-off, which
    # replaces all of the trail's selectors, keeps them.
    saved = locations.selectors_file(selectors_file) if locations is not None else None
    if saved is not None and (saved.named or (mode == "external" and os.path.lexists(saved.path))):
        basic, advanced = selector_tables.from_api_file(p, saved.path, saved.key)
        extra_basic, extra_advanced = extra_basic + basic, extra_advanced + advanced

    if buckets and not connected and mode != "none":
        p.add(
            "cloudtrail.mode",
            f'every bucket is leaving, so the trail has nothing to log: set mode = "none" '
            f"(mode = {mode!r})",
        )
    if p.items:
        return None
    shards: tuple[TrailShard, ...] = ()
    try:
        if mode != "none":
            shards = plan_trails(
                partition=partition,
                trail_name=trail_name,
                buckets=connected,
                style=style,
                read_write_type=rw,
                include_management_events=management,
                extra_event_selectors=extra_basic,
                extra_advanced_event_selectors=extra_advanced,
            )
    except SelectorLimitError as exc:
        p.add(_limit_key(exc, style, extra_basic), f"{exc} (mode = {mode!r})")
        return None
    return CloudTrail(
        mode=mode,
        trail_name=trail_name,
        create_log_bucket=create_log_bucket,
        log_bucket_name=log_bucket,
        selector_style=style,
        read_write_type=rw,
        include_management_events=management,
        is_multi_region_trail=multi_region,
        enable_log_file_validation=validation,
        kms_key_arn=kms,
        extra_event_selectors=extra_basic,
        extra_advanced_event_selectors=extra_advanced,
        selectors=shards[0].selectors if shards else None,
        shards=shards,
    )


def _check_policy_sizes(
    p: Problems,
    partition: str,
    accounts: Sequence[str],
    actions: Sequence[str],
    buckets: bucket_tables.Buckets,
) -> None:
    plain_size = policy.quilt_policy_size(partition, accounts, actions)
    for i, bucket in enumerate(buckets.names):
        existing = buckets.existing_policies.get(bucket)
        leaving = bucket in buckets.leaving
        if existing is None:
            size = 0 if leaving else plain_size(bucket)
        else:
            doc = policy.applied_bucket_policy(
                partition, accounts, actions, bucket, existing, leaving=leaving
            )
            size = len(policy.terraform_json(doc).encode("utf-8")) if doc else 0
        if size > domain.BUCKET_POLICY_MAX_BYTES:
            p.add(
                f"buckets[{i}]",
                f"the bucket policy of {bucket!r} would be {size} bytes, over the S3 limit of "
                f"{domain.BUCKET_POLICY_MAX_BYTES} bytes (fewer control_account_ids?)",
            )


def _check_log_bucket_policy_size(
    p: Problems, partition: str, accounts: Sequence[str], trail: CloudTrail
) -> None:
    # It names the control accounts twice and the data account (12 digits, known at plan).
    assert trail.log_bucket_name is not None
    doc = policy.log_bucket_policy(
        partition, accounts, trail.log_bucket_name, "0" * 12, [s.name for s in trail.shards]
    )
    size = len(policy.terraform_json(doc).encode("utf-8"))
    if size > domain.BUCKET_POLICY_MAX_BYTES:
        p.add(
            "control_account_ids",
            f"the log bucket's policy would be {size} bytes, over the S3 limit of "
            f"{domain.BUCKET_POLICY_MAX_BYTES} bytes (fewer control_account_ids, or "
            "create_log_bucket = false with a log bucket managed elsewhere)",
        )


def _limit_key(exc: SelectorLimitError, style: str, extra_basic: Sequence[EventSelector]) -> str:
    """The config key a user changes to fix a broken trail limit."""
    if exc.kind == "mixed":
        return "cloudtrail.extra_advanced_event_selectors"
    if exc.kind == "trail_name":
        return "cloudtrail.trail_name"
    if exc.kind == "trails":
        return "buckets"
    if exc.kind == "style":
        return "cloudtrail.selector_style"
    if exc.kind == "selectors":
        basic = "cloudtrail.extra_event_selectors"
        return basic if extra_basic else "cloudtrail.extra_advanced_event_selectors"
    return "buckets" if style == "auto" else "cloudtrail.selector_style"


def _valid_trail_name(name: str) -> bool:
    return bool(re.fullmatch(domain.TRAIL_NAME_PATTERN, name)) and not re.search(r"[._-]{2}", name)


def _tags(p: Problems, value: object) -> tuple[tuple[str, str], ...]:
    value = fields.table(p, "tags", value)
    if len(value) > domain.MAX_TAGS:
        p.add("tags", f"has {len(value)} tags; AWS allows at most {domain.MAX_TAGS}")
    tags = []
    for k, v in value.items():
        if not 1 <= len(k) <= domain.TAG_KEY_MAX:
            p.add(f"tags.{k}", f"tag keys must be 1-{domain.TAG_KEY_MAX} characters")
        if k.lower().startswith(domain.TAG_RESERVED_PREFIX):
            p.add(f"tags.{k}", "tag keys must not start with the reserved prefix 'aws:'")
        if not domain.tag_text_ok(k):
            p.add(f"tags.{k}", f"tag keys may hold {_TAG_CHARS}")
        if not isinstance(v, str):
            p.add(f"tags.{k}", f"must be a string, not {fields.type_name(v)}")
            continue
        if len(v) > domain.TAG_VALUE_MAX:
            p.add(f"tags.{k}", f"tag values must be at most {domain.TAG_VALUE_MAX} characters")
        if not domain.tag_text_ok(v):
            p.add(f"tags.{k}", f"tag values may hold {_TAG_CHARS}")
        fields.free_text(p, f"tags.{k}", k)
        fields.free_text(p, f"tags.{k}", v)
        tags.append((k, v))
    return tuple(sorted(tags))
