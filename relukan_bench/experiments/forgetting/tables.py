"""The forgetting experiment's table: per model, how well it learned each segment, its final
error and how much it forgot (the terminal and REPORT.md show the same table)."""

from __future__ import annotations

from typing import Mapping, Sequence

from relukan_bench import fmt
from relukan_bench.experiments.forgetting.records import SummaryRecord
from relukan_bench.tables import Cell, Column, Table


def summary_table(summary: Sequence[SummaryRecord], zero: float, segments: int, steps: int, lr: float,
                  kinds: Mapping[str, str]) -> Table:
    """The one table of a forgetting run (terminal and REPORT.md): per model, how well it
    learned each segment, its final error and how much it forgot, medians over seeds with
    the range over seeds of forgetting and of the forgotten fraction. `kinds`: what the kind
    column shows per model (its kind's name, or in the report its label)."""
    table = Table(
        f"Sequential learning of {segments} segments, {steps} steps each at lr {lr}: medians over seeds",
        "learned: mean MSE on each segment right after its own phase; forgetting: the mean increase of that MSE by "
        f"the end (segments 1-{segments - 1}); forgotten: the share of what the phases gained that is lost by the end. "
        f"Predicting 0 on a segment gives MSE {zero:.3f}.",
        [Column("model", "left"), Column("kind", "left")],
        [Column("params"), Column("learned\nMSE"), Column("final\nMSE"), Column("forgetting\n[seed range]", style="bold"),
         Column("max\nforgetting"), Column("forgotten\n[seed range]", style="bold")],
    )
    for row in summary:
        ranged = (row.n_seeds or 0) > 1
        params = row.params
        table.add_row([
            Cell(row.model), Cell(kinds.get(row.model, "")),
            Cell("" if params is None or params != params else f"{params:.0f}"),
            Cell(fmt.mse(row.learned_mse)), Cell(fmt.mse(row.final_mse)),
            Cell(fmt.mse(row.forgetting), f"{fmt.mse(row.forgetting_min)} to {fmt.mse(row.forgetting_max)}" if ranged else ""),
            Cell(fmt.mse(row.max_forgetting)),
            Cell(fmt.percent(row.forgotten_fraction),
                 f"{fmt.percent(row.forgotten_fraction_min)} to {fmt.percent(row.forgotten_fraction_max)}" if ranged else "",
                 fmt.failures(row)),  # fmt.failures reads any experiment's summary row by column
        ])
    return table

