"""Provider-side checks of a configuration, with the real provider's (SDKv2) messages."""

from __future__ import annotations

import json
import re
from typing import Any

from tf.types import Unknown
from tf.utils import Diagnostics

from tests.standin.provider.gojson import normalize_json
from tests.standin.provider.values import AttrPath, Spec, block_items, child_path, dotted, known

ARN_RE = re.compile(r"^arn:[\w-]+:[\w-]*:[\w-]*:\d{0,12}:.+$")
IP_RE = re.compile(r"^(?:[0-9]{1,3}\.){3}[0-9]{1,3}$")


def bucket_name_errors(value: str) -> list[str]:
    """S3's naming rules for new general purpose buckets (the provider's DNS-compliant check)."""
    errors = []
    if not 3 <= len(value) <= 63:
        errors.append(f"{json.dumps(value)} must contain from 3 to 63 characters")
    if not re.fullmatch(r"[0-9a-z.-]+", value):
        errors.append(
            f"only lowercase alphanumeric characters and hyphens allowed in {json.dumps(value)}"
        )
    if IP_RE.match(value):
        errors.append(f"{json.dumps(value)} must not be formatted as an IP address")
    if value.startswith(".") or value.endswith("."):
        errors.append(f"{json.dumps(value)} cannot start or end with a period")
    if ".." in value:
        errors.append(f"{json.dumps(value)} can be only one period between labels")
    return errors


def string_errors(key: str, attr: Spec, value: str) -> list[str]:
    """SDKv2 ValidateFunc messages for one known string value."""
    errors = []
    if "allowed" in attr and value not in attr["allowed"]:
        allowed = " ".join(json.dumps(v) for v in attr["allowed"])
        errors.append(f"expected {key} to be one of [{allowed}], got {value}")
    if "length" in attr:
        low, high = attr["length"]
        if len(value) < low or (high is not None and len(value) > high):
            errors.append(
                f"expected length of {key} to be in the range ({low} - {high}), got {value}"
            )
    if "pattern" in attr and not re.search(attr["pattern"], value):
        errors.append(f"invalid value for {key} (must match {attr['pattern']})")
    if attr.get("json"):
        try:
            normalize_json(value)
        except ValueError as err:
            errors.append(f"{json.dumps(key)} contains an invalid JSON: {err}")
    if attr.get("bucket_name"):
        errors.extend(bucket_name_errors(value))
    if attr.get("arn") and not ARN_RE.match(value):
        errors.append(f"{json.dumps(key)} ({value}) is an invalid ARN")
    return errors


def validate_attribute(
    diags: Diagnostics, key: str, attr: Spec, value: Any, path: AttrPath
) -> None:
    if isinstance(value, list):
        if "max_items" in attr and len(value) > attr["max_items"]:
            diags.add_error(
                "Too many list items",
                f"Attribute supports {attr['max_items']} item maximum, "
                f"but config has {len(value)} declared.",
                path=path,
            )
        if "min_items" in attr and len(value) < attr["min_items"]:
            diags.add_error(
                "Not enough list items",
                f"Attribute requires {attr['min_items']} item minimum, "
                f"but config has only {len(value)} declared.",
                path=path,
            )
        strings = [(f"{key}.{i}", v) for i, v in enumerate(value) if isinstance(v, str)]
    else:
        strings = [(key, value)] if isinstance(value, str) else []
    for item_key, item in strings:
        for message in string_errors(item_key, attr, item):
            diags.add_error(message, path=path)


def validate_block(diags: Diagnostics, spec: Spec, value: dict, path: AttrPath | None) -> None:
    """Provider-side checks of a configuration block (core checks types and required-ness)."""
    validate_conflicts(diags, spec, value, path)
    for name, attr in spec["attributes"].items():
        if known(value.get(name)):
            attr_path = [*path, name] if path is not None else None
            validate_attribute(diags, dotted(attr_path, name), attr, value[name], attr_path)
    for name, nested in spec["block_types"].items():
        for step, element in block_items(nested, value.get(name)):
            validate_block(diags, nested["block"], element, child_path(path, name, step))


def validate_conflicts(diags: Diagnostics, spec: Spec, value: dict, path: AttrPath | None) -> None:
    """SDKv2 ConflictsWith, reported at the first of the two arguments."""
    members = {**spec["attributes"], **spec["block_types"]}
    for name, member in members.items():
        others = [o for o in member.get("conflicts_with", []) if _present(value.get(o))]
        if not others or not _present(value.get(name)):
            continue
        where = None
        if path is not None:
            # A block's own line is more useful than the enclosing resource's.
            first = [(0,)] if member.get("nesting_mode") == "list" else []
            where = [*path, name, *first]
        for other in others:
            diags.add_error(
                "Conflicting configuration arguments",
                f'"{name}": conflicts with {other}',
                path=where,
            )


def _present(value: Any) -> bool:
    """Set in the configuration; unknown values (e.g. dynamic blocks) are judged at plan."""
    return value is not Unknown and value not in (None, [], {}, "")
