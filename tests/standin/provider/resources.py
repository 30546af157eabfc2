"""Resource behaviour: defaults and JSON normalisation, plan-time computed values, replacement,
and the values known after apply."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from tf.types import Unknown

from tests.standin.provider.gojson import normalize_json
from tests.standin.provider.state import ProviderState
from tests.standin.provider.values import (
    AttrPath,
    Spec,
    block_items,
    dns_suffix,
    known,
    partition_of,
)

# --------------------------------------------------------------------------- planning


def apply_defaults(spec: Spec, value: dict) -> None:
    """SDKv2 `Default`s and `StateFunc` JSON normalisation, as the real plan shows them."""
    for name, attr in spec["attributes"].items():
        if value.get(name) is None and "default" in attr:
            value[name] = attr["default"]
        elif attr.get("json") == "normalize" and isinstance(value.get(name), str):
            value[name] = normalize_json(value[name])
    for name, nested in spec["block_types"].items():
        for _, element in block_items(nested, value.get(name)):
            apply_defaults(nested["block"], element)


def mark_unknown(spec: Spec, value: dict, only_computed_only: bool = False) -> None:
    """Computed attributes without a value become unknown ("known after apply")."""
    for name, attr in spec["attributes"].items():
        if not attr.get("computed"):
            continue
        if only_computed_only and attr.get("optional"):
            continue
        if value.get(name) is None or only_computed_only:
            value[name] = Unknown
    for name, nested in spec["block_types"].items():
        for _, element in block_items(nested, value.get(name)):
            mark_unknown(nested["block"], element, only_computed_only)


def requires_replace(spec: Spec, prior: dict, planned: dict) -> list[AttrPath]:
    return [
        [name]
        for name, attr in spec["attributes"].items()
        if attr.get("force_new") and planned.get(name) != prior.get(name)
    ]


def plan_computed(provider: ProviderState, spec: Spec, planned: dict) -> None:
    """Computed values the real provider knows at plan time (CustomizeDiff)."""
    attrs = spec["attributes"]
    if "region" in attrs and attrs["region"].get("optional") and not known(planned.get("region")):
        planned["region"] = provider.region
    if "tags_all" in attrs:
        tags = planned.get("tags")
        if tags is Unknown or (isinstance(tags, dict) and Unknown in tags.values()):
            planned["tags_all"] = Unknown
        else:
            planned["tags_all"] = {**provider.default_tags, **(tags or {})}


# --------------------------------------------------------------------------- apply

_S3_HOSTED_ZONES = {
    "us-east-1": "Z3AQBSTGFYJSTF",
    "us-east-2": "Z2O1EMRO9K5GLX",
    "us-west-1": "Z2F56UZL2M1ACD",
    "us-west-2": "Z3BJ6K6RIION7M",
    "eu-west-1": "Z1BKCTXD74EZPE",
    "eu-central-1": "Z21DNDUVLTQW6Q",
}


def _bucket_values(provider: ProviderState, state: dict) -> dict[str, Any]:
    region = provider.region_of(state)
    partition = partition_of(region)
    bucket = state.get("bucket")
    if not known(bucket):
        bucket = (state.get("bucket_prefix") or "terraform-") + "00000000000000000000000001"
    suffix = dns_suffix(partition)
    return {
        "bucket": bucket,
        "id": bucket,
        "arn": f"arn:{partition}:s3:::{bucket}",
        "bucket_domain_name": f"{bucket}.s3.{suffix}",
        "bucket_regional_domain_name": f"{bucket}.s3.{region}.{suffix}",
        "bucket_region": region,
        "hosted_zone_id": _S3_HOSTED_ZONES.get(region, ""),
        "request_payer": "BucketOwner",
        "object_lock_enabled": False,
    }


def _trail_values(provider: ProviderState, state: dict) -> dict[str, Any]:
    region = provider.region_of(state)
    partition = partition_of(region)
    arn = f"arn:{partition}:cloudtrail:{region}:{provider.account_id}:trail/{state['name']}"
    topic = state.get("sns_topic_name")
    topic_arn = f"arn:{partition}:sns:{region}:{provider.account_id}:{topic}" if topic else ""
    return {"arn": arn, "id": arn, "home_region": region, "sns_topic_arn": topic_arn}


def _topic_policy_values(provider: ProviderState, state: dict) -> dict[str, Any]:
    parts = state["arn"].split(":")
    return {"id": state["arn"], "owner": parts[4] if len(parts) > 4 else provider.account_id}


def _id_is_bucket(provider: ProviderState, state: dict) -> dict[str, Any]:
    return {"id": state["bucket"]}


COMPUTED_AT_APPLY: dict[str, Callable[[ProviderState, dict], dict[str, Any]]] = {
    "aws_s3_bucket": _bucket_values,
    "aws_cloudtrail": _trail_values,
    "aws_sns_topic_policy": _topic_policy_values,
    "aws_s3_bucket_ownership_controls": _id_is_bucket,
    "aws_s3_bucket_policy": _id_is_bucket,
    "aws_s3_bucket_public_access_block": _id_is_bucket,
    "aws_s3_bucket_server_side_encryption_configuration": _id_is_bucket,
}

_ZERO = {"string": "", "number": 0, "bool": False}


def zero_value(json_type: Any) -> Any:
    if isinstance(json_type, str):
        return _ZERO[json_type]
    return {} if json_type[0] == "map" else []


def fill_unknowns(spec: Spec, value: dict) -> None:
    """Whatever is still unknown after apply gets its type's zero value, as SDKv2 does."""
    for name, attr in spec["attributes"].items():
        if value.get(name) is Unknown:
            value[name] = zero_value(attr["type"])
    for name, nested in spec["block_types"].items():
        if value.get(name) is Unknown:
            value[name] = None if nested["nesting_mode"] == "single" else []
        for _, element in block_items(nested, value.get(name)):
            fill_unknowns(nested["block"], element)


def apply_state(provider: ProviderState, type_name: str, spec: Spec, planned: dict) -> dict:
    state = copy.deepcopy(planned)
    computed = COMPUTED_AT_APPLY.get(type_name)
    for name, value in (computed(provider, state) if computed else {}).items():
        if name in spec["attributes"] and state.get(name) in (None, Unknown):
            state[name] = value
    fill_unknowns(spec, state)
    return state
