"""Python values to HCL expressions, escaped and laid out exactly as `terraform fmt` would.

Every config value reaches the templates through `value()`, so no input can add a block, an
attribute or an interpolation: quotes, backslashes, control characters and template sequences
(`${`, `%{`) are escaped, and anything outside printable ASCII becomes a `\\u` escape.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence

INDENT = "  "
_SIMPLE_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


class HclEncodeError(ValueError):
    pass


class Raw(str):
    """An HCL expression written as is (built by the renderer, never from config text)."""


def string(text: str) -> str:
    """A quoted HCL string literal whose value is exactly `text`."""
    if not text.isascii() and not unicodedata.is_normalized("NFC", text):
        # Terraform would read back the NFC form, not `text` (config validation says so first).
        raise HclEncodeError(f"{ascii(text)} is not in Unicode NFC form, which Terraform imposes")
    out = []
    for char in text:
        code = ord(char)
        if char in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[char])
        elif 0x20 <= code < 0x7F:
            out.append(char)
        elif 0xD800 <= code < 0xE000:
            raise HclEncodeError(f"lone surrogate U+{code:04X} cannot be written as UTF-8")
        else:
            out.append(code_point_escape(char))
    # Template sequences stay literal as `\u0024{` / `\u0025{`: HCL finds interpolations in the
    # source text before it resolves escapes. (Its own `$${` escape trips parsers such as
    # python-hcl2 when no `}` follows.)
    literal = "".join(out).replace("${", "\\u0024{").replace("%{", "\\u0025{")
    return f'"{literal}"'


def code_point_escape(char: str) -> str:
    """`\\uXXXX` or `\\UXXXXXXXX`: the same in HCL, TOML and (within the BMP) JSON strings."""
    code = ord(char)
    return f"\\u{code:04X}" if code <= 0xFFFF else f"\\U{code:08X}"


def value(obj: object, depth: int = 0) -> str:
    """An HCL expression for a str, bool, int, None, sequence or mapping (recursively)."""
    if isinstance(obj, Raw):
        return str(obj)
    if obj is None:
        return "null"
    if isinstance(obj, bool):
        return "true" if obj else "false"
    if isinstance(obj, int):
        return str(obj)
    if isinstance(obj, float):
        if obj != obj or obj in (float("inf"), float("-inf")):
            raise HclEncodeError(f"{obj} is not a number HCL can write")
        return str(int(obj)) if obj.is_integer() else repr(obj)
    if isinstance(obj, str):
        return string(obj)
    if isinstance(obj, Mapping):
        return _object(obj, depth)
    if isinstance(obj, Sequence):
        return _list(obj, depth)
    raise HclEncodeError(f"cannot encode {type(obj).__name__} as HCL")


def inline(items: Sequence[object]) -> str:
    """A list of scalars on one line: `["a", "b"]`."""
    return "[" + ", ".join(value(item) for item in items) + "]"


def _list(items: Sequence[object], depth: int) -> str:
    if not items:
        return "[]"
    rendered = [value(item, depth + 1) for item in items]
    if len(rendered) == 1 and "\n" not in rendered[0]:
        return f"[{rendered[0]}]"
    inner = INDENT * (depth + 1)
    lines = "".join(f"{inner}{item},\n" for item in rendered)
    return f"[\n{lines}{INDENT * depth}]"


def _object(mapping: Mapping[str, object], depth: int) -> str:
    if not mapping:
        return "{}"
    pairs = [(_key(k), value(v, depth + 1)) for k, v in mapping.items()]
    return "{\n" + attributes(pairs, depth + 1) + INDENT * depth + "}"


_KEYWORDS = {"for", "in", "if", "null", "true", "false"}


def _key(key: str) -> str:
    # Bare identifiers read best; anything else is quoted (object keys may be any string).
    bare = key.isascii() and key[:1].isalpha() and all(c.isalnum() or c in "_-" for c in key)
    return key if bare and key not in _KEYWORDS else string(key)


def attributes(pairs: Sequence[tuple[str, str]], depth: int) -> str:
    """Attribute lines `name = expr` with `=` aligned the way `terraform fmt` aligns them.

    fmt aligns runs of consecutive single-line attributes; a multi-line value ends a run.
    """
    lines: list[str] = []
    run: list[tuple[str, str]] = []
    indent = INDENT * depth

    def flush() -> None:
        width = max((len(name) for name, _ in run), default=0)
        lines.extend(f"{indent}{name.ljust(width)} = {expr}\n" for name, expr in run)
        run.clear()

    for name, expr in pairs:
        if "\n" in expr:
            flush()
            lines.append(f"{indent}{name} = {expr}\n")
        else:
            run.append((name, expr))
    flush()
    return "".join(lines)
