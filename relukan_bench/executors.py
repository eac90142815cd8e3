"""Where a run's units execute: in this process, in local worker processes, or on a Dask cluster.

An experiment's `execute(config, devices, units, progress)` is a pure function of its units,
and `tasks(config, units)` cuts the units into pieces that share nothing (a batched model's
seeds stay together). `execute` here runs those pieces:

- `workers=1` (and the local executor): in this process, one unit after another, as always;
- `local`: in N worker processes of this machine (`concurrent.futures.ProcessPoolExecutor`,
  spawned, Ctrl-C, SIGTERM and SIGHUP ignored in them);
- `dask`: as Dask tasks on a local cluster bound to 127.0.0.1 (dashboard off), or on the
  cluster `address` names. Dask is the optional extra `relukan-bench[dask]`; docs/cluster.md
  says why Dask and not Ray.

Every piece runs with the config's torch thread count and float32 setting, so its results are
those of a serial run to the last bit. Results come back to this process, which alone writes
the run directory. Progress comes back from local workers as it happens (steps done), from
Dask per finished piece. On Ctrl-C the workers are told to stop (they do within a chunk of
steps), pieces not begun are cancelled, and what had finished is still handed over.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Callable, Iterator, Protocol, Sequence

from relukan_bench.devices import ieee_float32
from relukan_bench.errors import ExecutionError, UsageError, clip, failure
from relukan_bench.executors_dask import DaskPool, check_scheduler
from relukan_bench.signals import ignore_stops
from relukan_bench.timing import threads as torch_threads

if TYPE_CHECKING:
    from concurrent.futures import Future
    from multiprocessing.queues import Queue
    from multiprocessing.synchronize import Event

    from relukan_bench.config import RunConfig
    from relukan_bench.experiments.protocol import Experiment, Progress

EXECUTORS = ("local", "dask")
#: The environment variable that sets `--workers` where the option is not given.
WORKERS_VARIABLE = "RELUKAN_BENCH_WORKERS"
#: The most workers a run may ask for: processes are not free, and a typo should not fork a thousand.
MAX_WORKERS = 256
#: How long the driver waits for a result before it looks at progress again (seconds).
POLL = 0.25


@dataclass(frozen=True)
class Execution:
    """How a run's units execute: `workers` at once (None: the experiment's default), on which
    executor, and for Dask the scheduler's address (None: a local cluster)."""

    workers: int | None = 1
    executor: str = "local"
    address: str | None = None

    @property
    def serial(self) -> bool:
        """Units run in this process, one after another."""
        return self.workers == 1 and self.executor == "local"


class Stopped(BaseException):
    """Raised in a worker whose run was stopped (Ctrl-C in the driver): not a failed unit."""


def usable_cores() -> int:
    """The CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def default_workers(exp: Experiment, threads: int) -> int:
    """`--workers` when not given: every usable core busy (cores / threads per worker), or 1
    for an experiment that times (speed)."""
    return max(1, usable_cores() // max(1, threads)) if exp.parallel else 1


def resolve(exp: Experiment, execution: Execution, threads: int) -> tuple[Execution, str | None]:
    """`execution` with its worker count decided, and a warning to record when an experiment
    that runs serially for a reason was made to run in parallel. UsageError for what cannot run."""
    if execution.executor not in EXECUTORS:
        raise UsageError(f"--executor: expected one of {', '.join(EXECUTORS)} (got {execution.executor!r})")
    if execution.address is not None and execution.executor != "dask":
        raise UsageError(f"--address {clip(execution.address, 60)}: a scheduler address needs --executor dask")
    workers = execution.workers if execution.workers is not None else default_workers(exp, threads)
    if not 1 <= workers <= MAX_WORKERS:
        raise UsageError(f"--workers: expected 1 to {MAX_WORKERS} (got {workers})")
    if execution.executor == "dask":
        dask_available()
        if execution.address is not None:
            check_scheduler(execution.address)
    warning = None
    if workers > 1 and not exp.parallel:
        warning = f"{exp.name} ran with {workers} parallel workers: {exp.serial_reason}"
    return replace(execution, workers=workers), warning


def dask_available() -> None:
    """UsageError (one line) unless Dask's distributed scheduler can be imported."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise UsageError("--executor dask: Dask is not installed; install it with pip install 'relukan-bench[dask]'") from None


def record(execution: Execution, warning: str | None) -> dict[str, str | int | None]:
    """What env.json says about how a session executed its units."""
    found: dict[str, str | int | None] = {"executor": "serial" if execution.serial else execution.executor,
                                          "workers": execution.workers}
    if execution.address is not None:
        found["address"] = execution.address
    if warning:
        found["warning"] = warning
    return found


# ----------------------------------------------------------------------------- driver side
def execute(exp: Experiment, config: RunConfig, devices: Sequence[str], units: Sequence[object],
            progress: Progress, execution: Execution) -> Iterator[object]:
    """Run `units`; yield one result per unit as it finishes (in any order when parallel)."""
    if execution.serial:
        yield from exp.execute(config, devices, units, progress)
        return
    tasks = exp.tasks(config, units)
    if not tasks:
        return
    assert execution.workers is not None  # decided by `resolve`
    workers = min(execution.workers, len(tasks))
    pool: Pool
    if execution.executor == "dask":
        pool = DaskPool(workers, execution.address)
    else:
        pool = _LocalPool(workers)
    with pool:
        yield from _drive(pool, exp, config, devices, tasks, progress, workers)


