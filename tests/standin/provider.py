"""Stand-in for the hashicorp/aws Terraform provider, for offline tests with Terraform core.

Serves the schema in schema.json (extracted from the cdktf bindings) over plugin protocol 6
with the `tf` framework, and behaves like the real SDKv2-based provider where our tests can see
it: plan-time validation, defaults, JSON normalisation of policies, unknown computed values at
plan, deterministic computed values at apply, data sources (caller identity, partition, region,
IAM policy documents rendered like the provider does). Nothing talks to AWS.

Terraform launches it through the `terraform-provider-aws` wrapper the harness writes.
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
import sys
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tf import provider as tf_provider
from tf.gen import tfplugin_pb2 as pb
from tf.iface import Config, DataSource, Provider, Resource
from tf.runner import run_provider
from tf.schema import Attribute, Block, NestedBlock, NestMode, Schema
from tf.types import Bool, List, Map, Number, Set, String, TfType, Unknown
from tf.utils import Diagnostic, Diagnostics, read_dynamic_value, to_dynamic_value

SCHEMA_PATH = Path(__file__).resolve().parent / "schema.json"
ACCOUNT_ENV = "STANDIN_ACCOUNT_ID"
DEFAULT_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"

AttrPath = list  # protocol attribute path: names, and (index,) tuples for list elements
Spec = dict[str, Any]  # a block of schema.json: {"attributes": .., "block_types": ..}

# --------------------------------------------------------------------------- schema -> tf


class ModeBlock(NestedBlock):
    """A nested block with any nesting mode: tf 1.2.0 itself only emits SET blocks."""

    _modes = {
        "list": pb.Schema.NestedBlock.NestingMode.LIST,
        "set": pb.Schema.NestedBlock.NestingMode.SET,
        "single": pb.Schema.NestedBlock.NestingMode.SINGLE,
    }

    def __init__(self, type_name: str, mode: str, block: Block, min_items: int, max_items: int):
        super().__init__(type_name, NestMode.Set, block, min_items, max_items)
        self.mode = mode

    def to_pb(self) -> pb.Schema.NestedBlock:
        return pb.Schema.NestedBlock(
            type_name=self.type_name,
            block=self.block.to_pb(),
            nesting=self._modes[self.mode],
            min_items=self.min_items,
            max_items=self.max_items,
        )

    # Values never go through tf's decoders: the servicer below works on raw values.
    def encode(self, value: Any) -> Any:
        return value

    def decode(self, value: Any) -> Any:
        return value

    def semantically_equal(self, a_decoded: Any, b_decoded: Any) -> bool:
        return a_decoded == b_decoded


_PRIMITIVES: dict[str, Callable[[], TfType]] = {"string": String, "number": Number, "bool": Bool}
_COLLECTIONS: dict[str, Callable[[TfType], TfType]] = {"list": List, "set": Set, "map": Map}


def tf_type(json_type: Any) -> TfType:
    """tf type of a type in Terraform's JSON notation ("string", ["list", "string"], ...)."""
    if isinstance(json_type, str):
        return _PRIMITIVES[json_type]()
    kind, element = json_type
    return _COLLECTIONS[kind](tf_type(element))


def tf_block(spec: Spec) -> Block:
    return Block(attributes=_tf_attributes(spec), block_types=_tf_blocks(spec))


def _tf_attributes(spec: Spec) -> list[Attribute]:
    return [
        Attribute(
            name,
            tf_type(attr["type"]),
            required=attr.get("required", False),
            optional=attr.get("optional", False),
            computed=attr.get("computed", False),
        )
        for name, attr in sorted(spec["attributes"].items())
    ]


def _tf_blocks(spec: Spec) -> list[NestedBlock]:
    return [
        ModeBlock(
            name,
            nested["nesting_mode"],
            tf_block(nested["block"]),
            nested.get("min_items", 0),
            nested.get("max_items", 0),
        )
        for name, nested in sorted(spec["block_types"].items())
    ]


def tf_schema(spec: Spec) -> Schema:
    return Schema(attributes=_tf_attributes(spec), block_types=_tf_blocks(spec))


# --------------------------------------------------------------------------- value helpers


def known(value: Any) -> bool:
    return value is not None and value is not Unknown


