"""The forgetting experiment's plan and its execution: the Unit (one model from one seed,
taken through every phase), the plan and the key of a logged row, and the runs themselves
(`iter_forgetting`, `run_group`, `run_one`): train each segment in turn, evaluate every
segment after each phase, a model's seeds together as one batched model where they can."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping, Sequence

from relukan_bench.experiments.forgetting.records import CurveRecord, MatrixRecord, PredictionRecord, RunRecord
from relukan_bench.experiments.forgetting.summary import Scores, scores
from relukan_bench.experiments.forgetting.target import target
from relukan_bench.experiments.seed_groups import run_groups
from relukan_bench.kinds import build_model, kind_of
from relukan_bench.models import count_parameters
from relukan_bench.seeding import derive_seed
from relukan_bench.timing import clock

if TYPE_CHECKING:
    import torch

    from relukan_bench.experiments.forgetting.config import ForgettingConfig
    from relukan_bench.fused_step import FusedStep
    from relukan_bench.schema import ModelEntry
    from relukan_bench.steps import TrainStep


@dataclass(frozen=True)
class Unit:
    """One run: a fresh `model`, initialised from `seed`, taken through every phase."""

    seed: int
    model: str


@dataclass
class RunResult:
    """What one run produced: its record in runs.csv and its records of the other tables."""

    run: RunRecord
    matrix: list[MatrixRecord] = field(default_factory=list)
    predictions: list[PredictionRecord] = field(default_factory=list)
    curves: list[CurveRecord] = field(default_factory=list)


def key(row: Mapping[str, Any]) -> Unit:
    """The unit a row of any of the per-run logs belongs to."""
    return Unit(int(row["seed"]), row["model"])


def plan(config: ForgettingConfig) -> list[Unit]:
    """Every run in the order it runs: per model, the seeds one after another (so that a
    model's seeds can train together)."""
    return [Unit(seed, model.name) for model in config.models for seed in config.seeds]


def together(unit: Unit) -> str:
    """What units must share to train at once (as one batched model): the model."""
    return unit.model


Progress = Callable[[Unit, int, float], None]


def iter_forgetting(config: ForgettingConfig, device: str, on_progress: Progress | None = None,
                    units: Sequence[Unit] | None = None) -> Iterator[RunResult]:
    """Run `units` (default: the whole plan) on `device`; yield a RunResult as each finishes.

    `on_progress(unit, steps_done, train_mse)` is called after every phase. A run that raises
    is a failed run: its record says why in `error` and the others go on (a run whose loss
    stops being finite is recorded as diverged)."""
    x, y = target(config.data)
    x, y = x.to(device), y.to(device)
    yield from run_groups(
        plan(config), units, config, together,
        lambda group, spec, progress: run_group(config, group, spec, x, y, device, progress),
        lambda unit, spec, error: failed_run(config, unit, spec, device, error), on_progress,
    )


def failed_run(config: ForgettingConfig, unit: Unit, spec: Any, device: str, error: str) -> RunResult:
    """The record of a run that raised: who it was and why, no numbers."""
    import torch

    return RunResult(RunRecord.blank(
        model=unit.model, kind=spec.kind, seed=unit.seed, init_seed=derive_seed(unit.seed, "init", "forgetting"),
        device=device, threads=torch.get_num_threads(), phases=config.data.segments,
        steps_per_phase=config.train.steps_per_phase, diverged=False, error=error,
    ))


def run_one(config: ForgettingConfig, unit: Unit, spec: ModelEntry, x: "torch.Tensor", y: "torch.Tensor", device: str,
            on_progress: Callable[[int, float], None] | None = None) -> RunResult:
    """Train one fresh model through every phase; evaluate it on every segment after each."""
    return run_group(config, [unit], spec, x, y, device, on_progress)[0]


def run_group(config: ForgettingConfig, units: Sequence[Unit], spec: ModelEntry, x: "torch.Tensor", y: "torch.Tensor",
              device: str, on_progress: Callable[[int, float], None] | None = None) -> list[RunResult]:
    """Train the seeds of `units` (one model entry) through every phase, as one batched model
    when there are several, and evaluate each seed on every segment after each phase. A seed
    whose loss stops being finite stops there; the others go on."""
    import torch

    from relukan_bench.steps import LBFGSStep
    from relukan_bench.training import prepare, step_for

    init_seeds = [derive_seed(unit.seed, "init", "forgetting") for unit in units]
    group = _Group(config, units, spec, init_seeds, x, y, device)
    with torch.no_grad():
        before = group.predict()
    for s, unit in enumerate(units):
        group.matrix[s] += _matrix_records(unit, 0, _segment_mse(before[s], y, config.data.segments).tolist(), group.matrices[s])
    step = step_for(spec, group.model, config.train, *group.segment(1))
    assert not isinstance(step, LBFGSStep)  # forgetting refuses LBFGS (ForgettingConfig: no_lbfgs)
    compile_seconds = prepare(spec, step)  # compile and CUDA-graph capture, outside the clock
    start = clock(device)
    for phase in range(1, config.data.segments + 1):
        if phase > 1:
            step.set_data(*group.segment(phase))
            if config.train.reset_optimizer:
                step.reset_optimizer()  # else one optimizer across phases (the paper)
        losses = group.phase(phase, step)
        if not group.alive:
            break
        if on_progress is not None:
            on_progress(phase * config.train.steps_per_phase, float(losses[-1, group.alive].median()))
    seconds = (clock(device) - start) / len(units)
    return [RunResult(group.run_record(s, unit, seconds, compile_seconds), group.matrix[s], group.predictions[s],
                      group.curves[s]) for s, unit in enumerate(units)]


class _Group:
    """The seeds of one model entry going through the phases together: their model (batched
    when there are several), data, matrices and records so far (per seed)."""

    def __init__(self, config: ForgettingConfig, units: Sequence[Unit], spec: Any, init_seeds: list[int],
                 x: "torch.Tensor", y: "torch.Tensor", device: str):
        self.config, self.units, self.spec, self.init_seeds, self.x, self.y = config, units, spec, init_seeds, x, y
        self.device, self.count = device, len(units)
        low, high = config.data.domain
        members = [build_model(spec, config.network, (low, high), seed) for seed in init_seeds]
        self.params = count_parameters(members[0])
        if self.count > 1:
            batch = kind_of(spec).batch
            assert batch is not None  # seeds train together only where their kind batches them (seed_groups.batchable)
            self.model = batch(members).to(device)
            self.xs, self.ys = x.expand(self.count, -1, -1), y.expand(self.count, -1, -1)  # every seed sees the same data
        else:
            self.model = members[0].to(device)
            self.xs, self.ys = x, y
        self.matrix: list[list[MatrixRecord]] = [[] for _ in units]
        self.predictions: list[list[PredictionRecord]] = [[] for _ in units]
        self.curves: list[list[CurveRecord]] = [[] for _ in units]
        self.matrices: list[list[list[float]]] = [[] for _ in units]
        self.alive = list(range(self.count))  # the seeds that have not diverged
        self.diverged_phase: list[int | None] = [None] * self.count

    def predict(self) -> "torch.Tensor":
        """Every seed's prediction on every point, (S, N, 1)."""
        return self.model(self.xs) if self.count > 1 else self.model(self.x).unsqueeze(0)

    def segment(self, phase: int) -> tuple["torch.Tensor", "torch.Tensor"]:
        size = self.config.data.points // self.config.data.segments
        part = slice((phase - 1) * size, phase * size)
        return self.xs[..., part, :], self.ys[..., part, :]

    def phase(self, phase: int, step: TrainStep | FusedStep) -> "torch.Tensor":
        """Train one phase; record each living seed's matrix row, predictions and curves;
        return the phase's losses (steps, S) on the CPU."""
        import torch

        steps, segments = self.config.train.steps_per_phase, self.config.data.segments
        losses = torch.empty(steps, self.count, dtype=torch.float64, device=self.x.device)
        logged: list[tuple[int, torch.Tensor]] = []  # (global step, (S, segments) MSE on the device)
        for i in range(steps):
            losses[i] = step().reshape(-1)
            if (i + 1) % self.config.train.log_every == 0 or i + 1 == steps:
                with torch.no_grad():
                    logged.append(((phase - 1) * steps + i + 1, _segment_mse(self.predict(), self.ys, segments)))
        losses = losses.cpu()  # the phase's one read-back from the device
        with torch.no_grad():
            prediction = self.predict()
        per_segment = _segment_mse(prediction, self.ys, segments).tolist()  # (S, segments)
        for s in list(self.alive):
            if not bool(torch.isfinite(losses[:, s]).all()):
                self.diverged_phase[s] = phase
                self.alive.remove(s)
                continue
            self._record(s, phase, per_segment[s], prediction[s, :, 0].tolist(), logged)
        return losses

    def _record(self, s: int, phase: int, per_segment: list[float], predicted: list[float],
                logged: list[tuple[int, "torch.Tensor"]]) -> None:
        unit = self.units[s]
        self.matrix[s] += _matrix_records(unit, phase, per_segment, self.matrices[s])
        self.predictions[s] += [
            PredictionRecord(model=unit.model, seed=unit.seed, phase=phase, index=i, x=xi, y_true=t, y_pred=p)
            for i, (xi, t, p) in enumerate(zip(self.x[:, 0].tolist(), self.y[:, 0].tolist(), predicted))
        ]
        self.curves[s] += [
            CurveRecord(model=unit.model, seed=unit.seed, step=at, phase=phase, segment=j + 1, mse=mse)
            for at, values in logged
            for j, mse in enumerate(values[s].tolist())
        ]

    def run_record(self, s: int, unit: Unit, seconds: float, compile_seconds: float) -> RunRecord:
        import torch

        diverged = self.diverged_phase[s]
        numbers = scores(self.matrices[s]) if diverged is None else Scores(*[math.nan] * 5)
        return RunRecord(
            model=unit.model, kind=self.spec.kind, seed=unit.seed, init_seed=self.init_seeds[s],
            device=self.device, threads=torch.get_num_threads(), phases=self.config.data.segments,
            steps_per_phase=self.config.train.steps_per_phase, phases_done=len(self.matrices[s]) - 1,
            diverged=diverged is not None, diverged_phase=diverged,
            learned_mse=numbers.learned_mse, final_mse=numbers.final_mse, forgetting=numbers.forgetting,
            max_forgetting=numbers.max_forgetting, forgotten_fraction=numbers.forgotten_fraction,
            seconds=seconds, params=self.params, batched=self.count, compile_seconds=compile_seconds,
            error=f"the loss is not finite in phase {diverged}" if diverged is not None else None,
        )


def _matrix_records(unit: Unit, phase: int, per_segment: list[float], matrix: list[list[float]]) -> list[MatrixRecord]:
    """Append the phase's row to `matrix`; return it as matrix.csv's records."""
    matrix.append(per_segment)
    return [
        MatrixRecord(model=unit.model, seed=unit.seed, phase=phase, segment=j + 1, mse=mse)
        for j, mse in enumerate(per_segment)
    ]


def _segment_mse(prediction: "torch.Tensor", y: "torch.Tensor", segments: int) -> "torch.Tensor":
    """float64 MSE of `prediction` (N, 1) on every segment, (segments,); for a batch of
    predictions (S, N, 1), (S, segments). Left on the device."""
    squared = (prediction.double() - y.double()) ** 2
    return squared.reshape(*squared.shape[:-2], segments, -1).mean(dim=-1)

