"""schema.json (extracted from the cdktf bindings), or the schema file named by $STANDIN_SCHEMA
(another provider version, tests/standin/schemas/), loaded and turned into `tf` schema objects."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tf.gen import tfplugin_pb2 as pb
from tf.schema import Attribute, Block, NestedBlock, NestMode, Schema
from tf.types import Bool, List, Map, Number, Set, String, TfType

from tests.standin import versions
from tests.standin.provider.values import Spec


def load_schema(path: Path | None = None) -> dict[str, Any]:
    """The schema to serve: `path`, else $STANDIN_SCHEMA, else the default schema.json."""
    chosen = path or Path(os.environ.get(versions.SCHEMA_ENV) or versions.DEFAULT_SCHEMA)
    return json.loads(chosen.read_text())


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
