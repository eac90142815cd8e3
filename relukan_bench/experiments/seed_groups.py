"""What `fit` and `forgetting` share: which runs train together and the loop that trains
them, and the statistics of runs over seeds (groups, failures, the representative seed).

A model entry's seeds train at once, as one batched model (a ReLU-KAN's: `models.batched`),
when its kind can batch them, the plan puts them next to each other and the config's `train.batch_seeds` is on; every other run
trains alone. `run_groups` drives both experiments: per group it calls the experiment's
`train(group, spec, progress) -> results` and yields the results of the wanted runs, or one
failed record per wanted run when training raised.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Generic, Hashable, Iterator, Protocol, Sequence, TypeVar

from relukan_bench.errors import failure
from relukan_bench.kinds import kind_of, optimizer_of

if TYPE_CHECKING:
    from relukan_bench.schema import ModelEntry


class TrainSettings(Protocol):
    """What these helpers read of a config's `train:` (fit's FitTrainSpec, forgetting's)."""

    @property
    def batch_seeds(self) -> bool: ...

    @property
    def optimizer(self) -> str: ...


class ExperimentConfig(Protocol):
    """What these helpers read of an experiment's config (FitConfig, ForgettingConfig)."""

    @property
    def train(self) -> TrainSettings: ...

    @property
    def models(self) -> Sequence[Any]: ...  # its entries (relukan_bench.config.ModelSpec: a union built at run time)


class PlanUnit(Protocol):
    """A unit of an experiment's plan (fit's or forgetting's plan.Unit): hashable, one run of
    the model entry `model`."""

    @property
    def model(self) -> str: ...

    def __hash__(self) -> int: ...


U = TypeVar("U", bound=PlanUnit)  # an experiment's unit
R = TypeVar("R")  # an experiment's result of one run
K = TypeVar("K", bound=Hashable)  # what runs are grouped by
StepProgress = Callable[[int, float], None]  # (steps done, train MSE)


def batchable(config: ExperimentConfig, spec: ModelEntry) -> bool:
    """Whether a model entry's seeds train as one batched model: when its kind can batch them
    (relukan_bench.kinds), the config's `train.batch_seeds` is on, and its optimizer is not
    LBFGS (one line search for all the seeds would couple them: each seed's steps would depend
    on the others')."""
    return (kind_of(spec).batch is not None and config.train.batch_seeds
            and optimizer_of(spec, config.train.optimizer) != "lbfgs")


def groups(units: Sequence[U], config: ExperimentConfig, models: dict[str, ModelEntry], same: Callable[[U], object]) -> list[list[U]]:
    """`units` cut into what trains at once: runs next to each other that `same` puts together
    and whose model is `batchable`, and every other run alone."""
    out: list[list[U]] = []
    for unit in units:
        if out and batchable(config, models[unit.model]) and same(out[-1][-1]) == same(unit):
            out[-1].append(unit)
        else:
            out.append([unit])
    return out


def groups_to_run(planned: Sequence[U], units: Sequence[U] | None, config: ExperimentConfig, models: dict[str, ModelEntry],
                  same: Callable[[U], object]) -> list[tuple[list[U], list[U]]]:
    """(group, wanted) pairs: the plan's `groups` that hold any of `units` (default: all of
    the plan), each with the units of it that are wanted. A group trains whole even when some
    of its seeds finished in an earlier session, so that a resumed run computes exactly what an
    uninterrupted one would (a batch of two seeds rounds differently from a batch of three);
    only the wanted seeds are kept."""
    wanted = set(planned) if units is None else set(units)
    return [
        (group, [u for u in group if u in wanted])
        for group in groups(planned, config, models, same)
        if any(u in wanted for u in group)
    ]


