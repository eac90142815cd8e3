"""What a forgetting run shows when it ends: summary.csv written (`summarize`, after every
unit), the typed summary it leaves (`ForgettingShown`), the figures and the terminal's table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from relukan_bench.experiments.forgetting.figures import figures as draw_figures
from relukan_bench.experiments.forgetting.plan import RunResult
from relukan_bench.experiments.forgetting.records import SUMMARY_COLUMNS, SummaryRecord
from relukan_bench.experiments.forgetting.summary import summarize as summarize_runs
from relukan_bench.experiments.forgetting.tables import summary_table
from relukan_bench.experiments.forgetting.target import zero_mse
from relukan_bench.kinds import size_row
from relukan_bench.results import write_csv
from relukan_bench.tables import to_rich

if TYPE_CHECKING:
    from relukan_bench.experiments.forgetting.config import ForgettingConfig
    from relukan_bench.experiments.protocol import Outcome
    from relukan_bench.tables import Table


@dataclass
class ForgettingShown:
    """A forgetting run's summary as the terminal reads it."""

    summary: list[SummaryRecord]  # summary.csv's records: per model, medians over seeds
    warnings: list[str] = field(default_factory=list)


def summarize(run_dir: Path, config: ForgettingConfig, results: Sequence[RunResult], context: object) -> ForgettingShown:
    summary = summarize_runs([r.run for r in results])
    entries = {m.name: m for m in config.models}
    for row in summary:  # from the config, not the logs: runs logged before the column existed resume as they were
        row.sized = size_row(entries[row.model], config.network)["sized"] if row.model in entries else None
    write_csv(run_dir / "summary.csv", SUMMARY_COLUMNS, summary)
    return ForgettingShown(summary)


def figures(run_dir: Path, config: ForgettingConfig, results: Sequence[RunResult], shown: ForgettingShown) -> None:
    if any(r.matrix for r in results):
        draw_figures(run_dir, config, [r for r in results if r.matrix])


def show(outcome: Outcome[ForgettingConfig, ForgettingShown]) -> list[Table]:
    config = outcome.config
    return [to_rich(summary_table(outcome.shown.summary, zero_mse(config.data), config.data.segments,
                                  config.train.steps_per_phase, config.train.lr, {m.name: m.kind for m in config.models}))]
