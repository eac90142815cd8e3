"""How a run shows its progress on stderr (relukan_bench.runner.Reporter).

On a terminal: a rich progress bar. Elsewhere (a log file, a pipe, a batch job): plain lines at
a bounded rate, one when a unit finishes (at most one every `LogReporter.GAP` seconds) and at
least one every `LogReporter.HEARTBEAT` seconds while units run, each with the time elapsed
and an estimate of what is left:

    fit: 12/90 units, 3m04s elapsed, about 18m left; run 13/90: f4 kan seed 0, step 800/1500
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TYPE_CHECKING, Callable, TextIO

if TYPE_CHECKING:
    from rich.progress import TaskID


def reporter(name: str, stream: TextIO | None = None) -> RichReporter | LogReporter:
    """The progress of the run `name` for `stream` (stderr): a bar on a terminal, lines elsewhere."""
    stream = stream if stream is not None else sys.stderr
    isatty = getattr(stream, "isatty", None)
    return RichReporter() if isatty is not None and isatty() else LogReporter(name, stream)


class RichReporter:
    """A rich progress bar across all units of a run, on stderr."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(
            TextColumn("{task.description}", style="progress.description", markup=False),
            BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
            console=Console(stderr=True, markup=False), transient=False,
        )
        self.task: TaskID | None = None

    def start(self, total: int) -> None:
        """Show the bar; again (a run in stages) with the new total, on the same bar."""
        self.progress.start()
        if self.task is None:
            self.task = self.progress.add_task("starting", total=total)
        else:
            self.progress.update(self.task, total=total)

    def update(self, done: int, current: str) -> None:
        assert self.task is not None  # `start` comes first
        self.progress.update(self.task, completed=done, description=current)

    def finished(self, units: int, planned: int) -> None:
        pass

    def stop(self) -> None:
        self.progress.stop()


def duration(seconds: float) -> str:
    """`3m04s`, `1h02m`, `12s`."""
    seconds = max(0, int(round(seconds)))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"


class LogReporter:
    """Plain progress lines for logs (see the module's docstring). Thread-safe: a timer thread
    writes the heartbeat line while the run's thread updates."""

    GAP = 2.0  # seconds between two lines at least (a line per unit otherwise)
    HEARTBEAT = 60.0  # seconds between two lines at most while units run

    def __init__(self, name: str, stream: TextIO, clock: Callable[[], float] = time.monotonic):
        self.name, self.stream, self.clock = name, stream, clock
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.total = self.done = self.units = self.planned = 0
        self.first: int | None = None  # steps done when this session began (earlier sessions' units)
        self.current, self.began, self.last = "starting", clock(), -float("inf")
        self.thread: threading.Thread | None = None

    def start(self, total: int) -> None:
        """Begin the heartbeat; again (a run in stages) with the new total, the clock and the
        rate running on from the first start."""
        with self.lock:
            self.total = total
            if self.thread is None:
                self.began = self.clock()
        self.stopped.clear()
        self.thread = threading.Thread(target=self._beat, name="relukan-bench-progress", daemon=True)
        self.thread.start()

    def update(self, done: int, current: str) -> None:
        with self.lock:
            if self.first is None:
                self.first = done  # steps done by earlier sessions: not part of the rate
            self.done, self.current = done, current

    def finished(self, units: int, planned: int) -> None:
        with self.lock:
            self.units, self.planned = units, planned
            if units == planned or self.clock() - self.last >= self.GAP:
                self._write()

    def stop(self) -> None:
        self.stopped.set()
        if self.thread is not None:
            self.thread.join()

    def _beat(self) -> None:
        while not self.stopped.wait(1.0):
            with self.lock:
                if self.clock() - self.last >= self.HEARTBEAT:
                    self._write()

    def line(self) -> str:
        """The progress line as it stands (the lock held)."""
        elapsed = self.clock() - self.began
        text = f"{self.name}: {self.units}/{self.planned} units, {duration(elapsed)} elapsed"
        gained = self.done - (self.first or 0)
        if self.units == self.planned and self.planned:
            text += ", done"
        elif gained > 0 and elapsed > 0:
            text += f", about {duration((self.total - self.done) * elapsed / gained)} left"
        return text + ("" if self.current in ("done", "next run") else f"; {self.current}")

    def _write(self) -> None:
        self.last = self.clock()
        try:
            print(self.line(), file=self.stream, flush=True)
        except (OSError, ValueError):  # a closed pipe: the run goes on without its log
            pass
