"""The forgetting experiment's numbers: a run's scores from its phase x segment matrix, and
the statistics over seeds (the summary per model, the representative seed, the median matrix
and curves, the growth heatmap.png draws)."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Sequence, TypedDict

from relukan_bench.experiments.forgetting.records import CurveRecord, MatrixRecord, RunRecord, SummaryRecord
from relukan_bench.experiments.seed_groups import over_seeds
from relukan_bench.experiments.seed_groups import representative_seed as median_seed
from relukan_bench.experiments.seed_groups import unbounded as _value
from relukan_bench.stats import median


@dataclass(frozen=True)
class Scores:
    learned_mse: float
    final_mse: float
    forgetting: float
    max_forgetting: float
    forgotten_fraction: float


def scores(matrix: Sequence[Sequence[float]]) -> Scores:
    """The run's numbers from its (S + 1) x S matrix: `matrix[0][j]` the MSE on segment j + 1
    before training, `matrix[i][j]` after phase i. See the package's docstring (experiments/forgetting)."""
    size = len(matrix) - 1
    if size < 2 or any(len(row) != size for row in matrix):
        raise ValueError(f"expected S + 1 rows of S values, S >= 2 (got {len(matrix)} rows of {[len(r) for r in matrix]})")
    last = matrix[-1]
    learned = [matrix[j + 1][j] for j in range(size)]  # right after its own phase
    increases = [last[j] - learned[j] for j in range(size - 1)]
    gains = [matrix[j][j] - learned[j] for j in range(size - 1)]  # what phase j + 1 did for segment j + 1
    return Scores(
        learned_mse=sum(learned) / size,
        final_mse=sum(last) / size,
        forgetting=sum(increases) / len(increases),
        max_forgetting=max(increases),
        forgotten_fraction=sum(increases) / sum(gains) if sum(gains) > 0 else math.nan,
    )


def summarize(runs: Sequence[RunRecord]) -> list[SummaryRecord]:
    """One record per model, medians across seeds. A diverged run counts as infinite; runs that
    raised count in `failed` (with the diverged ones) and are left out of the numbers."""
    summary = []
    for model, group in over_seeds(runs, lambda run: run.model).items():
        rows = group.rows
        finals = [_value(r, "final_mse") for r in rows]
        forgetting = [_value(r, "forgetting") for r in rows]
        fractions = [_value(r, "forgotten_fraction") for r in rows if r.diverged or r.forgotten_fraction == r.forgotten_fraction]
        summary.append(SummaryRecord(
            model=model,
            kind=group.first.kind,
            n_seeds=len(rows),
            failed=group.failed,
            diverged=sum(bool(r.diverged) for r in rows),
            params=rows[0].params if rows else None,
            learned_mse=median([_value(r, "learned_mse") for r in rows]),
            final_mse=median(finals),
            final_mse_min=min(finals, default=math.nan),
            final_mse_max=max(finals, default=math.nan),
            forgetting=median(forgetting),
            forgetting_min=min(forgetting, default=math.nan),
            forgetting_max=max(forgetting, default=math.nan),
            max_forgetting=median([_value(r, "max_forgetting") for r in rows]),
            forgotten_fraction=median(fractions),
            forgotten_fraction_min=min(fractions, default=math.nan),
            forgotten_fraction_max=max(fractions, default=math.nan),
            seconds=median([r.seconds for r in rows]),
        ))
    return summary


def representative_seed(runs: Sequence[RunRecord], model: str) -> int | None:
    """The seed whose forgetting is the median of the model's runs (the lower of the two
    middle ones for an even count); None when every run diverged."""
    return median_seed(runs, "forgetting", model=model)


def median_matrix(matrix: Sequence[MatrixRecord], model: str) -> list[list[float]]:
    """The model's (S + 1) x S matrix (phase 0 first), each cell the median across seeds (NaN
    where no seed reached that phase)."""
    cells: dict[tuple[int, int], list[float]] = defaultdict(list)
    size = 0
    for row in matrix:
        if row.model == model:
            cells[(row.phase, row.segment)].append(row.mse)
            size = max(size, row.segment)
    return [[median(cells.get((i, j), [])) for j in range(1, size + 1)] for i in range(0, size + 1)]


def curve_medians(curves: Sequence[CurveRecord], model: str) -> dict[int, tuple[list[int], list[float]]]:
    """Per segment: the logged steps and the median across seeds of its MSE at each."""
    cells: dict[int, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for row in curves:
        if row.model == model:
            cells[row.segment][row.step].append(row.mse)
    return {
        segment: (sorted(by_step), [median(by_step[s]) for s in sorted(by_step)])
        for segment, by_step in sorted(cells.items())
    }


class Growth(TypedDict):
    """What `growth` finds: `log10` (rows phases 1..S, columns segments), `own` (per segment)."""

    log10: list[list[float | None]]
    own: list[float]


def growth(matrix: Sequence[Sequence[float]]) -> Growth:
    """What heatmap.png draws of a `median_matrix`: for phases 1..S (rows) and segments
    (columns), log10(MSE after the phase / MSE right after the segment's own phase), None
    before that phase (the segment not trained yet); `own`: the MSE right after each
    segment's own phase. NaN where a value is missing or not positive."""
    def log_ratio(value: float, own: float) -> float:
        return math.log10(value / own) if 0 < value < math.inf and 0 < own < math.inf else math.nan

    own = [matrix[s + 1][s] for s in range(len(matrix) - 1)]
    rows = [[log_ratio(matrix[p][s], own[s]) if s < p else None for s in range(len(own))] for p in range(1, len(matrix))]
    return Growth(log10=rows, own=own)

