"""The package as users get it, in the style of pypa/build's self-packaging test.

From a snapshot of this checkout (the files git would commit, as they are on disk, in one clean
commit) `python -m build --no-isolation` builds the sdist and, from the sdist, the wheel; both file
lists are asserted exactly. The wheel is installed into a fresh virtualenv and run from a directory
outside the checkout. The same snapshot is the repository `pre-commit try-repo` installs the
user-facing hook (.pre-commit-hooks.yaml) from, offline.

Nothing here reaches the network: setuptools and build come from the test extra (hence
--no-isolation), and the wheels the installs need (jinja2, markupsafe, and setuptools for
pre-commit's isolated build of the hook) come from the wheelhouse `make test` downloads into
<virtualenv>/wheelhouse at setup time (--no-index, also inside pre-commit's pip); pre-commit seeds
its virtualenv from virtualenv's embedded wheels. Without the wheelhouse (or without build or
pre-commit) the tests skip; `make test` sets QUILT_CROSS_ACCOUNT_PACKAGING_TESTS=required, which
turns the skip into a failure.
"""

from __future__ import annotations

import email.parser
import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.util import REPO, run_cli, snapshot

pytestmark = pytest.mark.slow

WHEELHOUSE = Path(sys.prefix) / "wheelhouse"
WHEELHOUSE_DONE = WHEELHOUSE / ".complete"  # written last by the Makefile's wheelhouse target
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]
NAME, VERSION = PROJECT["name"], PROJECT["version"]
DIST_NAME = NAME.replace("-", "_")
HOOK_ID = "quilt-cross-account-check"
MODULE, ROOT = "modules/quilt-cross-account", "examples/quilt-cross-account"

# The package's files other than its modules, relative to the source root `generator/`.
PACKAGE_DATA = {
    "quilt_cross_account/py.typed",
    "quilt_cross_account/examples/reference.toml",
    "quilt_cross_account/terraform/templates/module/README.md.j2",
    "quilt_cross_account/terraform/templates/macros.j2",
    "quilt_cross_account/terraform/templates/module/cloudtrail.tf.j2",
    "quilt_cross_account/terraform/templates/module/log_bucket.tf.j2",
    "quilt_cross_account/terraform/templates/module/main.tf.j2",
    "quilt_cross_account/terraform/templates/module/outputs.tf.j2",
    "quilt_cross_account/terraform/templates/module/variables.tf.j2",
    "quilt_cross_account/terraform/templates/module/versions.tf.j2",
    "quilt_cross_account/terraform/templates/module/tftest/quilt_cross_account.tftest.hcl.j2",
    "quilt_cross_account/terraform/templates/root/main.tf.j2",
    "quilt_cross_account/terraform/templates/root/cloudtrail/README.md.j2",
    "quilt_cross_account/terraform/templates/root/cloudtrail/trail-snippet.tf.j2",
}
# What a user needs to rebuild the wheel from the sdist, besides the package itself. No tests:
# they need the whole checkout (the stand-in provider, fixtures), so MANIFEST.in prunes them.
SDIST_FILES = {
    "LICENSE",
    "MANIFEST.in",
    "PKG-INFO",
    "README.md",
    "pyproject.toml",
    "setup.cfg",  # setuptools' own (egg_info tags)
    "generator/quilt_cross_account.egg-info/PKG-INFO",
    "generator/quilt_cross_account.egg-info/SOURCES.txt",
    "generator/quilt_cross_account.egg-info/dependency_links.txt",
    "generator/quilt_cross_account.egg-info/entry_points.txt",
    "generator/quilt_cross_account.egg-info/requires.txt",
    "generator/quilt_cross_account.egg-info/top_level.txt",
}
WHEEL_METADATA = {
    "dist-info/METADATA",
    "dist-info/RECORD",
    "dist-info/WHEEL",
    "dist-info/entry_points.txt",
    "dist-info/top_level.txt",
    "dist-info/licenses/LICENSE",
}


def missing_prerequisites() -> list[str]:
    missing = [
        f"the {module} package (test extra)"
        for module in ("build", "pre_commit")
        if importlib.util.find_spec(module) is None
    ]
    try:
        setuptools = importlib.metadata.version("setuptools")
    except importlib.metadata.PackageNotFoundError:
        setuptools = "none"
    if not setuptools[0].isdigit() or int(setuptools.split(".")[0]) < 77:
        missing.append(f"setuptools>=77 (test extra; this environment has {setuptools})")
    if not WHEELHOUSE_DONE.is_file():
        missing.append(f"the wheelhouse {WHEELHOUSE} (the .venv/.dev setup of `make test`)")
    return missing


