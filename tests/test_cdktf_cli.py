"""The real `cdktf synth` (cdktf-cli 0.21.0 pinned in package.json) through `make synth`, and
CDK Terrain's `cdktn synth` (cdktn-cli 0.24.0 pinned in cdktn-cli/) through `make synth CDK=cdktn`.

`make synth` installs the CLI with npm only when node_modules is missing or older than the lock
file (CI: the npm registry is reachable), then runs main.py through cdktf.json's `app`.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from quilt_cross_account import config
from quilt_cross_account.construct import family, node
from quilt_cross_account.terraform import render

from tests.cdktf_fixtures import (
    EXAMPLE_CONFIG,
    FAMILIES_ENV,
    REPO,
    STACK_NAME,
    model_from_text,
    synthesized,
    terraform_config,
)
from tests.markers import needs
from tests.util import snapshot


def clean_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CDKTF_", "JSII_"))}
    env.pop(family.ENV, None)  # `make synth` sets it to the CLI's family
    env["CDKTF_HOME"] = str(tmp_path / "cdktf-home")  # the CLI's own settings, not the user's
    return env


@needs("cdktf")  # `make synth`: the CDKTF CLI runs main.py
def make(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # -o: the tests already run inside the project's virtualenv; do not reinstall it.
    return subprocess.run(
        ["make", "-C", str(REPO), "-o", ".venv/.dev", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )


@pytest.mark.slow
def test_cdktf_synth_emits_the_stack_and_the_module(tmp_path):
    out = tmp_path / "out"
    cdktf_json = (REPO / "cdktf.json").read_bytes()
    repo_out_before = snapshot(REPO / "cdktf.out")
    result = make("synth", f"CDKTF_ARGS=--output {out}", env=clean_env(tmp_path))
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]

    stack_file = out / "stacks" / STACK_NAME / "cdk.tf.json"
    synthesized_json = json.loads(stack_file.read_text("utf-8"))
    # cdktf.json names examples/reference.toml in its context: the example's stack.
    _, _, expected = synthesized(config.load(EXAMPLE_CONFIG))
    assert terraform_config(synthesized_json) == terraform_config(expected)
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert list(manifest["stacks"]) == [STACK_NAME]

    for path, content in render.render(config.load(EXAMPLE_CONFIG)).items():
        assert (out / path).read_text("utf-8") == content, path
    module_files = {p.name for p in (out / render.MODULE_DIR).glob("*.tf")}
    assert {"cloudtrail.tf", "main.tf", "outputs.tf", "variables.tf", "versions.tf"} <= module_files

    # The CLI changed nothing in the project (e.g. no projectId written into cdktf.json).
    assert (REPO / "cdktf.json").read_bytes() == cdktf_json
    assert snapshot(REPO / "cdktf.out") == repo_out_before


@pytest.mark.slow
def test_cdktf_synth_uses_the_config_named_in_the_context(tmp_path):
    """A project whose cdktf.json names another config: the CLI hands the context to main.py."""
    installed = make("node_modules/.package-lock.json", env=clean_env(tmp_path))
    assert installed.returncode == 0, installed.stdout[-4000:] + installed.stderr[-4000:]
    project = tmp_path / "project"
    project.mkdir()
    for name in ("main.py", "generator", "node_modules"):
        (project / name).symlink_to(REPO / name)
    settings = json.loads((REPO / "cdktf.json").read_text("utf-8"))
    settings["context"] = {"config": "two.toml"}
    (project / "cdktf.json").write_text(json.dumps(settings), "utf-8")
    two = """
control_account_ids = ["111122223333"]
buckets = ["first-bucket", "second.bucket"]
[cloudtrail]
mode = "external"
trail_name = "existing-trail"
"""
    (project / "two.toml").write_text(two, "utf-8")
    env = clean_env(tmp_path)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), str(node.wheel_bin_dir())])
    env["CHECKPOINT_DISABLE"] = "1"
    env["DISABLE_VERSION_CHECK"] = "true"
    result = subprocess.run(
        [str(project / "node_modules" / ".bin" / "cdktf"), "synth"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    stack_file = project / "cdktf.out" / "stacks" / STACK_NAME / "cdk.tf.json"
    _, _, expected = synthesized(model_from_text(two))
    assert terraform_config(json.loads(stack_file.read_text("utf-8"))) == terraform_config(expected)
    assert "second.bucket" in (project / "cdktf.out" / render.ROOT_DIR / "main.tf").read_text()


@pytest.mark.slow
def test_cdktn_synth_emits_the_cdk_terrain_stack(tmp_path):
    """`make synth CDK=cdktn`: CDK Terrain's CLI reads the same cdktf.json and runs main.py on
    CDK Terrain (make sets $QUILT_CROSS_ACCOUNT_CDK), with the venv holding both families."""
    if not family.installed(family.CDKTN) and os.environ.get(FAMILIES_ENV) != "required":
        pytest.skip("CDK Terrain is not installed (the cdktn extra)")
    out = tmp_path / "out"
    cdktf_json = (REPO / "cdktf.json").read_bytes()
    result = make("synth", "CDK=cdktn", f"CDKTF_ARGS=--output {out}", env=clean_env(tmp_path))
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    synthesized_json = json.loads((out / "stacks" / STACK_NAME / "cdk.tf.json").read_text("utf-8"))
    assert synthesized_json["//"]["metadata"]["version"] == importlib.metadata.version("cdktn")
    _, _, expected = synthesized(config.load(EXAMPLE_CONFIG), family.CDKTN.name)
    assert terraform_config(synthesized_json) == terraform_config(expected)
    for path, content in render.render(config.load(EXAMPLE_CONFIG)).items():
        assert (out / path).read_text("utf-8") == content, path
    assert (REPO / "cdktf.json").read_bytes() == cdktf_json


def test_make_synth_names_the_families(tmp_path):
    result = make("synth", "CDK=cdk8s", env=clean_env(tmp_path))
    assert result.returncode != 0
    assert "CDK must be cdktf or cdktn, not 'cdk8s'" in result.stderr
