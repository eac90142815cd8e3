"""How `compare` reads the forgetting experiment's summary.csv: learned MSE, final MSE and
forgetting per model. Declared by relukan_bench.experiments.forgetting (its package)."""

from __future__ import annotations

import math
from pathlib import Path
from types import MappingProxyType
from typing import Sequence

from relukan_bench.compare_sides import lines as _lines
from relukan_bench.compare_sides import name as _text
from relukan_bench.compare_sides import number as _float
from relukan_bench.experiments.protocol import CompareTable, Comparison
from relukan_bench.sides import Entry, Side

KEYS = ("model",)
METRICS = ("learned_mse", "final_mse", "forgetting")
#: forgetting can be zero or negative (a later phase helped an earlier segment); ratios are
#: taken of max(forgetting, 1e-4), about 0.06% of a wiped-out segment's MSE.
FLOOR = 1e-4


def forgetting_summary(side: Side, path: Path, rows: Sequence[dict[str, str]]) -> None:
    for metric in METRICS:
        side.metrics[metric] = {}
    for line, row in _lines(rows):
        key = (_text(path, line, row, "model"),)
        n = _float(path, line, row, "n_seeds", required=False) or 1
        diverged = bool(_float(path, line, row, "diverged", required=False))
        for metric in METRICS:
            value = _float(path, line, row, metric, required=False)
            ranged = n > 1 and f"{metric}_min" in row
            side.metrics[metric][key] = Entry(
                math.nan if value is None else value,
                low=_float(path, line, row, f"{metric}_min", required=False) if ranged else None,
                high=_float(path, line, row, f"{metric}_max", required=False) if ranged else None,
                failed=diverged or value is None or math.isinf(value),
            )


def note(metrics: Sequence[str], paper: bool) -> str:
    return (f"learned MSE, final MSE and forgetting, medians over seeds (lower is better), compared as ratios on a "
            f"log scale; forgetting below {FLOOR:g} counts as {FLOOR:g}")


#: what `compare` reads of forgetting (relukan_bench.experiments.protocol.Comparison)
COMPARISON = Comparison(
    keys=KEYS, metrics=METRICS, higher_is_better=MappingProxyType({metric: False for metric in METRICS}),
    floors=MappingProxyType({"forgetting": FLOOR}), note=note,
    tables=(CompareTable("summary.csv", frozenset({"model", "learned_mse", "final_mse", "forgetting", "n_seeds"}),
                         forgetting_summary),))
