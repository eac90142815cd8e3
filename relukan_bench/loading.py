"""A run directory read back into pandas, for notebooks (docs/notebook.md).

    run = relukan_bench.load("results/reference-cpu")      # a reproduce directory
    run.fit.summary                                          # = run.experiments["fit"].tables["summary"]
    run.fit.config["seeds"], run.env["cpu"]

Every table the experiment declares (its record classes, `Experiment.tables` and
`summaries`, and the column templates of `Experiment.layouts`) is read by the one CSV reader
(`relukan_bench.results.read_log`) and given the pandas dtype of its declared type
(`relukan_bench.records.PANDAS_DTYPES`), whatever the values are: docs/outputs.md documents
both. Each cell is converted by its column's declared type, never by how it looks: a model
named `nan` stays text, and `1_0` in an int column is refused (relukan_bench.results.parse).
What is not there is left out: a bulk log dropped from a committed run, the summaries of a run
interrupted before its first unit, a column an older run did not write yet, a line a crash cut
short (as `--resume` does). What is there but cannot be read raises `UsageError`, one line
naming the file: a table that is a FIFO, a directory, a device or a broken symbolic link as
much as one that is not UTF-8 (only regular files are read: relukan_bench.safe_files), and an
env.json with a field of another type than a run writes (relukan_bench.results.ENV_JSON).

pandas is imported here only; `import relukan_bench` stays light.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from relukan_bench.errors import UsageError, clip
from relukan_bench.experiments.protocol import experiments
from relukan_bench.records import PANDAS_DTYPES, Record, types_of
from relukan_bench.results import Unreadable, mapping_of, read_log, read_table_text
from relukan_bench.safe_files import present

if TYPE_CHECKING:
    import pandas as pd

    from relukan_bench.experiments.protocol import Experiment

REPRODUCE = "reproduce"
#: what `{M}` in a column template stands for: a model's name (relukan_bench.schema.NAME_PATTERN)
MODEL = "[A-Za-z0-9][A-Za-z0-9_.-]*"


@dataclass(frozen=True, repr=False)
class Run:
    """One run directory read back. A table is also an attribute (`run.summary`), and so is an
    experiment of a reproduce run (`run.fit`)."""

    kind: str  # "speed", "fit", "forgetting" (any experiment's name) or "reproduce"
    path: Path
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # by file stem; {} for reproduce
    config: dict[str, Any] = field(default_factory=dict)  # config.yaml; {} for reproduce
    env: dict[str, Any] = field(default_factory=dict)  # env.json
    experiments: dict[str, Run] = field(default_factory=dict)  # reproduce: its experiments' runs by name

    def __getattr__(self, name: str) -> pd.DataFrame | Run:
        if name.startswith("_"):  # copy and pickle look for these before the fields exist
            raise AttributeError(name)
        found = {**self.experiments, **self.tables}
        if name in found:
            return found[name]
        raise AttributeError(f"{self.kind} run {self.path} has no table or experiment {name!r} "
                             f"(it has: {', '.join(found) or 'none'})")

    def __dir__(self) -> list[str]:
        return [*super().__dir__(), *self.experiments, *self.tables]

    def __repr__(self) -> str:
        parts = [f"{name} ({len(frame)} rows)" for name, frame in self.tables.items()]
        parts += [repr(run) for run in self.experiments.values()]
        return f"Run({self.kind} {self.path}: {', '.join(parts) or 'no tables'})"


def load(run_dir: str | Path) -> Run:
    """The run in `run_dir`: a speed, fit or forgetting run directory, or a reproduce directory
    holding one of each. UsageError when it is none, or when a file of it cannot be read."""
    path = Path(run_dir)
    if not path.is_dir():
        raise UsageError(f"{path}: expected a run directory ({'a file' if path.exists() else 'no such directory'})")
    names = list(experiments())
    if not present(path / "config.yaml") and any((path / name).is_dir() for name in names):
        return _reproduce(path, names)
    if not present(path / "config.yaml"):
        raise UsageError(f"{path}: not a run directory: expected config.yaml and env.json (a {', '.join(names)} run) "
                         f"or a reproduce run's {', '.join(f'{name}/' for name in names)}")
    return _experiment_run(path, None)


def _reproduce(path: Path, names: list[str]) -> Run:
    env = _mapping(path / "env.json", "the run's environment as a JSON object")
    if env.get("experiment", REPRODUCE) != REPRODUCE:
        raise UsageError(f"{path / 'env.json'}: expected a reproduce run's environment "
                         f"(got experiment {clip(str(env['experiment']), 40)!r})")
    runs = {name: _experiment_run(path / name, name) for name in names if (path / name).is_dir()}
    return Run(REPRODUCE, path, env=env, experiments=runs)


def _experiment_run(path: Path, expected: str | None) -> Run:
    """A speed, fit or forgetting run directory (`expected`: the experiment it must be)."""
    config = _mapping(path / "config.yaml", "the run's config as a YAML mapping")
    env = _mapping(path / "env.json", "the run's environment as a JSON object")
    known = experiments()
    kind = env.get("experiment", config.get("experiment"))
    if not isinstance(kind, str) or kind not in known or (expected is not None and kind != expected):
        wanted = expected or f"one of {', '.join(known)}"
        raise UsageError(f"{path / 'env.json'}: expected the experiment {wanted} (got {clip(repr(kind), 40)})")
    tables = {}
    for stem, declared in declared_tables(known[kind]).items():
        if present(path / f"{stem}.csv"):  # there in any form: read, or refused
            tables[stem] = read_table(path / f"{stem}.csv", declared, kind)
    return Run(kind, path, tables=tables, config=config, env=env)


def declared_tables(exp: Experiment) -> dict[str, type[Record] | Mapping[str, type]]:
    """An experiment's tables by file stem: a record class, or a layout of column templates."""
    return {**exp.tables, **exp.summaries, **exp.layouts}


