"""What a speed run shows when it ends: summary.csv, table.csv and decomposition.csv written
(`summarize`, after every unit), the typed summary they leave (`SpeedShown`), speed.png and the
terminal's tables."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from relukan_bench.experiments.speed.figures import figure
from relukan_bench.experiments.speed.paper import paper_table, table_columns
from relukan_bench.experiments.speed.records import (
    DECOMPOSITION_COLUMNS,
    SUMMARY_COLUMNS,
    DecompositionRecord,
    RawRecord,
    SummaryRecord,
)
from relukan_bench.experiments.speed.summary import decompose
from relukan_bench.experiments.speed.summary import summarize as summarize_runs
from relukan_bench.experiments.speed.tables import decomposition_table, inference_table, speed_table
from relukan_bench.kinds import kind_of, roles
from relukan_bench.results import write_csv

if TYPE_CHECKING:
    from relukan_bench.experiments.protocol import Outcome
    from relukan_bench.experiments.speed.config import SpeedConfig
    from relukan_bench.tables import Table


@dataclass
class SpeedShown:
    """A speed run's summary as the terminal and speed.png read it."""

    summary: list[SummaryRecord]  # summary.csv's rows: per function, model and device
    paper: dict[tuple[str, str], float]  # the paper's speedups, per (function, device)
    split: list[DecompositionRecord]  # decomposition.csv's rows (none without the rows it needs)
    warnings: list[str] = field(default_factory=list)


def summarize(run_dir: Path, config: SpeedConfig, results: Sequence[RawRecord],
              context: dict[tuple[str, str], float]) -> SpeedShown:
    model_names, function_names = [m.name for m in config.models], [f.name for f in config.functions]
    summary = summarize_runs(results, config.baseline)
    write_csv(run_dir / "summary.csv", SUMMARY_COLUMNS, summary)
    write_csv(run_dir / "table.csv", table_columns(model_names, config.baseline),
              paper_table(summary, function_names, model_names, context))
    efforts = {m.name: kind_of(m).step(m) for m in config.models}
    split = decompose(summary, roles(config.models), config.baseline, efforts)
    if split:
        write_csv(run_dir / "decomposition.csv", DECOMPOSITION_COLUMNS, split)
    return SpeedShown(summary, context, split)


def figures(run_dir: Path, config: SpeedConfig, results: Sequence[RawRecord], shown: SpeedShown) -> None:
    if any(not r.error for r in results):
        figure(run_dir, config, shown.summary, shown.paper)


def show(outcome: Outcome[SpeedConfig, SpeedShown]) -> list[Table]:
    shown, config = outcome.shown, outcome.config
    tables: list[Table] = [speed_table(shown.summary, config.baseline, shown.paper, config.train.steps)]
    tables += [table for table in [inference_table(shown.summary, config.baseline)] if table]
    return tables + ([decomposition_table(shown.split)] if shown.split else [])
