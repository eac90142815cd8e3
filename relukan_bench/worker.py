"""Run one of this package's functions in a worker process with another pykan on its path.

The client (`Workers`) starts one worker per pykan version on first use, with the interpreter
of this process and the version's environment (relukan_bench.pykan_envs) first on its path,
and keeps it for the whole run: the worker's imports (torch, pykan: seconds) are paid once.
A call sends one JSON line and reads one back:

    {"call": "relukan_bench.experiments.speed.measure:measure_unit", "kwargs": {...}}
    -> {"result": ...}  or  {"error": "ValueError: ..."}

Only functions of this package can be called, with JSON arguments. The worker writes its
answers to a descriptor of its own: whatever pykan prints goes to the worker's stderr, which
the client keeps in a file and quotes when the worker ends unexpectedly. The worker ignores
Ctrl-C, SIGTERM and SIGHUP (they may reach the whole process group); the client decides, and closes its workers when
it leaves. The main process waits while a worker computes, so a timed unit never shares the
CPU with the process that started it.

Run as `python -P -m relukan_bench.worker ENV_DIR`.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, BinaryIO, Callable, Mapping

from relukan_bench.errors import ExecutionError, failure
from relukan_bench.pykan_envs import env_dir, install_hint, prepared
from relukan_bench.signals import ignore_stops

PACKAGE = "relukan_bench."


class WorkerError(RuntimeError):
    """What the called function raised in the worker: the unit's own failure, recorded."""


def _lost(message: str) -> Exception:
    """A worker that ended or answered nonsense: the unit it held is lost, not failed; the run
    stops as interrupted and `--resume` runs the unit again (an ExecutionError)."""
    return ExecutionError(message)


class Worker:
    """One worker process for pykan `version` from `directory`."""

    def __init__(self, version: str, directory: Path) -> None:
        self.version = version
        self.stderr = tempfile.TemporaryFile()
        environment = {**os.environ, "PYTHONNOUSERSITE": "1", "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-P", "-m", "relukan_bench.worker", str(directory)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr, env=environment,
        )

    def call(self, function: str, /, **kwargs: object) -> Any:
        """`function(**kwargs)` in the worker; its exception comes back as a WorkerError."""
        request = json.dumps({"call": function, "kwargs": kwargs}, allow_nan=True) + "\n"
        try:
            assert self.process.stdin is not None and self.process.stdout is not None
            self.process.stdin.write(request.encode())
            self.process.stdin.flush()
            line = self.process.stdout.readline()
        except OSError:
            line = b""
        if not line:
            raise _lost(f"the pykan {self.version} worker ended ({self._stderr_tail()})")
        try:
            answer = json.loads(line)
            assert isinstance(answer, dict) and ("error" in answer or "result" in answer)
        except (ValueError, AssertionError):
            raise _lost(f"the pykan {self.version} worker answered something that is not an answer") from None
        if "error" in answer:
            raise WorkerError(f"pykan {self.version}: {answer['error']}")
        return answer["result"]

    def alive(self) -> bool:
        return self.process.poll() is None

    def close(self) -> None:
        """End the worker: its input closed, then killed if it does not leave within 10 s."""
        try:
            if self.process.stdin is not None:
                self.process.stdin.close()
            self.process.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()
        finally:
            self.stderr.close()

    def _stderr_tail(self) -> str:
        self.process.poll()
        self.stderr.seek(0)
        lines = self.stderr.read().decode(errors="replace").strip().splitlines()
        status = f"exit status {self.process.returncode}" if self.process.returncode is not None else "no answer"
        return f"{status}: {lines[-1]}" if lines else status


class Workers:
    """The run's workers, one per pykan version, started on first use and closed on exit
    (also on Ctrl-C); a worker that ended is started afresh for the next call."""

    def __init__(self) -> None:
        self.running: dict[str, Worker] = {}

    def __enter__(self) -> "Workers":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, version: str, function: str, /, **kwargs: object) -> Any:
        worker = self.running.get(version)
        if worker is None or not worker.alive():
            if worker is not None:
                worker.close()
            if not prepared(version):
                raise WorkerError(f"pykan {version} has no environment; {install_hint([version])}")
            worker = self.running[version] = Worker(version, env_dir(version))
        return worker.call(function, **kwargs)

    def close(self) -> None:
        for worker in self.running.values():
            worker.close()
        self.running.clear()


# ----------------------------------------------------------------------------- the worker's side
def _resolve(name: str) -> Callable[..., object]:
    """The function `relukan_bench.module:function` names; ValueError for anything else."""
    module, _, attribute = name.partition(":")
    if not module.startswith(PACKAGE) or not attribute.isidentifier():
        raise ValueError(f"expected a function of this package as 'relukan_bench.module:function' (got {name!r})")
    return getattr(importlib.import_module(module), attribute)


def _answer(out: BinaryIO, message: Mapping[str, object]) -> None:
    out.write((json.dumps(message, allow_nan=True) + "\n").encode())
    out.flush()


def serve(directory: str) -> None:
    """Answer calls on stdin until it closes; answers go to the real stdout only."""
    ignore_stops()
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # what pykan prints goes to stderr, never into the answers
    sys.stdout = sys.stderr
    sys.path.insert(0, directory)
    for line in sys.stdin.buffer:
        try:
            request = json.loads(line)
            result = _resolve(request["call"])(**request["kwargs"])
            _answer(out, {"result": result})
        except Exception as exc:  # noqa: BLE001 - every failure goes back to the client as one line
            _answer(out, {"error": failure(exc)})


if __name__ == "__main__":
    serve(sys.argv[1])
