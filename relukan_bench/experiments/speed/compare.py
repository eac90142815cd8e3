"""How `compare` reads the speed experiment's tables (raw.csv, summary.csv, table.csv) and
the paper's speed.csv: ms per step per (function, model, device), or speedups over the
baseline. Declared by relukan_bench.experiments.speed (its package)."""

from __future__ import annotations

import math
from pathlib import Path
from types import MappingProxyType
from typing import Callable, Sequence

from relukan_bench.compare_sides import lines as _lines
from relukan_bench.compare_sides import name as _text
from relukan_bench.compare_sides import number as _float
from relukan_bench.experiments.protocol import CompareTable, Comparison
from relukan_bench.experiments.speed.paper import paper_speedups
from relukan_bench.results import read_mapping
from relukan_bench.safe_files import present
from relukan_bench.sides import Entry, Side
from relukan_bench.stats import median

KEYS = ("function", "model", "device")


def speed_raw(side: Side, path: Path, rows: Sequence[dict[str, str]]) -> None:
    samples: dict[tuple[str, ...], list[float]] = {}
    for line, row in _lines(rows):
        key = tuple(_text(path, line, row, k) for k in KEYS)
        value = None if row.get("error") else _float(path, line, row, "ms_per_step", required=False)  # a failed unit
        samples.setdefault(key, []).append(math.nan if value is None else value)
    side.metrics["ms_per_step"] = {
        key: Entry(median([v for v in values if v == v]), samples=[v for v in values if v == v],
                   failed=any(v != v for v in values))
        for key, values in samples.items()
    }


def speed_summary(side: Side, path: Path, rows: Sequence[dict[str, str]]) -> None:
    side.metrics["ms_per_step"] = {}
    for line, row in _lines(rows):
        key = tuple(_text(path, line, row, k) for k in KEYS)
        value = _float(path, line, row, "ms_per_step", required=False)
        side.metrics["ms_per_step"][key] = Entry(math.nan if value is None else value, failed=value is None)
    speedups(side, path, rows)


def speedups(side: Side, path: Path, rows: Sequence[dict[str, str]]) -> None:
    """Speedups over the baseline from a speed summary (the baseline's own row, 1.0, is left out)."""
    baseline = _baseline(side)
    found: dict[tuple[str, ...], Entry] = {}
    for line, row in _lines(rows):
        key = tuple(_text(path, line, row, k) for k in KEYS)
        value = _float(path, line, row, "speedup", required=False)
        if value is not None and key[1] != baseline:
            found[key] = Entry(value)
    side.metrics["speedup"] = found


def _baseline(side: Side) -> str:
    """The run's baseline model: its config.yaml says, else the default `kan`."""
    if side.config_path is None:
        return "kan"
    baseline = (read_mapping(side.config_path) or {}).get("baseline")
    return baseline if isinstance(baseline, str) and baseline else "kan"


def speed_table(side: Side, path: Path, rows: Sequence[dict[str, str]]) -> None:
    """The paper's layout (`table.csv`): `<model>_speedup_<cpu|gpu>` columns."""
    found: dict[tuple[str, ...], Entry] = {}
    columns = list(rows[0]) if rows else []
    models = [c[: -len("_speedup_cpu")] for c in columns if c.endswith("_speedup_cpu")]
    for line, row in _lines(rows):
        function = _text(path, line, row, "function")
        for model in models:
            for label, device in (("cpu", "cpu"), ("gpu", "cuda")):
                value = _float(path, line, row, f"{model}_speedup_{label}", required=False)
                if value is not None:
                    found[(function, model, device)] = Entry(value)
    side.metrics["speedup"] = found


def paper_speed(side: Side, path: Path, rows: Sequence[dict[str, str]]) -> None:
    found: dict[tuple[str, ...], Entry] = {}
    for line, row in _lines(rows):
        function = _text(path, line, row, "function")
        for label, device in (("cpu", "cpu"), ("gpu", "cuda")):
            kan = _float(path, line, row, f"kan_{label}_s")
            relukan = _float(path, line, row, f"relukan_{label}_s")
            assert kan is not None  # a required cell: an empty one raised
            found[(function, "relukan", device)] = Entry(kan / relukan if relukan else math.nan)
    side.metrics["speedup"] = found


def paper_keys(paper_rows: Sequence[dict[str, str]], config_path: Path) -> set[tuple[str, ...]]:
    """The paper's rows that ran the same function as the run whose config is `config_path`."""
    from relukan_bench.config import load_config
    from relukan_bench.experiments.speed.config import SpeedConfig

    config = load_config(config_path, [], SpeedConfig)
    return {(f, "relukan", "cuda" if d == "gpu" else d) for f, d in paper_speedups(paper_rows, config)}


METRICS = ("ms_per_step", "speedup")


def candidates(paper: bool) -> tuple[str, ...]:
    """Against the paper, speedups alone (its seconds were another machine's)."""
    return ("speedup",) if paper else METRICS


def note(metrics: Sequence[str], paper: bool) -> str:
    if list(metrics) == ["speedup"]:
        return ("speedup over the baseline (higher is better)"
                + ("; against the paper speedups are compared, never seconds" if paper else ""))
    return "ms per training step, median over repeats (lower is better)"


def raw_repeats(side: Side, directory: Path, load_csv: Callable[[Path, Path], Side]) -> None:
    """A run directory's raw repeats, for the significance test (read, or refused)."""
    if present(directory / "raw.csv"):
        side.metrics["ms_per_step"] = load_csv(directory / "raw.csv", directory).metrics["ms_per_step"]


#: what `compare` reads of speed (relukan_bench.experiments.protocol.Comparison)
COMPARISON = Comparison(
    keys=KEYS, metrics=METRICS, first_only=True, higher_is_better=MappingProxyType({"ms_per_step": False, "speedup": True}),
    tested=("ms_per_step",), candidates=candidates, note=note, paper_rows=paper_keys, extra=raw_repeats,
    tables=(CompareTable("raw.csv", frozenset({"function", "model", "device", "repeat", "ms_per_step"}), speed_raw),
            CompareTable("summary.csv", frozenset({"function", "model", "device", "median_s", "ms_per_step"}), speed_summary),
            CompareTable("speed.csv", frozenset({"function", "expression", "kan_cpu_s", "relukan_cpu_s"}), paper_speed,
                         paper=True),
            CompareTable("table.csv", frozenset({"function", "paper_speedup_cpu"}), speed_table)))
