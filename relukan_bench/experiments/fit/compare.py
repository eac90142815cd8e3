"""How `compare` reads the fit experiment's summary.csv and table.csv and the paper's
fit.csv: the median final test MSE per (function, model). Declared by
relukan_bench.experiments.fit."""

from __future__ import annotations

import math
from pathlib import Path
from types import MappingProxyType
from typing import Sequence

from relukan_bench.compare_sides import lines as _lines
from relukan_bench.compare_sides import name as _text
from relukan_bench.compare_sides import number as _float
from relukan_bench.experiments.fit.paper import paper_fits
from relukan_bench.experiments.protocol import CompareTable, Comparison
from relukan_bench.sides import Entry, Side

KEYS = ("function", "model")


def _required(path: Path, line: int, row: dict[str, str], column: str) -> float:
    """A cell that must hold a number (compare_sides.number raises on an empty one)."""
    value = _float(path, line, row, column)
    assert value is not None  # required: an empty cell raised
    return value


def fit_summary(side: Side, path: Path, rows: Sequence[dict[str, str]]) -> None:
    """A tuned model is compared by its selected candidate, under its own name (as the report
    reads it); its other candidates are not compared."""
    found: dict[tuple[str, ...], Entry] = {}
    for line, row in _lines(rows):
        if row.get("selected") == "False":  # a candidate not kept (older runs have no column)
            continue
        key = (_text(path, line, row, "function"),
               _text(path, line, row, "tuned_model" if row.get("tuned_model") else "model"))
        value = _float(path, line, row, "final_test_mse", required=False)
        diverged = _float(path, line, row, "diverged", required=False) if "diverged" in row else None
        n = _float(path, line, row, "n_seeds", required=False) or 1
        found[key] = Entry(
            math.nan if value is None else value,
            low=_float(path, line, row, "final_test_mse_min", required=False) if n > 1 else None,
            high=_float(path, line, row, "final_test_mse_max", required=False) if n > 1 else None,
            failed=bool(diverged) or value is None or math.isinf(value),
        )
    side.metrics["test_mse"] = found


def fit_table(side: Side, path: Path, rows: Sequence[dict[str, str]]) -> None:
    found: dict[tuple[str, ...], Entry] = {}
    columns = list(rows[0]) if rows else []
    models = [c[: -len("_test_mse")] for c in columns if c.endswith("_test_mse") and not c.startswith("paper_")]
    for line, row in _lines(rows):
        function = _text(path, line, row, "function")
        for model in models:
            value = _float(path, line, row, f"{model}_test_mse", required=False)
            if value is not None:
                found[(function, model)] = Entry(value, failed=math.isinf(value))
    side.metrics["test_mse"] = found


def paper_fit(side: Side, path: Path, rows: Sequence[dict[str, str]]) -> None:
    found: dict[tuple[str, ...], Entry] = {}
    for line, row in _lines(rows):
        function = _text(path, line, row, "function")
        found[(function, "kan")] = Entry(_required(path, line, row, "kan_test_final_mse"))
        found[(function, "relukan")] = Entry(_required(path, line, row, "relukan_test_final_mse"))
    side.metrics["test_mse"] = found


def paper_keys(paper_rows: Sequence[dict[str, str]], config_path: Path) -> set[tuple[str, ...]]:
    """The paper's rows whose model ran the same function as the run whose config is `config_path`."""
    # lazy: both import pydantic, kept out of the CLI's start
    from relukan_bench.config import load_config
    from relukan_bench.experiments.fit.config import FitConfig

    config = load_config(config_path, [], FitConfig)
    keys: set[tuple[str, ...]] = set()
    for function, fit in paper_fits(paper_rows, config).items():
        if fit.kan_test_mse is not None:
            keys.add((function, "kan"))
        if fit.relukan_test_mse is not None:
            keys.add((function, "relukan"))
    return keys


def note(metrics: Sequence[str], paper: bool) -> str:
    return "final test MSE, median over seeds (lower is better), compared as ratios on a log scale"


#: what `compare` reads of fit (relukan_bench.experiments.protocol.Comparison)
COMPARISON = Comparison(
    keys=KEYS, metrics=("test_mse",), higher_is_better=MappingProxyType({"test_mse": False}), note=note,
    paper_rows=paper_keys,
    tables=(CompareTable("summary.csv", frozenset({"function", "model", "final_test_mse", "n_seeds"}), fit_summary),
            CompareTable("fit.csv", frozenset({"function", "kan_test_final_mse", "relukan_test_final_mse"}), paper_fit,
                         paper=True),
            CompareTable("table.csv", frozenset({"function", "paper_gain"}), fit_table)))