@pytest.fixture(scope="module", autouse=True)
def prerequisites() -> None:
    missing = missing_prerequisites()
    if not missing:
        return
    reason = "offline packaging tests need " + "; ".join(missing) + ": run `make test`"
    if os.environ.get("QUILT_CROSS_ACCOUNT_PACKAGING_TESTS") == "required":
        pytest.fail(reason)
    pytest.skip(reason)


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without what changes how Python, pip, virtualenv, pre-commit or git behave
    (user config, PYTHONPATH into the checkout, PYTHONDONTWRITEBYTECODE, with which setuptools
    warns that byte-compiling is disabled, ...), and pip offline: the wheelhouse only."""
    dropped = ("PYTHON", "PIP_", "VIRTUALENV_", "VIRTUAL_ENV", "PRE_COMMIT", "GIT_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    env.update(
        PIP_CONFIG_FILE=os.devnull,
        PIP_NO_INDEX="1",
        PIP_FIND_LINKS=str(WHEELHOUSE),
        PIP_NO_CACHE_DIR="1",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        VIRTUALENV_NO_PERIODIC_UPDATE="1",  # pre-commit's virtualenv: embedded wheels, no fetch
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="test",
        GIT_AUTHOR_EMAIL="test@example.invalid",
        GIT_COMMITTER_NAME="test",
        GIT_COMMITTER_EMAIL="test@example.invalid",
    )
    env.update(extra)
    return env


def run(*args: str | Path, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=600,
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"{result.args}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def git(*args: str, cwd: Path) -> str:
    return ok(run("git", *args, cwd=cwd))


def commit_all(repo: Path) -> str:
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "snapshot", cwd=repo)
    return git("rev-parse", "HEAD", cwd=repo).strip()


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The files git would commit from this checkout (tracked or new, not ignored), as they are
    on disk, in a fresh repository with one commit: what a clone of the commit would hold, and a
    clean commit for pre-commit (try-repo would take HEAD plus changes to tracked files only),
    whatever the state of the working tree."""
    dest = tmp_path_factory.mktemp("checkout")
    listed = git("ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=REPO)
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file():  # not a deleted file
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    git("init", "-q", cwd=dest)
    commit_all(dest)
    return dest


@dataclass(frozen=True)
class Dist:
    sdist: Path
    wheel: Path
    output: str


@pytest.fixture(scope="module")
def dist(checkout: Path, tmp_path_factory: pytest.TempPathFactory) -> Dist:
    """`python -m build`: the sdist, then the wheel built from the unpacked sdist."""
    out = tmp_path_factory.mktemp("dist")
    source = tmp_path_factory.mktemp("source")
    shutil.copytree(checkout, source, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".git"))
    result = run(sys.executable, "-m", "build", "--no-isolation", "--outdir", out, source, cwd=out)
    ok(result)
    (sdist,) = out.glob("*.tar.gz")
    (wheel,) = out.glob("*.whl")
    return Dist(sdist, wheel, result.stdout + result.stderr)


def package_files(checkout: Path) -> set[str]:
    """The package's modules and its data, relative to the source root."""
    source_root = checkout / "generator"
    modules = {p.relative_to(source_root).as_posix() for p in source_root.rglob("*.py")}
    return modules | PACKAGE_DATA


def test_source_root_holds_only_modules_and_listed_data(checkout):
    # A new template or data file must be added to PACKAGE_DATA (and so proven to ship).
    source_root = checkout / "generator"
    on_disk = {p.relative_to(source_root).as_posix() for p in source_root.rglob("*") if p.is_file()}
    assert on_disk == package_files(checkout)


def test_build_prints_no_warnings(dist):
    assert "Successfully built" in dist.output
    assert [line for line in dist.output.splitlines() if "warn" in line.lower()] == []


