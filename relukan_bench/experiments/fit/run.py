"""Fit as the runner drives it: the hooks its declaration points at (relukan_bench.experiments
.protocol says what each takes and returns). The work itself is in `plan` (units, training),
`tuning` (which units are due) and `summary`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from relukan_bench import resources
from relukan_bench.experiments.fit.paper import PaperFit, paper_fits
from relukan_bench.experiments.fit.plan import Unit, iter_fit, key, together
from relukan_bench.experiments.fit.plan import plan as full_plan
from relukan_bench.experiments.fit.records import CurveRecord, PredictionRecord, RunRecord, RunResult
from relukan_bench.experiments.protocol import Progress, rows_by_unit
from relukan_bench.experiments.seed_groups import tasks as seed_tasks
from relukan_bench.kinds import kind_of, pair
from relukan_bench.limits import Demand
from relukan_bench.records import Record
from relukan_bench.results import read_csv

if TYPE_CHECKING:
    from relukan_bench.config import FunctionSpec
    from relukan_bench.experiments.fit.config import FitConfig


def shapes(config: FitConfig) -> list[FunctionSpec]:
    return list(config.functions)


def domain(config: FitConfig) -> tuple[float, float]:
    return pair(config.data.domain)


def context(config: FitConfig) -> dict[str, PaperFit]:
    """The paper's numbers for the functions the run fits."""
    return paper_fits(read_csv(resources.paper_dir() / "fit.csv"), config)


def demand(config: FitConfig, devices: Sequence[str]) -> Demand:
    data, train = config.data, config.train
    runs = len(config.functions) * len(config.seeds)
    units = runs * len(config.models)
    evaluations = sum(kind_of(model).evaluations(model) for model in config.models)
    at_once = len(config.seeds) if train.batch_seeds and any(kind_of(m).batch for m in config.models) else 1
    largest = max((data.train_samples, "data.train_samples"), (data.test_samples, "data.test_samples"),
                  (data.validation_samples, "data.validation_samples"))
    return Demand(units, "functions x models x seeds",
                  runs * train.steps * (evaluations * data.train_samples + len(config.models)
                                        * (data.test_samples + data.validation_samples)),
                  "functions x seeds x train.steps x (each model's loss evaluations per step (LBFGS: max_eval) "
                  "x data.train_samples + models x (data.test_samples + data.validation_samples))",
                  largest[0] * at_once, largest[1] + (" x seeds (trained at once)" if at_once > 1 else ""),
                  units * (train.steps // train.log_every + 1 + data.test_samples),
                  "those units x (train.steps / train.log_every + data.test_samples)")


def plan(config: FitConfig, devices: Sequence[str]) -> list[Unit]:
    return full_plan(config)


def due(config: FitConfig, units: Sequence[Unit], finished: Sequence[RunResult]) -> list[Unit]:
    from relukan_bench.experiments.fit.tuning import due as tuned_due

    return tuned_due(config, units, [result.run for result in finished])


def steps(config: FitConfig) -> int:
    return config.train.steps


def execute(config: FitConfig, devices: Sequence[str], units: Sequence[Unit], progress: Progress) -> Iterator[RunResult]:
    return iter_fit(config, devices[0], progress, units)


def tasks(config: FitConfig, units: Sequence[Unit]) -> list[list[Unit]]:
    return seed_tasks(full_plan(config), units, config, together)


def rows(result: RunResult) -> dict[str, Sequence[Record]]:
    return {"curves": result.curves(), "predictions": result.predictions, "runs": [result.run]}


def rebuild(loaded: dict[str, list[dict[str, Any]]]) -> list[RunResult]:
    """The results of the runs the logs hold: each row read back as its record."""
    results = []
    for run, rows in rows_by_unit(loaded, "runs", key):
        curves = [CurveRecord.from_row(row) for row in rows["curves"]]
        results.append(RunResult(RunRecord.from_row(run), steps=[c.step for c in curves],
                                 train_mse=[c.train_mse for c in curves], test_mse=[c.test_mse for c in curves],
                                 predictions=[PredictionRecord.from_row(row) for row in rows["predictions"]],
                                 val_mse=[c.val_mse for c in curves]))
    return results


def label(unit: Unit) -> str:
    return f"{unit.function} {unit.model} seed {unit.seed}"
