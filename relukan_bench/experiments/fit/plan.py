"""The fit experiment's units and their execution: `plan` (every function, model and seed, in
the order they run), `iter_fit` (some units run, a result as each finishes), `run_one` (one fresh
model trained and measured), `run_batched` (a ReLU-KAN's seeds trained at once, as one batched
model) and the record of a run that raised.

    for result in iter_fit(config, "cpu"): ...      # one RunResult per finished run
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping, Protocol, Sequence, cast

from relukan_bench.experiments.fit.records import PredictionRecord, RunRecord, RunResult
from relukan_bench.experiments.seed_groups import StepProgress, run_groups
from relukan_bench.kinds import build_model, kind_of, optimizer_of, size_row
from relukan_bench.models import count_parameters
from relukan_bench.seeding import derive_seed
from relukan_bench.timing import clock

if TYPE_CHECKING:
    import torch
    from torch import nn

    from relukan_bench.config import FunctionSpec
    from relukan_bench.experiments.fit.config import FitConfig
    from relukan_bench.schema import ModelEntry
    from relukan_bench.training import Curve

    #: a unit's data: (x, y, x_test, y_test, x_val, y_val)
    Data = tuple[torch.Tensor, ...]


#: Points at which a 1-D function's fitted curve is drawn.
CURVE_POINTS = 201


@dataclass(frozen=True)
class Unit:
    """One training run: a fresh `model` trained on `function` with data and init from `seed`."""

    function: str
    seed: int
    model: str


def key(row: Mapping[str, Any]) -> Unit:
    """The unit a row of runs.csv, curves.csv or predictions.csv belongs to."""
    return Unit(row["function"], int(row["seed"]), row["model"])


def plan(config: FitConfig) -> list[Unit]:
    """Every run, in the order it runs: per function and model, the seeds one after another
    (so that a model's seeds can train together)."""
    return [
        Unit(function.name, seed, model.name)
        for function in config.functions
        for model in config.models
        for seed in config.seeds
    ]


def together(unit: Unit) -> tuple[str, str]:
    """What units must share to train at once (as one batched model): function and model."""
    return unit.function, unit.model


def trainer(spec: ModelEntry) -> str:
    """`loop` (ours, shared by every kind) or `pykan-fit` (pykan's own `fit()`)."""
    return "pykan-fit" if getattr(spec, "pykan_fit", None) is not None else "loop"


def optimizer_used(config: FitConfig, spec: Any) -> str:
    """`adam` or `lbfgs`: the entry's own optimizer, else the config's `train.optimizer`; under
    pykan's `fit()`, its `opt`."""
    if trainer(spec) == "pykan-fit":
        return spec.pykan_fit.opt.lower()
    return optimizer_of(spec, config.train.optimizer)


Progress = Callable[[Unit, int, float], None]


class Batched(Protocol):
    """What `run_batched` uses of a kind's batched model (kinds.ModelKind.batch: a module
    whose `unbatch()` gives back one model per seed)."""

    def __call__(self, x: torch.Tensor) -> torch.Tensor: ...

    def unbatch(self) -> list[nn.Module]: ...


def _domain(config: FitConfig) -> tuple[float, float]:
    """The data's input domain (schema.Domain: [low, high], two floats) as a pair."""
    low, high = config.data.domain
    return low, high


def iter_fit(config: FitConfig, device: str, on_progress: Progress | None = None,
             units: Sequence[Unit] | None = None) -> Iterator[RunResult]:
    """Run `units` (default: the whole plan) on `device`; yield a RunResult as each finishes.

    `on_progress(unit, steps_done, train_mse)` is called every few hundred steps. A run that
    raises is a failed run: its record says why in `error` and the others go on (a run whose
    loss stops being finite is recorded as diverged, see `run_one`)."""
    from relukan_bench.data import make_dataset

    functions = {f.name: f for f in config.functions}
    domain = _domain(config)
    data: dict[tuple[str, int], Data] = {}

    def dataset(unit: Unit) -> Data:
        if (unit.function, unit.seed) not in data:
            if any(f != unit.function for f, _ in data):
                data.clear()  # one function's data alive at a time
            function = functions[unit.function]
            x, y = make_dataset(function, config.data.train_samples, domain, derive_seed(unit.seed, "train", function.name))
            x_test, y_test = make_dataset(function, config.data.test_samples, domain, derive_seed(unit.seed, "test", function.name))
            x_val, y_val = make_dataset(function, config.data.validation_samples, domain,
                                        derive_seed(unit.seed, "validation", function.name))
            data[(unit.function, unit.seed)] = tuple(t.to(device) for t in (x, y, x_test, y_test, x_val, y_val))
        return data[(unit.function, unit.seed)]

    def train(group: list[Unit], spec: ModelEntry, progress: StepProgress | None) -> list[RunResult]:
        function = functions[group[0].function]
        if len(group) > 1:
            return run_batched(config, group, spec, function, [dataset(u) for u in group], device, progress)
        return [run_one(config, group[0], spec, function, dataset(group[0]), device, progress)]

    yield from run_groups(plan(config), units, config, together, train,
                          lambda unit, spec, error: failed_run(config, unit, spec, device, error), on_progress)


def failed_run(config: FitConfig, unit: Unit, spec: Any, device: str, error: str) -> RunResult:
    """The record of a run that raised: who it was and why, no numbers."""
    import torch

    return RunResult(RunRecord.blank(
        function=unit.function, model=unit.model, kind=spec.kind, trainer=trainer(spec),
        optimizer=optimizer_used(config, spec), seed=unit.seed,
        init_seed=derive_seed(unit.seed, "init", unit.function), device=device, threads=torch.get_num_threads(),
        steps=config.train.steps, diverged=False, error=error,
    ))


def run_one(config: FitConfig, unit: Unit, spec: ModelEntry, function: FunctionSpec, data: Data, device: str,
            on_progress: StepProgress | None = None) -> RunResult:
    """Train one fresh model; measure its curve, final errors and predictions."""
    from relukan_bench.training import prepare, step_for, train_logged

    x, y, x_test, y_test, x_val, y_val = data
    steps = config.train.steps
    init_seed = derive_seed(unit.seed, "init", function.name)
    model = build_model(spec, function, _domain(config), init_seed).to(device)
    params = count_parameters(model)  # before training: pykan's grid updates do not change it
    step = None if trainer(spec) == "pykan-fit" else step_for(spec, model, config.train, x, y)
    compile_seconds = prepare(spec, step)  # compile and CUDA-graph capture, outside the clock
    start = clock(device)
    error = None
    if step is None:  # pykan's fit()
        curve, error = _pykan_fit_curve(model, spec, data, steps, init_seed, on_progress)
    else:
        curve = train_logged(step, x_test, y_test, steps, on_progress, more=[(x_val, y_val)])
    seconds = clock(device) - start
    return _result(config, unit, spec, function, model, data, curve, error, device=device, init_seed=init_seed, seconds=seconds,
                   params=params, batched=1, compile_seconds=compile_seconds)


def _pykan_fit_curve(model: Any, spec: Any, data: Data, steps: int, init_seed: int,
                     on_progress: StepProgress | None) -> tuple[Curve, str | None]:
    """Train by pykan's own `fit()`: the (train, test, validation) MSE of every step, and an
    error when pykan raised on a diverged model. pykan logs train and test; the validation MSE
    of step i is measured when pykan's loop begins step i + 1 (`monitor`), the last one after
    `fit()` returns."""
    import torch

    from relukan_bench.training import CHUNK, Curve, mse, truncate_at_divergence

    x, y, x_test, y_test, x_val, y_val = data
    parameters = [p for p in model.parameters() if p.requires_grad]
    validation: list[float] = []

    def monitor(done: int) -> bool:  # called before every step after the first
        validation.append(mse(model, x_val, y_val))
        if on_progress is not None and done % CHUNK == 0:
            on_progress(done, mse(model, x, y))
        return bool(torch.stack([p.isfinite().all() for p in parameters]).all())

    try:
        logged = model.pykan_fit(x, y, x_test, y_test, steps, spec.pykan_fit.model_dump(), seed=init_seed, monitor=monitor)
    except Exception as exc:  # pykan has no guard: a NaN reaching its grid update fails in lstsq
        if all(bool(p.isfinite().all()) for p in parameters):
            raise  # not a divergence: a failed run (see iter_fit)
        unknown = torch.full((max(model.steps_seen, 1), 3), math.nan, dtype=torch.float64)  # its log is lost
        return Curve(unknown, diverged=True), f"pykan fit() failed: {exc.__class__.__name__}: {exc}".splitlines()[0]
    validation = (validation + [mse(model, x_val, y_val)])[: logged.shape[0]]
    column = torch.tensor(validation + [math.nan] * (logged.shape[0] - len(validation)), dtype=torch.float64)
    return truncate_at_divergence(torch.cat([logged, column[:, None]], dim=1)), None


def run_batched(config: FitConfig, units: Sequence[Unit], spec: ModelEntry, function: FunctionSpec, data: Sequence[Data],
                device: str, on_progress: StepProgress | None = None) -> list[RunResult]:
    """Train the seeds of `units` (one function, one ReLU-KAN entry) as one batched model;
    each seed gets the data and initialisation it would get alone (`run_one`)."""
    import torch

    from relukan_bench.steps import LBFGSStep, mse_each
    from relukan_bench.training import prepare, step_for, train_logged_batched

    domain = _domain(config)
    init_seeds = [derive_seed(unit.seed, "init", function.name) for unit in units]
    members = [build_model(spec, function, domain, seed) for seed in init_seeds]
    params = count_parameters(members[0])
    batch = kind_of(spec).batch
    assert batch is not None  # only a batchable entry's seeds train together (seed_groups.batchable)
    module = batch(members).to(device)
    model = cast("Batched", module)  # what kinds.ModelKind.batch returns, though it is annotated nn.Module
    x, y, x_test, y_test, x_val, y_val = (torch.stack([d[i] for d in data]) for i in range(6))  # (S, B, ..)
    step = step_for(spec, module, config.train, x, y)
    assert not isinstance(step, LBFGSStep)  # LBFGS entries train seed by seed (seed_groups.batchable)
    compile_seconds = prepare(spec, step)  # compile and CUDA-graph capture, outside the clock
    start = clock(device)
    curves = train_logged_batched(step, x_test, y_test, config.train.steps, on_progress, more=[(x_val, y_val)])
    share = (clock(device) - start) / len(units)
    with torch.no_grad():
        finals = torch.stack([mse_each(model(x), y), mse_each(model(x_test), y_test), mse_each(model(x_val), y_val)],
                             dim=1).tolist()  # (S, 3)
    trained = model.unbatch()
    return [
        _result(config, unit, spec, function, alone, alone_data, curve, None, device=device, init_seed=seed, seconds=share,
                params=params, batched=len(units), compile_seconds=compile_seconds, finals=tuple(final))
        for unit, alone, alone_data, curve, seed, final in zip(units, trained, data, curves, init_seeds, finals)
    ]


def _result(config: FitConfig, unit: Unit, spec: Any, function: FunctionSpec, model: nn.Module, data: Data, curve: Curve,
            error: str | None, *, device: str, init_seed: int, seconds: float, params: int, batched: int,
            compile_seconds: float, finals: tuple[float, float, float] | None = None) -> RunResult:
    """A trained run's record, logged curve and predictions. `finals`: the final train, test
    and validation MSE when the caller measured them (a batched model measures its seeds at
    once, with the arithmetic that logged the curve)."""
    import torch

    from relukan_bench.training import mse

    steps = config.train.steps
    done = curve.steps_done
    if curve.diverged and error is None:
        error = f"the loss is not finite at step {done}"
    final_train = final_test = final_val = math.nan
    predictions: list[PredictionRecord] = []
    if not curve.diverged:
        final_train, final_test, final_val = finals or tuple(mse(model, data[i], data[i + 1]) for i in (0, 2, 4))
        predictions = _predictions(model, function, _domain(config), data[2], data[3], unit)
    test = curve.losses[:, 1]
    finite = torch.isfinite(test)
    best_index = int(torch.where(finite, test, torch.inf).argmin()) if bool(finite.any()) else None
    run = RunRecord(
        function=unit.function,
        model=unit.model,
        kind=spec.kind,
        trainer=trainer(spec),
        optimizer=optimizer_used(config, spec),
        seed=unit.seed,
        init_seed=init_seed,
        device=device,
        threads=torch.get_num_threads(),
        steps=steps,
        steps_done=done,
        diverged=curve.diverged,
        diverged_step=done if curve.diverged else None,
        final_train_mse=final_train,
        final_test_mse=final_test,
        final_test_rmse=math.sqrt(final_test) if final_test == final_test else math.nan,
        final_val_mse=final_val,
        best_test_mse=float(test[best_index]) if best_index is not None else math.nan,
        best_step=best_index + 1 if best_index is not None else None,
        seconds=seconds,
        params=params,
        spline_params=kind_of(spec).spline_params(model),
        batched=batched,
        compile_seconds=compile_seconds,
        error=error,
        **size_row(spec, function),
    )
    logged = [i for i in range(done) if (i + 1) % config.train.log_every == 0 or i + 1 in (steps, done)]
    losses = curve.losses.tolist()
    return RunResult(
        run,
        steps=[i + 1 for i in logged],
        train_mse=[losses[i][0] for i in logged],
        test_mse=[losses[i][1] for i in logged],
        predictions=predictions,
        val_mse=[losses[i][2] for i in logged],
    )


def _predictions(model: nn.Module, function: FunctionSpec, domain: tuple[float, float], x_test: torch.Tensor,
                 y_test: torch.Tensor, unit: Unit) -> list[PredictionRecord]:
    """1-D: the fitted curve at CURVE_POINTS points over the domain. n-D: the test set."""
    import torch

    if function.width[0] == 1:
        x = torch.linspace(domain[0], domain[1], CURVE_POINTS, device=x_test.device).unsqueeze(1)  # (P, 1)
        y_true = function.target()(x.double()).float()
    else:
        x, y_true = x_test, y_test
    with torch.no_grad():
        y_pred = model(x)
    xs = x[:, 0].tolist() if function.width[0] == 1 else [None] * len(x)
    return [
        PredictionRecord(function=unit.function, model=unit.model, seed=unit.seed, index=i, x1=xi, y_true=t, y_pred=p)
        for i, (xi, t, p) in enumerate(zip(xs, y_true[:, 0].tolist(), y_pred[:, 0].tolist()))
    ]
