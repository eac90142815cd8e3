"""Run directories and the files in them. Writers compute nothing.

Every file is written to a temporary file in the same directory and renamed into place, so a
reader, a crash or a SIGKILL never leaves half a file. Per-unit logs (`CsvLog`) grow by whole
units, appended in one write and synced (linear in the size of the run, not quadratic); a
write that a crash cut short can only leave a partial last line, which `read_log` leaves out
and a resumed run cuts off.

Tables declare their columns with a type (`{"seed": int, "mse": float, ...}`), so that a log
read back (`read_records`) gives the same values that were written: floats are written with
`repr` and round-trip bit for bit; an empty cell is None, or NaN in a float column. A cell is
converted by its column's declared type, never by how it looks (`parse`): a name `nan` stays
text, and `1_0` or `٣` in an int column is refused.

Only regular files are read, and only so far (relukan_bench.safe_files). An output a user
names (`write_output`) never replaces anything but a regular file that is none of the
command's inputs.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import os
import re
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterable, Iterator, Mapping, Sequence, Union

from relukan_bench.errors import UsageError, clip
from relukan_bench.records import Record, Row, cells, types_of
from relukan_bench.safe_files import MAX_TABLE_BYTES, check_output, read_text


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


def write_output(path: Path, text: str, inputs: Iterable[Path] = (), replace: bool = True, what: str = "") -> None:
    """Write `text` to an output a user named (`compare --out`, `config copy`'s DEST) atomically,
    once `relukan_bench.safe_files.check_output` allows it. UsageError naming it otherwise."""
    check_output(path, inputs, replace, what)
    try:
        write_text(Path(path), text)
    except OSError as exc:
        raise UsageError(f"{what} {clip(str(path), 240)}: cannot write the file ({exc.strerror or exc})".strip()) from None


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


def write_json(path: Path, data: object) -> None:
    write_text(path, json.dumps(data, indent=2, default=str) + "\n")


def csv_text(columns: Sequence[str], records: Iterable[Row]) -> str:
    """A table as the writers write it: a header, then a line per record or row (floats by
    `repr`), each line ending in "\n". A cell that holds a carriage return is quoted as one that
    holds a line break is (csv quotes only what its line terminator holds), so any text reads
    back as written."""
    rows = [cells(row) for row in records]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: _cell(row.get(key)) for key in columns})
    text = buffer.getvalue()
    return text if "\r" not in text else _quoting_returns(columns, rows)


def _quoting_returns(columns: Sequence[str], rows: Sequence[Mapping[str, object]]) -> str:
    """`csv_text` of rows that hold a carriage return: each line written with the terminator
    "\r\n" (so that csv quotes a cell holding "\r"), which then ends in "\n" alone."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore", lineterminator="\r\n")
    lines = []
    cells = ({key: _cell(row.get(key)) for key in columns} for row in rows)
    steps: list[tuple[Callable[..., object], tuple[dict[str, object], ...]]] = [
        (writer.writeheader, ()), *((writer.writerow, (row,)) for row in cells)]
    for write, row in steps:
        buffer.seek(0)
        buffer.truncate()
        write(*row)
        lines.append(buffer.getvalue()[:-2] + "\n")
    return "".join(lines)


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if value != value else repr(float(value))  # NaN -> empty; full precision (numpy floats too)
    return value


def write_csv(path: Path, columns: Sequence[str], rows: Iterable[Row]) -> None:
    """A whole table, atomically."""
    write_text(path, csv_text(columns, rows))


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
            write_text(self.path, csv_text(self.columns, []))

    def append(self, row: Row) -> None:
        self.extend([row])

    def extend(self, rows: Iterable[Row]) -> None:
        """Append `rows` in one write, synced to disk before it returns."""
        data = memoryview(csv_text(self.columns, rows).split("\n", 1)[1].encode("utf-8"))  # without the header
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
    with io.StringIO(read_table_text(path), newline="") as handle:
        return next(csv.reader(handle), [])


def remove_temporaries(directory: Path) -> list[Path]:
    """Delete the temporary files a killed process left in `directory`; return them."""
    found = sorted(Path(directory).glob(".*.tmp"))
    for path in found:
        path.unlink(missing_ok=True)
    return found


