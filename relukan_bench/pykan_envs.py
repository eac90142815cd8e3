"""pykan versions other than the installed one, each in an environment of its own.

The speed experiment can time several pykan versions in one run. The installed pykan runs in
this process; every other version runs in a worker process (relukan_bench.worker) of this
same interpreter, with that version's `kan` package first on its path. So every version is
timed with the same torch, numpy and Python: only pykan differs.

An environment is a directory holding one pykan release installed by pip without its
dependencies (`pip install --no-deps --target`): pykan's releases declare none, and everything
they import (torch, numpy, sympy, scikit-learn, matplotlib, pandas, PyYAML, tqdm) is already
installed for the installed pykan. Environments are prepared at set-up, never while a run
runs: `relukan-bench pykan install 0.0.5 0.1.2` (or `make baselines`). They live under
`$RELUKAN_BENCH_PYKAN_HOME`, by default `<the virtual environment>/relukan-bench/pykan/`, so
`make clean` removes them with the rest of `.venv`.

Nothing here imports torch or pykan.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable

from relukan_bench.errors import UsageError, clip

HOME_VARIABLE = "RELUKAN_BENCH_PYKAN_HOME"
VERSION = re.compile(r"^[0-9]{1,4}(\.[0-9]{1,4}){1,3}$")
#: the first pykan release with `KAN.speed()` (symbolic branch and saved activations off)
SPEED_SINCE = (0, 2, 0)
#: the versions the baselines config times besides the installed one
BASELINES = ("0.0.5", "0.1.2")
_MARKER = ".relukan-bench-pykan"


def version_tuple(version: str) -> tuple[int, ...]:
    """'0.2.8' -> (0, 2, 8)."""
    return tuple(int(part) for part in version.split("."))


def has_speed_mode(version: str) -> bool:
    """Whether pykan `version` has `KAN.speed()`."""
    return version_tuple(version) >= SPEED_SINCE


def installed() -> str | None:
    """The version of the pykan this process imports (None when there is none). In a worker
    this is the worker's environment's version: its directory comes first on the path, and so
    does its metadata."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pykan")
    except PackageNotFoundError:
        return None


def home() -> Path:
    """Where environments live."""
    configured = os.environ.get(HOME_VARIABLE)
    return Path(configured) if configured else Path(sys.prefix) / "relukan-bench" / "pykan"


def env_dir(version: str) -> Path:
    return home() / version


def prepared(version: str) -> bool:
    """Whether `version` has a complete environment (the marker is written last)."""
    directory = env_dir(version)
    try:
        marker = (directory / _MARKER).read_text(encoding="utf-8").strip()
    except OSError:
        return False
    return marker == version and (directory / "kan" / "__init__.py").is_file()


def prepared_versions() -> list[str]:
    """Every version with a complete environment, oldest first."""
    try:
        names = [p.name for p in home().iterdir() if VERSION.fullmatch(p.name)]
    except OSError:
        return []
    return sorted((name for name in names if prepared(name)), key=version_tuple)


def needs_environment(version: str | None) -> bool:
    """Whether a model entry asking for pykan `version` (None: the installed one) must run in
    a worker: it names a version other than the one this process imports."""
    return version is not None and version != installed()


def missing(versions: list[str]) -> list[str]:
    """Those of `versions` that need an environment and have none."""
    return [v for v in dict.fromkeys(versions) if needs_environment(v) and not prepared(v)]


def install_hint(versions: list[str]) -> str:
    return f"prepare it with `relukan-bench pykan install {' '.join(versions)}` (or `make baselines`)"


def released(versions: list[str]) -> None:
    """UsageError unless the package index has every one of `versions`, asked once before
    anything is installed (`pip index versions`). Where the index cannot be asked (pip without
    the command, no index), nothing is refused here: pip's own answer decides, in `install`."""
    done = subprocess.run([sys.executable, "-m", "pip", "index", "versions", "pykan", "--no-input",
                           "--disable-pip-version-check"], capture_output=True, text=True)
    found = re.search(r"^Available versions: (.+)$", done.stdout, re.MULTILINE)
    if done.returncode != 0 or found is None:
        return
    available = [v.strip() for v in found.group(1).split(",")]
    unknown = [v for v in versions if v not in available]
    if unknown:
        raise UsageError(f"VERSION {unknown[0]}: no such pykan release in the package index "
                         f"(available: {', '.join(sorted(available, key=version_tuple))})")


def writable_home() -> None:
    """UsageError naming the directory (and $RELUKAN_BENCH_PYKAN_HOME where it set it) unless
    environments can be written there, found by creating it and a probe directory in it: what
    this created is removed again when it cannot (a file in the path, no permission, a
    read-only or virtual file system)."""
    where = home()
    created = [p for p in (where, *where.parents) if not os.path.lexists(p)]
    try:
        where.mkdir(parents=True, exist_ok=True)
        os.rmdir(tempfile.mkdtemp(prefix=".probe-", dir=where))
    except OSError as exc:
        for directory in created:  # deepest first
            try:
                directory.rmdir()
            except OSError:
                pass
        named = f"{HOME_VARIABLE}={where}" if os.environ.get(HOME_VARIABLE) else str(where)
        raise UsageError(f"{clip(named, 200)}: the pykan environments' directory cannot be written "
                         f"({exc.strerror or exc})") from None


def install(version: str, echo: Callable[[str], None] = print) -> Path:
    """Install pykan `version` into its environment with pip; an existing environment is
    replaced only once the new one is complete. Raises RuntimeError with pip's last lines."""
    if not VERSION.fullmatch(version):
        raise ValueError(f"expected a pykan version such as 0.0.5 (got {version!r})")
    target = env_dir(version)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{version}-", dir=target.parent))
    try:
        command = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-input", "--disable-pip-version-check",
                   "--target", str(staging), f"pykan=={version}"]
        echo(f"pykan {version}: {' '.join(command[2:])}")
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            if "No matching distribution found" in done.stderr:
                            raise UsageError(f"VERSION {version}: no such pykan release in the package index")
            tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
            raise RuntimeError(f"pip could not install pykan=={version}: {tail}")
        (staging / _MARKER).write_text(version + "\n", encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    echo(f"pykan {version}: ready in {target}")
    return target