def block_items(nested: Spec, value: Any) -> list[tuple[Any, dict]]:
    """(path step, element) of a nested block value; the step is None where none is exact."""
    if not known(value):
        return []
    if nested["nesting_mode"] == "single":
        return [((), value)] if isinstance(value, dict) else []
    elements = [v for v in value if isinstance(v, dict)]
    if nested["nesting_mode"] == "list" or len(elements) == 1:
        return [((i,), v) for i, v in enumerate(elements)]
    # Set elements come in Terraform's sort order, not config order: stop the path here.
    return [(None, v) for v in elements]


def child_path(path: AttrPath, name: str, step: Any) -> AttrPath | None:
    """Path of a nested block element, or None once an exact path is no longer possible."""
    if path is None or step is None:
        return None
    return [*path, name, *([step] if step != () else [])]


def dotted(path: AttrPath | None, fallback: str) -> str:
    """SDKv2-style key ("rule.0.object_ownership") used in its validation messages."""
    if not path:
        return fallback
    return ".".join(str(step[0]) if isinstance(step, tuple) else step for step in path)


def partition_of(region: str) -> str:
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    if region.startswith("cn-"):
        return "aws-cn"
    return "aws"


def dns_suffix(partition: str) -> str:
    return "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"


# --------------------------------------------------------------------------- Go-compatible JSON

_GO_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def _go_number(value: float) -> int | float:
    """encoding/json prints float64 without a fraction when it has none."""
    if math.isfinite(value) and value == int(value) and abs(value) < 1e21:
        return int(value)
    return value


