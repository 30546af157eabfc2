"""Write the generated directories as one commit, refuse to clobber what is not ours, detect drift.

A run renders every directory it owns (the module, the root-module call) into a hidden staging
sibling, then records the swaps it is about to make in a journal and swaps each staging tree in:
one atomic `renameat2(RENAME_EXCHANGE)` per directory, or rename-aside where the filesystem has
no exchange (NFS, CIFS, most FUSE). A run killed between two swaps leaves the journal; the next
run (under the same lock) completes it before anything else, and `--check` reports it. So the
module and its root call always come from the same run.

Nothing under --out is followed through a symbolic link or read unless it is a regular file:
links and special files are foreign, reported by name, never read or printed. Staging
directories are locked by the run that made them, so a run only ever removes those of dead runs.
"""

from __future__ import annotations

import ctypes
import difflib
import errno
import fcntl
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path, PurePosixPath
from typing import Any

from quilt_cross_account import domain, files, version
from quilt_cross_account.errors import OutputError, signals_deferred

MANIFEST = f".{domain.GENERATOR_NAME}.json"
STAGING_PREFIX = f".{domain.GENERATOR_NAME}.tmp-"
JOURNAL = f".{domain.GENERATOR_NAME}.journal.json"
# Generated files are far smaller (10,000 buckets make a root call of about 1 MB).
MAX_GENERATED_FILE_BYTES = 64 * files.MIB
# Terraform's own working files may live next to generated ones; they move with the directory.
TERRAFORM_WORKING_FILES = (".terraform", ".terraform.lock.hcl", "terraform.tfstate*", "*.tfplan")
# Filesystems without RENAME_EXCHANGE answer with one of these; rename-aside works there.
_NO_EXCHANGE = {errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS}
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


@dataclass(frozen=True)
class Drift:
    diff: str
    changed: tuple[str, ...]


@dataclass(frozen=True)
class Entry:
    """One file under a generated directory: its relative POSIX path and what it is."""

    path: str
    kind: str  # "a regular file", "a symbolic link", "a FIFO", ... (files.kind)

    @property
    def regular(self) -> bool:
        return self.kind == "a regular file"


Records = Mapping[str, Mapping[str, Any]]


def group_by_directory(
    files_: Mapping[str, str], owned: tuple[str, ...], records: Records | None = None
) -> dict[str, dict[str, str]]:
    """Split `path -> content` into owned directory -> (path inside it -> content), each with
    its manifest (the files it holds, plus what `records` says of that directory)."""
    groups: dict[str, dict[str, str]] = {d: {} for d in owned}
    for path, content in files_.items():
        directory = next(d for d in owned if path.startswith(f"{d}/"))
        groups[directory][path[len(directory) + 1 :]] = content
    for directory, contents in groups.items():
        contents[MANIFEST] = _manifest(contents, (records or {}).get(directory, {}))
    return groups


def read_record(directory: Path) -> dict[str, Any]:
    """What the manifest of a generated directory recorded (empty when there is none)."""
    try:
        listing = json.loads(files.read_text(directory / MANIFEST, files.MIB))
    except (files.UnreadableFile, ValueError):
        return {}
    return listing if isinstance(listing, dict) else {}


def produced_by(out: Path, owned: tuple[str, ...]) -> str | None:
    """The newest version recorded by the manifests of the owned directories under `out`:
    "" when they record none (a version from before versions were recorded), None when there
    is no generated tree at all."""
    found: str | None = None
    for directory in owned:
        record = read_record(out / directory)
        if record.get("generator") != domain.GENERATOR_NAME:
            continue
        recorded = record.get(version.MANIFEST_KEY)
        recorded = recorded if isinstance(recorded, str) else ""
        if found is None or version.order(recorded) > version.order(found):
            found = recorded
    return found


def write(
    out: Path,
    files_: Mapping[str, str],
    owned: tuple[str, ...],
    force: bool = False,
    keep: Sequence[Path] = (),
    records: Records | None = None,
) -> None:
    """Replace each owned directory under `out` with exactly the generated files, all together.

    `keep`: files this run read (the config, policies); a directory holding one is never
    replaced, even with `force`.
    """
    _check_out(out)
    groups = group_by_directory(files_, owned, records)
    with _locked(out):
        recover(out, owned)
        targets = {out / d: contents for d, contents in groups.items()}
        for directory in groups:
            _check_target(out, directory)
        for target in targets:
            _refuse_foreign_files(target, force)
            _refuse_to_remove(target, keep)
        with _staged(targets) as staged, signals_deferred():
            _commit(out, staged)


