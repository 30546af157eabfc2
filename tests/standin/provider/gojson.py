"""JSON as Go's encoding/json writes it, and the SDK's JSON normalisation."""

from __future__ import annotations

import json
import math
import re
from typing import Any

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
