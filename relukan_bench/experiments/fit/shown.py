"""What a fit run shows when it ends: its derived tables written (`summarize`, after every
unit), the typed summary they leave for the terminal and the figures (`FitShown`), the figures
drawn (`figures`) and the terminal's tables (`show`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import relukan_bench.experiments.fit.targets as targets
from relukan_bench.experiments.fit.figures import figures as draw_figures
from relukan_bench.experiments.fit.figures import plot_tuning, renamed
from relukan_bench.experiments.fit.paper import PaperFit, compared, paper_table, table_columns
from relukan_bench.experiments.fit.records import SUMMARY_COLUMNS, RunResult, SummaryRecord
from relukan_bench.experiments.fit.summary import selected_rows
from relukan_bench.experiments.fit.summary import summarize as summarize_runs
from relukan_bench.experiments.fit.tables import fit_table, target_table
from relukan_bench.results import write_csv

if TYPE_CHECKING:
    from relukan_bench.experiments.fit.config import FitConfig
    from relukan_bench.experiments.protocol import Outcome
    from relukan_bench.tables import Table


@dataclass
class FitShown:
    """A fit run's summary as the terminal and the figures read it."""

    summary: list[SummaryRecord]  # summary.csv's records as the comparison reads them: each model once per function
    all: list[SummaryRecord]  # every record of summary.csv (a tuned model's every candidate)
    table: list[dict[str, Any]]  # table.csv's rows: per function, each model beside the paper
    paper: dict[str, PaperFit]  # the paper's numbers, per function
    config: FitConfig  # the config as the comparison reads it (a tuned model as one entry)
    warnings: list[str] = field(default_factory=list)


def summarize(run_dir: Path, config: FitConfig, results: Sequence[RunResult], context: dict[str, PaperFit]) -> FitShown:
    """Write summary.csv and table.csv from the finished runs."""
    summary = summarize_runs([r.run for r in results], config.baseline, config.origin, config.tune_seeds)
    speed_run, warning = targets.speed_run(config, run_dir)
    targets.summary_columns(results, summary, targets.speed_step_times(config, speed_run))
    chosen = selected_rows(summary)
    shown = compared(config)
    model_names, function_names = [m.name for m in shown.models], [f.name for f in config.functions]
    table = paper_table(chosen, function_names, model_names, config.baseline, context)
    write_csv(run_dir / "summary.csv", SUMMARY_COLUMNS, summary)
    write_csv(run_dir / "table.csv", table_columns(model_names, config.baseline), table)
    return FitShown(chosen, summary, table, context, shown, [warning] if warning else [])


def figures(run_dir: Path, config: FitConfig, results: Sequence[RunResult], shown: FitShown) -> None:
    """Curves, predictions, the overview and the seeds of each model as the comparison reads it
    (a tuned model by its selected candidate); tuning.png for a tuned run."""
    chosen = {(r.function, r.tuned_model or r.model): r.model for r in shown.all if r.selected}
    kept = [renamed(r, config) for r in results
            if r.steps and chosen.get((r.run.function, config.origin(r.run.model)[0])) == r.run.model]
    if kept:
        draw_figures(run_dir, shown.config, kept, shown.paper, shown.summary)
    if config.tuned:
        plot_tuning(config.functions, shown.all, [m.name for m in shown.config.models], run_dir / "tuning.png")


def show(outcome: Outcome[FitConfig, FitShown]) -> list[Table]:
    """The fit table and, where a target was reached, the time to validation MSE 1e-4."""
    shown = outcome.shown
    times = target_table(shown.summary, shown.config)
    return [fit_table(shown.summary, shown.table, shown.config), *([times] if times else [])]
