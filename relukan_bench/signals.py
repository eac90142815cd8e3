"""Polite stops: Ctrl-C (SIGINT), SIGTERM (sent by `timeout`, SLURM, `docker stop`, systemd)
and SIGHUP (the terminal closed) all stop a run the same way, as Ctrl-C always did: the unit
in progress is abandoned, what finished is kept and summarised, and the run is closed as
interrupted with the command that finishes it. The process then exits with the status a shell
gives a process ended by that signal (128 + its number: 130, 143, 129).

A signal that was ignored when the command started (`nohup` ignores SIGHUP, a background job
in a script ignores SIGINT) stays ignored. Worker processes ignore all three: the driver
decides, stops them and keeps what they finished. Signals reach only the main thread: in any
other thread these helpers change nothing.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from types import FrameType
from typing import Callable, Iterator, Union

#: What `signal.signal` takes and returns: a function, SIG_IGN or SIG_DFL, or None (a handler
#: not installed from Python).
Handler = Union[Callable[[int, Union[FrameType, None]], object], int, signal.Handlers, None]

#: The signals that stop a run politely.
STOPS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

_first: list[int] = []  # the first stop signal this command received


def received() -> int | None:
    """The first stop signal received since `stops_as_interrupts` began, or None."""
    return _first[0] if _first else None


def exit_status() -> int:
    """The exit status of a run a stop signal ended: 128 + the signal's number (Ctrl-C: 130)."""
    return 128 + int(received() or signal.SIGINT)


def describe() -> str:
    """' (SIGTERM)' after 'interrupted' when the stop was not Ctrl-C; '' for Ctrl-C."""
    number = received()
    return f" ({signal.Signals(number).name})" if number not in (None, signal.SIGINT) else ""


def _note(signum: int) -> None:
    if not _first:
        _first.append(int(signum))


def _interrupt(signum: int, frame: FrameType | None) -> None:
    _note(signum)
    raise KeyboardInterrupt


@contextmanager
def stops_as_interrupts() -> Iterator[None]:
    """For a whole command: every stop signal raises KeyboardInterrupt, as Ctrl-C does."""
    _first.clear()
    with _handling(_interrupt):
        yield


def ignore_stops() -> None:
    """In a worker process: the stop signals are the driver's to handle."""
    for number in STOPS:
        signal.signal(number, signal.SIG_IGN)


@contextmanager
def ignored_by_children() -> Iterator[None]:
    """The stop signals ignored while the block starts processes, which inherit that (a Dask
    cluster's workers): the driver handles the stop and closes them itself. A stop within the
    second they take to start is not seen."""
    with _handling(signal.SIG_IGN):
        yield


@contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Hold a stop signal until the block has finished; then deliver it to the handler that
    was in place (by default: raise KeyboardInterrupt)."""
    with _held() as (held, previous):
        yield
    if held:
        handler = previous.get(held[0])
        if callable(handler):
            handler(held[0], None)
        else:
            raise KeyboardInterrupt


@contextmanager
def interrupts_ignored() -> Iterator[None]:
    """Stop signals do nothing within the block: for closing a run, which must end as the
    first stop left it."""
    with _held():
        yield


@contextmanager
def first_interrupt_only() -> Iterator[None]:
    """Within the block the first stop signal raises KeyboardInterrupt; any later one does
    nothing, so that keeping and closing what the first one stopped is not cut short."""
    count: list[int] = []

    def handler(signum: int, frame: FrameType | None) -> None:
        _note(signum)
        count.append(signum)
        if len(count) == 1:
            raise KeyboardInterrupt

    with _handling(handler):
        yield


@contextmanager
def _held() -> Iterator[tuple[list[int], dict[int, Handler]]]:
    held: list[int] = []

    def hold(signum: int, frame: FrameType | None) -> None:
        _note(signum)
        held.append(signum)

    with _handling(hold) as previous:
        yield held, previous


@contextmanager
def _handling(handler: Handler) -> Iterator[dict[int, Handler]]:
    """`handler` for each stop signal not ignored, within the block (main thread only);
    yields the handlers it replaced, by signal number."""
    if threading.current_thread() is not threading.main_thread():
        yield {}
        return
    previous: dict[int, Handler] = {}
    try:
        for number in STOPS:
            if signal.getsignal(number) is not signal.SIG_IGN:
                previous[number] = signal.signal(number, handler)
        yield previous
    finally:
        for replaced, old in previous.items():
            signal.signal(replaced, old)
