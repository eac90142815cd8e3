"""`--executor dask --address`: a run starts only where a Dask scheduler answers as one (Dask's
handshake, then its `identity` call). Anything else that listens there, and every address
scheme a run cannot use, is refused in one line, within seconds, before anything is written
(relukan_bench.executors_dask.check_scheduler)."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Iterator

import pytest

pytest.importorskip("distributed")

from relukan_bench.errors import UsageError  # noqa: E402
from relukan_bench.executors_dask import ANSWER_TIMEOUT, check_scheduler  # noqa: E402

#: The check's timeout in these tests (seconds): short, so that the silent listeners cost little.
TIMEOUT = 1.0
#: How much longer than its timeout a refusal may take.
SLACK = 1.5


@contextmanager
def _listener(serve: Callable[[socket.socket], None]) -> Iterator[str]:
    """A TCP server on 127.0.0.1 that hands each connection to `serve`: its tcp:// address."""
    server = socket.create_server(("127.0.0.1", 0))
    kept: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            kept.append(connection)
            threading.Thread(target=serve, args=(connection,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    finally:
        server.close()
        for connection in kept:
            connection.close()


@contextmanager
def _http_server() -> Iterator[str]:
    """A real web server (the standard library's) on 127.0.0.1: its tcp:// address."""
    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"tcp://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _closes(connection: socket.socket) -> None:
    connection.close()


def _silent(connection: socket.socket) -> None:
    """Reads what comes and never answers."""
    try:
        while connection.recv(4096):
            pass
    except OSError:
        pass


def _refused(address: str, *expected: str) -> str:
    """The refusal of `address`: one line naming it, within the timeout and a little."""
    start = time.monotonic()
    with pytest.raises(UsageError) as caught:
        check_scheduler(address, timeout=TIMEOUT)
    took = time.monotonic() - start
    message = str(caught.value)
    assert took < TIMEOUT + SLACK, (took, message)
    assert message.startswith("--address ") and "\n" not in message and len(message) < 400, message
    for fragment in expected:
        assert fragment in message, message
    return message


@pytest.mark.parametrize("serve", [_closes, _silent], ids=["accepts-and-closes", "accepts-and-says-nothing"])
def test_a_listener_that_is_not_a_scheduler_is_refused_within_the_timeout(serve):
    with _listener(serve) as address:
        _refused(address, "no Dask scheduler answers there", "expected a scheduler address such as tcp://")


def test_a_web_server_is_not_a_scheduler():
    with _http_server() as address:
        _refused(address, "no Dask scheduler answers there")
        _refused(address.replace("tcp://", "ws://"), "no Dask scheduler answers there")


def test_any_bytes_a_listener_sends_are_not_a_schedulers_answer():
    """The class of garbage: whatever bytes a server sends first, then closes or goes quiet,
    including lengths no memory could hold (what a web server's reply reads as)."""
    from hypothesis import given, settings, strategies as st

    sent: list[bytes] = [b""]
    then_close = [True]

    def garbage(connection: socket.socket) -> None:
        try:
            connection.sendall(sent[0])
            if then_close[0]:
                connection.close()
            else:
                _silent(connection)
        except OSError:
            pass

    with _listener(garbage) as address:
        @settings(max_examples=10, deadline=None)
        @given(st.one_of(st.binary(min_size=1, max_size=200),
                         st.just(b"HTTP/1.0 400 Bad request\r\nContent-Type: text/html\r\n\r\n"),
                         st.integers(0, 2**64 - 1).map(lambda n: n.to_bytes(8, "little") + b"\x00" * 16)),
               st.booleans())
        def refused(data: bytes, close: bool) -> None:
            sent[0], then_close[0] = data, close
            _refused(address, "no Dask scheduler answers there")

        refused()


@pytest.mark.parametrize("address, expected", [
    ("tls://127.0.0.1:8786", "tls:// needs TLS certificates in Dask's config"),
    ("wss://127.0.0.1:8786", "wss:// needs TLS certificates in Dask's config"),
    ("inproc://127.0.0.1/1/1", "expected a tcp://, tls://, ws:// or wss:// address of a Dask scheduler (got the scheme 'inproc')"),
    ("ucx://127.0.0.1:8786", "(got the scheme 'ucx')"),
    ("http://127.0.0.1:8786", "(got the scheme 'http')"),
    ("nonsense://127.0.0.1:8786", "(got the scheme 'nonsense')"),
    ("ws://127.0.0.1:1", "no Dask scheduler answers there (Connection refused)"),
    ("tcp://:8786", "(no host)"),
])
def test_schemes_a_run_cannot_use_are_refused(address, expected):
    _refused(address, expected)


def test_a_real_scheduler_passes_and_its_worker_is_refused():
    from distributed import LocalCluster

    for protocol in ("tcp://", "ws://"):
        with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, host="127.0.0.1", protocol=protocol,
                          dashboard_address=None) as cluster:
            start = time.monotonic()
            check_scheduler(cluster.scheduler_address, timeout=TIMEOUT)
            assert time.monotonic() - start < TIMEOUT
            worker = next(iter(cluster.workers.values())).address
            _refused(worker, "a Dask Worker answers there, not a scheduler")


def test_a_scheduler_over_tls_passes_with_the_certificates_in_dasks_config(tmp_path):
    """tls:// and wss:// reach a scheduler where Dask's config names the certificates (as
    `Client` reads them); a self-signed pair made here with openssl."""
    import shutil

    import dask
    from distributed import LocalCluster
    from distributed.security import Security

    if shutil.which("openssl") is None:
        pytest.skip("no openssl here to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=dask-internal"], check=True, capture_output=True, timeout=60)
    config = {"distributed.comm.tls.ca-file": str(cert)}
    for role in ("client", "scheduler", "worker"):
        config |= {f"distributed.comm.tls.{role}.cert": str(cert), f"distributed.comm.tls.{role}.key": str(key)}
    with dask.config.set(config):
        for protocol in ("tls://", "wss://"):
            with LocalCluster(n_workers=0, processes=False, host="127.0.0.1", protocol=protocol, dashboard_address=None,
                              security=Security()) as cluster:
                check_scheduler(cluster.scheduler_address, timeout=TIMEOUT)


@pytest.mark.parametrize("server", ["http", "garbage"])
def test_the_command_line_refuses_what_is_not_a_scheduler_in_one_line_and_writes_nothing(tmp_path, server):
    """As a user meets it: a real process, its whole stderr (Dask's own logging included)."""
    def garbage(connection: socket.socket) -> None:
        connection.sendall(b"\xff" * 64)  # read as a message 2**64 - 1 bytes long
        _silent(connection)

    with (_http_server() if server == "http" else _listener(garbage)) as address:
        code = ("import sys; sys.argv = ['relukan-bench', 'fit', '--quick', '--executor', 'dask', '--address', "
                f"{address!r}, '--out', 'run']; from relukan_bench.cli import main; main()")
        start = time.monotonic()
        result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
        took = time.monotonic() - start
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"error: --address {address}: no Dask scheduler answers there"), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not result.stdout, result.stderr
    assert not any(tmp_path.iterdir())
    assert took < ANSWER_TIMEOUT + 20, took  # the interpreter's start and imports, then at most the timeout
