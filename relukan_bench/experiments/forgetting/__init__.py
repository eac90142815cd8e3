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
target.py, plan.py (the units and the runs), run.py (the runner's hooks), summary.py (scores and
statistics), shown.py (what a finished run writes and shows), figures.py, tables.py (the summary
table), compare.py, report.py and peers.py (REPORT.md).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING

import relukan_bench.experiments.forgetting.compare as read
from relukan_bench.experiments.forgetting import report, run, shown
from relukan_bench.experiments.forgetting.plan import RunResult, Unit, key, together
from relukan_bench.experiments.forgetting.records import (
    CurveRecord,
    MatrixRecord,
    PredictionRecord,
    RunRecord,
    SummaryRecord,
)
from relukan_bench.experiments.forgetting.shown import ForgettingShown
from relukan_bench.experiments.protocol import Command, Option, Part, Report, seed_list
from relukan_bench.experiments.seeded import SeededRuns

if TYPE_CHECKING:
    from relukan_bench.experiments.forgetting.config import ForgettingConfig


class Forgetting(SeededRuns["ForgettingConfig", Unit, RunResult, ForgettingShown]):
    name, rank = "forgetting", 2
    command = Command(
        help=("Learn five Gaussian peaks one after another and measure how much each model forgets.\n\n"
              "Writes config.yaml, env.json, runs.csv (one row per model and seed), matrix.csv (MSE on every segment "
              "after every phase), predictions.csv, curves.csv, summary.csv (medians over seeds: learned, final MSE, "
              "forgetting) and PNG figures (the paper's panels per model, heatmap.png, curves.png) into "
              "results/forgetting/<UTC timestamp>/."),
        options=(Option("--seeds", "seeds", "Seeds of initialisation, e.g. 0,1,2: one run of every phase per seed.",
                        convert=seed_list),),
        units_name="training runs", quick=("train.steps_per_phase=10", "seeds=[0]"),
        quick_help="Smoke run: every model, 10 steps per phase, one seed.")
    comparison = read.COMPARISON
    report = Report("Catastrophic forgetting", "ReLU-KAN avoids catastrophic forgetting", report,
                    parts=(Part("forgetting-peers", "forgetting", "forgetting-peers",
                                "which of the field's KANs forgets least", flag="peers"),))
    tables = MappingProxyType({"matrix": MatrixRecord, "predictions": PredictionRecord, "curves": CurveRecord,
                               "runs": RunRecord})
    summaries = MappingProxyType({"summary": SummaryRecord})

    @property
    def schema(self) -> type[ForgettingConfig]:
        from relukan_bench.experiments.forgetting.config import ForgettingConfig  # here: pydantic would slow --help

        return ForgettingConfig

    # the runner's hooks (run.py), the summary and what is shown (shown.py)
    shapes, domain, demand = staticmethod(run.shapes), staticmethod(run.domain), staticmethod(run.demand)
    plan, steps, execute = staticmethod(run.plan), staticmethod(run.steps), staticmethod(run.execute)
    rows, rebuild = staticmethod(run.rows), staticmethod(run.rebuild)
    key, label, together = staticmethod(key), staticmethod(run.label), staticmethod(together)
    summarize, figures, show = staticmethod(shown.summarize), staticmethod(shown.figures), staticmethod(shown.show)


EXPERIMENT = Forgetting()