def check(
    out: Path, files_: Mapping[str, str], owned: tuple[str, ...], records: Records | None = None
) -> Drift | None:
    """A unified diff of what `write` would change, or None when the disk is up to date.

    Only regular files are read; a link or special file is reported by name, and a file that is
    not UTF-8 text is reported without its contents.
    """
    chunks: list[str] = []
    changed: list[str] = []
    if os.path.lexists(out / JOURNAL):
        changed.append(JOURNAL)
        chunks.append(f"# {JOURNAL}: an interrupted run did not finish; run generate\n")
    for directory, contents in group_by_directory(files_, owned, records).items():
        target = out / directory
        problem = _target_problem(out, directory)
        if problem is not None:
            changed.append(directory)
            chunks.append(f"# {directory}: {problem}\n")
            continue
        entries = {e.path: e for e in _entries(target)} if target.is_dir() else {}
        for name in sorted(set(entries) | set(contents)):
            path = f"{directory}/{name}"
            new = contents.get(name)
            entry = entries.get(name)
            if entry is None:
                old = None
            elif not entry.regular:
                changed.append(path)
                chunks.append(f"# {path}: is {entry.kind}; not followed or read\n")
                continue
            else:
                try:
                    old = files.read_text(target / name, MAX_GENERATED_FILE_BYTES)
                except files.UnreadableFile as exc:
                    changed.append(path)
                    chunks.append(f"# {path}: {exc}\n")
                    continue
            if _same_content(name, old, new):
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


def complete_interrupted(out: Path, owned: tuple[str, ...]) -> bool:
    """Under the lock, complete the run that a kill interrupted (see `recover`)."""
    with _locked(out):
        return recover(out, owned)


def recover(out: Path, owned: tuple[str, ...]) -> bool:
    """Complete the swaps of a run that was killed between them (caller holds the lock).

    Returns whether there was a journal. Swaps whose new tree is gone (removed by hand) are
    skipped: the caller's own run replaces every directory anyway.
    """
    journal = out / JOURNAL
    _remove_file(journal.with_name(f"{JOURNAL}.tmp"))  # a run killed before its commit point
    if not os.path.lexists(journal):
        return False
    try:
        record = json.loads(files.read_text(journal, files.MIB))
        swaps = [(s["target"], s["staging"], tuple(s["inode"])) for s in record["swaps"]]
    except (files.UnreadableFile, ValueError, KeyError, TypeError):
        swaps = []  # not a journal we wrote: nothing in it is trusted
    for target_name, staging_name, inode in swaps:
        target, staging = out / str(target_name), out / str(staging_name)
        trusted = (
            target_name in owned
            and _target_problem(out, target_name) is None
            and staging.parent == target.parent
            and staging.name.startswith(f"{STAGING_PREFIX}{target.name}-")
        )
        if trusted and _inode(target) != inode and _inode(staging) == inode:
            try:
                _swap(staging, target)
            except OSError as exc:
                raise OutputError(
                    f"cannot complete the interrupted run recorded in {journal}: "
                    f"{exc.strerror or exc}"
                ) from None
    try:
        journal.unlink()
        _fsync_dir(out)
    except OSError as exc:
        raise OutputError(f"cannot remove {journal}: {exc.strerror or exc}") from None
    for directory in owned:  # the previous trees, now beside the targets
        if _target_problem(out, directory) is None and (out / directory).parent.is_dir():
            _remove_dead_staging(out / directory)
    return True


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
    problem = _path_problem(target)
    if problem is not None:
        raise OutputError(f"{target} {problem}")
    with _locked(parent), ExitStack() as cleanup:
        staging = _make_staging(target, cleanup, lock=False)
        yield staging
        problem = _path_problem(target)
        if problem is not None:
            raise OutputError(f"{target} {problem}")
        try:
            if target.is_dir():
                _carry_over_everywhere(target, staging)
            with signals_deferred():
                _swap(staging, target)
            _fsync_dir(parent)
        except OSError as exc:
            raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from None


# ---------------------------------------------------------------------------------------------
# Checks before anything is written


def _check_out(out: Path) -> None:
    if not out.is_dir():
        raise OutputError(f"--out: output directory {str(out)!r} does not exist")
    if not os.access(out, os.W_OK):
        raise OutputError(f"--out: output directory {str(out)!r} is not writable")


def _check_target(out: Path, directory: str) -> None:
    problem = _target_problem(out, directory)
    if problem is not None:
        raise OutputError(problem)


def _target_problem(out: Path, directory: str) -> str | None:
    """Why `out/directory` cannot be ours: a link or a non-directory on the way (None if fine)."""
    path = out
    for part in PurePosixPath(directory).parts:
        path = path / part
        problem = _path_problem(path)
        if problem is not None:
            return f"{path} {problem}"
        if not os.path.lexists(path):
            return None
    return None


