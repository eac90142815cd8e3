"""Run directories and the files in them. Writers compute nothing.

Every table is written to a temporary file in the same directory and renamed into place, so a
reader (or a crash) never sees half a file. Per-unit logs are appended one flushed row at a
time, so what finished is on disk when something later fails.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from relukan_bench.errors import UsageError


def new_run_dir(experiment: str, out: Path | None, root: Path = Path("results")) -> Path:
    """Create and return the run directory: `out`, or `results/<experiment>/<UTC timestamp>`.

    `out` may exist only if empty. Two runs started in the same second get different
    directories (a numeric suffix), because `mkdir` is atomic.
    """
    if out is not None:
        out = Path(out)
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise UsageError(f"--out {out}: expected a new or empty directory")
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"--out {out}: cannot create the directory ({exc.strerror})") from None
        return out
    parent = root / experiment
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        for attempt in range(1000):
            candidate = parent / (stamp if attempt == 0 else f"{stamp}-{attempt + 1}")
            try:
                candidate.mkdir()
                return candidate
            except FileExistsError:
                continue
    except OSError as exc:
        raise UsageError(f"{parent}: cannot create the run directory ({exc.strerror})") from None
    raise UsageError(f"{parent}: too many runs started at {stamp}")


def write_text(path: Path, text: str) -> None:
    """Write `text` to `path` atomically (temporary file, fsync, rename)."""
    path = Path(path)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(temporary, _file_mode())  # mkstemp makes it private (0600); results are for reading
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _file_mode() -> int:
    """The mode `open()` would give a new file: 0666 less the process's umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_json(path: Path, data: Any) -> None:
    write_text(path, json.dumps(data, indent=2, default=str) + "\n")


def _csv_text(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: _cell(row.get(key)) for key in columns})
    return buffer.getvalue()


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if value != value else repr(float(value))  # NaN -> empty; full precision (numpy floats too)
    return value


def write_csv(path: Path, columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> None:
    """A whole table, atomically."""
    write_text(path, _csv_text(columns, rows))


class CsvLog:
    """A CSV file that grows one complete, flushed row at a time."""

    def __init__(self, path: Path, columns: Sequence[str]):
        self.path, self.columns = Path(path), list(columns)
        write_text(self.path, _csv_text(self.columns, []))

    def append(self, row: Mapping[str, Any]) -> None:
        self.extend([row])

    def extend(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Append `rows` in one write, flushed to disk before returning."""
        lines = _csv_text(self.columns, rows).split("\n", 1)[1]  # drop the header
        with open(self.path, "a", encoding="utf-8", newline="") as handle:
            handle.write(lines)
            handle.flush()
            os.fsync(handle.fileno())


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))