def test_sdist_files(dist, checkout):
    assert dist.sdist.name == f"{DIST_NAME}-{VERSION}.tar.gz"
    top = f"{DIST_NAME}-{VERSION}"
    with tarfile.open(dist.sdist) as tar:
        members = [m for m in tar.getmembers() if not m.isdir()]
    assert {m.name.split("/", 1)[0] for m in members} == {top}
    expected = SDIST_FILES | {f"generator/{f}" for f in package_files(checkout)}
    assert {m.name.split("/", 1)[1] for m in members} == expected


def test_wheel_files(dist, checkout):
    assert dist.wheel.name == f"{DIST_NAME}-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(dist.wheel) as whl:
        names = whl.namelist()
    info = f"{DIST_NAME}-{VERSION}.dist-info/"
    trimmed = {f"dist-info/{n.removeprefix(info)}" if n.startswith(info) else n for n in names}
    # One top-level package: quilt_cross_account (no `generator`, no tests).
    assert trimmed == package_files(checkout) | WHEEL_METADATA


def test_wheel_metadata(dist):
    with zipfile.ZipFile(dist.wheel) as whl:
        info = f"{DIST_NAME}-{VERSION}.dist-info"
        metadata = email.parser.Parser().parsestr(whl.read(f"{info}/METADATA").decode())
        top_level = whl.read(f"{info}/top_level.txt").decode().split()
        entry_points = whl.read(f"{info}/entry_points.txt").decode()
    assert metadata["Name"] == NAME
    assert metadata["Version"] == VERSION
    assert metadata["License-Expression"] == "Apache-2.0"
    assert metadata.get_all("License-File") == ["LICENSE"]
    assert metadata["Requires-Python"] == ">=3.11"
    assert [r for r in metadata.get_all("Requires-Dist") if "extra ==" not in r] == [
        "jinja2<4,>=3.1"
    ]
    assert set(metadata.get_all("Provides-Extra")) == {"cdktf", "import", "test"}
    assert top_level == ["quilt_cross_account"]
    assert "quilt-cross-account = quilt_cross_account.cli:main" in entry_points


@pytest.fixture(scope="module")
def installed(dist: Dist, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with the wheel (and jinja2, markupsafe) from the wheelhouse. Seeded
    without pip (ensurepip takes seconds); this environment's pip installs into it."""
    venv = tmp_path_factory.mktemp("venv") / "env"
    ok(run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=venv.parent))
    python = venv / "bin" / "python"
    ok(run(sys.executable, "-m", "pip", "--python", python, "install", dist.wheel, cwd=venv.parent))
    return venv / "bin"


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    assert not tmp_path.resolve().is_relative_to(REPO)
    return tmp_path


def test_installed_command_help(installed, elsewhere):
    assert "generate" in ok(run(installed / "quilt-cross-account", "--help", cwd=elsewhere))
    help_text = ok(run(installed / "quilt-cross-account", "generate", "--help", cwd=elsewhere))
    assert "--check" in help_text
    assert "--check" in ok(
        run(installed / "python", "-m", "quilt_cross_account", "generate", "--help", cwd=elsewhere)
    )


def test_installed_command_generates_and_checks(installed, elsewhere, checkout):
    command = installed / "quilt-cross-account"
    out = elsewhere / "out"
    out.mkdir()
    ok(run(command, "generate", "--out", out, cwd=elsewhere))
    # The built-in example, rendered by the installed templates: the checkout's generated trees.
    for tree in (MODULE, ROOT):
        assert snapshot(out / tree) == snapshot(checkout / tree), tree
    assert "up to date" in ok(run(command, "generate", "--check", "--out", out, cwd=elsewhere))

    main_tf = out / MODULE / "main.tf"
    main_tf.write_text(main_tf.read_text("utf-8") + "# hand edit\n", "utf-8")
    drift = run(command, "generate", "--check", "--out", out, cwd=elsewhere)
    assert drift.returncode == 1, drift.stderr
    assert f"+++ b/{MODULE}/main.tf\n" in drift.stdout
    assert "\n-# hand edit\n" in drift.stdout


def test_installed_without_boto3_verify_and_import_say_what_to_install(installed, elsewhere):
    config = elsewhere / "quilt.toml"
    config.write_text(
        'control_account_ids = ["111122223333"]\nbuckets = ["data-bucket"]\n'
        '[cloudtrail]\nmode = "none"\n'
    )
    for command in ("verify", "import-policies"):
        result = run(installed / "quilt-cross-account", command, "--config", config, cwd=elsewhere)
        assert result.returncode == 2, result.stderr
        assert result.stderr == (
            f"error: {command} needs boto3: pip install 'quilt-cross-account[import]'\n"
        )


