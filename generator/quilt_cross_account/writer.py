"""Write generated directories atomically, refuse to clobber foreign files, and detect drift.

Each directory the tool owns (the module, the root-module call) is rendered into a hidden staging
sibling and swapped into place with one atomic `renameat2(RENAME_EXCHANGE)`, so a reader, or a
process killed at any instant, sees either the whole previous tree or the whole new one. A lock
on the output directory serialises concurrent runs.
"""

from __future__ import annotations

import ctypes
import difflib
import errno
import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path, PurePosixPath

from quilt_cross_account import domain
from quilt_cross_account.errors import OutputError

MANIFEST = f".{domain.GENERATOR_NAME}.json"
STAGING_PREFIX = f".{domain.GENERATOR_NAME}.tmp-"
# Terraform's own working files may live next to generated ones; they move with the directory.
TERRAFORM_WORKING_FILES = (".terraform", ".terraform.lock.hcl", "terraform.tfstate*", "*.tfplan")
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


@dataclass(frozen=True)
class Drift:
    diff: str
    changed: tuple[str, ...]


def group_by_directory(
    files: Mapping[str, str], owned: tuple[str, ...]
) -> dict[str, dict[str, str]]:
    """Split `path -> content` into owned directory -> (path inside it -> content)."""
    groups: dict[str, dict[str, str]] = {d: {} for d in owned}
    for path, content in files.items():
        directory = next(d for d in owned if path.startswith(f"{d}/"))
        groups[directory][path[len(directory) + 1 :]] = content
    for contents in groups.values():
        contents[MANIFEST] = _manifest(contents)
    return groups


def write(out: Path, files: Mapping[str, str], owned: tuple[str, ...], force: bool = False) -> None:
    """Replace each owned directory under `out` with exactly the generated files."""
    if not out.is_dir():
        raise OutputError(f"--out: output directory {str(out)!r} does not exist")
    if not os.access(out, os.W_OK):
        raise OutputError(f"--out: output directory {str(out)!r} is not writable")
    groups = group_by_directory(files, owned)
    with _locked(out):
        for directory in groups:
            _refuse_foreign_files(out / directory, force)
        for directory, contents in groups.items():
            _replace_directory(out / directory, contents)


def check(out: Path, files: Mapping[str, str], owned: tuple[str, ...]) -> Drift | None:
    """A unified diff of what `write` would change, or None when the disk is up to date."""
    chunks: list[str] = []
    changed: list[str] = []
    for directory, contents in group_by_directory(files, owned).items():
        target = out / directory
        on_disk = set(_generated_candidates(target)) if target.is_dir() else set()
        for name in sorted(on_disk | set(contents)):
            path = f"{directory}/{name}"
            new = contents.get(name)
            old = _read_text(target / name) if name in on_disk else None
            if old == new:
                continue
            changed.append(path)
            chunks.extend(
                difflib.unified_diff(
                    (old or "").splitlines(keepends=True),
                    (new or "").splitlines(keepends=True),
                    fromfile=f"a/{path}" if old is not None else "/dev/null",
                    tofile=f"b/{path}" if new is not None else "/dev/null",
                )
            )
    if not changed:
        return None
    diff = "".join(line if line.endswith("\n") else line + "\n" for line in chunks)
    return Drift(diff=diff, changed=tuple(changed))


@contextmanager
def replacing(target: Path) -> Iterator[Path]:
    """Build a whole directory elsewhere (e.g. `cdktf.out`), then swap it in for `target`.

    Yields an empty staging directory beside `target`. When the block succeeds, the staging tree
    replaces `target` with one atomic exchange; Terraform's working files are carried over from
    every directory both trees have (so `stacks/<name>/.terraform` survives a new synth). When
    the block raises, the staging directory is removed and `target` is left as it was.
    """
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create {parent}: {exc.strerror or exc}") from None
    with _locked(parent):
        _remove_stale_staging(target)
        staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{target.name}-", dir=parent))
        try:
            os.chmod(staging, 0o777 & ~_umask())  # mkdtemp makes 0700; match a plain mkdir
            yield staging
            if target.exists() and not target.is_dir():
                raise OutputError(f"{target} exists and is not a directory; remove it")
            try:
                if target.is_dir():
                    shared = [Path(root).relative_to(staging) for root, _, _ in os.walk(staging)]
                    for relative in shared:
                        if (target / relative).is_dir():
                            _carry_over_working_files(target / relative, staging / relative)
                    _exchange(staging, target)  # staging now holds the previous tree
                else:
                    os.rename(staging, target)
                _fsync_dir(parent)
            except OSError as exc:
                raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from None
        finally:
            shutil.rmtree(staging, ignore_errors=True)


