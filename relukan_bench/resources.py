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


def default_config(name: str) -> Path:
    """The shipped config `name` (an experiment's default: its name), as a path relative to
    the working directory when it lies below it (so that messages show `configs/speed.yaml`,
    not a long absolute path)."""
    return display_path(configs_dir() / f"{name}.yaml")


def display_path(path: Path) -> Path:
    try:
        relative = Path(os.path.relpath(path))
    except ValueError:  # another drive on Windows
        return path
    return path if relative.parts[:1] == ("..",) else relative


def shipped_configs() -> dict[str, Path]:
    """Every config the package ships, by name (the file's stem), in name order."""
    return {path.stem: path for path in sorted(configs_dir().glob("*.yaml"), key=lambda path: path.stem)}


def purpose(path: Path) -> str:
    """A config's purpose in one line: the first sentence of its leading comment, without the
    references to the repository's docs (a wheel has none)."""
    import re

    words: list[str] = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            text = line.strip()
            if not text.startswith("#") or (words and not text.lstrip("#").strip()):
                break
            words.append(text.lstrip("#").strip())
    text = re.sub(r"\s*\([^()]*docs/[^()]*\)", "", " ".join(words))
    sentence = re.split(r"(?<=\.)\s", text, maxsplit=1)[0]
    return sentence.rstrip(":;, ")


def find_config(given: Path | str) -> Path:
    """The config `given` names: a regular file that exists (a path wins), else a shipped
    config by name, with or without `.yaml` (`fit-paper-kan`, `fit-paper-kan.yaml`); a
    directory or a FIFO named `fit` does not hide the shipped `fit`. A name that is neither is
    returned as given, for the loader to report as not found."""
    path = Path(given)
    try:
        if path.is_file() or len(path.parts) != 1:
            return path
    except (OSError, ValueError):  # a name no file system takes (too long, a NUL): not a file
        return path
    shipped = shipped_configs()
    name = path.stem if path.suffix == ".yaml" else path.name
    return display_path(shipped[name]) if name in shipped else path
