"""The catastrophic-forgetting experiment (docs/paper.md, "Catastrophic forgetting").

The target is `segments` Gaussian bumps side by side, one per segment of evenly spaced
points. Phase i trains only on segment i; one optimizer is kept across phases unless the
config resets it. After every phase the model is evaluated on every point, which gives a
phase x segment matrix of MSEs per model and seed (phase 0 is the model before training):

    M[i, j] = MSE on segment j after phase i          (i = 0..S, j = 1..S)

and from it, per run:

- learned_mse: mean over j of M[j, j], how well each segment was learned when it was trained;
- final_mse: mean over j of M[S, j], the MSE over the whole target at the end;
- forgetting: mean over j < S of M[S, j] - M[j, j], how much was lost of what was learned;
- max_forgetting: the largest of those increases;
- forgotten_fraction: sum over j < S of M[S, j] - M[j, j], divided by the sum over j < S of
  M[j-1, j] - M[j, j]: the share of what the phases gained on their own segments that is gone
  at the end (0: all kept; 1: back to where it was before; above 1: worse than that). A ratio
  of sums, so a segment that was hardly learned cannot blow it up; NaN when the phases gained
  nothing in sum.

A model that learns nothing forgets nothing: read forgetting beside learned_mse, or read the
fraction. Predicting 0 everywhere gives each segment an MSE of `zero_mse(data)` (about 0.18
for the paper's bumps), so a forgetting of that size means a segment was wiped out.

A ReLU-KAN's seeds train at once, as one batched model (`models.batched`), when there are
several and `train.batch_seeds` is on; such runs record `batched` = the number of seeds trained
together and, as `seconds`, their equal share of the group's time.

    for result in iter_forgetting(config, "cpu"): ...   # one RunResult per (seed, model)
    summary = summarize([r.run for r in results])

This module is the declaration; the rest lives beside it: records.py (the tables), config.py,
target.py, plan.py (the units and the runs), summary.py (scores and statistics), figures.py,
tables.py (the summary table), compare.py, report.py and peers.py (REPORT.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator, Sequence

import relukan_bench.experiments.forgetting.compare as read
from relukan_bench.experiments.forgetting.figures import figures as draw_figures
from relukan_bench.experiments.forgetting.plan import RunResult, Unit, iter_forgetting, key, together
from relukan_bench.experiments.forgetting.plan import plan as full_plan
from relukan_bench.experiments.forgetting.records import (
    SUMMARY_COLUMNS,
    CurveRecord,
    MatrixRecord,
    PredictionRecord,
    RunRecord,
    SummaryRecord,
)
from relukan_bench.experiments.forgetting.summary import summarize
from relukan_bench.experiments.forgetting.tables import summary_table
from relukan_bench.experiments.forgetting.target import zero_mse
from relukan_bench.experiments.protocol import CompareTable, Experiment, Option, Part, rows_by_unit, seed_list
from relukan_bench.experiments.seed_groups import tasks
from relukan_bench.kinds import kind_of, size_row
from relukan_bench.limits import Demand
from relukan_bench.results import write_csv
from relukan_bench.tables import to_rich

if TYPE_CHECKING:
    from relukan_bench.experiments.forgetting.config import ForgettingConfig


class Forgetting(Experiment):
    name, rank, title = "forgetting", 2, "Catastrophic forgetting"
    report = f"{__name__}.report"  # its REPORT.md part: RULE, section, verdict
    claim = "ReLU-KAN avoids catastrophic forgetting"
    help = ("Learn five Gaussian peaks one after another and measure how much each model forgets.\n\n"
            "Writes config.yaml, env.json, runs.csv (one row per model and seed), matrix.csv (MSE on every segment after "
            "every phase), predictions.csv, curves.csv, summary.csv (medians over seeds: learned, final MSE, forgetting) "
            "and PNG figures (the paper's panels per model, heatmap.png, curves.png) into "
            "results/forgetting/<UTC timestamp>/.")
    quick_help = "Smoke run: every model, 10 steps per phase, one seed."
    quick = ("train.steps_per_phase=10", "seeds=[0]")

    @property
    def schema(self) -> type:
        from relukan_bench.experiments.forgetting.config import ForgettingConfig  # here: pydantic would slow --help

        return ForgettingConfig

    tables = {"matrix": MatrixRecord, "predictions": PredictionRecord, "curves": CurveRecord, "runs": RunRecord}
    summaries = {"summary": SummaryRecord}
    parts = (Part("forgetting-peers", "forgetting", "forgetting-peers", "which of the field's KANs forgets least",
                  flag="peers"),)
    units_name = "training runs"
    selects = ("models",)

    options = (Option("--seeds", "seeds", "Seeds of initialisation, e.g. 0,1,2: one run of every phase per seed.",
                      convert=seed_list),)

    compare_keys = ("model",)
    compare_metrics = ("learned_mse", "final_mse", "forgetting")
    higher_is_better = {"learned_mse": False, "final_mse": False, "forgetting": False}
    #: forgetting can be zero or negative (a later phase helped an earlier segment); ratios are
    #: taken of max(forgetting, 1e-4), about 0.06% of a wiped-out segment's MSE.
    floors = {"forgetting": 1e-4}

    @property
    def compare_tables(self) -> tuple[CompareTable, ...]:
        return (CompareTable("summary.csv", frozenset({"model", "learned_mse", "final_mse", "forgetting", "n_seeds"}),
                             read.forgetting_summary),)

    def compare_note(self, metrics: Sequence[str], paper: bool) -> str:
        floor = self.floors["forgetting"]
        return (f"learned MSE, final MSE and forgetting, medians over seeds (lower is better), compared as ratios on a "
                f"log scale; forgetting below {floor:g} counts as {floor:g}")

    def shapes(self, config: ForgettingConfig) -> list[Any]:
        return [config.network]

    def demand(self, config: ForgettingConfig, devices: Sequence[str]) -> Any:
        data, train = config.data, config.train
        units = len(config.models) * len(config.seeds)
        at_once = len(config.seeds) if train.batch_seeds and any(kind_of(m).batch for m in config.models) else 1
        steps = data.segments * train.steps_per_phase
        return Demand(units, "models x seeds", units * steps * data.points,
                      "those units x data.segments x train.steps_per_phase x data.points",
                      data.points * at_once, "data.points" + (" x seeds (trained at once)" if at_once > 1 else ""),
                      units * (steps // train.log_every + data.segments) * data.segments,
                      "those units x (data.segments x train.steps_per_phase / train.log_every) x data.segments")

    def plan(self, config: ForgettingConfig, devices: Sequence[str]) -> list[Unit]:
        return full_plan(config)

    def key(self, row: dict[str, Any]) -> Unit:
        return key(row)

    def steps(self, config: ForgettingConfig) -> int:
        return config.data.segments * config.train.steps_per_phase

    def execute(self, config: ForgettingConfig, devices: Sequence[str], units: Sequence[Unit], progress: Any) -> Iterator[RunResult]:
        return iter_forgetting(config, devices[0], progress, units)

    def tasks(self, config: ForgettingConfig, units: Sequence[Unit]) -> list[list[Unit]]:
        return tasks(full_plan(config), units, config, together)

    def rows(self, result: RunResult) -> dict[str, list[dict[str, Any]]]:
        return {"matrix": result.matrix, "predictions": result.predictions, "curves": result.curves, "runs": [result.run]}

    def rebuild(self, loaded: dict[str, list[dict[str, Any]]]) -> list[RunResult]:
        return [RunResult(run, matrix=rows["matrix"], predictions=rows["predictions"], curves=rows["curves"])
                for run, rows in rows_by_unit(loaded, "runs", key)]

    def failure(self, result: RunResult) -> str | None:
        run = result.run
        return f"{run['model']} seed {run['seed']}: {run['error']}" if run.get("error") else None

    def label(self, unit: Unit) -> str:
        return f"{unit.model} seed {unit.seed}"

    def summarize(self, run_dir: Any, config: ForgettingConfig, results: Sequence[RunResult], context: Any) -> dict[str, Any]:
        summary = summarize([r.run for r in results])
        entries = {m.name: m for m in config.models}
        for row in summary:  # from the config, not the logs: runs logged before the column existed resume as they were
            row["sized"] = size_row(entries[row["model"]], config.network)["sized"] if row["model"] in entries else None
        write_csv(run_dir / "summary.csv", SUMMARY_COLUMNS, summary)
        return {"summary": summary}

    def figures(self, run_dir: Any, config: ForgettingConfig, results: Sequence[RunResult], shown: dict[str, Any]) -> None:
        if any(r.matrix for r in results):
            draw_figures(run_dir, config, [r for r in results if r.matrix])

    def show(self, outcome: Any) -> list[Any]:
        config = outcome.config
        return [to_rich(summary_table(outcome.shown["summary"], zero_mse(config.data), config.data.segments, config.train.steps_per_phase,
                                      config.train.lr, {m.name: m.kind for m in config.models}))]


EXPERIMENT = Forgetting()
