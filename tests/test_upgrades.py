"""Upgrading never destroys or replaces what an earlier release created.

tests/upgrades/<version>/ holds what that release generated for each gallery config (README.md
there says how): `configs/<name>.toml` (with its policies/), the module and root call it wrote
under `<name>/`, and its synthesized CDKTF stack, `<name>/stacks/quilt-cross-account/cdk.tf.json`.
For each one, Terraform core applies the old tree with the stand-in provider, the current code
regenerates the same config over it (as a user upgrading does: no --force), and Terraform's own
plan must delete, replace and forget nothing: every object in the state is kept at its address
or moved by a `moved` block. The same for the stack's logical ids. Every directory under
tests/upgrades/ is a release: adding one adds its cases.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from quilt_cross_account import cli, config, errors, version, writer
from quilt_cross_account.terraform import render

from tests.cdktf_fixtures import STACK_NAME, synthesized, terraform_config
from tests.standin.harness import Terraform

UPGRADES = Path(__file__).resolve().parent / "upgrades"
RELEASES = sorted(
    (p for p in UPGRADES.iterdir() if p.is_dir()), key=lambda p: version.order(p.name)
)
CASES = [
    pytest.param(release, path.stem, id=f"{release.name}-{path.stem}")
    for release in RELEASES
    for path in sorted((release / "configs").glob("*.toml"))
]
STACK_FILE = Path("stacks") / STACK_NAME / "cdk.tf.json"
# Applying 300 buckets' stack costs as much as all other cases together; its per-bucket logical
# ids follow the scheme the smaller stacks prove, and its module case covers the trail's 300.
STACK_CASES = [case for case in CASES if case.values[1] != "many-buckets"]
OWNERSHIP = "aws_s3_bucket_ownership_controls"
LOSSES = {"delete", "forget"}  # a replace is a delete and a create


def config_of(release: Path, name: str) -> Path:
    return release / "configs" / f"{name}.toml"


def managed(state: dict[str, Any]) -> set[str]:
    """Addresses of every managed resource instance in `show -json` of a state."""

    def walk(module: dict[str, Any]) -> set[str]:
        found = {r["address"] for r in module.get("resources", []) if r["mode"] == "managed"}
        for child in module.get("child_modules", []):
            found |= walk(child)
        return found

    return walk(state.get("values", {}).get("root_module", {}))


def assert_nothing_lost(state: dict[str, Any], plan: dict[str, Any]) -> dict[str, str]:
    """Every object of the applied state is kept (no-op or update) at its address or moved;
    returns the moves (old address -> new), as Terraform plans them."""
    changes = {rc["address"]: rc for rc in plan.get("resource_changes", [])}
    lost = {
        a: rc["change"]["actions"]
        for a, rc in changes.items()
        if LOSSES & set(rc["change"]["actions"])
    }
    assert not lost, f"the upgrade would destroy or replace: {lost}"
    moves = {rc["previous_address"]: a for a, rc in changes.items() if rc.get("previous_address")}
    kept = {a for a, rc in changes.items() if rc["mode"] == "managed"} | set(moves)
    old = managed(state)
    assert old, "the old tree applied nothing"
    assert old <= kept, f"not planned at all: {sorted(old - kept)}"
    return moves


def work_dir(terraform: Terraform, prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix, dir=terraform.base / "work"))


def applied_then_regenerated(
    terraform: Terraform, capsys: Any, release: Path, name: str
) -> tuple[Path, dict[str, Any]]:
    """A copy of the old tree, applied; then `generate` of the same config over it. Returns the
    root directory and the state the old tree left."""
    out = work_dir(terraform, f"up-{name}"[:16])
    for directory in render.OWNED_DIRS:
        shutil.copytree(release / name / directory, out / directory)
    root = out / render.ROOT_DIR
    state = terraform.apply(root)

    capsys.readouterr()
    code = cli.main(["generate", "--config", str(config_of(release, name)), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == errors.EXIT_OK, err  # an old tree is ours: no --force needed
    assert "newer than this" not in err
    manifest = json.loads((root / writer.MANIFEST).read_text())
    assert manifest[version.MANIFEST_KEY] == version.current()
    return root, state


@pytest.mark.parametrize(("release", "name"), CASES)
def test_regenerating_an_old_tree_deletes_nothing(terraform, capsys, release, name):
    root, state = applied_then_regenerated(terraform, capsys, release, name)
    # Moves are allowed; since 0.1.0 no address has changed, so none is planned.
    assert_nothing_lost(state, terraform.plan(root, refresh=False))


def test_a_renamed_address_is_caught_and_a_moved_block_makes_it_a_move(terraform, capsys):
    """The check above can fail: rename a resource the old tree created in the regenerated
    module, and the plan replaces it; add the `moved` block and the plan moves it."""
    root, state = applied_then_regenerated(terraform, capsys, RELEASES[0], "reference")
    main_tf = root.parent.parent / render.MODULE_DIR / "main.tf"
    text = main_tf.read_text()
    assert f'resource "{OWNERSHIP}" "this" {{' in text
    main_tf.write_text(text.replace(f'"{OWNERSHIP}" "this"', f'"{OWNERSHIP}" "quilt"'))
    with pytest.raises(AssertionError, match="would destroy or replace"):
        assert_nothing_lost(state, terraform.plan(root, refresh=False))

    with main_tf.open("a") as handle:
        handle.write(f"\nmoved {{\n  from = {OWNERSHIP}.this\n  to   = {OWNERSHIP}.quilt\n}}\n")
    moves = assert_nothing_lost(state, terraform.plan(root, refresh=False))
    bucket = '["bucket-in-data-account"]'
    module = "module.quilt_cross_account"
    assert moves == {f"{module}.{OWNERSHIP}.this{bucket}": f"{module}.{OWNERSHIP}.quilt{bucket}"}


@pytest.mark.parametrize(("release", "name"), STACK_CASES)
def test_the_current_stack_keeps_every_logical_id(terraform, release, name):
    stack = work_dir(terraform, f"st-{name}"[:16])
    old = json.loads((release / name / STACK_FILE).read_text())
    (stack / "cdk.tf.json").write_text(json.dumps(terraform_config(old)))
    state = terraform.apply(stack)

    current = synthesized(config.load(config_of(release, name)))[2]
    (stack / "cdk.tf.json").write_text(json.dumps(terraform_config(current)))
    assert_nothing_lost(state, terraform.plan(stack, refresh=False))


def test_check_names_the_version_that_generated_the_tree(tmp_path, capsys):
    release = UPGRADES / "0.1.0"
    for directory in render.OWNED_DIRS:
        shutil.copytree(release / "reference" / directory, tmp_path / directory)
    args = ["generate", "--config", str(config_of(release, "reference")), "--out", str(tmp_path)]
    assert cli.main([*args, "--check"]) == errors.EXIT_DRIFT
    err = capsys.readouterr().err
    assert "(generated by an earlier quilt-cross-account (its manifest records no version))" in err

    assert cli.main(args) == errors.EXIT_OK
    assert cli.main([*args, "--check"]) == errors.EXIT_OK