def _path_problem(path: Path) -> str | None:
    try:
        mode = files.mode_of(path)
    except files.UnreadableFile as exc:
        return str(exc)
    if mode is None:
        return None
    if stat.S_ISLNK(mode):
        return (
            f"is a symbolic link; {domain.GENERATOR_NAME} writes only real directories under "
            "--out (replace the link with a directory)"
        )
    if not stat.S_ISDIR(mode):
        return f"exists and is {files.kind(mode)}, not a directory; move it away"
    return None


def _refuse_foreign_files(target: Path, force: bool) -> None:
    if force or not target.is_dir():
        return
    entries = list(_entries(target))
    if not entries:
        return
    known = _manifest_files(target)
    foreign = sorted(e.path for e in entries if e.path not in known or not e.regular)
    if foreign:
        listed = ", ".join(foreign[:5]) + (" ..." if len(foreign) > 5 else "")
        raise OutputError(
            f"{target} holds files {domain.GENERATOR_NAME} did not generate ({listed}); "
            "move them away or pass --force to replace the directory"
        )


def _refuse_to_remove(target: Path, keep: Sequence[Path]) -> None:
    """Never replace a directory holding a file this run read (its config, its policies)."""
    if not target.is_dir():
        return
    root = target.resolve()
    for path in keep:
        resolved = path.resolve()
        if resolved.is_relative_to(root):
            raise OutputError(
                f"{target} holds {path}, which this run read; move it out of the generated "
                "directory (it would be deleted)"
            )


def _manifest_files(target: Path) -> set[str]:
    try:
        listing = json.loads(files.read_text(target / MANIFEST, files.MIB))
        return {str(name) for name in listing["files"]} | {MANIFEST}
    except (files.UnreadableFile, ValueError, KeyError, TypeError):
        return set()


def _entries(directory: Path) -> Iterator[Entry]:
    """Everything under `directory` (links not followed), Terraform's working files excepted."""
    for root, dirs, names in os.walk(directory):  # os.walk never descends into links
        rel_root = PurePosixPath(Path(root).relative_to(directory).as_posix())
        linked = [d for d in dirs if os.path.islink(os.path.join(root, d))]
        dirs[:] = sorted(d for d in dirs if d not in linked and not _is_working_file(d))
        for name in sorted([*names, *linked]):
            if _is_working_file(name):
                continue
            try:
                mode = os.lstat(os.path.join(root, name)).st_mode
            except OSError:
                continue  # removed while we looked
            path = str(rel_root / name) if str(rel_root) != "." else name
            yield Entry(path, files.kind(mode))


def _is_working_file(name: str) -> bool:
    return any(fnmatch(name, pattern) for pattern in TERRAFORM_WORKING_FILES)


def _manifest(contents: Mapping[str, str], record: Mapping[str, Any]) -> str:
    listing = {
        "generator": domain.GENERATOR_NAME,
        version.MANIFEST_KEY: version.current(),
        "files": sorted(contents),
        **record,
    }
    return json.dumps(listing, indent=2) + "\n"


def _same_content(name: str, old: str | None, new: str | None) -> bool:
    """Whether a file on disk is current. A manifest that differs only in the version it
    records is: a new release that generates the same files leaves the tree as it is."""
    if old == new or name != MANIFEST or old is None or new is None:
        return old == new
    try:
        before, after = json.loads(old), json.loads(new)
    except ValueError:
        return False
    if not isinstance(before, dict) or not isinstance(after, dict):
        return False
    before.pop(version.MANIFEST_KEY, None)
    after.pop(version.MANIFEST_KEY, None)
    return bool(before == after)


# ---------------------------------------------------------------------------------------------
# Staging and the commit


@contextmanager
def _staged(targets: Mapping[Path, Mapping[str, str]]) -> Iterator[dict[Path, Path]]:
    """Each target's new tree, complete and on disk, in a locked staging directory beside it.

    Staging directories are removed on the way out: after the commit they hold the old trees.
    """
    with ExitStack() as cleanup:
        staged: dict[Path, Path] = {}
        try:
            for target, contents in targets.items():
                target.parent.mkdir(parents=True, exist_ok=True)
                staging = _make_staging(target, cleanup)
                for name, content in contents.items():
                    _write_new_file(staging / name, content)
                if target.is_dir():
                    _carry_over_everywhere(target, staging)
                _fsync_dir(staging)
                staged[target] = staging
        except OSError as exc:
            raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from None
        yield staged


