"""Typed accessors for raw config tables. Each records a problem naming its key and the rule it
breaks, and returns a safe fallback, so validation goes on and reports everything at once."""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from quilt_cross_account.errors import ConfigError
from quilt_cross_account.terraform import hcl

__all__ = ["ConfigError", "Problems"]

MAX_FREE_TEXT = 1024
BYTE_ORDER_MARK = "\ufeff"


@dataclass
class Problems:
    """What validation found wrong, one 'key: rule' line each; and the input files it read, which
    a run must never delete (`generate --force`)."""

    items: list[str] = field(default_factory=list)
    files_read: list[Path] = field(default_factory=list)
    # Where a key is in the file: a fleet's account table prefixes the keys it holds.
    where: Callable[[str], str] = str

    def add(self, key: str, rule: str) -> None:
        self.items.append(f"{self.where(key)}: {rule}")


def unknown_keys(p: Problems, prefix: str, raw: Mapping[str, Any], known: set[str]) -> None:
    for k in raw:
        if k not in known:
            hint = difflib.get_close_matches(k, sorted(known), n=1)
            suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
            p.add(
                f"{prefix}{k}", f"unknown key{suggestion}; known keys: {', '.join(sorted(known))}"
            )


def string(
    p: Problems, raw: Mapping[str, Any], key: str, default: str | None, prefix: str = ""
) -> Any:
    value = raw.get(key, default)
    if value is None:
        return None
    if not isinstance(value, str):
        p.add(f"{prefix}{key}", f"must be a string, not {type_name(value)}")
        return default
    free_text(p, f"{prefix}{key}", value)
    return value


def path(p: Problems, raw: Mapping[str, Any], key: str, prefix: str = "") -> str | None:
    """A file or directory path: a string that the operating system can take."""
    value = string(p, raw, key, None, prefix)
    if isinstance(value, str) and ("\x00" in value or not value):
        p.add(f"{prefix}{key}", "must be a non-empty path without NUL characters")
        return None
    return value if isinstance(value, str) else None


def boolean(p: Problems, raw: Mapping[str, Any], key: str, default: bool, prefix: str = "") -> bool:
    value = raw.get(key, default)
    if not isinstance(value, bool):
        p.add(f"{prefix}{key}", f"must be true or false, not {type_name(value)}")
        return default
    return value


def choice(
    p: Problems,
    raw: Mapping[str, Any],
    key: str,
    choices: Sequence[str],
    default: str,
    prefix: str = "",
) -> Any:
    value = string(p, raw, key, default, prefix)
    if value not in choices:
        p.add(f"{prefix}{key}", f"{value!r} must be one of {', '.join(map(repr, choices))}")
        return default
    return value


def string_list(
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
        p.add(at, f"must be a list of strings, not {type_name(value)}")
        return []
    if required and not value:
        p.add(at, "must not be empty")
    if limit is not None and len(value) > limit:
        p.add(at, f"has {len(value)} entries; at most {limit} are supported")
    strings = []
    for i, item in enumerate(value):
        if not isinstance(item, str):
            p.add(f"{at}[{i}]", f"must be a string, not {type_name(item)}")
            continue
        free_text(p, f"{at}[{i}]", item)
        strings.append(item)
    return strings


def unique(p: Problems, key: str, values: Sequence[str]) -> None:
    seen: dict[str, int] = {}
    for i, v in enumerate(values):
        if v in seen:
            first = p.where(f"{key}[{seen[v]}]")
            p.add(f"{key}[{i}]", f"{v!r} repeats {first}; entries must be unique")
        else:
            seen[v] = i


def table(p: Problems, key: str, value: object) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        p.add(key, f"must be a table, not {type_name(value)}")
        return {}
    return value


def table_list(p: Problems, key: str, value: object) -> list[Mapping[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        p.add(key, "must be a list of tables")
        return []
    return value


def free_text(p: Problems, key: str, text: str) -> None:
    # The strings Terraform cannot carry unchanged, and absurd lengths.
    if len(text) > MAX_FREE_TEXT:
        p.add(key, f"is {len(text)} characters long; at most {MAX_FREE_TEXT} are supported")
    problem = unicode_problem(text)
    if problem:
        p.add(key, problem)


def unicode_problem(text: str) -> str | None:
    """Why Terraform would not hold `text` exactly as written (None when it would)."""
    if text.isascii():
        return None
    if not is_utf8(text):
        return "contains a lone surrogate code point, which is not valid UTF-8"
    if text.startswith(BYTE_ORDER_MARK):
        # Terraform's JSON syntax (the CDKTF stack) drops it; its HCL syntax keeps it.
        return "starts with U+FEFF (a byte order mark), which Terraform's JSON syntax drops"
    if not unicodedata.is_normalized("NFC", text):
        # Terraform (cty) stores every string in NFC, so AWS would get other code points
        # than the config says: silently, for a selector that then matches other keys.
        nfc = unicodedata.normalize("NFC", text)
        return (
            "is not in Unicode normalization form NFC, and Terraform normalizes every string "
            f"to NFC, so AWS would receive {escaped(nfc)} instead of {escaped(text)}; "
            "write the NFC form"
        )
    return None


def escaped(text: str) -> str:
    """`text` quoted with TOML/JSON-style escapes, so look-alike code points show and paste."""
    inner = "".join(
        c if 0x20 <= ord(c) < 0x7F and c not in '"\\' else hcl.code_point_escape(c) for c in text
    )
    return f'"{inner}"'


def is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def type_name(value: object) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a table",
    }.get(type(value), type(value).__name__)
