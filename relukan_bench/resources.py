"""Where the project's own data lives: default configs and the paper's numbers.

A wheel carries copies under `relukan_bench/_data/`; in a checkout (editable install) there is
no `_data/` and they are the repository's own `configs/` and `results/paper/`.
"""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_REPOSITORY = _PACKAGE.parent


def _first_existing(*candidates: Path) -> Path:
    for candidate in candidates:
        if candidate.exists():
            return candidate
    return candidates[-1]


def configs_dir() -> Path:
    return _first_existing(_PACKAGE / "_data" / "configs", _REPOSITORY / "configs")


def paper_dir() -> Path:
    return _first_existing(_PACKAGE / "_data" / "paper", _REPOSITORY / "results" / "paper")


def default_config(experiment: str) -> Path:
    """The default config of an experiment, as a path relative to the working directory when
    it lies below it (so that messages show `configs/speed.yaml`, not a long absolute path)."""
    return display_path(configs_dir() / f"{experiment}.yaml")


def display_path(path: Path) -> Path:
    try:
        relative = Path(os.path.relpath(path))
    except ValueError:  # another drive on Windows
        return path
    return path if relative.parts[:1] == ("..",) else relative
