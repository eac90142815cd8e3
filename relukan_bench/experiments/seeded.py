"""What `fit` and `forgetting` declare alike: training runs, one per seed, whose seeds may
train at once (relukan_bench.experiments.seed_groups), and a failed run named by its unit.
Their commands call the units "training runs" and take `--seeds` (each with its own help)."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any, Protocol, TypeVar

from relukan_bench.experiments.protocol import Experiment, ShownT
from relukan_bench.experiments.seed_groups import ExperimentConfig, PlanUnit, SeedRun
from relukan_bench.experiments.seed_groups import tasks as seed_tasks


class RunRow(SeedRun, Protocol):
    """A training run's record (its row of runs.csv: `row()`)."""

    def row(self) -> dict[str, Any]: ...


class SeededResult(Protocol):
    """A finished training run: its record in runs.csv (`error` set when it failed)."""

    @property
    def run(self) -> RunRow: ...


SeededConfigT = TypeVar("SeededConfigT", bound=ExperimentConfig)
SeededUnitT = TypeVar("SeededUnitT", bound=PlanUnit)
SeededResultT = TypeVar("SeededResultT", bound=SeededResult)


class SeededRuns(Experiment[SeededConfigT, SeededUnitT, SeededResultT, ShownT]):
    """An experiment of training runs, one per seed: the runs of one model whose seeds train at
    once (`together`) go to one worker; a failed run is named as its unit is labelled."""

    @staticmethod
    def together(unit: Any) -> Hashable:
        """What units must share to train at once (as one batched model)."""
        raise NotImplementedError

    def tasks(self, config: SeededConfigT, units: Sequence[SeededUnitT]) -> list[list[SeededUnitT]]:
        together: Callable[[SeededUnitT], Hashable] = self.together
        return seed_tasks(self.plan(config, ()), units, config, together)

    def failure(self, result: SeededResultT) -> str | None:
        run = result.run
        return f"{self.label(self.key(run.row()))}: {run.error}" if run.error else None
