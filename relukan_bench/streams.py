"""What the CLI does when the reader of its stdout goes away (`| head`, a hung-up terminal):
it stops writing there quietly, as other command-line tools do, and ends with the status of a
process that SIGPIPE ended (141), or the stop signal's. Signal handling itself lives in
`relukan_bench.signals`.
"""

from __future__ import annotations

import errno
import os
from typing import Callable

from relukan_bench.signals import exit_status, received

_gone: list[bool] = [False]  # the reader of stdout went away during this command


def gone() -> bool:
    """Whether the reader of stdout went away during this command (`silence` was called)."""
    return _gone[0]


def reset() -> None:
    """A command starts with its reader present."""
    _gone[0] = False


def reader_gone(exc: BaseException) -> bool:
    """A write failed because its reader went away: a closed pipe (`| head`), a hung-up terminal."""
    return isinstance(exc, OSError) and exc.errno in (errno.EPIPE, errno.EIO)


def silence(*descriptors: int) -> None:
    """Point `descriptors` at /dev/null, so that what is still written (and Python's own flush
    at exit) ends quietly, as other command-line tools end on a closed pipe."""
    null = os.open(os.devnull, os.O_WRONLY)
    for descriptor in descriptors:
        os.dup2(null, descriptor)
    os.close(null)
    _gone[0] = True


def is_null(descriptor: int) -> bool:
    """Whether `descriptor` writes to /dev/null."""
    try:
        return os.path.samestat(os.fstat(descriptor), os.stat(os.devnull))
    except OSError:
        return False


def stopped_status() -> int:
    """The exit status once the reader went away: the stop signal's if one stopped the run,
    else 141, the status of a process that SIGPIPE ended (what `seq 9 | true` gives)."""
    return exit_status() if received() else 141


def shielded(show: Callable[..., None]) -> Callable[..., None]:
    """`show` (tables on stdout) that goes on quietly when stdout's reader is gone: a run
    (reproduce's next part) must not stop because nobody reads its tables any more."""

    def shown(*args: object) -> None:
        try:
            show(*args)
        except OSError as exc:
            if not reader_gone(exc):
                raise
            silence(1)

    return shown
