"""Terminal helpers: styled text (`styled`, `below`, from relukan_bench.tables), the cells'
formats shared by the experiments' tables, and `compare`'s table. Each experiment's own tables
live in its folder (`experiments/<name>/tables.py`); every table is a `relukan_bench.tables.Table`.
They arrange records and compute nothing.

Cells are plain text or `rich.text.Text` with styles set as attributes, never markup: the
consoles that print them read no markup, so that nothing a user typed (a path, a name, an
error message) is ever taken for a style."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, TypeGuard

from relukan_bench import fmt
from relukan_bench.tables import Cell, Column, Table, below, styled

if TYPE_CHECKING:
    from relukan_bench.compare import Comparison

__all__ = ["MARK_STYLES", "below", "compare_table", "finite", "styled", "times"]


def times(value: float | None) -> str:
    """A speedup as the terminal tables write it: "2.50x", "inf", "" where there is none."""
    if value is None or value != value:
        return ""
    return "inf" if math.isinf(value) else f"{value:.2f}x"


def finite(value: object) -> TypeGuard[float]:
    """Whether `value` is a finite number (None, NaN, a string: not)."""
    return isinstance(value, (int, float)) and math.isfinite(value)


MARK_STYLES = {"+": "bold red", "-": "bold green", "~": "dim", "!": "bold magenta", "x": "yellow"}


def compare_table(comparison: Comparison, base: str, new: str) -> Table:
    """One experiment's comparison: the keys, BASE, NEW, NEW/BASE and the mark per row, then
    the geometric means (the keys and the metric are the labels, the note may wrap)."""
    metrics = {row.metric for row in comparison.rows}
    out = Table(
        f"{comparison.experiment}: {comparison.metric_note}",
        f"BASE {base}, NEW {new}. +: worse beyond the threshold, -: better, ~: within it or not significant, "
        "!: failed or diverged on one side only, x: on one side only."
        + (" Speed differences need a Mann-Whitney U test p < 0.01 where both sides have 7+ repeats."
           if comparison.tests else ""),
        [Column(key, "left") for key in [*comparison.keys, *(["metric"] if len(metrics) > 1 else [])]],
        [Column("BASE"), Column("NEW"), Column("NEW/BASE"), Column("", "center"), Column("p"),
         Column("note", "left", style="dim", wrap=True)],
    )
    for index, row in enumerate([*comparison.rows, *comparison.summary]):
        cells = [*row.keys, *([row.metric] if len(metrics) > 1 else [])]
        out.add_row([*cells, _value(row.metric, row.base), _value(row.metric, row.new), fmt.ratio(row.ratio),
                      Cell(row.mark, style=MARK_STYLES.get(row.mark, "")), f"{row.p:.3g}" if row.p is not None else "",
                      row.note], end_section=index == len(comparison.rows) - 1 and bool(comparison.summary))
    return out


def _value(metric: str, value: float | None) -> str:
    if value is None or value != value:
        return ""
    if metric == "speedup":
        return times(value)
    if metric == "ms_per_step":
        return f"{value:.3g} ms"
    return fmt.mse(value)
