"""Run directories and the files in them. Writers compute nothing.

Every file is written to a temporary file in the same directory and renamed into place, so a
reader, a crash or a SIGKILL never leaves half a file. Per-unit logs (`CsvLog`) grow by whole
units, appended in one write and synced (linear in the size of the run, not quadratic); a
write that a crash cut short can only leave a partial last line, which `read_log` leaves out
and a resumed run cuts off.

Tables declare their columns with a type (`{"seed": int, "mse": float, ...}`), so that a log
read back (`read_records`) gives the same values that were written: floats are written with
`repr` and round-trip bit for bit; an empty cell is None, or NaN in a float column.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, Iterable, Iterator, Mapping, Sequence

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
    with _replacing(Path(path)) as handle:
        handle.write(text.encode("utf-8"))


@contextmanager
def _replacing(path: Path) -> Iterator[BinaryIO]:
    """A new binary file that replaces `path` when the block ends: written in the same
    directory, flushed to disk, renamed over `path`. On any error `path` stays as it was and
    the temporary file is removed."""
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(temporary, _file_mode())  # mkstemp makes it private (0600); results are for reading
        with os.fdopen(fd, "wb") as handle:
            yield handle
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
    """A CSV file that grows by whole groups of rows, atomically.

    A new log is created with its header. With `resume=True` an existing log is kept as it is
    (its header must be `columns`); a missing one is created.
    """

    def __init__(self, path: Path, columns: Sequence[str], resume: bool = False):
        self.path, self.columns = Path(path), list(columns)
        if resume and self.path.exists():
            found = _header(self.path)
            if found != self.columns:
                raise UsageError(f"{self.path}: expected the columns {','.join(self.columns)} (got {','.join(found)})")
        else:
            write_text(self.path, _csv_text(self.columns, []))

    def append(self, row: Mapping[str, Any]) -> None:
        self.extend([row])

    def extend(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Append `rows` in one write, synced to disk before it returns."""
        data = memoryview(_csv_text(self.columns, rows).split("\n", 1)[1].encode("utf-8"))  # without the header
        if not data:
            return
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        try:
            while data:
                data = data[os.write(fd, data):]
            os.fsync(fd)
        finally:
            os.close(fd)


def _header(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8") as handle:
        return next(csv.reader(handle), [])


def remove_temporaries(directory: Path) -> list[Path]:
    """Delete the temporary files a killed process left in `directory`; return them."""
    found = sorted(Path(directory).glob(".*.tmp"))
    for path in found:
        path.unlink(missing_ok=True)
    return found


def read_log(path: Path, table: Any) -> tuple[list[dict[str, Any]], bool]:
    """The records of a per-unit log (`read_records`) without a partial last line that a crash
    left, and whether there was one."""
    text = Path(path).read_bytes().decode("utf-8")
    whole = text[: text.rfind("\n") + 1]
    return read_records(path, table, whole), whole != text


def read_records(path: Path, table: Any, text: str | None = None) -> list[dict[str, Any]]:
    """The rows of a CSV written from records of `table` (a record class, relukan_bench.records,
    or a mapping of column -> str, int, float or bool), converted back; from `text` when given
    (else the file). Raises ValueError naming the file, row and column of a bad cell."""
    try:
        if text is None:
            text = Path(path).read_bytes().decode("utf-8")
        return _records(path, table, text)
    except csv.Error as exc:  # a field beyond csv's limit, a NUL byte: not a table we wrote
        raise ValueError(f"{path}: not a readable CSV table ({exc})") from None


def _records(path: Path, table: Any, text: str) -> list[dict[str, Any]]:
    from relukan_bench.records import types_of

    types = types_of(table)
    with io.StringIO(text, newline="") as handle:
        reader = csv.DictReader(handle)
        if list(reader.fieldnames or []) != list(types):
            raise ValueError(f"{path}: expected the columns {','.join(types)} (got {','.join(reader.fieldnames or [])})")
        records = []
        for number, row in enumerate(reader, start=2):
            if None in row:
                raise ValueError(f"{path}: line {number}: more cells than columns")
            record = {}
            for column, kind in types.items():
                text = row[column]
                try:
                    record[column] = _parse(text, kind)
                except (TypeError, ValueError):
                    raise ValueError(f"{path}: line {number}, column {column}: expected {kind.__name__} (got {text!r})") from None
            records.append(record)
        return records


def _parse(text: str | None, kind: type) -> Any:
    if text is None:  # a short row
        raise ValueError("missing cell")
    if kind is float:
        return math.nan if text == "" else float(text)
    if text == "":
        return None
    if kind is bool:
        if text not in ("True", "False"):
            raise ValueError(text)
        return text == "True"
    return kind(text)


def read_mapping(path: Path) -> dict[str, Any] | None:
    """The mapping in a run's `env.json` (JSON) or `config.yaml` (YAML, by the configs' own
    reader), or None when the file is missing, cannot be read, is not JSON or YAML, is nested
    beyond reason, or holds no mapping: what cannot be read counts as absent."""
    from relukan_bench.yamlio import YamlError, loads, read_text

    try:
        text = read_text(path)  # bounded: env.json and config.yaml are a page or two
        data = json.loads(text) if Path(path).suffix == ".json" else loads(text)
    except (OSError, ValueError, RecursionError, YamlError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return None
    return data if isinstance(data, dict) else None


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))
