"""The speed experiment's terminal tables: ms per training step (`speed_table`), the
forward-only latency (`inference_table`) and where the speedup comes from
(`decomposition_table`), each a `relukan_bench.tables.Table` of a row per device and
model and a column per function. They arrange records and compute nothing, save the
forward-only latency's spread and speedup (from the quartiles and medians in its rows)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Callable, Sequence

from relukan_bench import fmt
from relukan_bench.render import finite, times
from relukan_bench.tables import Cell, Column, Table

if TYPE_CHECKING:
    from relukan_bench.experiments.speed.records import DecompositionRecord, SummaryRecord

NOISY = 0.10  # torch.utils.benchmark's threshold for a noisy measurement


def _by_model(summary: Sequence[SummaryRecord], title: str, caption: str,
              cell: Callable[[SummaryRecord | None], Cell],
              last: Callable[[str, list[str]], list[Cell]] | None = None) -> Table:
    """A row per device and model that ran there, a column per function, `cell` of each
    summary row; `last(device, functions)`: an optional last row per device (its model label,
    then a cell per function)."""
    models = list(dict.fromkeys(row.model for row in summary))
    functions = list(dict.fromkeys(row.function for row in summary))
    table = Table(title, caption, [Column("device", "left"), Column("model", "left")],
                  [Column(function) for function in functions])
    by_key = {(r.function, r.device, r.model): r for r in summary}
    devices = list(dict.fromkeys(row.device for row in summary))
    for device in devices:
        here = [m for m in models if any((f, device, m) in by_key for f in functions)]
        for index, model in enumerate(here):
            table.add_row([device, model, *(cell(by_key.get((f, device, model))) for f in functions)],
                          end_section=last is None and index == len(here) - 1)
        if last is not None:
            table.add_row([device, *last(device, functions)], end_section=True)
    return table


def speed_table(
    summary: Sequence[SummaryRecord],
    baseline: str | None,
    paper: dict[tuple[str, str], float],
    steps: int,
) -> Table:
    """A row per device and model, a column per function (so that a run of many baselines
    stays readable; split into parts of consecutive functions where the width needs it): each
    cell the median ms per step with its interquartile range, and below it the speedup over
    the baseline, or "too slow" where the unit was not timed; a last row per device with the
    paper's ReLU-KAN/KAN speedup."""
    too_slow = any(row.too_slow for row in summary)

    def paper_row(device: str, functions: list[str]) -> list[Cell]:
        label = "gpu" if device == "cuda" else device
        return [Cell("paper speedup", style="dim"), *(Cell(times(paper.get((f, label))), style="dim") for f in functions)]

    return _by_model(
        summary,
        f"ms per training step over {steps} steps: median (IQR/median); below: speedup over {baseline or 'nothing'}",
        f"speedup = {baseline or 'baseline'} / model, medians; yellow: IQR > {NOISY:.0%}"
        + ("; too slow: not timed, one step estimated above timing.max_step_seconds (summary.csv's too_slow says "
           "by how much)" if too_slow else ""),
        lambda row: _speed_cell(row, row is not None and row.model == baseline),
        paper_row,
    )


def _speed_cell(row: SummaryRecord | None, is_baseline: bool) -> Cell:
    """'12.5 (6%)' (yellow when noisy), the speedup below it in bold, "too slow" (dim) where
    the unit was not timed, failures in red."""
    if row is None:
        return Cell()
    spread = row.iqr_rel
    noisy = spread == spread and spread > NOISY  # IQR above 10% of the median: say so
    if not row.n:
        plain = ""
    elif spread == spread:
        plain = f"{row.ms_per_step:.3g} ({100 * spread:.0f}%)"
    else:
        plain = f"{row.ms_per_step:.3g}"
    speedup = "" if is_baseline else times(row.speedup)
    return Cell(plain, note=fmt.failures(row), style="yellow" if noisy else "",
                lines=((speedup, "bold"), ("too slow" if row.too_slow else "", "dim")))


def inference_table(summary: Sequence[SummaryRecord], baseline: str | None) -> Table | None:
    """The forward-only latency (ms per call, no gradients), in the layout of `speed_table`:
    the median with its interquartile range, and below it the speedup over the baseline's
    (the ratio of the two medians); None when no row has one (runs from before it)."""
    if not any(finite(row.infer_ms) for row in summary):
        return None
    base = {(r.function, r.device): r.infer_ms for r in summary if r.model == baseline}

    def cell(row: SummaryRecord | None) -> Cell:
        if row is None:
            return Cell()
        median, low, high = row.infer_ms, row.infer_q1_ms, row.infer_q3_ms
        text, style, speedup = "", "", ""
        if finite(median):
            spread = (high - low) / median if median > 0 and finite(low) and finite(high) else math.nan
            text = f"{median:.3g}" + (f" ({100 * spread:.0f}%)" if spread == spread else "")
            style = "yellow" if spread == spread and spread > NOISY else ""
            reference = base.get((row.function, row.device))
            if row.model != baseline and finite(reference) and median > 0:
                speedup = times(reference / median)
        return Cell(text, note=fmt.failures(row), style=style,
                    lines=((speedup, "bold"), ("too slow" if row.too_slow else "", "dim")))

    return _by_model(
        summary,
        f"ms per forward call (inference, no gradients): median (IQR/median); below: speedup over {baseline or 'nothing'}",
        f"speedup = {baseline or 'baseline'} / model, medians of the forward-only latency; yellow: IQR > {NOISY:.0%}",
        cell,
    )


def decomposition_table(split: Sequence[DecompositionRecord]) -> Table:
    """Per function, device and ReLU-KAN: its speedup over pykan split into the
    implementation's part (pykan / our B-spline KAN) and the basis's (our B-spline KAN /
    ReLU-KAN), with quartile ranges below (experiments/speed/summary.py, `decompose`); split into
    parts like every `Table` where the width needs it."""
    first = split[0]
    table = Table(
        "where the speedup comes from: total = implementation x basis",
        f"implementation = {first.kan} / {first.bspline} (the same B-spline KAN, pykan's code vs a few "
        f"tensor operations); basis = {first.bspline} / ReLU-KAN; share = the implementation's part of the "
        "total on a log scale; brackets: quartile range",
        [Column("function", "left"), Column("device", "left"), Column("ReLU-KAN", "left")],
        [Column("total"), Column("implementation"), Column("basis"), Column("implementation\nshare", style="bold")],
    )
    for row in split:
        ratios = ((row.total, row.total_low, row.total_high),
                  (row.implementation, row.implementation_low, row.implementation_high),
                  (row.basis, row.basis_low, row.basis_high))
        cells = [Cell(times(value), lines=((f"[{times(low)}-{times(high)}]", "dim"),)) for value, low, high in ratios]
        share = row.implementation_share
        table.add_row([row.function, row.device, row.relukan, *cells, f"{share:.0%}" if share == share else ""])
    return table