def read_table_text(path: Path) -> str:
    """The text of a table of a run: a regular file only, bounded, UTF-8
    (relukan_bench.safe_files). OSError or UnicodeDecodeError when it cannot be read."""
    return read_text(path, MAX_TABLE_BYTES)


def read_log(path: Path, table: type[Record] | Mapping[str, type], text: str | None = None
             ) -> tuple[list[dict[str, Any]], bool]:
    """The records of a per-unit log (`read_records`) without a partial last line that a crash
    left, and whether there was one; from `text` when given (else the file)."""
    text = read_table_text(path) if text is None else text
    whole = text[: text.rfind("\n") + 1]
    return read_records(path, table, whole), whole != text


def read_records(path: Path, table: type[Record] | Mapping[str, type], text: str | None = None
                 ) -> list[dict[str, Any]]:
    """The rows of a CSV written from records of `table` (a record class, relukan_bench.records,
    or a mapping of column -> str, int, float or bool), each cell converted by its column's
    declared type (`parse`), never by how it looks; from `text` when given (else the file).
    Raises ValueError naming the file, row and column of a bad cell."""
    try:
        if text is None:
            text = read_table_text(path)
        return _records(path, table, text)
    except csv.Error as exc:  # a field beyond csv's limit, a NUL byte: not a table we wrote
        raise ValueError(f"{path}: not a readable CSV table ({exc})") from None


def _records(path: Path, table: type[Record] | Mapping[str, type], text: str) -> list[dict[str, Any]]:
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
                    record[column] = parse(text, kind)
                except (TypeError, ValueError):
                    raise ValueError(f"{path}: line {number}, column {column}: "
                                     f"expected {kind.__name__} (got {clip(text, 40) if text else text!r})") from None
            records.append(record)
        return records


#: What `repr` writes for an int (and str for a numpy integer): ASCII digits, a leading minus.
_INT = re.compile(r"-?[0-9]+")
#: What `repr` writes for a float (`0.1`, `1e-05`, `-1.5e+16`, `inf`, `nan`); an integer too.
_FLOAT = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:e[-+]?[0-9]+)?|-?inf|nan", re.IGNORECASE)


def parse_int(text: str) -> int:
    """An integer as the writers write one; ValueError for anything else (`1_0`, `٣`, ` 3`, `+3`)."""
    if not _INT.fullmatch(text):
        raise ValueError(f"expected an integer in ASCII digits (got {text[:40]!r})")
    return int(text)


def parse_float(text: str) -> float:
    """A float as the writers write one (`repr`, `nan` and `inf` included), or an integer;
    ValueError for anything else (`1_0`, `٣`, ` 1.0`, `infinity`, and a finite-looking number
    too large for a float)."""
    if not _FLOAT.fullmatch(text):
        raise ValueError(f"expected a number (got {text[:40]!r})")
    value = float(text)
    if math.isinf(value) and "inf" not in text.lower():
        raise ValueError(f"a number beyond the range of a float (got {text[:40]!r})")
    return value


def parse(text: str | None, kind: type) -> str | int | float | bool | None:
    """A CSV cell of a column of declared type `kind` (str, int, float or bool): an empty cell
    is NaN in a float column, else None. ValueError when the cell is not of that type."""
    if text is None:  # a short row
        raise ValueError("missing cell")
    if kind is float:
        return math.nan if text == "" else parse_float(text)
    if text == "":
        return None
    if kind is bool:
        if text not in ("True", "False"):
            raise ValueError(text)
        return text == "True"
    if kind is int:
        return parse_int(text)
    if kind is str:
        return text
    raise TypeError(f"a column is str, int, float or bool (got {kind})")


class Unreadable(ValueError):
    """A run's env.json or config.yaml that cannot be read; the message says why, briefly."""


def read_mapping(path: Path) -> dict[str, Any] | None:
    """The mapping in a run's `env.json` (JSON) or `config.yaml` (YAML, by the configs' own
    reader), or None when it cannot be read (`mapping_of`): what cannot be read counts as absent."""
    try:
        return mapping_of(path)
    except Unreadable:
        return None