def test_installed_package_is_quilt_cross_account_only(installed, elsewhere):
    python = installed / "python"
    no_generator = run(python, "-c", "import generator", cwd=elsewhere)
    assert no_generator.returncode == 1
    assert "ModuleNotFoundError: No module named 'generator'" in no_generator.stderr
    code = "import quilt_cross_account as q; print(q.__version__); print(q.__file__)"
    version, location = ok(run(python, "-c", code, cwd=elsewhere)).splitlines()
    assert version == VERSION
    assert Path(location).is_relative_to(installed.parent)  # the venv's copy, not the checkout's


# --- The pre-commit hook users run in their own repositories (.pre-commit-hooks.yaml)


def pre_commit(*args: str, cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    return run(sys.executable, "-m", "pre_commit", *args, cwd=cwd, PRE_COMMIT_HOME=str(home))


def hand_edit(repo: Path, name: str) -> None:
    path = repo / name
    path.write_text(path.read_text("utf-8") + "# hand edit\n", "utf-8")
    git("add", name, cwd=repo)  # pre-commit stashes unstaged changes: commit the edit


def test_hook_try_repo(checkout, tmp_path):
    """`pre-commit try-repo`: the hook as the manifest declares it, without args (so `generate
    --check` of the built-in example in the repository root). try-repo installs into a fresh
    store each time, so each run builds the hook's environment from the wheelhouse."""
    repo = tmp_path / "user-repo"
    repo.mkdir()
    git("init", "-q", cwd=repo)
    ok(run_cli("generate", cwd=repo))
    commit_all(repo)
    try_repo = ("try-repo", str(checkout), HOOK_ID, "--color", "never")

    passed = pre_commit(*try_repo, cwd=repo, home=tmp_path / "home")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "quilt-cross-account generate --check" in passed.stdout
    assert "Passed" in passed.stdout

    hand_edit(repo, f"{MODULE}/main.tf")
    failed = pre_commit(*try_repo, cwd=repo, home=tmp_path / "home")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "Failed" in failed.stdout
    assert "- exit code: 1" in failed.stdout
    assert f"--- a/{MODULE}/main.tf\n+++ b/{MODULE}/main.tf\n" in failed.stdout
    assert "\n-# hand edit\n" in failed.stdout


def test_hook_with_user_args(checkout, tmp_path):
    """The hook as a user configures it: a pinned rev and args naming their config and tree."""
    repo = tmp_path / "user-repo"
    (repo / "terraform").mkdir(parents=True)
    git("init", "-q", cwd=repo)
    rev = git("rev-parse", "HEAD", cwd=checkout).strip()
    config = repo / "quilt.toml"
    config.write_text(
        'control_account_ids = ["111122223333"]\nbuckets = ["data-one", "data-two"]\n'
        '[cloudtrail]\nlog_bucket_name = "data-trail-logs"\n',
        "utf-8",
    )
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n"
        f"  - repo: {checkout}\n"
        f"    rev: {rev}\n"
        f"    hooks:\n"
        f"      - id: {HOOK_ID}\n"
        f"        args: [--config, quilt.toml, --out, terraform]\n",
        "utf-8",
    )
    ok(run_cli("generate", "--config", config, "--out", repo / "terraform", cwd=repo))
    commit_all(repo)
    home = tmp_path / "home"  # one store: the environment is built once

    passed = pre_commit("run", "--color", "never", cwd=repo, home=home)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "Passed" in passed.stdout

    # A config change committed without regenerating: the tree is stale.
    config.write_text(config.read_text("utf-8").replace('"data-two"', '"data-two", "data-3"'))
    git("add", "quilt.toml", cwd=repo)
    failed = pre_commit("run", "--color", "never", cwd=repo, home=home)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "data-3" in failed.stdout
    assert "generated file(s) differ" in failed.stdout


def test_pre_commit_files_are_valid(tmp_path):
    for command, name in (
        ("validate-manifest", ".pre-commit-hooks.yaml"),
        ("validate-config", ".pre-commit-config.yaml"),
    ):
        ok(pre_commit(command, str(REPO / name), cwd=REPO, home=tmp_path / "home"))
