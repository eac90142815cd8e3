"""A Dask cluster on one machine listens on loopback only: the commands docs/cluster.md gives
for one (read from its code blocks, so that this test follows the docs, run on free ports), and
the local cluster `--executor dask` starts without `--address`."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("distributed")
psutil = pytest.importorskip("psutil")

DOC = Path(__file__).resolve().parent.parent / "docs" / "cluster.md"
LOOPBACK = {"127.0.0.1", "::1"}
#: The scheduler port the docs use, replaced by a free one.
DOC_PORT = "8786"
#: Paths a Dask dashboard or its HTTP routes serve.
DASHBOARD_PATHS = ("/", "/status", "/health", "/metrics", "/info/main/workers.html", "/json/identity.json", "/statics/")


def _loopback_commands() -> list[str]:
    """The `dask` commands of every shell block of the docs that starts a cluster on 127.0.0.1:
    continued lines joined, a trailing `&` dropped."""
    blocks = re.findall(r"^```sh\n(.*?)^```", DOC.read_text(encoding="utf-8"), flags=re.S | re.M)
    commands = []
    for block in blocks:
        if "dask scheduler" not in block or "127.0.0.1" not in block:
            continue
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            while words and words[-1] == "&":
                words.pop()
            program = [w for w in words if not re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", w)]
            if program[:1] == ["dask"]:
                commands.append(shlex.join(words))
    return commands


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start(command: str, port: int) -> subprocess.Popen:
    """`command` with the docs' scheduler port replaced by `port`, its leading NAME=VALUE words
    as environment variables, `dask` the one installed beside this Python."""
    words = [re.sub(rf"(^|:){DOC_PORT}$", rf"\g<1>{port}", w) for w in shlex.split(command)]
    env = dict(os.environ)
    while "=" in words[0]:
        name, value = words.pop(0).split("=", 1)
        env[name] = value
    dask = Path(sys.executable).parent / "dask"
    return subprocess.Popen([str(dask), *words[1:]], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def _listening(process: subprocess.Popen) -> list[tuple[str, int]]:
    """Every listening internet socket of `process` and its descendants."""
    parent = psutil.Process(process.pid)
    found = []
    for each in [parent, *parent.children(recursive=True)]:
        try:
            found += [(c.laddr.ip, c.laddr.port) for c in each.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN]
        except psutil.NoSuchProcess:
            pass
    return found


def _stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_the_docs_give_a_scheduler_and_workers_for_one_machine():
    commands = _loopback_commands()
    assert [c.split()[1] for c in commands if c.startswith("dask ")][:1] == ["scheduler"], commands
    assert any(" dask worker " in f" {c} " for c in commands), commands


def test_the_docs_cluster_on_one_machine_listens_on_loopback_only():
    from distributed import Client

    commands = _loopback_commands()
    workers = sum(int(re.search(r"--nworkers (\d+)", c).group(1)) for c in commands if " worker " in c)
    port = _free_port()
    processes: list[subprocess.Popen] = []
    try:
        for command in commands:
            processes.append(_start(command, port))
        with Client(f"tcp://127.0.0.1:{port}", timeout=30) as client:
            client.wait_for_workers(workers, timeout=30)
        listening = [address for process in processes for address in _listening(process)]
        # the scheduler's Dask and HTTP ports; each worker's Dask and HTTP ports, each nanny's Dask port
        assert len(listening) >= 2 + 3 * workers, listening
        assert all(ip in LOOPBACK for ip, _ in listening), listening
    finally:
        _stop(processes)


def test_the_local_cluster_listens_on_loopback_only_and_serves_no_dashboard():
    """Its scheduler and workers keep a bare HTTP server each: the list of its routes that
    every such server gives (/sitemap.json) names none but itself, and a dashboard's paths are
    not found."""
    import json
    import urllib.error
    import urllib.request

    from relukan_bench.executors_dask import DaskPool

    with DaskPool(2, None) as pool:
        here = psutil.Process()
        listening = [c.laddr for p in [here, *here.children(recursive=True)]
                     for c in p.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN]
        scheduler = pool.cluster.scheduler
        http = [server.port for server in scheduler.services.values()]
        http += [port for worker in scheduler.workers.values() for port in worker.services.values()]
        routes = [json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/sitemap.json", timeout=5)) for port in http]
        answers = {}
        for port in http:
            for path in DASHBOARD_PATHS:
                try:
                    answers[port, path] = urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5).status
                except urllib.error.HTTPError as exc:
                    answers[port, path] = exc.code
    assert listening and all(address.ip in LOOPBACK for address in listening), listening
    assert len(http) == 3 and routes == [{"paths": ["/sitemap.json"]}] * 3, routes
    assert set(answers.values()) == {404}, {where: code for where, code in answers.items() if code != 404}