def _go_values(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _go_values(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_go_values(v) for v in value]
    if isinstance(value, float):
        return _go_number(value)
    return value


def go_json(value: Any, indent: bool = False, sort_keys: bool = False) -> str:
    """Like Go's json.Marshal / MarshalIndent(v, "", "  "), including its HTML escaping."""
    text = json.dumps(
        _go_values(value),
        ensure_ascii=False,
        indent=2 if indent else None,
        separators=(",", ": ") if indent else (",", ":"),
        sort_keys=sort_keys,
    )
    return re.sub("[<>&\u2028\u2029]", lambda m: _GO_ESCAPES[m.group(0)], text)


def normalize_json(text: str) -> str:
    """The SDK's structure.NormalizeJsonString: compact, keys sorted; "" stays ""."""
    if text == "":
        return ""
    return go_json(json.loads(text, parse_int=float), sort_keys=True)


# --------------------------------------------------------------------------- validation

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


# --------------------------------------------------------------------------- provider state


class ProviderState:
    """The configured provider: region, default tags, account."""

    def __init__(self) -> None:
        self.region = DEFAULT_REGION
        self.default_tags: dict[str, str] = {}

    def configure(self, config: Config) -> None:
        if known(config.get("region")):
            self.region = config["region"]
        for block in config.get("default_tags") or []:
            self.default_tags.update(block.get("tags") or {})

    @property
    def account_id(self) -> str:
        return os.environ.get(ACCOUNT_ENV, DEFAULT_ACCOUNT)

    def region_of(self, value: dict) -> str:
        region = value.get("region")
        return region if isinstance(region, str) and region else self.region


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


# --------------------------------------------------------------------------- IAM policy documents


class PolicyError(ValueError):
    """A policy document the provider refuses to render."""


def decode_strings(values: list[str]) -> str | list[str]:
    """policyDecodeConfigStrings: one value as a string, more sorted in reverse order."""
    if len(values) == 1:
        return values[0]
    return sorted(values, reverse=True)


def replace_vars(value: str | list[str], version: str) -> str | list[str]:
    """`&{aws:username}` becomes `${aws:username}` (not allowed with version 2008-10-17)."""
    items = [value] if isinstance(value, str) else value
    if version == "2008-10-17" and any("&{" in item for item in items):
        raise PolicyError(
            "found &{ sequence, which is not supported in document version 2008-10-17"
        )
    replaced = [item.replace("&{", "${") for item in items]
    return replaced[0] if isinstance(value, str) else replaced


def marshal_principals(principals: list[tuple[str, Any]]) -> Any:
    """iamPolicyStatementPrincipalSet.MarshalJSON: merged per type, keys sorted."""
    if len(principals) == 1 and principals[0][0] == "*" and principals[0][1] in ("*", ["*"]):
        return "*"
    raw: dict[str, Any] = {}
    for kind, identifiers in principals:
        existing = raw.get(kind)
        if isinstance(identifiers, list):
            merged = (
                [] if existing is None else [existing] if isinstance(existing, str) else existing
            )
            raw[kind] = merged + sorted(identifiers, reverse=True)
        elif existing is None:
            raw[kind] = identifiers
        else:
            raw[kind] = ([existing] if isinstance(existing, str) else existing) + [identifiers]
    return dict(sorted(raw.items()))


def marshal_conditions(conditions: list[tuple[str, str, Any]]) -> dict[str, Any]:
    """iamPolicyStatementConditionSet.MarshalJSON: grouped by test and variable, keys sorted."""
    raw: dict[str, dict[str, list[str]]] = {}
    for test, variable, values in conditions:
        bucket = raw.setdefault(test, {}).setdefault(variable, [])
        bucket.extend([values] if isinstance(values, str) else values)
    return {
        test: {var: vals[0] if len(vals) == 1 else vals for var, vals in sorted(by_var.items())}
        for test, by_var in sorted(raw.items())
    }


def _go_field(obj: dict, name: str) -> Any:
    """encoding/json matches struct fields case-insensitively, preferring an exact match."""
    if name in obj:
        return obj[name]
    for key, value in obj.items():
        if key.lower() == name.lower():
            return value
    return None


def _json_principals(value: Any) -> list[tuple[str, Any]]:
    if value is None:
        return []
    if isinstance(value, str):
        return [("*", ["*"])]
    if not isinstance(value, dict):
        raise PolicyError(f"Unsupported data type {type(value).__name__} for Principal")
    out = []
    for kind, identifiers in value.items():
        if isinstance(identifiers, list):
            if not all(isinstance(i, str) for i in identifiers):
                raise PolicyError(f"principal type {kind!r}: identifiers must be strings")
            out.append((kind, sorted(identifiers)))
        elif isinstance(identifiers, str):
            out.append((kind, identifiers))
        else:
            raise PolicyError(f"Unsupported data type for Principal identifiers of {kind!r}")
    return out


def _json_conditions(value: Any) -> list[tuple[str, str, Any]]:
    out = []
    for test, variables in (value or {}).items():
        for variable, values in (variables or {}).items():
            if isinstance(values, bool):
                out.append((test, variable, "true" if values else "false"))
            elif isinstance(values, str):
                out.append((test, variable, [values]))
            elif isinstance(values, list):
                out.append((test, variable, [str(v) for v in values]))
            # other JSON types are dropped, as the provider's unmarshalling does
    return out


def statement_from_json(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise PolicyError("Statement elements must be objects")
    statement = {"Sid": _go_field(raw, "Sid") or "", "Effect": _go_field(raw, "Effect") or ""}
    for key in ("Action", "NotAction", "Resource", "NotResource"):
        statement[key] = _go_field(raw, key)
    statement["Principal"] = _json_principals(_go_field(raw, "Principal"))
    statement["NotPrincipal"] = _json_principals(_go_field(raw, "NotPrincipal"))
    statement["Condition"] = _json_conditions(_go_field(raw, "Condition"))
    return statement


def document_from_json(text: str) -> dict[str, Any]:
    raw = json.loads(text)
    if not isinstance(raw, dict):
        raise PolicyError("a policy document must be a JSON object")
    statements = _go_field(raw, "Statement") or []
    if not isinstance(statements, list):
        raise PolicyError("Statement must be an array")
    return {
        "Version": _go_field(raw, "Version") or "",
        "Id": _go_field(raw, "Id") or "",
        "Statement": [statement_from_json(s) for s in statements],
    }


def statement_from_config(block: dict, version: str) -> dict[str, Any]:
    statement: dict[str, Any] = {"Sid": block.get("sid") or "", "Effect": block.get("effect")}
    for key, name in (("Action", "actions"), ("NotAction", "not_actions")):
        statement[key] = decode_strings(block[name]) if block.get(name) else None
    for key, name in (("Resource", "resources"), ("NotResource", "not_resources")):
        values = block.get(name)
        statement[key] = replace_vars(decode_strings(values), version) if values else None
    for key, name in (("Principal", "principals"), ("NotPrincipal", "not_principals")):
        statement[key] = [
            (p["type"], replace_vars(decode_strings(p["identifiers"]), version))
            for p in block.get(name) or []
        ]
    statement["Condition"] = [
        (c["test"], c["variable"], _condition_values(c["values"], version))
        for c in block.get("condition") or []
    ]
    return statement


def _condition_values(values: list[str], version: str) -> str | list[str]:
    replaced = replace_vars(list(values), version)
    return replaced[0] if len(replaced) == 1 else replaced


def merge_documents(base: dict[str, Any], new: dict[str, Any]) -> None:
    """iamPolicyDoc.Merge: adopt Id, upgrade Version, replace statements by Sid, else append."""
    if new["Id"]:
        base["Id"] = new["Id"]
    base["Version"] = max(base["Version"], new["Version"])
    for statement in new["Statement"]:
        same = [
            i
            for i, old in enumerate(base["Statement"])
            if statement["Sid"] and old["Sid"] == statement["Sid"]
        ]
        if same:
            base["Statement"][same[0]] = statement
        else:
            base["Statement"].append(statement)


def render_statement(statement: dict[str, Any]) -> dict[str, Any]:
    """Field order and omitempty rules of the provider's iamPolicyStatement struct."""
    out: dict[str, Any] = {}
    for key in ("Sid", "Effect"):
        if statement[key]:
            out[key] = statement[key]
    for key in ("Action", "NotAction", "Resource", "NotResource"):
        if statement[key] is not None:
            out[key] = statement[key]
    for key in ("Principal", "NotPrincipal"):
        if statement[key]:
            out[key] = marshal_principals(statement[key])
    if statement["Condition"]:
        out["Condition"] = marshal_conditions(statement["Condition"])
    return out


def render_document(doc: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if doc["Version"]:
        out["Version"] = doc["Version"]
    if doc["Id"]:
        out["Id"] = doc["Id"]
    if doc["Statement"]:
        out["Statement"] = [render_statement(s) for s in doc["Statement"]]
    return out


def policy_document(config: dict) -> dict[str, Any]:
    """data "aws_iam_policy_document": source documents, own statements, override documents."""
    merged: dict[str, Any] = {"Version": "", "Id": "", "Statement": []}
    seen_sids: set[str] = set()
    for index, text in enumerate(config.get("source_policy_documents") or []):
        if text is None:
            continue
        source = document_from_json(text)
        for statement in source["Statement"]:
            if statement["Sid"] in seen_sids:
                raise PolicyError(
                    f"merging source document {index}: duplicate Sid ({statement['Sid']}) "
                    "in source_policy_documents"
                )
            if statement["Sid"]:
                seen_sids.add(statement["Sid"])
        merge_documents(merged, source)
    merge_documents(merged, own_document(config))
    for text in config.get("override_policy_documents") or []:
        if text is not None:
            merge_documents(merged, document_from_json(text))
    rendered = render_document(merged)
    pretty = go_json(rendered, indent=True)
    return {
        "json": pretty,
        "minified_json": go_json(rendered),
        "id": str(zlib.crc32(pretty.encode())),
    }


def own_document(config: dict) -> dict[str, Any]:
    version = config.get("version") or ""
    statements, sids = [], set()
    for block in config.get("statement") or []:
        sid = block.get("sid") or ""
        if sid in sids:
            raise PolicyError(f"duplicate Sid ({sid}). Remove the Sid or ensure the Sid is unique.")
        if sid:
            sids.add(sid)
        statements.append(statement_from_config(block, version))
    return {"Version": version, "Id": config.get("policy_id") or "", "Statement": statements}


# --------------------------------------------------------------------------- data sources


def read_caller_identity(provider: ProviderState, config: dict) -> dict[str, Any]:
    account = provider.account_id
    partition = partition_of(provider.region)
    return {
        "account_id": account,
        "arn": f"arn:{partition}:iam::{account}:user/standin",
        "id": account,
        "user_id": "AIDASTANDINUSER000001",
    }


def read_partition(provider: ProviderState, config: dict) -> dict[str, Any]:
    partition = partition_of(provider.region)
    reverse = "cn.com.amazonaws" if partition == "aws-cn" else "com.amazonaws"
    return {
        "partition": partition,
        "id": partition,
        "dns_suffix": dns_suffix(partition),
        "reverse_dns_prefix": reverse,
    }


_REGION_NAMES = {
    "us-east-1": "US East (N. Virginia)",
    "us-east-2": "US East (Ohio)",
    "us-west-1": "US West (N. California)",
    "us-west-2": "US West (Oregon)",
    "eu-west-1": "Europe (Ireland)",
    "eu-central-1": "Europe (Frankfurt)",
    "us-gov-west-1": "AWS GovCloud (US-West)",
    "cn-north-1": "China (Beijing)",
}


def read_region(provider: ProviderState, config: dict) -> dict[str, Any]:
    region = config.get("region") or config.get("name") or provider.region
    return {
        "region": region,
        "name": region,
        "id": region,
        "description": _REGION_NAMES.get(region, region),
        "endpoint": config.get("endpoint") or f"ec2.{region}.{dns_suffix(partition_of(region))}",
    }


def read_policy_document(provider: ProviderState, config: dict) -> dict[str, Any]:
    return policy_document(config)


DATA_READERS: dict[str, Callable[[ProviderState, dict], dict[str, Any]]] = {
    "aws_caller_identity": read_caller_identity,
    "aws_partition": read_partition,
    "aws_region": read_region,
    "aws_iam_policy_document": read_policy_document,
}


def read_data(provider: ProviderState, type_name: str, spec: Spec, config: dict) -> dict:
    state = copy.deepcopy(config)
    apply_defaults(spec, state)
    reader = DATA_READERS.get(type_name)
    if reader is None:
        raise PolicyError(f"the stand-in provider cannot read data source {type_name}")
    state.update(reader(provider, state))
    for name in spec["attributes"]:
        state.setdefault(name, None)
    return state


# --------------------------------------------------------------------------- tf integration


def load_schema(path: Path = SCHEMA_PATH) -> dict[str, Any]:
    return json.loads(path.read_text())


def _shell(kind: type, name: str, spec: Spec) -> type:
    """A tf Resource/DataSource class carrying one type's schema; behaviour is in the servicer."""
    schema = tf_schema(spec)
    return type(
        name,
        (kind,),
        {
            "get_name": classmethod(lambda cls: name.removeprefix("aws_")),
            "get_schema": classmethod(lambda cls: schema),
            "__init__": lambda self, provider: None,
        },
    )


class StandinProvider(Provider):
    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema
        self.state = ProviderState()

    def get_model_prefix(self) -> str:
        return "aws_"

    def full_name(self) -> str:
        return "hashicorp/aws"

    def get_provider_schema(self, diags: Diagnostics) -> Schema:
        return tf_schema(self.schema["provider"]["block"])

    def validate_config(self, diags: Diagnostics, config: Config) -> None:
        validate_block(diags, self.schema["provider"]["block"], config or {}, [])

    def configure_provider(self, diags: Diagnostics, config: Config) -> None:
        self.state.configure(config or {})

    def get_resources(self) -> list[type[Resource]]:
        return [_shell(Resource, n, s["block"]) for n, s in self.schema["resources"].items()]

    def get_data_sources(self) -> list[type[DataSource]]:
        return [_shell(DataSource, n, s["block"]) for n, s in self.schema["data_sources"].items()]

    def resource_spec(self, type_name: str) -> Spec:
        return self.schema["resources"][type_name]["block"]

    def data_spec(self, type_name: str) -> Spec:
        return self.schema["data_sources"][type_name]["block"]


def _path_pb(path: AttrPath) -> pb.AttributePath:
    steps = [
        pb.AttributePath.Step(element_key_int=step[0])
        if isinstance(step, tuple)
        else pb.AttributePath.Step(attribute_name=step)
        for step in path
    ]
    return pb.AttributePath(steps=steps)


def _diag_pb(diag: Diagnostic) -> pb.Diagnostic:
    severity = pb.Diagnostic.ERROR if diag.severity == Diagnostic.ERROR else pb.Diagnostic.WARNING
    out = pb.Diagnostic(severity=severity, summary=diag.summary, detail=diag.detail or "")
    if diag.path:
        out.attribute.CopyFrom(_path_pb(diag.path))
    return out


def _diags_pb(diags: Diagnostics) -> list[pb.Diagnostic]:
    return [_diag_pb(d) for d in diags.diagnostics]


class StandinServicer(tf_provider.ProviderServicer):
    """tf's servicer, with resource and data source lifecycles driven by schema.json."""

    app: StandinProvider

    def ValidateResourceConfig(self, request, context):  # noqa: N802 - gRPC method name
        diags = Diagnostics()
        config = read_dynamic_value(request.config) or {}
        validate_block(diags, self.app.resource_spec(request.type_name), config, [])
        return pb.ValidateResourceConfig.Response(diagnostics=_diags_pb(diags))

    def ValidateDataResourceConfig(self, request, context):  # noqa: N802
        diags = Diagnostics()
        config = read_dynamic_value(request.config) or {}
        validate_block(diags, self.app.data_spec(request.type_name), config, [])
        return pb.ValidateDataResourceConfig.Response(diagnostics=_diags_pb(diags))

    def UpgradeResourceState(self, request, context):  # noqa: N802
        # Same schema version as when written: hand the JSON state back unchanged.
        state = json.loads(request.raw_state.json) if request.raw_state.json else None
        return pb.UpgradeResourceState.Response(upgraded_state=to_dynamic_value(state))

    def ReadResource(self, request, context):  # noqa: N802
        # Nothing drifts outside Terraform: the refreshed state is the prior state.
        return pb.ReadResource.Response(new_state=request.current_state, private=request.private)

    def PlanResourceChange(self, request, context):  # noqa: N802
        spec = self.app.resource_spec(request.type_name)
        prior = read_dynamic_value(request.prior_state)
        proposed = read_dynamic_value(request.proposed_new_state)
        if proposed is None:  # destroy
            return pb.PlanResourceChange.Response(planned_state=request.proposed_new_state)
        planned, replace = self._plan(request.type_name, spec, prior, proposed)
        return pb.PlanResourceChange.Response(
            planned_state=to_dynamic_value(planned),
            requires_replace=[_path_pb(p) for p in replace],
            planned_private=request.prior_private,
            legacy_type_system=True,  # like the real (SDKv2) resources: defaults, StateFuncs
        )

    def _plan(self, type_name: str, spec: Spec, prior: dict | None, proposed: dict):
        planned = copy.deepcopy(proposed)
        apply_defaults(spec, planned)
        if prior is None:
            mark_unknown(spec, planned)
            plan_computed(self.app.state, spec, planned)
            return planned, []
        plan_computed(self.app.state, spec, planned)
        if planned == prior:
            return prior, []
        replace = requires_replace(spec, prior, planned)
        if replace:
            mark_unknown(spec, planned, only_computed_only=True)
        return planned, replace

    def ApplyResourceChange(self, request, context):  # noqa: N802
        planned = read_dynamic_value(request.planned_state)
        if planned is None:  # destroy
            return pb.ApplyResourceChange.Response(new_state=request.planned_state)
        spec = self.app.resource_spec(request.type_name)
        state = apply_state(self.app.state, request.type_name, spec, planned)
        return pb.ApplyResourceChange.Response(
            new_state=to_dynamic_value(state),
            private=request.planned_private,
            legacy_type_system=True,
        )

    def ReadDataSource(self, request, context):  # noqa: N802
        config = read_dynamic_value(request.config) or {}
        spec = self.app.data_spec(request.type_name)
        try:
            state = read_data(self.app.state, request.type_name, spec, config)
        except (PolicyError, ValueError) as err:
            diags = Diagnostics().add_error(f"reading {request.type_name}: {err}")
            return pb.ReadDataSource.Response(diagnostics=_diags_pb(diags))
        return pb.ReadDataSource.Response(state=to_dynamic_value(state))


def iter_types(schema: dict[str, Any]) -> Iterator[str]:
    """Every served type, as `<kind> <name>` lines like resources.txt."""
    yield "provider aws"
    yield from (f"resource {name}" for name in schema["resources"])
    yield from (f"data {name}" for name in schema["data_sources"])


def main(argv: list[str] | None = None) -> None:
    # run_provider builds tf's ProviderServicer by name; serve ours instead.
    tf_provider.ProviderServicer = StandinServicer  # type: ignore[misc]
    run_provider(StandinProvider(load_schema()), argv or sys.argv)


if __name__ == "__main__":
    main()
