"""Read a TOML config (plus CLI overrides), check every rule, and build the validated model.

Nothing here writes files: all problems are collected and raised together as `ConfigError`,
one line per problem, each naming its key and the rule it breaks.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from generator import domain, policy
from generator.cloudtrail import SelectorLimitError, plan_selectors
from generator.model import (
    AdvancedEventSelector,
    CloudTrail,
    DataResource,
    EventSelector,
    FieldSelector,
    QuiltCrossAccount,
)

EXAMPLE_CONFIG = "reference.toml"
MAX_BUCKETS = 10_000
MAX_CONTROL_ACCOUNTS = 1_000
MAX_TAGS = 50
MAX_FREE_TEXT = 1024


class ConfigError(Exception):
    """Every problem found in a config, each as 'key: rule'."""

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass
class Problems:
    items: list[str] = field(default_factory=list)

    def add(self, key: str, rule: str) -> None:
        self.items.append(f"{key}: {rule}")


# ---------------------------------------------------------------------------------------------
# Reading


def example_config_text() -> str:
    return resources.files("generator").joinpath("examples", EXAMPLE_CONFIG).read_text("utf-8")


def read_config(path: Path | None) -> tuple[dict[str, Any], Path | None]:
    """The raw TOML table, and the directory relative paths in it are resolved against."""
    if path is None:
        return _parse_toml(example_config_text(), f"<built-in {EXAMPLE_CONFIG}>"), None
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        raise ConfigError([f"--config: file {str(path)!r} does not exist"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"--config: cannot read {str(path)!r}: {exc}"]) from None
    return _parse_toml(text, str(path)), path.parent


def _parse_toml(text: str, origin: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"<toml>: {origin} is not valid TOML: {exc}"]) from None


def load(path: Path | None = None, overrides: Mapping[str, Any] | None = None) -> QuiltCrossAccount:
    raw, _ = read_config(path)
    raw.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return validate(raw)


# ---------------------------------------------------------------------------------------------
# Validation

TOP_LEVEL_KEYS = {
    "control_account_ids",
    "buckets",
    "partition",
    "region",
    "action_set",
    "tags",
    "cloudtrail",
}
CLOUDTRAIL_KEYS = {
    "mode",
    "trail_name",
    "create_log_bucket",
    "log_bucket_name",
    "selector_style",
    "read_write_type",
    "include_management_events",
    "is_multi_region_trail",
    "enable_log_file_validation",
    "kms_key_arn",
    "extra_event_selectors",
    "extra_advanced_event_selectors",
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
}
DEFAULT_REGION = "us-east-1"
FIELD_SELECTOR_KEYS = {"field", *FieldSelector.OPERATORS}


def validate(raw: Mapping[str, Any]) -> QuiltCrossAccount:
    """Check every rule, report all problems at once, and return the model."""
    p = Problems()
    _unknown_keys(p, "", raw, TOP_LEVEL_KEYS)

    accounts = _string_list(
        p, raw, "control_account_ids", required=True, limit=MAX_CONTROL_ACCOUNTS
    )
    for i, account in enumerate(accounts):
        if not re.fullmatch(domain.ACCOUNT_ID_PATTERN, account):
            p.add(f"control_account_ids[{i}]", f"{account!r} must be exactly 12 digits")
    _unique(p, "control_account_ids", accounts)

    buckets = _string_list(p, raw, "buckets", required=True, limit=MAX_BUCKETS)
    for i, bucket in enumerate(buckets):
        for rule in domain.bucket_name_problems(bucket):
            p.add(f"buckets[{i}]", f"{bucket!r} {rule}")
    _unique(p, "buckets", buckets)

    partition = _choice(p, raw, "partition", domain.PARTITIONS, "aws")
    region = _string(p, raw, "region", DEFAULT_REGION)
    if region and not re.fullmatch(domain.REGION_PATTERN, region):
        p.add("region", f"{region!r} is not an AWS region name such as 'us-east-1'")
    action_set = _choice(p, raw, "action_set", tuple(domain.ACTION_SETS), "reference")
    tags = _tags(p, raw.get("tags", {}))

    trail_raw = raw.get("cloudtrail", {})
    if not isinstance(trail_raw, Mapping):
        p.add("cloudtrail", "must be a table")
        trail_raw = {}
    cloudtrail = _cloudtrail(p, trail_raw, partition or "aws", buckets)

    if not p.items:
        actions = domain.ACTION_SETS[action_set]
        _check_policy_sizes(p, partition, accounts, actions, buckets)
    if p.items:
        raise ConfigError(p.items)
    assert cloudtrail is not None
    return QuiltCrossAccount(
        control_account_ids=tuple(accounts),
        bucket_names=tuple(buckets),
        partition=partition,
        region=region,
        action_set=action_set,
        actions=domain.ACTION_SETS[action_set],
        cloudtrail=cloudtrail,
        tags=tags,
    )


def _cloudtrail(
    p: Problems, raw: Mapping[str, Any], partition: str, buckets: Sequence[str]
) -> CloudTrail | None:
    _unknown_keys(p, "cloudtrail.", raw, CLOUDTRAIL_KEYS)
    d = CLOUDTRAIL_DEFAULTS
    key = "cloudtrail."
    mode = _choice(p, raw, "mode", domain.TRAIL_MODES, d["mode"], key)
    create_log_bucket = _bool(p, raw, "create_log_bucket", d["create_log_bucket"], key)
    trail_name = _string(p, raw, "trail_name", d["trail_name"], key)
    if trail_name and not _valid_trail_name(trail_name):
        p.add(
            "cloudtrail.trail_name",
            f"{trail_name!r} must be 3-128 letters, digits, '.', '_' or '-', start and end with a "
            "letter or digit, and have no adjacent '.', '_' or '-'",
        )
    log_bucket = _string(p, raw, "log_bucket_name", d["log_bucket_name"], key)
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
    style = _choice(p, raw, "selector_style", domain.SELECTOR_STYLES, d["selector_style"], key)
    rw = _choice(p, raw, "read_write_type", domain.READ_WRITE_TYPES, d["read_write_type"], key)
    management = _bool(p, raw, "include_management_events", d["include_management_events"], key)
    multi_region = _bool(p, raw, "is_multi_region_trail", d["is_multi_region_trail"], key)
    validation = _bool(p, raw, "enable_log_file_validation", d["enable_log_file_validation"], key)
    kms = _string(p, raw, "kms_key_arn", d["kms_key_arn"], key)
    if kms is not None and not re.fullmatch(domain.KMS_KEY_ARN_PATTERN, kms):
        p.add("cloudtrail.kms_key_arn", f"{kms!r} must be a KMS key or alias ARN")
    if kms is not None and mode != "create":
        p.add("cloudtrail.kms_key_arn", 'applies only when mode = "create"')
    extra_basic = _extra_event_selectors(p, raw.get("extra_event_selectors", []))
    extra_advanced = _extra_advanced_selectors(p, raw.get("extra_advanced_event_selectors", []))

    if p.items:
        return None
    selectors = None
    try:
        if mode != "none":
            selectors = plan_selectors(
                partition=partition,
                buckets=buckets,
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
        selectors=selectors,
    )


def _extra_event_selectors(p: Problems, raw: object) -> tuple[EventSelector, ...]:
    key = "cloudtrail.extra_event_selectors"
    selectors = []
    for i, item in enumerate(_table_list(p, key, raw)):
        at = f"{key}[{i}]"
        _unknown_keys(
            p, f"{at}.", item, {"read_write_type", "include_management_events", "data_resources"}
        )
        rw = _choice(p, item, "read_write_type", domain.READ_WRITE_TYPES, "All", f"{at}.")
        management = _bool(p, item, "include_management_events", False, f"{at}.")
        resources = []
        for j, res in enumerate(_table_list(p, f"{at}.data_resources", item.get("data_resources"))):
            rat = f"{at}.data_resources[{j}]"
            _unknown_keys(p, f"{rat}.", res, {"type", "values"})
            rtype = _string(p, res, "type", None, f"{rat}.")
            if rtype is None:
                p.add(f"{rat}.type", "is required")
            values = _string_list(p, res, "values", required=True, prefix=f"{rat}.")
            resources.append(DataResource(rtype or "", tuple(values)))
        if not resources and not management:
            p.add(at, "must have data_resources or include_management_events = true")
        selectors.append(EventSelector(rw, management, tuple(resources)))  # type: ignore[arg-type]
    return tuple(selectors)


def _extra_advanced_selectors(p: Problems, raw: object) -> tuple[AdvancedEventSelector, ...]:
    key = "cloudtrail.extra_advanced_event_selectors"
    selectors = []
    for i, item in enumerate(_table_list(p, key, raw)):
        at = f"{key}[{i}]"
        _unknown_keys(p, f"{at}.", item, {"name", "field_selectors"})
        name = _string(p, item, "name", None, f"{at}.")
        if name is None:
            p.add(f"{at}.name", "is required (it identifies the selector when merging)")
        fields = []
        for j, fs in enumerate(
            _table_list(p, f"{at}.field_selectors", item.get("field_selectors"))
        ):
            fat = f"{at}.field_selectors[{j}]"
            _unknown_keys(p, f"{fat}.", fs, FIELD_SELECTOR_KEYS)
            fname = _string(p, fs, "field", None, f"{fat}.")
            if fname is None:
                p.add(f"{fat}.field", "is required")
            ops = {
                op: tuple(_string_list(p, fs, op, prefix=f"{fat}."))
                for op in FieldSelector.OPERATORS
            }
            if not any(ops.values()):
                p.add(fat, f"needs at least one of {', '.join(FieldSelector.OPERATORS)}")
            fields.append(FieldSelector(fname or "", **ops))
        if not fields:
            p.add(f"{at}.field_selectors", "must have at least one field selector")
        selectors.append(AdvancedEventSelector(name or "", tuple(fields)))
    return tuple(selectors)


def _check_policy_sizes(
    p: Problems,
    partition: str,
    accounts: Sequence[str],
    actions: Sequence[str],
    buckets: Sequence[str],
) -> None:
    for i, bucket in enumerate(buckets):
        doc = policy.terraform_json(policy.bucket_policy(partition, accounts, actions, bucket))
        size = len(doc.encode("utf-8"))
        if size > domain.BUCKET_POLICY_MAX_BYTES:
            p.add(
                f"buckets[{i}]",
                f"the bucket policy of {bucket!r} would be {size} bytes, over the S3 limit of "
                f"{domain.BUCKET_POLICY_MAX_BYTES} bytes (fewer control_account_ids?)",
            )


def _limit_key(exc: SelectorLimitError, style: str, extra_basic: Sequence[EventSelector]) -> str:
    """The config key a user changes to fix a broken trail limit."""
    if exc.kind == "mixed":
        return "cloudtrail.extra_advanced_event_selectors"
    if exc.kind == "selectors":
        basic = "cloudtrail.extra_event_selectors"
        return basic if extra_basic else "cloudtrail.extra_advanced_event_selectors"
    return "buckets" if style == "auto" else "cloudtrail.selector_style"


def _valid_trail_name(name: str) -> bool:
    return bool(re.fullmatch(domain.TRAIL_NAME_PATTERN, name)) and not re.search(r"[._-]{2}", name)


# ---------------------------------------------------------------------------------------------
# Typed accessors: each records a problem (with the key) and returns a safe fallback.


def _unknown_keys(p: Problems, prefix: str, raw: Mapping[str, Any], known: set[str]) -> None:
    for k in raw:
        if k not in known:
            hint = difflib.get_close_matches(k, sorted(known), n=1)
            suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
            p.add(
                f"{prefix}{k}", f"unknown key{suggestion}; known keys: {', '.join(sorted(known))}"
            )


def _string(
    p: Problems, raw: Mapping[str, Any], key: str, default: str | None, prefix: str = ""
) -> Any:
    value = raw.get(key, default)
    if value is None:
        return None
    if not isinstance(value, str):
        p.add(f"{prefix}{key}", f"must be a string, not {_type_name(value)}")
        return default
    _free_text(p, f"{prefix}{key}", value)
    return value


def _bool(p: Problems, raw: Mapping[str, Any], key: str, default: bool, prefix: str = "") -> bool:
    value = raw.get(key, default)
    if not isinstance(value, bool):
        p.add(f"{prefix}{key}", f"must be true or false, not {_type_name(value)}")
        return default
    return value


def _choice(
    p: Problems,
    raw: Mapping[str, Any],
    key: str,
    choices: Sequence[str],
    default: str,
    prefix: str = "",
) -> Any:
    value = _string(p, raw, key, default, prefix)
    if value not in choices:
        p.add(f"{prefix}{key}", f"{value!r} must be one of {', '.join(map(repr, choices))}")
        return default
    return value


def _string_list(
    p: Problems,
    raw: Mapping[str, Any],
    key: str,
    *,
    required: bool = False,
    limit: int | None = None,
    prefix: str = "",
) -> list[str]:
    at = f"{prefix}{key}"
    value = raw.get(key)
    if value is None:
        if required:
            p.add(at, "is required (a list of strings)")
        return []
    if isinstance(value, str):
        value = [value]  # a lone string is an obvious one-element list
    if not isinstance(value, list):
        p.add(at, f"must be a list of strings, not {_type_name(value)}")
        return []
    if required and not value:
        p.add(at, "must not be empty")
    if limit is not None and len(value) > limit:
        p.add(at, f"has {len(value)} entries; at most {limit} are supported")
    strings = []
    for i, item in enumerate(value):
        if not isinstance(item, str):
            p.add(f"{at}[{i}]", f"must be a string, not {_type_name(item)}")
            continue
        _free_text(p, f"{at}[{i}]", item)
        strings.append(item)
    return strings


def _unique(p: Problems, key: str, values: Sequence[str]) -> None:
    seen: dict[str, int] = {}
    for i, v in enumerate(values):
        if v in seen:
            p.add(f"{key}[{i}]", f"{v!r} repeats {key}[{seen[v]}]; entries must be unique")
        else:
            seen[v] = i


def _table_list(p: Problems, key: str, value: object) -> list[Mapping[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        p.add(key, "must be a list of tables")
        return []
    return value


def _tags(p: Problems, value: object) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, Mapping):
        p.add("tags", f"must be a table of strings, not {_type_name(value)}")
        return ()
    if len(value) > MAX_TAGS:
        p.add("tags", f"has {len(value)} tags; AWS allows at most {MAX_TAGS}")
    tags = []
    for k, v in value.items():
        if not 1 <= len(k) <= 128:
            p.add(f"tags.{k}", "tag keys must be 1-128 characters")
        if k.lower().startswith("aws:"):
            p.add(f"tags.{k}", "tag keys must not start with the reserved prefix 'aws:'")
        if not isinstance(v, str):
            p.add(f"tags.{k}", f"must be a string, not {_type_name(v)}")
            continue
        if len(v) > 256:
            p.add(f"tags.{k}", "tag values must be at most 256 characters")
        _free_text(p, f"tags.{k}", k)
        _free_text(p, f"tags.{k}", v)
        tags.append((k, v))
    return tuple(sorted(tags))


def _free_text(p: Problems, key: str, text: str) -> None:
    # The only strings HCL cannot carry: lone surrogates (not UTF-8) and absurd lengths.
    if len(text) > MAX_FREE_TEXT:
        p.add(key, f"is {len(text)} characters long; at most {MAX_FREE_TEXT} are supported")
    if any(0xD800 <= ord(c) < 0xE000 for c in text):
        p.add(key, "contains a lone surrogate code point, which is not valid UTF-8")


def _type_name(value: object) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a table",
    }.get(type(value), type(value).__name__)