def _mapping(path: Path, what: str) -> dict[str, Any]:
    try:
        return mapping_of(path)  # bounded, a regular file only, by the configs' own YAML reader
    except Unreadable as exc:
        raise UsageError(f"{path}: expected {what} ({exc})") from None


def column_types(declared: type[Record] | Mapping[str, type], columns: list[str]) -> dict[str, type]:
    """The declared type of each of `columns` (a table's header, in its order): by name, else by
    the first template that matches (`{M}`: a model's name). ValueError for a column that is
    neither, or is given twice. A column an older run did not write is simply not in `columns`."""
    types = types_of(declared)
    templates = {} if isinstance(declared, type) and issubclass(declared, Record) else {
        re.compile(re.escape(name).replace(re.escape("{M}"), MODEL)): kind for name, kind in types.items() if "{M}" in name}
    found: dict[str, type] = {}
    for column in columns:
        if column in found:
            raise ValueError(f"the column {clip(column, 40)!r} is given twice")
        kind = types.get(column) if "{M}" not in column else None
        kind = kind or next((k for pattern, k in templates.items() if pattern.fullmatch(column)), None)
        if kind is None:
            raise ValueError(f"{clip(column, 40)!r} is not one of its columns (docs/outputs.md)")
        found[column] = kind
    return found


def read_table(path: Path, declared: type[Record] | Mapping[str, type], kind: str = "") -> pd.DataFrame:
    """One CSV of a run as a DataFrame with the dtypes of its declared column types."""
    types, records = read_rows(path, declared, kind)
    return _frame(path, types, records)


def read_rows(path: Path, declared: type[Record] | Mapping[str, type], kind: str = ""
              ) -> tuple[dict[str, type], list[dict[str, Any]]]:
    """One CSV of a run: the declared type of each of its columns, and its rows, each cell
    converted by its column's type (a line a crash cut short is left out). UsageError, one
    line naming the file, when it cannot be read or a cell is not of its column's type."""
    what = f"a {kind} {path.name}".replace("  ", " ")
    try:
        text = read_table_text(path)  # a regular file only, bounded
        header = next(csv.reader(io.StringIO(text, newline="")), None)
        if not header:
            raise ValueError("empty file, expected a header row")
        types = column_types(declared, header)
        records, _ = read_log(path, types, text)
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: expected {what} in UTF-8 (byte {exc.start} is not)") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read {what} ({exc.strerror or exc})") from None
    except (ValueError, csv.Error) as exc:
        message = str(exc).removeprefix(f"{path}: ")
        raise UsageError(clip(f"{path}: expected {what}: {message}", 300)) from None
    return types, records


def _frame(path: Path, types: dict[str, type], records: list[dict[str, Any]]) -> pd.DataFrame:
    import pandas as pd

    columns = {}
    for column, kind in types.items():
        try:
            columns[column] = pd.array([record[column] for record in records], dtype=PANDAS_DTYPES[kind])
        except (OverflowError, TypeError, ValueError) as exc:  # an integer beyond 64 bits
            raise UsageError(clip(f"{path}: column {column}: expected {PANDAS_DTYPES[kind]} values ({exc})", 300)) from None
    return pd.DataFrame(columns, index=pd.RangeIndex(len(records)))
