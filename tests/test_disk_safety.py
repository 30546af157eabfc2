"""A hostile or unlucky tree never makes the tool read, print, overwrite or delete what it does not
own: links, FIFOs, devices, deep or huge documents, failures and kills between the two swaps,
filesystems without RENAME_EXCHANGE, Ctrl-C, --force next to the tool's own inputs."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from quilt_cross_account import cli, errors, writer
from quilt_cross_account.terraform import render

from tests.util import MODULE, REPO, ROOT, config_text, run_cli, snapshot, write_config

OWNED = render.OWNED_DIRS
SECRET = "AKIA-THIS-MUST-NEVER-BE-PRINTED"


def generate(capsys, *args: str | Path) -> tuple[int, str, str]:
    code = cli.main(["generate", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def tree(tmp_path, capsys) -> Path:
    """A generated tree of the built-in example under tmp_path/out."""
    out = tmp_path / "out"
    out.mkdir()
    assert generate(capsys, "--out", out)[0] == 0
    return out


def pair_of(out: Path) -> dict[str, dict[str, bytes]]:
    return {d: snapshot(out / d) for d in OWNED}


# 1. --check never follows a link or reads a special file ------------------------------------


@pytest.mark.parametrize("name", ["zz.tf", "main.tf"])
def test_check_reports_a_link_by_name_and_never_prints_its_target(tree, tmp_path, capsys, name):
    secret = tmp_path / "credentials"
    secret.write_text(f"aws_secret_access_key = {SECRET}\n")
    link = tree / MODULE / name
    link.unlink(missing_ok=True)
    link.symlink_to(secret)
    code, out, err = generate(capsys, "--check", "--out", tree)
    assert code == errors.EXIT_DRIFT
    assert SECRET not in out + err
    assert f"{MODULE}/{name}: is a symbolic link; not followed or read" in out
    # and generate refuses to replace a tree holding it, naming it
    code, _, err = generate(capsys, "--out", tree)
    assert code == errors.EXIT_USAGE and name in err and SECRET not in err
    assert link.is_symlink() and secret.read_text().startswith("aws_secret")


@pytest.mark.parametrize("kind", ["dev-zero", "fifo", "dir-link"])
def test_check_never_reads_devices_fifos_or_linked_directories(tree, capsys, kind):
    target = tree / MODULE / "zz.tf"
    if kind == "dev-zero":
        target.symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(target)
    else:
        target.symlink_to("/proc/self")
    began = time.monotonic()
    code, out, _ = generate(capsys, "--check", "--out", tree)
    assert time.monotonic() - began < 10  # no hang, no endless read
    assert code == errors.EXIT_DRIFT
    assert f"{MODULE}/zz.tf: is a" in out


def test_check_reports_a_foreign_file_that_is_not_utf8(tree, capsys):
    (tree / ROOT / "notes.bin").write_bytes(b"\xff\xfe binary")
    code, out, _ = generate(capsys, "--check", "--out", tree)
    assert code == errors.EXIT_DRIFT
    assert f"{ROOT}/notes.bin: is not UTF-8 text" in out
    assert generate(capsys, "--out", tree)[0] == errors.EXIT_USAGE  # and generate agrees


# 3. both directories or neither ---------------------------------------------------------------


def test_a_failed_second_swap_puts_the_first_back(tree, tmp_path, capsys, monkeypatch):
    before = pair_of(tree)
    real_swap = writer._swap
    calls = []

    def failing_second(staging: Path, target: Path) -> None:
        calls.append(target)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(target))
        real_swap(staging, target)

    monkeypatch.setattr(writer, "_swap", failing_second)
    cfg = write_config(tmp_path, config_text(["bucket-in-data-account", "other-bucket"]))
    code, _, err = generate(capsys, "--config", cfg, "--out", tree)
    assert code == errors.EXIT_USAGE
    assert err == f"error: cannot write {tree / ROOT}: No space left on device\n"
    assert pair_of(tree) == before  # the module swapped first was put back
    assert not list(tree.rglob(f"{writer.STAGING_PREFIX}*"))
    assert not (tree / writer.JOURNAL).exists()


KILL_AFTER_FIRST_SWAP = """
import os, sys
from quilt_cross_account import writer
real = writer._swap
def swap_then_die(staging, target):
    real(staging, target)
    os._exit(9)  # killed between the two swaps
