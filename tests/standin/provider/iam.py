"""data "aws_iam_policy_document" rendered as the provider renders it (plain Python)."""

from __future__ import annotations

import json
import zlib
from typing import Any

from tests.standin.provider.gojson import go_json


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
