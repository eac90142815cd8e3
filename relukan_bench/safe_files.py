"""The one way the package reads a file a user names or a run directory holds, and checks a
path it is about to write.

    data = read_bytes(path, MAX_TABLE_BYTES)       # only a regular file, never more than the bound
    check_output(path, [source], replace=force, what="DEST")   # UsageError where writing would destroy

Reading opens nothing but a regular file: a FIFO, a device, a socket or a directory is refused
before it is opened (so nothing blocks or reads forever), and checked again on the open file
(`O_NONBLOCK`, then `fstat`), in case the path changed in between. The refusals are OSErrors,
so callers that report an unreadable file report these too.

Writing never replaces what is not a regular file (a FIFO, a device, a symbolic link, a
directory: the path itself would become a regular file) and never a file the same command
reads (compared by inode, so another spelling of the path or a hard link counts too).
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Iterable

from relukan_bench.errors import UsageError, clip

#: A table of a run: at most 10^7 rows of logs (relukan_bench.limits), a few hundred bytes each.
MAX_TABLE_BYTES = 4 << 30
_CHUNK = 1 << 20


class NotRegularFile(OSError):
    """A path that names something other than a regular file (what is said: `strerror`)."""

    def __str__(self) -> str:
        return self.strerror or "not a regular file"


class TooLarge(OSError):
    """A regular file larger than the bound its reader sets."""

    def __str__(self) -> str:
        return self.strerror or "too large"


def kind(mode: int) -> str:
    """What a file of `mode` is, in words: `a FIFO`, `a directory`, ..."""
    for test, name in ((stat.S_ISREG, "a regular file"), (stat.S_ISDIR, "a directory"), (stat.S_ISLNK, "a symbolic link"),
                       (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def _refuse(path: Path, mode: int) -> OSError:
    found = kind(mode)
    if stat.S_ISDIR(mode):  # what `open` raises for one, so that callers that tell it apart still do
        return IsADirectoryError(errno.EISDIR, f"expected a regular file, got {found}", str(path))
    return NotRegularFile(errno.EINVAL, f"expected a regular file, got {found}", str(path))


def read_bytes(path: str | Path, limit: int) -> bytes:
    """The contents of the regular file at `path` (symbolic links followed). OSError when it
    cannot be read: `NotRegularFile` (IsADirectoryError for a directory), `TooLarge` beyond
    `limit` bytes, or what the system says (missing, a symbolic-link loop, no permission)."""
    path = Path(path)
    before = os.stat(path)
    if not stat.S_ISREG(before.st_mode):
        raise _refuse(path, before.st_mode)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode):  # replaced since the stat above
            raise _refuse(path, opened.st_mode)
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(_CHUNK, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    if size > limit:
        raise TooLarge(errno.EFBIG, f"larger than {_bytes(limit)}", str(path))
    return b"".join(chunks)


def _bytes(count: int) -> str:
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if count >= 1 << shift:
            return f"{count / (1 << shift):g} {unit}"
    return f"{count} bytes"


def read_text(path: str | Path, limit: int) -> str:
    """`read_bytes` decoded as UTF-8 (UnicodeDecodeError, a ValueError, when it is not)."""
    return read_bytes(path, limit).decode("utf-8")


def present(path: str | Path) -> bool:
    """Whether anything at all is at `path`: a file of any kind, or a symbolic link, even one
    that points nowhere (what is there must then be read, or refused)."""
    try:
        os.lstat(path)
    except (OSError, ValueError):
        return False
    return True


def check_output(path: str | Path, inputs: Iterable[str | Path] = (), replace: bool = True, what: str = "") -> None:
    """UsageError unless the command may write a new regular file at `path`: nothing is there
    yet, or a regular file that is none of `inputs` and `replace` allows replacing. `what`
    (`--out`, `DEST`) starts the messages, before the path (clipped)."""
    shown = f"{what} {clip(str(path), 240)}".strip()
    try:
        found = os.lstat(path)
    except FileNotFoundError:
        return
    except (OSError, ValueError) as exc:  # a name too long, a path through a file, a NUL
        raise UsageError(f"{shown}: cannot write the file ({getattr(exc, 'strerror', None) or exc})") from None
    if not stat.S_ISREG(found.st_mode):
        raise UsageError(f"{shown}: expected a regular file or a new path (got {kind(found.st_mode)}, "
                         "which is left as it is)")
    for source in inputs:
        if _same(found, source):
            also = "" if str(source) == str(path) else f" ({clip(str(source), 240)})"
            raise UsageError(f"{shown}: is also an input of this command{also}; expected another path")
    if not replace:
        raise UsageError(f"{shown}: already exists (pass --force to replace it)")


def _same(found: os.stat_result, other: str | Path) -> bool:
    try:
        return os.path.samestat(found, os.stat(other))
    except (OSError, ValueError):  # an input that is not there is not this file
        return False
