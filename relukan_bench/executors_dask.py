"""The Dask executor (relukan_bench.executors): a run's tasks on a Dask cluster.

Without an address, a local cluster of N single-threaded worker processes is started for the
run and closed after it: every server it starts (scheduler, workers, their HTTP endpoints) is
bound to 127.0.0.1, its dashboard is off, and Dask sends nothing anywhere on its own. With an
address, the run's tasks go to that existing cluster, whose workers must have relukan-bench
(and the same torch and pykan) installed. docs/cluster.md has the commands.
"""

from __future__ import annotations

import logging
import socket
import threading
import uuid
from typing import TYPE_CHECKING, Any, Callable

from relukan_bench.errors import ExecutionError, UsageError, clip, failure
from relukan_bench.signals import ignored_by_children

if TYPE_CHECKING:
    from concurrent.futures import Future

    from distributed import LocalCluster

    from relukan_bench.experiments.protocol import Progress

#: How long a run waits to connect to the scheduler at `--address` (seconds), once
#: `check_scheduler` has heard it answer.
CONNECT_TIMEOUT = 30
#: How long `check_scheduler` waits for the scheduler at `--address` to answer (seconds).
ANSWER_TIMEOUT = 5.0
#: The schemes a scheduler's address may have. inproc:// reaches servers inside this process
#: only, and distributed no longer ships ucx://.
SCHEMES = ("tcp", "tls", "ws", "wss")
#: What an address should look like, for the messages.
EXPECTED = "a scheduler address such as tcp://10.0.0.5:8786"


def check_scheduler(address: str, timeout: float = ANSWER_TIMEOUT) -> None:
    """UsageError (one line, naming `--address` and what was expected) unless a Dask scheduler
    answers at `address` as one, within `timeout` seconds: Dask's own handshake, then its
    `identity` call, whose reply must be a scheduler's. Called before a run directory is made,
    so that an address where anything else listens (a web server, a worker, a port that closes
    or says nothing) leaves nothing behind."""
    def refuse(why: str) -> UsageError:
        return UsageError(f"--address {clip(address, 60)}: {why}")

    scheme, host, port = _parts(address, refuse)
    args = _connection_args(scheme, refuse)
    found = _identity(address, (host, port), args, timeout)
    if isinstance(found, BaseException):
        raise refuse(f"no Dask scheduler answers there ({clip(_why(found, timeout), 100)}); expected {EXPECTED}") from None
    if not isinstance(found, dict):
        raise refuse(f"no Dask scheduler answers there (what answers does not speak Dask's protocol); "
                     f"expected {EXPECTED}")
    if not {"workers", "n_workers", "total_threads"} <= found.keys():  # what a scheduler's identity holds
        what = found.get("type")
        raise refuse(f"a Dask {clip(what, 40) if isinstance(what, str) else 'server'} answers there, not a scheduler; "
                     f"expected {EXPECTED}")


def _parts(address: str, refuse: Callable[[str], Exception]) -> tuple[str, str, int]:
    """The scheme, host and port of `address`, or the refusal naming what is wrong."""
    from distributed.comm.addressing import parse_address, parse_host_port

    try:
        scheme, location = parse_address(address)
    except (ValueError, TypeError) as exc:
        raise refuse(f"expected {EXPECTED} ({clip(str(exc), 100)})") from None
    if scheme not in SCHEMES:
        raise refuse(f"expected a tcp://, tls://, ws:// or wss:// address of a Dask scheduler "
                     f"(got the scheme {clip(repr(scheme), 40)})") from None
    try:
        host, port = parse_host_port(location)
    except (ValueError, TypeError) as exc:
        raise refuse(f"expected {EXPECTED} ({clip(str(exc), 100)})") from None
    if not host:
        raise refuse(f"expected {EXPECTED} (no host)") from None
    if not isinstance(port, int) or not 1 <= port <= 65535:
        raise refuse(f"expected {EXPECTED} (port {port} is not 1 to 65535)") from None
    return scheme, host, port


