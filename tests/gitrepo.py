"""A real git repository for the tests of what a run records of its code (relukan_bench.env)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


#: Who commits, and no signing, whatever this machine's git config says.
IDENTITY = ["-c", "user.name=t", "-c", "user.email=t@example.org", "-c", "commit.gpgsign=false"]


def git(*args: str, cwd: Path) -> str:
    """Run git in `cwd`; its stdout."""
    done = subprocess.run(["git", *IDENTITY, *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def repository(path: Path) -> Path:
    """A real git repository at `path` with one commit of one file, `code.py`."""
    if shutil.which("git") is None:
        pytest.skip("no git on this machine")
    path.mkdir(parents=True, exist_ok=True)
    git("init", "-q", cwd=path)
    (path / "code.py").write_text("x = 1\n")
    git("add", "code.py", cwd=path)
    git("commit", "-q", "-m", "first", cwd=path)
    return path