writer._swap = swap_then_die
from quilt_cross_account.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_kill_between_the_swaps_is_completed_by_the_next_run(tree, tmp_path, capsys):
    cfg = write_config(tmp_path, config_text(["bucket-in-data-account", "other-bucket"]))
    killed = subprocess.run(
        [sys.executable, "-c", KILL_AFTER_FIRST_SWAP, "generate", "--config", cfg, "--out", tree],
        capture_output=True,
        text=True,
    )
    assert killed.returncode == 9
    assert (tree / writer.JOURNAL).exists()
    # CI's --check sees the half-done run
    code, out, _ = generate(capsys, "--check", "--config", cfg, "--out", tree)
    assert code == errors.EXIT_DRIFT and writer.JOURNAL in out
    # The next run of any kind completes it first: the pair is the killed run's, whole.
    assert writer.complete_interrupted(tree, OWNED)
    assert not (tree / writer.JOURNAL).exists()
    assert generate(capsys, "--check", "--config", cfg, "--out", tree)[0] == errors.EXIT_OK
    assert not list(tree.rglob(f"{writer.STAGING_PREFIX}*"))


def test_a_planted_journal_moves_nothing(tree, capsys):
    before = pair_of(tree)
    (tree / writer.JOURNAL).write_text(
        '{"swaps": [{"target": "modules/quilt-cross-account", "staging": "../../etc",'
        ' "inode": [0, 0]}]}'
    )
    assert writer.complete_interrupted(tree, OWNED)
    assert pair_of(tree) == before and not (tree / writer.JOURNAL).exists()


# 4. filesystems without RENAME_EXCHANGE ------------------------------------------------------


@pytest.mark.parametrize("code", [errno.EINVAL, errno.ENOTSUP])
def test_without_rename_exchange_every_regeneration_works(tmp_path, capsys, monkeypatch, code):
    def no_exchange(a: Path, b: Path) -> None:
        raise OSError(code, os.strerror(code), str(b))

    monkeypatch.setattr(writer, "_exchange", no_exchange)
    out = tmp_path / "out"
    out.mkdir()
    grown = (
        ["first-bucket"],
        ["first-bucket", "second-bucket"],
        ["first-bucket", "second-bucket", "third-bucket"],
    )
    for buckets in grown:
        cfg = write_config(tmp_path, config_text(buckets))
        assert generate(capsys, "--config", cfg, "--out", out)[0] == 0
        assert generate(capsys, "--check", "--config", cfg, "--out", out)[0] == 0
    assert not list(out.rglob(f"{writer.STAGING_PREFIX}*"))


# 5. links that would escape --out ---------------------------------------------------------------


@pytest.mark.parametrize("linked", ["modules", "examples", MODULE, ROOT])
def test_a_linked_output_directory_is_refused(tmp_path, capsys, linked):
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / linked).parent.mkdir(parents=True, exist_ok=True)
    (out / linked).symlink_to(elsewhere, target_is_directory=True)
    code, _, err = generate(capsys, "--out", out)
    assert code == errors.EXIT_USAGE
    assert (
        err
        == f"error: {out / linked} is a symbolic link; quilt-cross-account writes only real directories under --out (replace the link with a directory)\n"
    )
    assert list(elsewhere.iterdir()) == []
    assert [p for p in out.rglob("*") if not p.is_symlink() and p.is_file()] == []


def test_two_outs_sharing_a_module_directory_are_refused(tmp_path, capsys):
    shared = tmp_path / "shared"
    shared.mkdir()
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "modules").symlink_to(shared, target_is_directory=True)
        assert generate(capsys, "--out", tmp_path / name)[0] == errors.EXIT_USAGE
    assert list(shared.iterdir()) == []


# 6. never a traceback -----------------------------------------------------------------------------