def _make_staging(target: Path, cleanup: ExitStack, lock: bool = True) -> Path:
    """A new staging directory beside `target`, removed when `cleanup` closes.

    Locked until then (see _remove_dead_staging) unless `lock` is false: `replacing` hands its
    staging directory to a `write`, which locks it as its output directory.
    """
    _remove_dead_staging(target)
    staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{target.name}-", dir=target.parent))
    cleanup.callback(_remove_tree, Path(f"{staging}.old"))
    cleanup.callback(_remove_tree, staging)
    if lock:
        fd = os.open(staging, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        cleanup.callback(os.close, fd)
        fcntl.flock(fd, fcntl.LOCK_EX)
    os.chmod(staging, 0o777 & ~_umask())  # mkdtemp makes 0700; match a plain mkdir
    return staging


def _commit(out: Path, staged: Mapping[Path, Path]) -> None:
    """Journal the swaps, make them, then drop the journal: the one commit point of a run."""
    journal = out / JOURNAL
    record = {
        "generator": domain.GENERATOR_NAME,
        "swaps": [
            {
                "target": target.relative_to(out).as_posix(),
                "staging": staging.relative_to(out).as_posix(),
                "inode": list(_inode(staging) or ()),
            }
            for target, staging in staged.items()
        ],
    }
    try:
        _write_new_file(journal.with_name(f"{JOURNAL}.tmp"), json.dumps(record) + "\n")
        os.replace(journal.with_name(f"{JOURNAL}.tmp"), journal)
        _fsync_dir(out)
    except OSError as exc:
        _remove_file(journal.with_name(f"{JOURNAL}.tmp"))
        raise OutputError(f"cannot write {journal}: {exc.strerror or exc}") from None
    done: list[tuple[Path, Path]] = []
    for target, staging in staged.items():
        try:
            _swap(staging, target)
        except OSError as exc:
            failure = f"cannot write {target}: {exc.strerror or exc}"
            try:  # put the earlier directories back: the old pair stays whole
                for earlier_target, earlier_staging in reversed(done):
                    _unswap(earlier_staging, earlier_target)
            except OSError as undo:
                raise OutputError(
                    f"{failure}; undoing the earlier swaps failed too ({undo.strerror or undo}): "
                    f"the next run completes them from {journal}"
                ) from None
            _remove_file(journal)
            raise OutputError(failure) from None
        done.append((target, staging))
    journal.unlink()
    _fsync_dir(out)


def _swap(staging: Path, target: Path) -> None:
    """Put `staging` at `target`; the previous tree, if any, ends up at `staging` or beside it."""
    if os.path.lexists(target):
        try:
            _exchange(staging, target)
        except OSError as exc:
            if exc.errno not in _NO_EXCHANGE:
                raise
            aside = Path(f"{staging}.old")
            os.rename(target, aside)
            os.rename(staging, target)
    else:
        os.rename(staging, target)
    _fsync_dir(target.parent)


def _unswap(staging: Path, target: Path) -> None:
    """Undo `_swap`: the previous tree back at `target`, the new one back at `staging`."""
    aside = Path(f"{staging}.old")
    if os.path.lexists(aside):
        os.rename(target, staging)
        os.rename(aside, target)
    elif os.path.lexists(staging):
        _exchange(staging, target)
    else:  # there was no previous tree
        os.rename(target, staging)
    _fsync_dir(target.parent)


def _exchange(a: Path, b: Path) -> None:
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is None:  # not glibc: the caller renames aside
        raise OSError(errno.ENOSYS, os.strerror(errno.ENOSYS), str(b))
    result = renameat2(
        _AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), ctypes.c_uint(_RENAME_EXCHANGE)
    )
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code or errno.EIO), str(b))


def _write_new_file(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(path, flags, 0o666)
    with open(fd, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())


def _carry_over_everywhere(old: Path, new: Path) -> None:
    """Terraform's working files of every directory both trees have (`.terraform` and state sit
    wherever someone ran Terraform: the root, cloudtrail/, tests/)."""
    for root, _, _ in os.walk(new):
        relative = Path(root).relative_to(new)
        if (old / relative).is_dir() and not (old / relative).is_symlink():
            _carry_over_working_files(old / relative, new / relative)


def _carry_over_working_files(old: Path, new: Path) -> None:
    """Hard-link Terraform's state and caches into the new tree, so a swap never loses them."""
    for entry in old.iterdir():
        if not _is_working_file(entry.name):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.copytree(entry, new / entry.name, symlinks=True, copy_function=os.link)
        else:
            os.link(entry, new / entry.name, follow_symlinks=False)


# ---------------------------------------------------------------------------------------------
# Locks and cleanup


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _remove_dead_staging(target: Path) -> None:
    """Remove staging directories beside `target` left by runs that died (their lock is free)."""
    for stale in target.parent.glob(f"{STAGING_PREFIX}{target.name}-*"):
        if stale.is_symlink() or not stale.is_dir():
            _remove_file(stale)
            continue
        try:
            fd = os.open(stale, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # a live run owns it
        finally:
            os.close(fd)
        _remove_tree(stale)


def _remove_tree(path: Path) -> None:
    if os.path.lexists(path):
        shutil.rmtree(path, ignore_errors=True)


def _remove_file(path: Path) -> None:
    with suppress(OSError):
        path.unlink()


def _inode(path: Path) -> tuple[int, int] | None:
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
