"""Shared CDK test helpers: each model is synthesized once per test session and CDK family.

Loading jsii and a family's provider bindings costs seconds and ~1 GB per process, and a large
config takes a second or two more, so every synthesis goes through the cache below; test
modules wrap it in their own session-scoped fixtures, parametrized by the `cdk` fixture (each
family: CDK for Terraform and CDK Terrain, construct/family.py). Imported only by the CDK tests
(it loads a family lazily, on its first synthesis).
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import tomllib
import types
from pathlib import Path
from typing import Any

import pytest
from quilt_cross_account import config
from quilt_cross_account.construct import family
from quilt_cross_account.model import DataAccountSetup, Fleet

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_CONFIG = REPO / "examples" / "reference.toml"
STACK_NAME = "quilt-cross-account"
CONSTRUCT_ID = "quilt"  # QuiltCrossAccountStack's construct: the logical-id prefix
# `make test` sets this to "required": a family that is not installed fails its tests there,
# instead of skipping them (a venv with one family skips the other's).
FAMILIES_ENV = "QUILT_CROSS_ACCOUNT_CDK_TESTS"
# What the families' synthesized stacks differ in (README: CDKTF or CDK Terrain), each family's
# value: the provider's source address (the same provider to Terraform) and the version of the
# AWS provider its prebuilt bindings were generated from.
PROVIDER_PINS = {
    family.CDKTF.name: {"source": "aws", "version": "6.25.0"},
    family.CDKTN.name: {"source": "hashicorp/aws", "version": "6.69.1"},
}


@pytest.fixture(scope="session", params=list(family.FAMILIES))
def cdk(request: pytest.FixtureRequest) -> str:
    """Each CDK family's name, for the session fixtures that synthesize with it."""
    name: str = request.param
    if not family.installed(family.FAMILIES[name]):
        message = f"{family.FAMILIES[name].title} is not installed (the {name} extra)"
        if os.environ.get(FAMILIES_ENV) == "required":
            pytest.fail(message)
        pytest.skip(message)
    return name


@functools.cache
def construct(name: str = family.DEFAULT.name) -> types.ModuleType:
    """construct/stack.py bound to the family `name` (its classes, and the family's App and
    Testing). The construct binds its family's names once, when imported: the family this
    process chose uses the module itself, the other one a second copy of it, so one session
    tests both."""
    from quilt_cross_account.construct import stack

    if stack.FAMILY.name == name:
        return stack
    spec = importlib.util.find_spec(stack.__name__)
    assert spec is not None and spec.loader is not None
    copy = importlib.util.module_from_spec(spec)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(family.ENV, name)
        spec.loader.exec_module(copy)
    assert copy.FAMILY.name == name
    return copy


def model_from_text(text: str, base_dir: Path | None = None) -> DataAccountSetup:
    return config.validate(tomllib.loads(text), base_dir)


@functools.cache
def synthesized(
    model: DataAccountSetup, cdk: str = family.DEFAULT.name
) -> tuple[Any, str, dict[str, Any]]:
    """(stack, Testing.synth JSON text, parsed JSON) for the stack main.py builds, on the CDK
    family `cdk`."""
    module = construct(cdk)
    stack = module.QuiltCrossAccountStack(module.Testing.app(), STACK_NAME, model=model)
    text = module.Testing.synth(stack)
    return stack, text, json.loads(text)


def family_neutral(text: str, cdk: str) -> str:
    """A synthesized stack's JSON with the provider pins of `cdk` (PROVIDER_PINS, checked, and
    nothing else) replaced by the default family's, in one layout: for comparing the families'
    stacks with each other and with the snapshots."""
    synth = json.loads(text)
    aws = synth["terraform"]["required_providers"]["aws"]
    assert aws == PROVIDER_PINS[cdk], aws
    aws.update(PROVIDER_PINS[family.DEFAULT.name])
    return json.dumps(synth, indent=2, ensure_ascii=False)


@functools.cache
def synthesized_fleet(fleet: Fleet, cdk: str = family.DEFAULT.name) -> dict[str, dict[str, Any]]:
    """Stack name -> parsed cdk.tf.json of every stack main.py builds for a fleet config, in
    one app as main.py builds them (the fleet's one synthesis of the session), on the CDK family
    `cdk`."""
    from quilt_cross_account.construct.app import stacks

    module = construct(cdk)
    app = module.Testing.app()
    built = [
        module.QuiltCrossAccountStack(app, name, model=setup, account=account)
        for name, setup, account in stacks(fleet)
    ]
    return {stack.node.id: json.loads(module.Testing.synth(stack)) for stack in built}


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