def nested_toml(depth: int) -> str:
    return (
        'control_account_ids = ["111122223333"]\nbuckets = ["b-one"]\nx = '
        + "[" * depth
        + "]" * depth
    )


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (nested_toml(1000), "<toml>: "),
        (nested_toml(40), "<toml>: "),
    ],
)
def test_deep_toml_is_a_clear_error(tmp_path, capsys, document, expected):
    cfg = write_config(tmp_path, document)
    code, out, err = generate(capsys, "--config", cfg, "--out", tmp_path)
    assert code == errors.EXIT_USAGE and out == ""
    assert err.startswith(f"error: {expected}") and "levels deep" in err
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize(
    ("policy", "fragment"),
    [
        ('{"Statement": ' + "[" * 1000 + "]" * 1000 + "}", "levels deep"),
        ('{"Statement": [{"Effect": "Allow", "X": NaN}]}', "NaN is not a JSON number"),
        ('{"Statement": [{"Effect": "Allow", "X": 1e400}]}', "1e400 is out of range"),
        ('{"Statement": [{"Effect": "Allow", "X": Infinity}]}', "Infinity is not a JSON number"),
    ],
)
def test_hostile_policy_documents_are_clear_errors(tmp_path, capsys, policy, fragment):
    (tmp_path / "policy.json").write_text(policy)
    cfg = write_config(
        tmp_path,
        'control_account_ids = ["111122223333"]\n'
        '[[buckets]]\nname = "data-one"\nexisting_policy = "policy.json"\n'
        '[cloudtrail]\nmode = "none"\n',
    )
    code, _, err = generate(capsys, "--config", cfg, "--out", tmp_path)
    assert code == errors.EXIT_USAGE
    assert err.startswith("error: buckets[0].existing_policy: policy file ")
    assert fragment in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("kind", ["dev-zero", "fifo", "link", "huge"])
