"""The fitting experiment (docs/paper.md, "Fitting accuracy"): its declaration.

For every function, seed and model: fresh training and test sets (uniform in the domain,
drawn from the seed), a freshly initialised model, `train.steps` full-batch steps, and the
train and test MSE of every step. Inside a seed every model gets the same data and the same
initialisation seed. A model is trained by our loop (`relukan_bench.training`, the same for
every kind) unless its config asks for pykan's own `fit()`.

A ReLU-KAN's seeds train at once, as one batched model (`models.batched`), when there are
several and `train.batch_seeds` is on: the same numbers as separate runs (to float rounding,
tests/models/test_batched.py) for a fraction of the time. Such runs record `batched` = the
number of seeds trained together and, as `seconds`, their equal share of the group's time.

Every error here is an MSE. pykan's `fit()` logs RMSE; it is squared back on the way in, and
the only RMSE in the outputs is the column named `final_test_rmse`.

    for result in iter_fit(config, "cpu"): ...      # plan.py: one RunResult per finished run
    summary = summarize([r.run for r in results], baseline="kan")      # summary.py

The modules: `config` (FitConfig), `tuning` (`tune:` candidates and the choice among them),
`records` (the tables), `plan` (units and their execution), `run` (the runner's hooks),
`summary` (statistics over seeds), `targets` (time to a target), `paper` (the paper's numbers,
table.csv), `shown` (what a finished run writes and shows), `figures`, `tables` (terminal),
`compare`, `report` and `peers` (REPORT.md).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING

from relukan_bench.experiments.fit import compare as read
from relukan_bench.experiments.fit import report, run, shown
from relukan_bench.experiments.fit.paper import TABLE_LAYOUT
from relukan_bench.experiments.fit.plan import Unit, key, together
from relukan_bench.experiments.fit.records import CurveRecord, PredictionRecord, RunRecord, RunResult, SummaryRecord
from relukan_bench.experiments.fit.shown import FitShown
from relukan_bench.experiments.fit.summary import comparison_rows
from relukan_bench.experiments.protocol import Command, Option, Part, Report, seed_list
from relukan_bench.experiments.seeded import SeededRuns

if TYPE_CHECKING:
    from relukan_bench.experiments.fit.config import FitConfig


class Fit(SeededRuns["FitConfig", Unit, RunResult, FitShown]):
    name, rank = "fit", 1
    command = Command(
        help=("Train ReLU-KAN and the original KAN on the paper's six fitting functions and record their errors.\n\n"
              "Writes config.yaml, env.json, runs.csv (one row per training run), curves.csv (train and test MSE per "
              "step), predictions.csv, summary.csv (medians over seeds), table.csv (beside the paper's numbers, all in "
              "MSE) and PNG figures into results/fit/<UTC timestamp>/."),
        options=(Option("--seeds", "seeds", "Seeds of data and initialisation, e.g. 0,1,2: one training run per seed.",
                        convert=seed_list),),
        selects=("functions", "models"), units_name="training runs",
        quick=("train.steps=20", "seeds=[0]"), quick_help="Smoke run: every function and model, 20 steps, one seed.")
    comparison = read.COMPARISON
    report = Report(
        "Fitting accuracy", "ReLU-KAN is two orders of magnitude more accurate than KAN", report, comparison_rows=comparison_rows,
        # `reproduce --tuned`: every model again at its own best, chosen on validation (REPORT.md states the claim both ways)
        parts=(Part("fit-tuned", "fit", "fit-tuned", "each model at its best, chosen on validation"),
               Part("fit-peers", "fit", "fit-peers", "ReLU-KAN among the field's KANs, at the same grid and at equal size",
                    flag="peers"),
               Part("fit-peers-tuned", "fit", "fit-peers-tuned", "the field's KANs at equal size, each at its best",
                    flag=("peers", "tuned"))))
    tables = MappingProxyType({"curves": CurveRecord, "predictions": PredictionRecord, "runs": RunRecord})
    summaries = MappingProxyType({"summary": SummaryRecord})
    layouts = MappingProxyType({"table": TABLE_LAYOUT})

    @property
    def schema(self) -> type[FitConfig]:
        from relukan_bench.experiments.fit.config import FitConfig  # here: pydantic would slow --help

        return FitConfig

    # the runner's hooks (run.py), the summary and what is shown (shown.py)
    shapes, domain, context = staticmethod(run.shapes), staticmethod(run.domain), staticmethod(run.context)
    demand, plan, due, steps = staticmethod(run.demand), staticmethod(run.plan), staticmethod(run.due), staticmethod(run.steps)
    execute, rows, rebuild = staticmethod(run.execute), staticmethod(run.rows), staticmethod(run.rebuild)
    key, label, together = staticmethod(key), staticmethod(run.label), staticmethod(together)
    summarize, figures, show = staticmethod(shown.summarize), staticmethod(shown.figures), staticmethod(shown.show)


EXPERIMENT = Fit()
