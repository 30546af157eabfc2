"""Helpers on raw configuration values: unknowns, nested block elements, attribute paths."""

from __future__ import annotations

from typing import Any

from tf.types import Unknown

AttrPath = list  # protocol attribute path: names, and (index,) tuples for list elements
Spec = dict[str, Any]  # a block of schema.json: {"attributes": .., "block_types": ..}


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
