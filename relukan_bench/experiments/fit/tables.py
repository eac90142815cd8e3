"""The fit experiment's terminal tables: the final test MSE of every model and function beside
the paper's ratios, and the time to a validation MSE."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Sequence

from relukan_bench import fmt
from relukan_bench.experiments.fit.records import SummaryRecord
from relukan_bench.render import finite
from relukan_bench.tables import Cell, Column, Table

if TYPE_CHECKING:
    from relukan_bench.experiments.fit.config import FitConfig  # pydantic: not imported for --help


def fit_table(summary: Sequence[SummaryRecord], table: Sequence[dict[str, Any]], config: FitConfig) -> Table:
    """A row per model, a column per function (split into parts of consecutive functions where
    the width needs it): each cell the model's median final test MSE over seeds, its range
    below, then its gain over the baseline; two last rows with the paper's KAN/ReLU-KAN ratio,
    in MSE and as plotted."""
    models = [m.name for m in config.models if any(r.model == m.name for r in summary)]
    baseline = config.baseline if config.baseline in models else None
    out = Table(
        f"Final test MSE after {config.train.steps} steps: median over seeds, range below"
        + (f"; below that: gain over {baseline}" if baseline else ""),
        (f"gain = {baseline} MSE / model MSE (medians): how many times lower the model's error is; "
         "below 1 written 1/N x, N times higher. " if baseline else "")
        + "Paper: its KAN/ReLU-KAN ratio in MSE on both sides, and as its figures plot it "
        "(KAN RMSE against ReLU-KAN MSE). *: the paper's two models ran different functions (table.csv says which).",
        [Column("model", "left")], [Column(row["function"]) for row in table],
    )
    by_key = {(r.function, r.model): r for r in summary}
    for index, model in enumerate(models):
        gains = [row.get(f"{model}_gain") if baseline and model != baseline else None for row in table]
        out.add_row([model, *(_mse_cell(by_key.get((row["function"], model)), gain) for row, gain in zip(table, gains))],
                    end_section=index == len(models) - 1)
    for label, key in (("paper gain", "paper_gain"), ("paper as plotted", "paper_gain_as_plotted")):
        out.add_row([Cell(label, style="dim"),
                     *(Cell(fmt.times(row.get(key)) + ("*" if row.get("paper_note") else "") if row.get(key) is not None
                            else "", style="dim") for row in table)])
    return out


def target_table(summary: Sequence[SummaryRecord], config: FitConfig, key: str = "e4") -> Table | None:
    """A row per model, a column per function: the time to the validation MSE 1e-N (the median
    steps below it), or "not reached" with the seeds that did; None for a summary without
    those columns (a run from before they existed)."""
    if not summary or getattr(summary[0], f"time_{key}") is None:
        return None
    functions = list(dict.fromkeys(r.function for r in summary))
    models = [m.name for m in config.models if any(r.model == m.name for r in summary)]
    sources = " and ".join(sorted({str(r.step_source) for r in summary if r.step_source}))
    out = Table(f"Time to validation MSE 1{key.replace('e', 'e-')}: median steps x median seconds per step",
                f"steps read off curves logged every {config.train.log_every}; step times from {sources}",
                [Column("model", "left")], [Column(f) for f in functions])
    by_key = {(r.function, r.model): r for r in summary}
    for model in models:
        out.add_row([model, *(_target_cell(by_key.get((f, model)), key) for f in functions)])
    return out


def _target_cell(row: SummaryRecord | None, key: str) -> Cell:
    """The time to the target `key` (the columns time_<key>, steps_<key>, reached_<key>)."""
    if row is None:
        return Cell()
    time, steps = getattr(row, f"time_{key}"), getattr(row, f"steps_{key}")
    if not finite(time) or not finite(steps):
        return Cell("not reached", f"{int(getattr(row, f'reached_{key}') or 0)}/{row.n_seeds} seeds", style="dim")
    return Cell(f"{time:.3g} s", f"{steps:.0f} steps")


def _mse_cell(row: SummaryRecord | None, gain: float | None) -> Cell:
    """The median final test MSE; below it the range over seeds (2 digits); below that the
    gain over the baseline (bold), then how many diverged or failed."""
    if row is None:
        return Cell()
    spread = ""
    if row.n_seeds > 1 and math.isfinite(row.final_test_mse_min):
        high = row.final_test_mse_max
        spread = f"{fmt.mse(row.final_test_mse_min, 1)}-{'inf' if math.isinf(high) else fmt.mse(high, 1)}"
    return Cell(fmt.mse(row.final_test_mse), spread, fmt.failures(row),
                lines=((fmt.times(gain), "bold"),) if fmt.times(gain) else ())
