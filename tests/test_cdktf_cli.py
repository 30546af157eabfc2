"""The real `cdktf synth` (cdktf-cli 0.21.0 pinned in package.json) through `make synth`.

`make synth` installs the CLI with npm only when node_modules is missing or older than the lock
file (CI: the npm registry is reachable), then runs main.py through cdktf.json's `app`.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from generator import config, render
from tests.cdktf_fixtures import EXAMPLE_CONFIG, REPO, STACK_NAME, synthesized, terraform_config
from tests.util import snapshot


@pytest.mark.slow
def test_cdktf_synth_emits_the_stack_and_the_module(tmp_path):
    out = tmp_path / "out"
    cdktf_json = (REPO / "cdktf.json").read_bytes()
    repo_out_before = snapshot(REPO / "cdktf.out")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CDKTF_", "JSII_"))}
    env["CDKTF_HOME"] = str(tmp_path / "cdktf-home")  # the CLI's own settings, not the user's
    result = subprocess.run(
        # -o: the test already runs inside the project's virtualenv; do not reinstall it.
        ["make", "-C", str(REPO), "-o", ".venv/.dev", "synth", f"CDKTF_ARGS=--output {out}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
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
