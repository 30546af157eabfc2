"""The provider served over plugin protocol 6 with `tf`: lifecycles driven by schema.json."""

from __future__ import annotations

import copy
import json
import sys
from collections.abc import Iterator
from typing import Any

from tf import provider as tf_provider
from tf.gen import tfplugin_pb2 as pb
from tf.iface import Config, DataSource, Provider, Resource
from tf.runner import run_provider
from tf.schema import Schema
from tf.utils import Diagnostic, Diagnostics, read_dynamic_value, to_dynamic_value

from tests.standin.provider.data_sources import read_data
from tests.standin.provider.iam import PolicyError
from tests.standin.provider.resources import (
    apply_defaults,
    apply_state,
    mark_unknown,
    plan_computed,
    requires_replace,
)
from tests.standin.provider.schema import load_schema, tf_schema
from tests.standin.provider.state import ProviderState
from tests.standin.provider.validation import validate_block
from tests.standin.provider.values import AttrPath, Spec


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
        problem = self.state.account_problem()
        if problem is not None:
            diags.add_error(problem, "")

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
