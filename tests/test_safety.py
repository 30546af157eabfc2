"""Crash safety and concurrency of `generate`: whole trees or nothing, never a mix."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from quilt_cross_account import writer
from quilt_cross_account.terraform import render

from tests.util import REPO, config_text, snapshot, write_config

OWNED = (render.MODULE_DIR, render.ROOT_DIR)


def start(config: Path, out: Path, user: int | None = None) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "quilt_cross_account",
        "generate",
        "--config",
        str(config),
        "--out",
        str(out),
    ]
    if user is not None:
        command = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *command]
    return subprocess.Popen(
        command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def trees(out: Path) -> dict[str, dict[str, bytes]]:
    return {d: snapshot(out / d) for d in OWNED}


@pytest.fixture(scope="module")
def configs(tmp_path_factory) -> tuple[Path, Path]:
    """Two configs whose outputs differ, over the same buckets (a run that dropped buckets of
    the previous tree would be refused); the big one keeps the writer busy for a while."""
    base = tmp_path_factory.mktemp("configs")
    buckets = [f"bucket-{i:05d}" for i in range(8000)]
    big = write_config(base, config_text(buckets, trail='mode = "none"\n'), "big.toml")
    small = write_config(
        base,
        config_text(buckets, trail='mode = "none"\n', extra='tags = { run = "small" }'),
        "small.toml",
    )
    return big, small


@pytest.fixture(scope="module")
def expected(configs, tmp_path_factory) -> dict[Path, dict[str, dict[str, bytes]]]:
    """The complete trees each config produces."""
    result = {}
    for cfg in configs:
        out = tmp_path_factory.mktemp("expected")
        assert start(cfg, out).wait() == 0
        result[cfg] = trees(out)
    return result


def test_sigkill_at_any_point_leaves_whole_trees(tmp_path, configs, expected):
    big, small = configs
    began = time.perf_counter()
    assert start(big, tmp_path).wait() == 0
    duration = time.perf_counter() - began
    allowed = {d: [expected[c][d] for c in configs] for d in OWNED}
    # Kill points spread evenly over a whole run of the big config, from interpreter start-up
    # to the final swap (measured here, so a slower machine still gets kills mid-run).
    delays = [duration * i / 24 for i in range(30)]
    killed_mid_run = 0
    for i, delay in enumerate(delays):
        process = start(big if i % 2 == 0 else small, tmp_path)
        time.sleep(delay)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            killed_mid_run += 1
        process.wait()
        for directory, tree in trees(tmp_path).items():
            assert tree in allowed[directory], (
                f"{directory} is neither the old nor the new tree after a kill at {delay:.2f}s"
            )
            assert not [name for name in tree if writer.STAGING_PREFIX in name], (
                "debris inside the target"
            )
    assert killed_mid_run >= 10, "the sweep never interrupted a run; widen it"
    # The next run cleans what killed runs left beside the targets.
    assert start(small, tmp_path).wait() == 0
    assert trees(tmp_path) == expected[small]
    debris = [p for p in tmp_path.rglob("*") if writer.STAGING_PREFIX in p.name]
    assert debris == []


def test_concurrent_runs_never_interleave(tmp_path, configs, expected):
    big, small = configs
    for _ in range(4):
        first, second = start(big, tmp_path), start(small, tmp_path)
        assert first.wait() == 0 and second.wait() == 0, first.stderr.read() + second.stderr.read()
        result = trees(tmp_path)
        for directory in OWNED:
            assert result[directory] in (expected[big][directory], expected[small][directory])
    # Serialised by the lock, the last writer's trees are whole: the module and root agree.
    first, second = start(big, tmp_path), start(small, tmp_path)
    first.wait(), second.wait()
    assert trees(tmp_path) in (expected[big], expected[small])


NOBODY = 65534
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run as another user")


@pytest.fixture
def world_readable():
    """A temp dir another user can read (pytest's own are private), with a small config in it."""
    base = Path(tempfile.mkdtemp(prefix="quilt-perm-"))
    os.chmod(base, 0o755)
    config = write_config(base, config_text(["small-bucket"]))
    os.chmod(config, 0o644)
    yield base, config
    for path in sorted(base.rglob("*"), reverse=True):
        os.chmod(path, 0o755) if path.is_dir() else None
    subprocess.run(["rm", "-rf", str(base)], check=True)


@needs_root
def test_read_only_target_is_a_clear_error(world_readable):
    base, config = world_readable
    out = base / "out"
    out.mkdir()
    os.chmod(out, 0o555)
    process = start(config, out, user=NOBODY)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 2
    assert err == f"error: --out: output directory {str(out)!r} is not writable\n"
    assert list(out.iterdir()) == []


@needs_root
def test_unwritable_module_parent_is_a_clear_error(world_readable):
    base, config = world_readable
    out = base / "out"
    out.mkdir()
    os.chmod(out, 0o777)
    (out / "modules").mkdir()
    os.chmod(out / "modules", 0o555)
    process = start(config, out, user=NOBODY)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 2
    assert err == f"error: cannot write {out}/modules/quilt-cross-account: Permission denied\n"
    assert list((out / "modules").iterdir()) == []
