"""Forgetting as the runner drives it: the hooks its declaration points at (relukan_bench
.experiments.protocol says what each takes and returns). The runs themselves are in `plan`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from relukan_bench.experiments.forgetting.plan import RunResult, Unit, iter_forgetting, key
from relukan_bench.experiments.forgetting.plan import plan as full_plan
from relukan_bench.experiments.forgetting.records import CurveRecord, MatrixRecord, PredictionRecord, RunRecord
from relukan_bench.experiments.protocol import Progress, rows_by_unit
from relukan_bench.kinds import kind_of, pair
from relukan_bench.limits import Demand
from relukan_bench.records import Record

if TYPE_CHECKING:
    from relukan_bench.experiments.forgetting.config import ForgettingConfig, NetworkSpec


def shapes(config: ForgettingConfig) -> list[NetworkSpec]:
    return [config.network]


def domain(config: ForgettingConfig) -> tuple[float, float]:
    return pair(config.data.domain)


def demand(config: ForgettingConfig, devices: Sequence[str]) -> Demand:
    data, train = config.data, config.train
    units = len(config.models) * len(config.seeds)
    at_once = len(config.seeds) if train.batch_seeds and any(kind_of(m).batch for m in config.models) else 1
    steps = data.segments * train.steps_per_phase
    return Demand(units, "models x seeds", units * steps * data.points,
                  "those units x data.segments x train.steps_per_phase x data.points",
                  data.points * at_once, "data.points" + (" x seeds (trained at once)" if at_once > 1 else ""),
                  units * (steps // train.log_every + data.segments) * data.segments,
                  "those units x (data.segments x train.steps_per_phase / train.log_every) x data.segments")


def plan(config: ForgettingConfig, devices: Sequence[str]) -> list[Unit]:
    return full_plan(config)


def steps(config: ForgettingConfig) -> int:
    return config.data.segments * config.train.steps_per_phase


def execute(config: ForgettingConfig, devices: Sequence[str], units: Sequence[Unit], progress: Progress
            ) -> Iterator[RunResult]:
    return iter_forgetting(config, devices[0], progress, units)


def rows(result: RunResult) -> dict[str, Sequence[Record]]:
    return {"matrix": result.matrix, "predictions": result.predictions, "curves": result.curves, "runs": [result.run]}


def rebuild(loaded: dict[str, list[dict[str, Any]]]) -> list[RunResult]:
    """The finished runs' results from their logs' rows, each row its record again."""
    return [RunResult(RunRecord.from_row(run), matrix=[MatrixRecord.from_row(row) for row in rows["matrix"]],
                      predictions=[PredictionRecord.from_row(row) for row in rows["predictions"]],
                      curves=[CurveRecord.from_row(row) for row in rows["curves"]])
            for run, rows in rows_by_unit(loaded, "runs", key)]


def label(unit: Unit) -> str:
    return f"{unit.model} seed {unit.seed}"