def mapping_of(path: Path) -> dict[str, Any]:
    """The mapping in a run's `env.json` or `config.yaml`. Unreadable when the file is missing,
    is not a regular file, cannot be read, is not JSON or YAML, is nested beyond reason, holds
    no mapping, or (env.json) has a field of another type than a run writes there (`ENV_JSON`)."""
    from relukan_bench.yamlio import YamlError, loads  # PyYAML: off the CLI's import path
    from relukan_bench.yamlio import read_text as read_yaml_text

    try:
        text = read_yaml_text(path)  # bounded, a regular file only: env.json and config.yaml are a page or two
        data = json.loads(text) if Path(path).suffix == ".json" else loads(text)
    except FileNotFoundError:
        raise Unreadable("missing") from None
    except UnicodeDecodeError:
        raise Unreadable("not UTF-8") from None
    except OSError as exc:
        raise Unreadable(exc.strerror or str(exc)) from None
    except (ValueError, RecursionError, YamlError):  # JSONDecodeError is a ValueError
        raise Unreadable("not JSON" if Path(path).suffix == ".json" else "not YAML") from None
    if not isinstance(data, dict):
        raise Unreadable("not a mapping")
    if Path(path).name == "env.json":
        wrong = next((key for key, declared in ENV_JSON.items() if key in data and not conforms(data[key], declared)), None)
        if wrong is not None:
            raise Unreadable(f"its field {wrong} is not {describe(ENV_JSON[wrong])}")
    return data


#: A JSON type as `ENV_JSON` declares one (see there).
JsonType = Union[type, None, tuple["JsonType", ...], list["JsonType"], dict[str, "JsonType"]]

_GIT: JsonType = ({"commit": str, "dirty": (bool, None), "declared": bool}, None)
_EXECUTION: JsonType = {"executor": str, "workers": int, "address": str, "warning": str}
#: The fields a run writes into env.json (relukan_bench.env.environment, the runner and the
#: session) and their JSON types: a type, None (null), a tuple of alternatives, [X] (a list
#: of X), {field: X} (an object; fields not named here are not checked). A field of another
#: type makes the file unreadable: nothing downstream is handed a number for a list.
ENV_JSON: dict[str, JsonType] = {
    "experiment": str, "config_sha256": str, "quick": bool, "tuned": bool, "peers": bool, "interrupted": bool,
    "relukan_bench": str, "python": str, "platform": str, "machine": str, "cpu": str, "cpu_count": (int, None),
    "threads": int, "interop_threads": int, "torch": str, "torch_cuda": (str, None), "pykan": (str, None),
    "numpy": (str, None), "gpu": (str, None), "gpus": [str], "devices": [str], "float32": str, "git": _GIT,
    "command": [str], "start_time": str, "end_time": (str, None), "execution": _EXECUTION,
    "resumed": [{"start_time": str, "units_done": int, "git": _GIT, "command": [str], "execution": _EXECUTION}],
}


def conforms(value: object, declared: JsonType) -> bool:
    """Whether the JSON `value` is of the `declared` type (as `ENV_JSON` writes them). A bool is
    not an int here, nor an int a float."""
    if isinstance(declared, tuple):
        return any(conforms(value, alternative) for alternative in declared)
    if declared is None:
        return value is None
    if isinstance(declared, list):
        return isinstance(value, list) and all(conforms(item, declared[0]) for item in value)
    if isinstance(declared, dict):
        return isinstance(value, dict) and all(conforms(value[key], kind) for key, kind in declared.items() if key in value)
    return type(value) is declared


def describe(declared: JsonType) -> str:
    """A declared JSON type in words: `text`, `a list of text`, `an object or null`."""
    if isinstance(declared, tuple):
        return " or ".join(describe(alternative) for alternative in declared)
    if isinstance(declared, list):
        return f"a list of {describe(declared[0]).removeprefix('an ').removeprefix('a ')}"
    words: dict[type | None, str] = {None: "null", str: "text", int: "an integer", bool: "true or false", float: "a number"}
    return "an object" if isinstance(declared, dict) else words[declared]


def read_csv(path: Path) -> list[dict[str, str]]:
    """The rows of a CSV file as text, read by `read_table_text`: what a reader converts by the
    types its columns declare."""
    with io.StringIO(read_table_text(path), newline="") as handle:
        return list(csv.DictReader(handle))
