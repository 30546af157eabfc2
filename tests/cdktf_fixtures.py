"""Shared CDKTF test helpers: each model is synthesized once per test session.

Loading jsii and the provider bindings costs ~10 s and ~1 GB per process, and a large config
takes a second or two more, so every synthesis goes through the cache below; test modules wrap
it in their own session-scoped fixtures. Imported only by the CDKTF tests (it loads cdktf
lazily, on the first synthesis).
"""

from __future__ import annotations

import functools
import json
import tomllib
from pathlib import Path
from typing import Any

from quilt_cross_account import config
from quilt_cross_account.model import DataAccountSetup, Fleet

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_CONFIG = REPO / "examples" / "reference.toml"
STACK_NAME = "quilt-cross-account"
CONSTRUCT_ID = "quilt"  # QuiltCrossAccountStack's construct: the logical-id prefix


def model_from_text(text: str, base_dir: Path | None = None) -> DataAccountSetup:
    return config.validate(tomllib.loads(text), base_dir)


@functools.cache
def synthesized(model: DataAccountSetup) -> tuple[Any, str, dict[str, Any]]:
    """(stack, Testing.synth JSON text, parsed JSON) for the stack main.py builds."""
    from cdktf import Testing
    from quilt_cross_account.construct.stack import QuiltCrossAccountStack

    app = Testing.app()
    stack = QuiltCrossAccountStack(app, STACK_NAME, model=model)
    text = Testing.synth(stack)
    return stack, text, json.loads(text)


@functools.cache
def synthesized_fleet(fleet: Fleet) -> dict[str, dict[str, Any]]:
    """Stack name -> parsed cdk.tf.json of every stack main.py builds for a fleet config, in
    one app as main.py builds them (the fleet's one synthesis of the session)."""
    from cdktf import Testing
    from quilt_cross_account.construct.app import stacks
    from quilt_cross_account.construct.stack import QuiltCrossAccountStack

    app = Testing.app()
    built = [
        QuiltCrossAccountStack(app, name, model=setup, account=account)
        for name, setup, account in stacks(fleet)
    ]
    return {stack.node.id: json.loads(Testing.synth(stack)) for stack in built}


def resources(synth: dict[str, Any], rtype: str) -> dict[str, dict[str, Any]]:
    """Logical id -> body of every resource of one type, cdktf's metadata dropped."""
    return {
        name: {k: v for k, v in body.items() if k != "//"}
        for name, body in synth.get("resource", {}).get(rtype, {}).items()
    }


def terraform_config(synth: dict[str, Any]) -> dict[str, Any]:
    """What Terraform plans from a cdk.tf.json: comments ("//") and the backend dropped (the
    local backend's path is the synthesizing process's working directory)."""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != "//"}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    stripped = strip(synth)
    stripped.get("terraform", {}).pop("backend", None)
    return stripped