def test_policy_files_that_are_not_small_regular_files_are_refused(tmp_path, capsys, kind):
    path = tmp_path / "policy.json"
    if kind == "dev-zero":
        path = Path("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "link":
        secret = tmp_path / "secret.json"
        secret.write_text('{"Statement": []}')
        path.symlink_to(secret)
    else:
        path.write_text(" " * (2 * 1024 * 1024))
    cfg = write_config(
        tmp_path,
        'control_account_ids = ["111122223333"]\n'
        f'[[buckets]]\nname = "data-one"\nexisting_policy = "{path}"\n'
        '[cloudtrail]\nmode = "none"\n',
    )
    began = time.monotonic()
    code, _, err = generate(capsys, "--config", cfg, "--out", tmp_path)
    assert time.monotonic() - began < 10
    assert code == errors.EXIT_USAGE and len(err.splitlines()) == 1
    expected = {
        "dev-zero": "is a device, not a regular file",
        "fifo": "is a FIFO, not a regular file",
        "link": "is a symbolic link, not a regular file",
        "huge": "over the limit of 1048576 bytes",
    }[kind]
    assert expected in err


def test_a_config_that_is_a_link_or_fifo_is_refused(tmp_path, capsys):
    real = write_config(tmp_path, config_text(["b-one"]), "real.toml")
    (tmp_path / "linked.toml").symlink_to(real)
    os.mkfifo(tmp_path / "fifo.toml")
    for name, expected in (("linked.toml", "a symbolic link"), ("fifo.toml", "a FIFO")):
        code, _, err = generate(capsys, "--config", tmp_path / name, "--out", tmp_path)
        assert code == errors.EXIT_USAGE and expected in err


@pytest.mark.parametrize("cache", ["file", "foreign-mode", "link"])
def test_an_unusable_jinja_cache_directory_costs_only_speed(tmp_path, cache):
    temp = tmp_path / "tmp"
    temp.mkdir()
    cache_dir = temp / f"_jinja2-cache-{os.getuid()}"
    if cache == "file":
        cache_dir.write_text("not a directory")
    elif cache == "foreign-mode":
        cache_dir.mkdir(mode=0o777)
        os.chmod(cache_dir, 0o777)
    else:
        cache_dir.symlink_to(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "quilt_cross_account", "generate", "--out", str(out)],
        cwd=REPO,
        env={**os.environ, "TMPDIR": str(temp)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_an_unexpected_exception_is_one_line_and_not_the_drift_code(tmp_path, capsys, monkeypatch):
    def broken(model: object) -> dict[str, str]:
        raise ValueError("something\nunforeseen")

    monkeypatch.setattr(render, "render", broken)
    code, out, err = generate(capsys, "--out", tmp_path)
    assert code == errors.EXIT_INTERNAL and code != errors.EXIT_DRIFT
    assert err == "error: internal error (ValueError: something unforeseen); please report it\n"


# 8. Ctrl-C and SIGTERM --------------------------------------------------------------------------


PAUSE_WHILE_STAGING = """
import os, sys, time
from quilt_cross_account import writer
real = writer._write_new_file
def write_then_wait(path, content):
    real(path, content)
    open(os.environ["READY"], "w").close()  # staging has begun: the test may interrupt now
    time.sleep(60)
writer._write_new_file = write_then_wait
from quilt_cross_account.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_is_one_line_exit_130_and_leaves_no_staging(tree, tmp_path, signum):
    before = pair_of(tree)
    ready = tmp_path / "ready"
    cfg = write_config(tmp_path, config_text(["bucket-in-data-account", "other-bucket"]))
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            PAUSE_WHILE_STAGING,
            "generate",
            "--config",
            str(cfg),
            "--out",
            str(tree),
        ],
        cwd=REPO,
        env={**os.environ, "READY": str(ready)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not ready.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert ready.exists(), "the run never began staging"
    assert list(tree.rglob(f"{writer.STAGING_PREFIX}*"))  # mid-run: staging exists
    process.send_signal(signum)
    _, err = process.communicate(timeout=60)
    assert process.returncode == errors.EXIT_INTERRUPTED
    assert err == "interrupted; nothing was changed by this run\n"
    assert not list(tree.rglob(f"{writer.STAGING_PREFIX}*"))
    assert pair_of(tree) == before


def test_an_error_exit_leaves_no_staging(tree, tmp_path, capsys, monkeypatch):
    def failing(staging: Path, target: Path) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO), str(target))

    monkeypatch.setattr(writer, "_swap", failing)
    assert generate(capsys, "--out", tree)[0] == errors.EXIT_USAGE
    assert not list(tree.rglob(f"{writer.STAGING_PREFIX}*"))


# 9. --force and the tool's own inputs -------------------------------------------------------------


@pytest.mark.parametrize("inside", [MODULE, ROOT])
def test_force_never_removes_a_directory_holding_the_config(tree, capsys, inside):
    cfg = write_config(tree / inside, config_text(["bucket-in-data-account"]), "quilt.toml")
    code, _, err = generate(capsys, "--config", cfg, "--out", tree, "--force")
    assert code == errors.EXIT_USAGE
    assert "which this run read; move it out of the generated directory" in err
    assert cfg.exists()


def test_force_never_removes_a_directory_holding_a_policy_it_read(tree, tmp_path, capsys):
    policies = tree / ROOT / "policies"
    policies.mkdir()
    (policies / "data-one.json").write_text(
        '{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",'
        ' "Resource": "arn:aws:s3:::data-one/*"}]}'
    )
    cfg = write_config(
        tmp_path,
        f'control_account_ids = ["111122223333"]\nbuckets = ["data-one", "bucket-in-data-account"]\n'
        f'existing_policies_dir = "{policies}"\n[cloudtrail]\nmode = "none"\n',
    )
    code, _, err = generate(capsys, "--config", cfg, "--out", tree, "--force")
    assert code == errors.EXIT_USAGE and "data-one.json, which this run read" in err
    assert (policies / "data-one.json").exists()


@pytest.mark.parametrize("force", [False, True])
def test_a_file_where_a_directory_belongs_writes_nothing(tmp_path, capsys, force):
    out = tmp_path / "out"
    (out / "examples").mkdir(parents=True)
    (out / ROOT).write_text("not a directory")
    code, _, err = generate(capsys, "--out", out, *(["--force"] if force else []))
    assert code == errors.EXIT_USAGE
    assert (
        err == f"error: {out / ROOT} exists and is a regular file, not a directory; move it away\n"
    )
    assert not (out / "modules").exists()  # nothing written before the refusal


# The kill loop: two generator versions, killed at random moments ---------------------------------


def second_version(tmp_path: Path) -> Path:
    """A copy of the package whose every generated file differs (another header)."""
    root = tmp_path / "v2"
    shutil.copytree(REPO / "generator", root, ignore=shutil.ignore_patterns("__pycache__"))
    render_py = root / "quilt_cross_account" / "terraform" / "render.py"
    text = render_py.read_text()
    assert 'f"Generated by {domain.GENERATOR_NAME}.' in text
    render_py.write_text(
        text.replace(
            'f"Generated by {domain.GENERATOR_NAME}.', 'f"Generated by {domain.GENERATOR_NAME} v2.'
        )
    )
    return root


def version_of(out: Path, directory: str) -> str | None:
    main_tf = out / directory / "main.tf"
    if not main_tf.exists():
        return None
    return "v2" if "quilt-cross-account v2." in main_tf.read_text() else "v1"


def test_kills_at_random_moments_of_two_versions_always_leave_a_matching_pair(tmp_path):
    import random

    v2 = second_version(tmp_path)
    cfg = write_config(
        tmp_path, config_text([f"bucket-{i:05d}" for i in range(6000)], trail='mode = "none"\n')
    )
    out = tmp_path / "out"
    out.mkdir()
    environments = {
        "v1": dict(os.environ),
        "v2": {**os.environ, "PYTHONPATH": f"{v2}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"},
    }
    command = [
        sys.executable,
        "-m",
        "quilt_cross_account",
        "generate",
        "--config",
        str(cfg),
        "--out",
        str(out),
    ]
    began = time.monotonic()
    assert subprocess.run(command, env=environments["v1"], cwd=tmp_path).returncode == 0
    duration = time.monotonic() - began
    chooser = random.Random(20261201)
    journals = killed = 0
    for i in range(24):
        version = "v2" if i % 2 else "v1"
        process = subprocess.Popen(
            command,
            env=environments[version],
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(chooser.uniform(0.3, 1.1) * duration)
        if process.poll() is None:
            process.kill()
            killed += 1
        process.wait()
        if writer.complete_interrupted(out, OWNED):
            journals += 1
        module, root = version_of(out, MODULE), version_of(out, ROOT)
        assert module == root, f"module from {module}, root call from {root} after run {i}"
    assert killed >= 6, "the loop never interrupted a run; widen the delays"
    # The next run removes what the killed ones left beside the targets, and is whole.
    assert subprocess.run(command, env=environments["v1"], cwd=tmp_path).returncode == 0
    assert not list(out.rglob(f"{writer.STAGING_PREFIX}*"))
    assert (version_of(out, MODULE), version_of(out, ROOT)) == ("v1", "v1")
    assert run_cli("generate", "--check", "--config", cfg, "--out", out).returncode == 0


def test_a_live_runs_staging_directory_is_never_removed(tree, capsys):
    import fcntl

    live = tree / "modules" / f"{writer.STAGING_PREFIX}quilt-cross-account-live"
    live.mkdir()
    (live / "half-written.tf").write_text("# another run is writing this\n")
    fd = os.open(live, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # as a live run holds its own
        dead = tree / "modules" / f"{writer.STAGING_PREFIX}quilt-cross-account-dead"
        dead.mkdir()
        assert generate(capsys, "--out", tree)[0] == 0
        assert (live / "half-written.tf").exists()
        assert not dead.exists()  # nobody holds it: a dead run's
    finally:
        os.close(fd)


def test_a_config_over_the_size_limit_is_refused_before_reading(tmp_path, capsys):
    from quilt_cross_account.config import documents

    cfg = tmp_path / "huge.toml"
    with open(cfg, "wb") as handle:
        handle.truncate(documents.MAX_CONFIG_BYTES + 1)
    code, _, err = generate(capsys, "--config", cfg, "--out", tmp_path)
    assert code == errors.EXIT_USAGE
    assert err == (
        f"error: --config: file {str(cfg)!r} is {documents.MAX_CONFIG_BYTES + 1} bytes, "
        f"over the limit of {documents.MAX_CONFIG_BYTES} bytes\n"
    )


def test_terraform_files_in_subdirectories_survive_regeneration(tree, capsys):
    tests = tree / MODULE / render.MODULE_TEST_DIR
    state = tests / ".terraform"
    state.mkdir()
    (state / "providers").write_text("cache\n")
    (tests / "terraform.tfstate").write_text('{"version": 4}')
    assert generate(capsys, "--out", tree)[0] == 0
    assert (state / "providers").read_text() == "cache\n"
    assert (tests / "terraform.tfstate").read_text() == '{"version": 4}'


def test_a_journal_left_before_its_commit_point_is_cleaned_up(tree, capsys):
    (tree / f"{writer.JOURNAL}.tmp").write_text("{}")
    assert generate(capsys, "--out", tree)[0] == 0
    assert not (tree / f"{writer.JOURNAL}.tmp").exists()
