"""Reading the user's files safely: never through a symbolic link, never from a FIFO or a device,
never more than a stated number of bytes.

The tool runs in CI on pull requests, so any file it reads may have been planted: a link to a
credentials file would be printed in a diff, a link to /dev/zero would exhaust memory, and a FIFO
would hang the run. Every read therefore checks the path with lstat, opens it with O_NOFOLLOW and
O_NONBLOCK, checks the open file again, and reads at most `limit` bytes.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

KIB = 1024
MIB = 1024 * KIB


class UnreadableFile(Exception):
    """Why a path cannot be read as a small regular text file (one line, no path in it)."""


def kind(mode: int) -> str:
    """What a file of this mode is, for messages."""
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a regular file" if stat.S_ISREG(mode) else "a special file"


def mode_of(path: Path) -> int | None:
    """The mode of `path` itself (a link is not followed); None when nothing is there."""
    try:
        return os.lstat(path).st_mode
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise UnreadableFile(f"cannot be read: {getattr(exc, 'strerror', None) or exc}") from None


def read_bytes(path: Path, limit: int) -> bytes:
    """The contents of the regular file `path` (not a link to one), at most `limit` bytes."""
    try:
        before = os.lstat(path)
    except FileNotFoundError:
        raise UnreadableFile("does not exist") from None
    except OSError as exc:
        raise UnreadableFile(f"cannot be read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(before.st_mode):
        raise UnreadableFile(f"is {kind(before.st_mode)}, not a regular file")
    if before.st_size > limit:
        raise UnreadableFile(f"is {before.st_size} bytes, over the limit of {limit} bytes")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # replaced by a link since the lstat
            raise UnreadableFile("is a symbolic link, not a regular file") from None
        raise UnreadableFile(f"cannot be read: {exc.strerror or exc}") from None
    try:
        after = os.fstat(fd)
        if not stat.S_ISREG(after.st_mode) or (after.st_dev, after.st_ino) != (
            before.st_dev,
            before.st_ino,
        ):
            raise UnreadableFile("changed while it was being read")
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(MIB, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise UnreadableFile(f"cannot be read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if size > limit:  # it grew since the lstat
        raise UnreadableFile(f"is over the limit of {limit} bytes")
    return b"".join(chunks)


def read_text(path: Path, limit: int) -> str:
    """`read_bytes` decoded as UTF-8."""
    data = read_bytes(path, limit)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(f"is not UTF-8 text (byte {exc.start})") from None


def nesting_depth(value: object) -> int:
    """How deeply lists and tables nest in a parsed document (iteratively: no recursion limit)."""
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return deepest
