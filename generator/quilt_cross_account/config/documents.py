"""Parsing the documents a config names (the TOML config, policy and selector JSON files) within
sane bounds: size, nesting depth, and only the numbers JSON and AWS accept (no NaN/Infinity)."""

from __future__ import annotations

import json
import math
import tomllib
from pathlib import Path
from typing import Any

from quilt_cross_account import files
from quilt_cross_account.config.fields import Problems

MAX_CONFIG_BYTES = 16 * files.MIB  # 10,000 bucket tables with every option fit easily
MAX_DOCUMENT_BYTES = files.MIB  # a bucket policy is at most 20 KB; selectors are smaller
MAX_NESTING = 32  # real policies and configs nest about 6 deep


class DocumentError(ValueError):
    """Why a text is not an acceptable document (one line)."""


def parse_toml(text: str) -> dict[str, Any]:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DocumentError(f"is not valid TOML: {exc}") from None
    except RecursionError:
        raise DocumentError(f"nests tables or arrays over {MAX_NESTING} levels deep") from None
    _check_depth(doc)
    return doc


def parse_json(text: str) -> Any:
    """Strict JSON: NaN, Infinity and numbers that overflow a double are refused."""
    try:
        doc = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise DocumentError(f"nests objects or arrays over {MAX_NESTING} levels deep") from None
    except ValueError as exc:  # JSONDecodeError, the refusals below, over-long integers
        raise DocumentError(f"is not valid JSON: {exc}") from None
    _check_depth(doc)
    return doc


def read_json(p: Problems, key: str, path: Path, what: str) -> Any | None:
    """The parsed JSON file `path`, or None after recording why it cannot be used."""
    try:
        doc = parse_json(files.read_text(path, MAX_DOCUMENT_BYTES))
    except (files.UnreadableFile, DocumentError) as exc:
        p.add(key, f"{what} {str(path)!r} {exc}")
        return None
    p.files_read.append(path)
    return doc


def _check_depth(doc: object) -> None:
    depth = files.nesting_depth(doc)
    if depth > MAX_NESTING:
        raise DocumentError(f"nests {depth} levels deep; at most {MAX_NESTING} are supported")


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of range")
    return value