def tasks(planned: Sequence[U], units: Sequence[U], config: ExperimentConfig, same: Callable[[U], object]) -> list[list[U]]:
    """The wanted units of every group that holds some (`groups_to_run`), one task each for
    parallel workers, the costliest first: the kind's `cost` times the group's size (a long
    task begun last would leave the other workers idle at the end). Only the order of work
    depends on it, never a result."""
    models = {m.name: m for m in config.models}
    found = groups_to_run(planned, units, config, models, same)
    found.sort(key=lambda pair: -kind_of(models[pair[0][0].model]).cost * len(pair[0]))  # stable: plan order among equals
    return [wanted for _, wanted in found]


def run_groups(planned: Sequence[U], units: Sequence[U] | None, config: ExperimentConfig, same: Callable[[U], object],
               train: Callable[[list[U], ModelEntry, StepProgress | None], list[R]], failed: Callable[[U, ModelEntry, str], R],
               on_progress: Callable[[U, int, float], None] | None) -> Iterator[R]:
    """Train the groups holding `units` (default: the whole plan); yield a result per wanted
    run, in plan order. `train(group, spec, progress)` returns one result per member;
    `failed(unit, spec, error)` makes a failed run's record. Progress is reported under the
    group's first wanted unit."""
    from relukan_bench.training import keep_large_allocations

    keep_large_allocations()  # batched seeds allocate large temporaries every step
    models = {m.name: m for m in config.models}
    for group, wanted in groups_to_run(planned, units, config, models, same):
        spec = models[group[0].model]
        progress = (lambda done, loss, unit=wanted[0]: on_progress(unit, done, loss)) if on_progress else None
        try:
            results = train(group, spec, progress)
            yield from (result for member, result in zip(group, results) if member in wanted)
        except Exception as exc:  # noqa: BLE001 - one failed run is recorded, the others go on
            for member in wanted:
                yield failed(member, spec, failure(exc))


# ----------------------------------------------------------------------------- runs over seeds
class SeedRun(Protocol):
    """A finished training run's record, as these statistics read it (fit's and forgetting's
    RunRecord): its seed, whether it diverged, the error it raised; a metric by its name."""

    @property
    def seed(self) -> int: ...

    @property
    def diverged(self) -> bool | None: ...

    @property
    def error(self) -> str | None: ...


RunT = TypeVar("RunT", bound=SeedRun)


def unbounded(run: SeedRun, key: str) -> float:
    """A run's number; a diverged run's is infinite (its error is unbounded)."""
    return math.inf if run.diverged else float(getattr(run, key))


def crashed(run: SeedRun) -> bool:
    """A run that raised rather than diverged: it has no numbers, not even an unbounded one."""
    return bool(run.error) and not run.diverged


@dataclass
class SeedGroup(Generic[RunT]):
    """The runs of one (function,) model over its seeds: those with numbers (diverged ones
    included, as unbounded), how many failed (raised or diverged), and the first run seen."""

    rows: list[RunT]
    failed: int
    first: RunT


def over_seeds(runs: Sequence[RunT], key: Callable[[RunT], K]) -> dict[K, SeedGroup[RunT]]:
    """The runs grouped by `key`, in the order groups first appear. Runs that raised count in
    `failed` and are left out of `rows`; diverged ones are in both."""
    groups: dict[K, SeedGroup[RunT]] = {}
    for run in runs:
        group = groups.setdefault(key(run), SeedGroup([], 0, run))
        group.failed += bool(run.error)
        if not crashed(run):
            group.rows.append(run)
    return groups


def representative_seed(runs: Sequence[SeedRun], metric: str, **match: object) -> int | None:
    """The seed whose `metric` is the median of the runs that `match` (the lower of the two
    middle ones for an even count; diverged and failed runs rank last); None when none has
    a number."""
    everyone = [r for r in runs if all(getattr(r, k) == v for k, v in match.items())]
    rows = sorted((r for r in everyone if not (r.diverged or r.error)), key=lambda r: float(getattr(r, metric)))
    if not rows:
        return None
    return rows[min((len(everyone) - 1) // 2, len(rows) - 1)].seed