# ---------------------------------------------------------------------------------------------


def _manifest(contents: Mapping[str, str]) -> str:
    listing = {"generator": domain.GENERATOR_NAME, "files": sorted(contents)}
    return json.dumps(listing, indent=2) + "\n"


def _generated_candidates(directory: Path) -> Iterator[str]:
    """Files under `directory` (relative POSIX paths), Terraform's working files excepted."""
    for root, dirs, names in os.walk(directory):
        rel_root = PurePosixPath(Path(root).relative_to(directory).as_posix())
        dirs[:] = sorted(d for d in dirs if not _is_working_file(d))
        for name in sorted(names):
            if not _is_working_file(name):
                yield str(rel_root / name) if str(rel_root) != "." else name


def _is_working_file(name: str) -> bool:
    return any(fnmatch(name, pattern) for pattern in TERRAFORM_WORKING_FILES)


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _refuse_foreign_files(target: Path, force: bool) -> None:
    if force or not target.exists():
        return
    if not target.is_dir():
        raise OutputError(f"{target} exists and is not a directory; remove it or pass --force")
    present = set(_generated_candidates(target))
    if not present:
        return
    known: set[str] = set()
    manifest = _read_text(target / MANIFEST)
    if manifest is not None:
        try:
            known = set(json.loads(manifest)["files"]) | {MANIFEST}
        except (ValueError, KeyError, TypeError):
            known = set()
    foreign = sorted(present - known)
    if foreign:
        listed = ", ".join(foreign[:5]) + (" ..." if len(foreign) > 5 else "")
        raise OutputError(
            f"{target} holds files {domain.GENERATOR_NAME} did not generate ({listed}); "
            "move them away or pass --force to replace the directory"
        )


@contextmanager
def _locked(out: Path) -> Iterator[None]:
    fd = os.open(out, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _replace_directory(target: Path, contents: Mapping[str, str]) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_staging(target)
        staging = Path(
            tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{target.name}-", dir=target.parent)
        )
        os.chmod(staging, 0o777 & ~_umask())  # mkdtemp makes 0700; match a plain mkdir
        for name, content in contents.items():
            path = staging / name
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
        if target.is_dir():
            _carry_over_working_files(target, staging)
            _exchange(staging, target)  # staging now holds the previous tree
            _fsync_dir(target.parent)
            shutil.rmtree(staging, ignore_errors=True)
        else:
            os.rename(staging, target)
            _fsync_dir(target.parent)
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _remove_stale_staging(target: Path) -> None:
    # Left by a run that was killed; the lock guarantees no live run owns them.
    for stale in target.parent.glob(f"{STAGING_PREFIX}{target.name}-*"):
        shutil.rmtree(stale, ignore_errors=True)


def _carry_over_working_files(old: Path, new: Path) -> None:
    """Hard-link Terraform's state and caches into the new tree, so a swap never loses them."""
    for entry in old.iterdir():
        if not _is_working_file(entry.name):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.copytree(entry, new / entry.name, symlinks=True, copy_function=os.link)
        else:
            os.link(entry, new / entry.name, follow_symlinks=False)


def _exchange(a: Path, b: Path) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:  # not glibc/Linux: a short window where `b` is missing
        aside = b.with_name(f"{STAGING_PREFIX}{b.name}-old")
        os.rename(b, aside)
        os.rename(a, b)
        os.rename(aside, a)
        return
    result = renameat2(
        _AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), ctypes.c_uint(_RENAME_EXCHANGE)
    )
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code or errno.EIO), str(b))


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