class Pool(Protocol):
    """What `_drive` needs of the workers: `_LocalPool`, or relukan_bench.executors_dask.DaskPool."""

    stop_timeout: float

    @property
    def channel(self) -> StopChannel | None: ...

    def submit(self, fn: Callable[..., list[object]], *args: object) -> Future[list[object]]: ...

    def drain(self, progress: Progress) -> None: ...

    def stop(self) -> None: ...

    def __enter__(self) -> Pool: ...

    def __exit__(self, *exc: object) -> None: ...


class StopChannel(Protocol):
    """How a worker learns that the driver asked it to stop (a Dask `Event`)."""

    def is_set(self) -> bool: ...


def _drive(pool: Pool, exp: Experiment, config: RunConfig, devices: Sequence[str], tasks: list[list[object]],
           progress: Progress, limit: int) -> Iterator[object]:
    """Keep `limit` tasks in flight on `pool`, yield their results as they finish; on Ctrl-C
    (or the consumer closing) stop the workers and hand over what had finished."""
    from concurrent.futures import FIRST_COMPLETED, wait  # the worker pools' machinery: not for --help

    waiting = list(tasks)
    pending: set[Future[list[object]]] = set()

    def fill() -> None:
        while waiting and len(pending) < limit:
            pending.add(pool.submit(run_task, exp, config, devices, waiting.pop(0), pool.channel))

    try:
        fill()
        while pending:
            done, _ = wait(list(pending), timeout=POLL, return_when=FIRST_COMPLETED)
            pool.drain(progress)
            for future in done:
                pending.discard(future)
                yield from _results(future)
            fill()
    except KeyboardInterrupt:
        waiting.clear()
        yield from _stop(pool, pending)
        raise
    finally:
        if pending:  # closed early by the consumer: stop the workers, keep nothing more
            _stop_quietly(pool, pending)


def _results(future: Future[list[object]]) -> list[object]:
    from concurrent.futures.process import BrokenProcessPool

    try:
        return future.result()
    except BrokenProcessPool as exc:
        raise ExecutionError(f"a worker process died ({exc})") from None
    except Exception as exc:  # a unit's own failure is in its result: what escapes a task is the executor's
        if exc.__class__.__name__ == "KilledWorker":  # Dask gave up on a task whose workers kept dying
            raise ExecutionError(f"Dask workers died running a task ({exc})") from None
        raise ExecutionError(f"a task was lost ({failure(exc)})") from None


def _stop(pool: Pool, pending: set[Future[list[object]]]) -> Iterator[object]:
    """Tell the workers to stop, cancel what has not begun, and yield the results of the tasks
    that finished meanwhile."""
    from concurrent.futures import wait

    pool.stop()
    for future in list(pending):
        future.cancel()
    finished, _ = wait(list(pending), timeout=pool.stop_timeout)
    for future in finished:
        pending.discard(future)
        if future.cancelled():
            continue
        try:
            results = future.result()
        except BaseException:  # noqa: BLE001 - stopped (or failed) while stopping: nothing to keep
            continue
        yield from results


def _stop_quietly(pool: Pool, pending: set[Future[list[object]]]) -> None:
    for _ in _stop(pool, pending):
        pass


class _LocalPool:
    """N spawned worker processes of this machine, with a queue for progress and an event
    that tells them to stop."""

    stop_timeout = 60.0

    def __init__(self, workers: int):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        context = multiprocessing.get_context("spawn")  # fork and torch's threads do not mix
        self.queue: Queue[tuple[object, int, float]] = context.Queue()
        self.event = context.Event()
        self.executor = ProcessPoolExecutor(workers, mp_context=context, initializer=_start_local_worker,
                                            initargs=(self.queue, self.event, os.getpid()))
        # the worker finds its queue and event in a global its initializer set
        self.channel: StopChannel | None = None

    def submit(self, fn: Callable[..., list[object]], *args: object) -> Future[list[object]]:
        return self.executor.submit(fn, *args)

    def drain(self, progress: Progress) -> None:
        while True:
            try:
                unit, done, loss = self.queue.get_nowait()
            except queue.Empty:
                return
            progress(unit, done, loss)

    def stop(self) -> None:
        self.event.set()

    def __enter__(self) -> _LocalPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)
        self.queue.close()


# ----------------------------------------------------------------------------- worker side
_local: tuple[Queue[tuple[object, int, float]], Event] | None = None


def _start_local_worker(reports: Queue[tuple[object, int, float]], event: Event, driver: int) -> None:
    """A local worker process: Ctrl-C, SIGTERM and SIGHUP are the driver's to handle; remember
    the channel; end when the driver (process `driver`, its parent) is gone (killed with
    `kill -9`, it cannot say so), even when it died before this initializer ran."""
    global _local
    ignore_stops()
    _local = (reports, event)
    threading.Thread(target=_end_with, args=(driver,), name="relukan-bench-orphan-watch", daemon=True).start()


def _end_with(parent: int) -> None:
    """Once a second: when this process's parent is no longer `parent` (it died: the process
    was handed to another), end this process."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(70)


def run_task(exp: Experiment, config: RunConfig, devices: Sequence[str], units: Sequence[object],
             channel: StopChannel | None = None) -> list[object]:
    """One task in a worker: the experiment's `execute` of `units` with the config's thread
    count and float32 setting; its results. Progress goes back through the local queue (or
    nowhere on Dask); a stop asked for by the driver raises `Stopped` at the next report."""
    stopped: Callable[[], bool] = channel.is_set if channel is not None else (_local[1].is_set if _local else lambda: False)
    reports = _local[0] if channel is None and _local else None

    def progress(unit: object, done: int, loss: float) -> None:
        if stopped():
            raise Stopped
        if reports is not None:
            reports.put((unit, done, loss))

    with torch_threads(config.threads), ieee_float32():
        return list(exp.execute(config, devices, units, progress))
