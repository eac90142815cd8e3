"""The two sides `compare` reads, each as the numbers of one experiment (relukan_bench.sides).

A side is a results directory (one experiment's run, a `reproduce` run, or the paper's numbers
in `results/paper/`) or one CSV of any experiment (`summary.csv`, `raw.csv`, `table.csv`, the
paper's `speed.csv` / `fit.csv`); `paper` names the paper's numbers the package ships. Each
experiment's tables are read by the readers it declares (its `compare.py`), with the cell
readers here (`number`, `name`, `lines`). `relukan_bench.compare` compares two sides.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Iterable, Sequence

from relukan_bench.errors import UsageError, clip
from relukan_bench.experiments.protocol import CompareTable, Comparison, Experiment, experiments
from relukan_bench.resources import paper_dir
from relukan_bench.results import parse_float, read_mapping, read_table_text
from relukan_bench.safe_files import present
from relukan_bench.sides import Side


def _read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    try:
        text = read_table_text(path)  # a regular file only, bounded
        with io.StringIO(text, newline="") as handle:
            reader = csv.DictReader(handle)
            rows = list(reader)
            columns = list(reader.fieldnames or [])
    except UnicodeDecodeError as exc:
        raise UsageError(f"{clip(str(path), 240)}: cannot read it as CSV (not UTF-8: byte {exc.start})") from None
    except OSError as exc:
        raise UsageError(f"{clip(str(path), 240)}: cannot read it as CSV ({exc.strerror or exc})") from None
    except csv.Error as exc:
        raise UsageError(f"{clip(str(path), 240)}: cannot read it as CSV ({exc})") from None
    if not columns:
        raise UsageError(f"{path}: empty file, expected a CSV table with a header row")
    for number, row in enumerate(rows, start=2):
        if None in row or any(value is None for value in row.values()):
            raise UsageError(f"{path}: line {number}: expected {len(columns)} cells as in the header")
    return columns, rows


def number(path: Path, line: int, row: dict[str, str], column: str, required: bool = True) -> float | None:
    """A cell as a number, read as the writers write one (relukan_bench.results.parse_float:
    `1_0`, `٣` or `1e999` are not numbers); None for an empty cell that is not `required`."""
    text = (row.get(column) or "").strip(" \t")
    if text == "":
        if required:
            raise UsageError(f"{path}: line {line}, column {column}: expected a number (got an empty cell)")
        return None
    try:
        return parse_float(text)
    except ValueError:
        raise UsageError(f"{path}: line {line}, column {column}: expected a number (got {clip(text, 40)!r})") from None


def name(path: Path, line: int, row: dict[str, str], column: str) -> str:
    text = (row.get(column) or "").strip()
    if not text:
        raise UsageError(f"{path}: line {line}, column {column}: expected a name (got an empty cell)")
    return text


def registered_experiments() -> dict[str, Experiment]:
    return experiments()


def comparisons() -> dict[str, Comparison]:
    """What `compare` reads of each experiment that declares it, by the experiment's name."""
    return {name: exp.comparison for name, exp in experiments().items() if exp.comparison is not None}


def _table(columns: Sequence[str]) -> tuple[Experiment, CompareTable] | None:
    """(experiment, table declaration) of the first declared table whose columns the header holds."""
    have = set(columns)
    for name, spec in comparisons().items():
        for table in spec.tables:
            if table.columns <= have:
                return experiments()[name], table
    return None


def _known() -> str:
    return ", ".join(f"{name} {'/'.join(t.file for t in spec.tables)}" for name, spec in comparisons().items()
                     if spec.tables)


#: The name that stands for the paper's numbers shipped with the package (unless a file or
#: directory of that name exists where the command runs).
PAPER = "paper"


def load(path: Path) -> dict[str, Side]:
    """Every experiment `path` holds, by name (a reproduce run or the paper's directory holds
    several; `paper`: the shipped paper's numbers). UsageError when `path` is none of the
    known inputs."""
    path = Path(path)
    if path == Path(PAPER) and not path.exists():  # the paper's numbers the package ships
        path = paper_dir()
    if not present(path):
        raise UsageError(f"{clip(str(path), 240)}: no such file or directory (`{PAPER}` names the paper's numbers)")
    if not path.is_dir():  # a CSV; anything but a regular file is refused as it is read
        side = _load_csv(path, path.parent)
        return {side.experiment: side}
    found = {name: _load_run_dir(path / name) for name in registered_experiments() if present(path / name / "summary.csv")}
    if found:  # a reproduce run
        return found
    if present(path / "summary.csv"):
        side = _load_run_dir(path)
        return {side.experiment: side}
    papers = [path / t.file for spec in comparisons().values() for t in spec.tables
              if t.paper and present(path / t.file)]
    for paper in papers:  # the paper's numbers
        side = _load_csv(paper, path)
        found[side.experiment] = side
    if found:
        return found
    raise UsageError(f"{path}: not a results directory: expected summary.csv, a reproduce run's "
                     f"{', '.join(f'{name}/' for name in registered_experiments())} or the paper's numbers in it")


def _load_run_dir(directory: Path) -> Side:
    """A run directory: its summary, with what the experiment adds from its other tables."""
    summary = _load_csv(directory / "summary.csv", directory)

    def load_csv(path: Path, directory: Path) -> Side:  # what the experiment reads besides is an input too
        side = _load_csv(path, directory)
        summary.files.extend(side.files)
        return side

    extra = comparisons()[summary.experiment].extra
    if extra is not None:
        extra(summary, directory, load_csv)
    return summary


def _load_csv(path: Path, directory: Path) -> Side:
    columns, rows = _read(path)
    found = _table(columns)
    if found is None:
        shown = ", ".join(columns[:8]) + (", ..." if len(columns) > 8 else "")
        raise UsageError(f"{path}: not a relukan-bench table: expected a results directory or one of {_known()} "
                         f"(got columns {shown})")
    exp, table = found
    if table.paper:
        side = Side(path, exp.name, "paper", {}, paper_rows=rows, files=[path])
        table.read(side, path, rows)
        return side
    env_path, config_path = directory / "env.json", directory / "config.yaml"
    env = read_mapping(env_path)  # what cannot be read (a FIFO, not JSON, a field of another type) counts as absent
    side = Side(path, exp.name, "run", {}, env=env, config_path=config_path if config_path.is_file() else None,
                files=[path, env_path, config_path])
    table.read(side, path, rows)
    if not any(side.metrics.values()):
        raise UsageError(f"{path}: no rows to compare")
    return side


def lines(rows: Sequence[dict[str, str]]) -> Iterable[tuple[int, dict[str, str]]]:
    return enumerate(rows, start=2)  # line 1 is the header
