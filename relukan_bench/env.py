"""What a result was measured on: versions, hardware, threads, commit, command line; and the code
each session of a run ran (`run_sessions`, `commits`), so that a resume under other code is told
(`code_change`) and a report names every commit (`describe`)."""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from relukan_bench import __version__
from relukan_bench.devices import FLOAT32
from relukan_bench.results import read_mapping


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _version(package: str) -> str | None:
    from importlib import metadata  # reads every installed distribution's files: not for --help

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


def git_commit(root: Path | None = None) -> dict[str, str | bool | None] | None:
    """The commit of the checkout this package runs from (or `root`), and whether a tracked file
    had uncommitted changes (`dirty`); without a .git, the commit `$RELUKAN_BENCH_COMMIT`
    declares (when it is one)."""
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


#: How a commit with changes not committed is named (REPORT.md, the warning of `--resume`).
DIRTY = "uncommitted changes"


def _code(git: object) -> tuple[str, bool] | None:
    """What identifies the code of a `git` record: its commit and whether the tree had changes
    (a declared commit counts as clean); None for no record, or one that is not a record."""
    if not isinstance(git, dict) or not isinstance(git.get("commit"), str) or not git["commit"]:
        return None
    return git["commit"], bool(git.get("dirty"))


def describe(git: object, length: int = 12) -> str:
    """A `git` record in words: `85bba7a221a4`, `0e125e5d0778 (uncommitted changes)`, or
    `unknown` where no commit was recorded."""
    code = _code(git)
    if code is None or not isinstance(git, dict):  # a record with a code is a mapping
        return "unknown"
    declared = " (declared: the copy it ran from had no .git)" if git.get("declared") else ""
    return code[0][:length] + (f" ({DIRTY})" if code[1] else "") + declared


def sessions(env: object) -> list[tuple[str, object]]:
    """(start time, `git` record) of every session an env.json records: the one that started
    the run (its top-level `git`), then each `resumed` entry's. Files without these keys (or
    with something else there) give what they have."""
    if not isinstance(env, dict):
        return []
    resumed = env.get("resumed")
    if not isinstance(resumed, list):
        resumed = []
    found = [(env.get("start_time"), env.get("git"))]
    found += [(entry.get("start_time"), entry.get("git")) for entry in resumed if isinstance(entry, dict)]
    return [(start if isinstance(start, str) else "", git) for start, git in found]


def run_sessions(run_dir: Path, env: object = None) -> list[tuple[str, object]]:
    """The sessions of the run in `run_dir` (`env`, else its env.json) and of the runs inside
    it (a reproduce run's parts: its subdirectories with an env.json), in the order they started."""
    run_dir = Path(run_dir)
    found = sessions(env if env is not None else read_mapping(run_dir / "env.json"))
    try:
        parts = sorted(path for path in run_dir.iterdir() if (path / "env.json").is_file())
    except OSError:
        parts = []
    for part in parts:
        found += sessions(read_mapping(part / "env.json"))
    return sorted(found, key=lambda session: session[0])


def commits(found: list[tuple[str, object]]) -> list[object]:
    """The distinct code (commit and tree state) of `found` sessions, in the order first used:
    their `git` records, None for a session that recorded none."""
    seen: dict[tuple[str, bool] | None, object] = {}
    for _, git in found:
        seen.setdefault(_code(git), git if _code(git) is not None else None)
    return list(seen.values())


def code_change(recorded: list[object], now: object) -> str | None:
    """What to warn of when a session running the code `now` (a `git` record) goes on with a
    run computed with `recorded` (`commits`): None when `now` is a clean commit already
    recorded, or when no commit is known on either side."""
    known = [_code(git) for git in recorded]
    code = _code(now)
    if code is None and not any(known):
        return None
    if code is not None and not code[1] and code in known:
        return None
    where = ", ".join(describe(git) for git in recorded) or "unknown"
    this = f"commit {describe(now)}" if code is not None else f"an unknown commit (no .git, nor ${COMMIT_VARIABLE})"
    return (f"the run was computed with commit{'s' if len(recorded) > 1 else ''} {where}; this session runs "
            f"{this}, so the run will mix code versions (env.json records each session's commit)")


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
