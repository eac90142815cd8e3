"""The Dask executor (relukan_bench.executors): a run's tasks on a Dask cluster.

Without an address, a local cluster of N single-threaded worker processes is started for the
run and closed after it: every server it starts (scheduler, workers, their HTTP endpoints) is
bound to 127.0.0.1, its dashboard is off, and Dask sends nothing anywhere on its own. With an
address, the run's tasks go to that existing cluster, whose workers must have relukan-bench
(and the same torch and pykan) installed. docs/cluster.md has the commands.
"""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from typing import Any, Callable, Iterator

#: How long to wait for a scheduler at `--address` (seconds).
CONNECT_TIMEOUT = 30


class DaskPool:
    """One run's connection to a Dask cluster (started here when `address` is None)."""

    stop_timeout = 60.0

    def __init__(self, workers: int, address: str | None):
        from distributed import Client, Event

        from relukan_bench.errors import ExecutionError, failure

        self.cluster = None
        try:
            if address is None:
                self.cluster = _local_cluster(workers)
                self.client = Client(self.cluster)
            else:
                self.client = Client(address, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError, ValueError) as exc:
            self.close()
            where = f"the Dask scheduler at {address}" if address else "a local Dask cluster"
            raise ExecutionError(f"cannot start or reach {where} ({failure(exc)})") from None
        self.executor = self.client.get_executor(pure=False)
        self.channel = Event(f"relukan-bench-stop-{uuid.uuid4().hex}", client=self.client)

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        return self.executor.submit(fn, *args)

    def drain(self, progress: Callable[[Any, int, float], None]) -> None:
        """Dask reports per finished task; steps inside one are not sent back."""

    def stop(self) -> None:
        self.channel.set()

    def close(self) -> None:
        for part in (getattr(self, "client", None), self.cluster):
            if part is not None:
                try:
                    part.close()
                except Exception:  # noqa: BLE001 - closing after a failure: nothing more to save
                    pass

    def __enter__(self) -> "DaskPool":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _local_cluster(workers: int) -> Any:
    """A cluster on this machine only: loopback, no dashboard, no memory-based restarts (a run
    that needs the memory gets it or fails like a serial run)."""
    import dask
    from distributed import LocalCluster

    # No HTTP routes beyond the bare server; no statistical profiler, which takes the GIL every
    # 10 ms to sample the task's stack (measured: units 1.2x slower with it on).
    dask.config.set({"distributed.scheduler.http.routes": [], "distributed.worker.http.routes": [],
                     "distributed.worker.profile.enabled": False})
    with _sigint_ignored_by_children():
        return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                            dashboard_address=None, scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                            worker_dashboard_address=None, memory_limit=0, silence_logs=40)


@contextmanager
def _sigint_ignored_by_children() -> Iterator[None]:
    """Ctrl-C ignored while the block starts processes, which inherit that: the driver handles
    Ctrl-C (stops the run, keeps what finished) and closes the cluster itself. A Ctrl-C within
    the second the cluster takes to start is not seen."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


