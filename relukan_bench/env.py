"""What a result was measured on: versions, hardware, threads, commit, command line."""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from relukan_bench import __version__
from relukan_bench.devices import FLOAT32


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


#: Where a copy of the checkout has no .git (a tree sent to a lent GPU machine), the caller
#: may name its commit here; it is recorded as declared, not read.
COMMIT_VARIABLE = "RELUKAN_BENCH_COMMIT"
_HEX = re.compile(r"[0-9a-f]{7,40}")


def git_commit(root: Path | None = None) -> dict[str, Any] | None:
    """The commit of the checkout this package runs from (or `root`), and whether it had local
    changes; without a .git, the commit `$RELUKAN_BENCH_COMMIT` declares (when it is one)."""
    root = root or Path(__file__).resolve().parent.parent
    if not (root / ".git").exists():
        declared = os.environ.get(COMMIT_VARIABLE, "").strip().lower()
        return {"commit": declared, "dirty": None, "declared": True} if _HEX.fullmatch(declared) else None
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
        status = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if commit.returncode != 0:
        return None
    return {"commit": commit.stdout.strip(), "dirty": bool(status.stdout.strip())}


def program(argv0: str) -> str:
    """The program of a command line as a user types it: `relukan-bench` for this package's
    script or `python -m relukan_bench` (whose argv[0] is the path of __main__.py), else the
    name alone (never a directory, a temporary one least of all)."""
    path = Path(argv0)
    if (path.name == "__main__.py" and path.parent.name == "relukan_bench") or path.name.startswith("relukan-bench"):
        return "relukan-bench"
    return path.name


def command_line() -> list[str]:
    """This process's command line as a user types it (see `program`)."""
    return [program(sys.argv[0]), *sys.argv[1:]] if sys.argv else []


def environment(threads: int, devices: list[str]) -> dict[str, Any]:
    """A JSON-ready description of this machine and this process."""
    import torch

    gpus = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] if torch.cuda.is_available() else []
    return {
        "relukan_bench": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "threads": threads,
        "interop_threads": torch.get_num_interop_threads(),
        "torch": torch.__version__,
        "torch_cuda": torch.version.cuda,
        "pykan": _version("pykan"),
        "numpy": _version("numpy"),
        "gpu": gpus[0] if gpus else None,
        "gpus": gpus,
        "devices": devices,
        "float32": FLOAT32,
        "git": git_commit(),
        "command": command_line(),
        "start_time": utc_now(),
        "end_time": None,
    }