def _connection_args(scheme: str, refuse: Callable[[str], Exception]) -> dict[str, Any]:
    """What the client side of a connection needs, from Dask's config (as `Client` reads it):
    for tls:// and wss://, a certificate authority at least."""
    from distributed.security import Security

    try:
        args = Security().get_connection_args("client")
    except (OSError, ValueError, TypeError) as exc:
        raise refuse(f"Dask's TLS settings (distributed.comm.tls) cannot be read ({exc})") from None
    if scheme in ("tls", "wss") and args.get("ssl_context") is None:
        raise refuse(f"{scheme}:// needs TLS certificates in Dask's config (distributed.comm.tls.ca-file and, for "
                     f"the client, distributed.comm.tls.client.cert); none are set") from None
    return args


def _identity(address: str, where: tuple[str, int], args: dict[str, Any], timeout: float) -> object:
    """What the server at `address` (at host and port `where`) says it is: its reply to Dask's
    `identity` call, or the exception that stopped the asking. In a thread of its own, given up
    after `timeout` seconds whatever blocks inside (a name lookup included)."""
    import asyncio  # the check's alone: not for every command that imports this module

    found: list[object] = [TimeoutError(f"no answer within {timeout:g} s")]

    async def ask() -> None:
        from distributed.comm import connect

        comm = await connect(address, timeout=timeout, **args)
        try:
            await comm.write({"op": "identity", "reply": True})
            found[0] = await comm.read()
            await comm.write({"op": "close", "reply": False})
        finally:
            comm.abort()

    def run() -> None:
        try:
            socket.create_connection(where, timeout=timeout).close()  # at once where nothing listens
            asyncio.run(asyncio.wait_for(ask(), timeout))
        except BaseException as exc:  # noqa: BLE001 - anything that is not a scheduler's answer
            if not isinstance(found[0], dict):
                found[0] = exc

    quiet = logging.getLogger("distributed")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL + 1)  # bytes that are not Dask's make it log; the refusal says so in one line
    try:
        thread = threading.Thread(target=run, name="relukan-bench-scheduler-check", daemon=True)
        thread.start()
        thread.join(timeout + 1)
    finally:
        quiet.setLevel(level)
    return found[0]


def _why(exc: BaseException, timeout: float) -> str:
    """A short reason for a failed handshake."""
    from distributed.comm.core import CommClosedError

    if isinstance(exc, TimeoutError):  # asyncio's too
        return f"no answer within {timeout:g} s"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    if isinstance(exc, CommClosedError):
        return "it closed the connection"
    text = " ".join(str(exc).split())
    if isinstance(exc, MemoryError):  # bytes read as a Dask message's length
        text = "a message too big to be Dask's"
    return f"what answers does not speak Dask's protocol: {exc.__class__.__name__}{': ' + text if text else ''}"


class DaskPool:
    """One run's connection to a Dask cluster (started here when `address` is None)."""

    stop_timeout = 60.0

    def __init__(self, workers: int, address: str | None):
        from distributed import Client, Event

        self.cluster: LocalCluster | None = None
        try:
            if address is None:
                self.cluster = _local_cluster(workers)
                self.client = Client(self.cluster)
            else:
                self.client = Client(address, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError, ValueError, MemoryError) as exc:  # MemoryError: a stranger's bytes as a length
            self.close()
            where = f"the Dask scheduler at {address}" if address else "a local Dask cluster"
            raise ExecutionError(f"cannot start or reach {where} ({failure(exc)})") from None
        self.executor = self.client.get_executor(pure=False)
        self.channel = Event(f"relukan-bench-stop-{uuid.uuid4().hex}", client=self.client)

    def submit(self, fn: Callable[..., list[object]], *args: object) -> Future[list[object]]:
        return self.executor.submit(fn, *args)

    def drain(self, progress: Progress) -> None:
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

    def __enter__(self) -> DaskPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _local_cluster(workers: int) -> LocalCluster:
    """A cluster on this machine only: loopback, no dashboard, no memory-based restarts (a run
    that needs the memory gets it or fails like a serial run)."""
    import dask
    from distributed import LocalCluster

    # No HTTP routes beyond the bare server; no statistical profiler, which takes the GIL every
    # 10 ms to sample the task's stack (measured: units 1.2x slower with it on).
    dask.config.set({"distributed.scheduler.http.routes": [], "distributed.worker.http.routes": [],
                     "distributed.worker.profile.enabled": False})
    with ignored_by_children():
        return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                            dashboard_address=None, scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                            worker_dashboard_address=None, memory_limit=0, silence_logs=40)


