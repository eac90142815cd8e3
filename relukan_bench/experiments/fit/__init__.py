"""The fitting experiment (docs/paper.md, "Fitting accuracy").

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

    for result in iter_fit(config, "cpu"): ...      # one RunResult per finished run
    summary = summarize([r.run for r in results], baseline="kan")
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

from relukan_bench.experiments.protocol import CompareTable, Experiment, Option, Part, rows_by_unit, seed_list
from relukan_bench.records import Record
from relukan_bench.stats import median

if TYPE_CHECKING:
    from relukan_bench.config import FitConfig

@dataclass
class RunRecord(Record):
    """runs.csv: one training run."""

    function: str
    model: str
    kind: str
    trainer: str
    optimizer: str
    seed: int
    init_seed: int
    device: str
    threads: int
    steps: int
    steps_done: int
    diverged: bool
    diverged_step: int | None
    final_train_mse: float
    final_test_mse: float
    final_test_rmse: float
    final_val_mse: float
    best_test_mse: float
    best_step: int | None
    seconds: float
    params: int | None
    spline_params: int | None
    batched: int
    compile_seconds: float
    error: str | None
    macs: int | None = None
    sized: str | None = None


@dataclass
class CurveRecord(Record):
    """curves.csv: the errors at one logged step of one run."""

    function: str
    model: str
    seed: int
    step: int
    train_mse: float
    test_mse: float
    val_mse: float


@dataclass
class PredictionRecord(Record):
    """predictions.csv: one point of a run's fit (x1 empty for n-D functions)."""

    function: str
    model: str
    seed: int
    index: int
    x1: float | None
    y_true: float
    y_pred: float


@dataclass
class SummaryRecord(Record):
    """summary.csv: the seeds of one (function, model entry). A tuned model's entries are its
    candidates (`tuned_model`, `candidate`); `selected` marks, per function and tuned model,
    the one with the lowest median final validation MSE (an untuned entry is its own choice)."""

    function: str
    model: str
    tuned_model: str
    candidate: str | None
    selected: bool
    kind: str
    trainer: str
    n_seeds: int
    failed: int
    diverged: int
    final_train_mse: float
    final_test_mse: float
    final_test_mse_min: float
    final_test_mse_max: float
    best_test_mse: float
    final_test_rmse: float
    final_val_mse: float
    gain: float
    seconds: float
    params: int | None
    spline_params: int | None
    macs: int | None = None
    sized: str | None = None
    # time to a target (experiments/fit/targets.py): the median first step at which the
    # validation MSE reaches 1e-N (inf: not reached), the seeds that reached it, and that many
    # steps times the median seconds per step (`step_s`, from `step_source`)
    steps_e2: float | None = None
    steps_e3: float | None = None
    steps_e4: float | None = None
    steps_e5: float | None = None
    reached_e2: int | None = None
    reached_e3: int | None = None
    reached_e4: int | None = None
    reached_e5: int | None = None
    step_s: float | None = None
    step_source: str | None = None
    time_e2: float | None = None
    time_e3: float | None = None
    time_e4: float | None = None
    time_e5: float | None = None


#: the tables' columns and types, for the writers and the one reader (results.read_records)
RUN_TYPES, CURVE_TYPES, PREDICTION_TYPES = RunRecord.types(), CurveRecord.types(), PredictionRecord.types()
RUN_COLUMNS, CURVE_COLUMNS, PREDICTION_COLUMNS = list(RUN_TYPES), list(CURVE_TYPES), list(PREDICTION_TYPES)
SUMMARY_COLUMNS = SummaryRecord.columns()

#: Points at which a 1-D function's fitted curve is drawn.
CURVE_POINTS = 201


@dataclass(frozen=True)
class Unit:
    """One training run: a fresh `model` trained on `function` with data and init from `seed`."""

    function: str
    seed: int
    model: str


@dataclass
class RunResult:
    """What one run produced: its RUN_COLUMNS record, its logged curve and its predictions."""

    run: dict[str, Any]
    steps: list[int] = field(default_factory=list)
    train_mse: list[float] = field(default_factory=list)
    test_mse: list[float] = field(default_factory=list)
    predictions: list[dict[str, Any]] = field(default_factory=list)
    val_mse: list[float] = field(default_factory=list)

    def curve_rows(self) -> Iterator[dict[str, Any]]:
        run = self.run
        for step, train, test, val in zip(self.steps, self.train_mse, self.test_mse, self.val_mse):
            yield CurveRecord(function=run["function"], model=run["model"], seed=run["seed"], step=step, train_mse=train,
                              test_mse=test, val_mse=val).row()


def key(row: dict[str, Any]) -> Unit:
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


def trainer(spec: Any) -> str:
    """`loop` (ours, shared by every kind) or `pykan-fit` (pykan's own `fit()`)."""
    return "pykan-fit" if getattr(spec, "pykan_fit", None) is not None else "loop"


def optimizer_used(config: FitConfig, spec: Any) -> str:
    """`adam` or `lbfgs`: the entry's own optimizer, else the config's `train.optimizer`; under
    pykan's `fit()`, its `opt`."""
    from relukan_bench.kinds import optimizer_of

    if trainer(spec) == "pykan-fit":
        return spec.pykan_fit.opt.lower()
    return optimizer_of(spec, config.train.optimizer)


Progress = Callable[[Unit, int, float], None]


def iter_fit(config: FitConfig, device: str, on_progress: Progress | None = None,
             units: Sequence[Unit] | None = None) -> Iterator[RunResult]:
    """Run `units` (default: the whole plan) on `device`; yield a RunResult as each finishes.

    `on_progress(unit, steps_done, train_mse)` is called every few hundred steps. A run that
    raises is a failed run: its record says why in `error` and the others go on (a run whose
    loss stops being finite is recorded as diverged, see `run_one`)."""
    from relukan_bench.data import make_dataset
    from relukan_bench.experiments.seed_groups import run_groups
    from relukan_bench.seeding import derive_seed

    functions = {f.name: f for f in config.functions}
    domain = tuple(config.data.domain)
    data: dict[tuple[str, int], tuple[Any, ...]] = {}

    def dataset(unit: Unit) -> tuple[Any, ...]:
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

    def train(group: list[Unit], spec: Any, progress: Callable[[int, float], None] | None) -> list[RunResult]:
        function = functions[group[0].function]
        if len(group) > 1:
            return run_batched(config, group, spec, function, [dataset(u) for u in group], device, progress)
        return [run_one(config, group[0], spec, function, dataset(group[0]), device, progress)]

    yield from run_groups(plan(config), units, config, together, train,
                          lambda unit, spec, error: failed_run(config, unit, spec, device, error), on_progress)


def failed_run(config: FitConfig, unit: Unit, spec: Any, device: str, error: str) -> RunResult:
    """The record of a run that raised: who it was and why, no numbers."""
    import torch

    from relukan_bench.seeding import derive_seed

    return RunResult(RunRecord.blank(
        function=unit.function, model=unit.model, kind=spec.kind, trainer=trainer(spec),
        optimizer=optimizer_used(config, spec), seed=unit.seed,
        init_seed=derive_seed(unit.seed, "init", unit.function), device=device, threads=torch.get_num_threads(),
        steps=config.train.steps, diverged=False, error=error,
    ))


def run_one(config: FitConfig, unit: Unit, spec: Any, function: Any, data: tuple[Any, ...], device: str,
            on_progress: Callable[[int, float], None] | None = None) -> RunResult:
    """Train one fresh model; measure its curve, final errors and predictions."""
    from relukan_bench.kinds import build_model
    from relukan_bench.models import count_parameters
    from relukan_bench.seeding import derive_seed
    from relukan_bench.timing import clock
    from relukan_bench.training import prepare, step_for, train_logged

    x, y, x_test, y_test, x_val, y_val = data
    steps = config.train.steps
    init_seed = derive_seed(unit.seed, "init", function.name)
    model = build_model(spec, function, tuple(config.data.domain), init_seed).to(device)
    params = count_parameters(model)  # before training: pykan's grid updates do not change it
    step = None if trainer(spec) == "pykan-fit" else step_for(spec, model, config.train, x, y)
    compile_seconds = prepare(spec, step)  # compile and CUDA-graph capture, outside the clock
    start = clock(device)
    error = None
    if trainer(spec) == "pykan-fit":
        curve, error = _pykan_fit_curve(model, spec, data, steps, init_seed, on_progress)
    else:
        curve = train_logged(step, x_test, y_test, steps, on_progress, more=[(x_val, y_val)])
    seconds = clock(device) - start
    return _result(config, unit, spec, function, model, data, curve, error, device=device, init_seed=init_seed, seconds=seconds,
                   params=params, batched=1, compile_seconds=compile_seconds)


def _pykan_fit_curve(model: Any, spec: Any, data: tuple[Any, ...], steps: int, init_seed: int,
                     on_progress: Callable[[int, float], None] | None) -> tuple[Any, str | None]:
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


def run_batched(config: FitConfig, units: Sequence[Unit], spec: Any, function: Any, data: Sequence[tuple[Any, ...]],
                device: str, on_progress: Callable[[int, float], None] | None = None) -> list[RunResult]:
    """Train the seeds of `units` (one function, one ReLU-KAN entry) as one batched model;
    each seed gets the data and initialisation it would get alone (`run_one`)."""
    import torch

    from relukan_bench.kinds import build_model, kind_of
    from relukan_bench.models import count_parameters
    from relukan_bench.seeding import derive_seed
    from relukan_bench.timing import clock
    from relukan_bench.training import mse_each, prepare, step_for, train_logged_batched

    domain = tuple(config.data.domain)
    init_seeds = [derive_seed(unit.seed, "init", function.name) for unit in units]
    members = [build_model(spec, function, domain, seed) for seed in init_seeds]
    params = count_parameters(members[0])
    model = kind_of(spec).batch(members).to(device)
    x, y, x_test, y_test, x_val, y_val = (torch.stack([d[i] for d in data]) for i in range(6))  # (S, B, ..)
    step = step_for(spec, model, config.train, x, y)
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


def _result(config: FitConfig, unit: Unit, spec: Any, function: Any, model: Any, data: tuple[Any, ...], curve: Any,
            error: str | None, *, device: str, init_seed: int, seconds: float, params: int, batched: int,
            compile_seconds: float, finals: tuple[float, float, float] | None = None) -> RunResult:
    """A trained run's record, logged curve and predictions. `finals`: the final train, test
    and validation MSE when the caller measured them (a batched model measures its seeds at
    once, with the arithmetic that logged the curve)."""
    import torch

    from relukan_bench.kinds import kind_of, size_row
    from relukan_bench.training import mse

    steps = config.train.steps
    done = curve.steps_done
    if curve.diverged and error is None:
        error = f"the loss is not finite at step {done}"
    final_train = final_test = final_val = math.nan
    predictions: list[dict[str, Any]] = []
    if not curve.diverged:
        final_train, final_test, final_val = finals or tuple(mse(model, data[i], data[i + 1]) for i in (0, 2, 4))
        predictions = _predictions(model, function, tuple(config.data.domain), data[2], data[3], unit)
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
    ).row()
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


def _predictions(model: Any, function: Any, domain: tuple[float, float], x_test: Any, y_test: Any, unit: Unit) -> list[dict[str, Any]]:
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
        PredictionRecord(function=unit.function, model=unit.model, seed=unit.seed, index=i, x1=xi, y_true=t, y_pred=p).row()
        for i, (xi, t, p) in enumerate(zip(xs, y_true[:, 0].tolist(), y_pred[:, 0].tolist()))
    ]


# ----------------------------------------------------------------------------- statistics
def summarize(runs: Sequence[dict[str, Any]], baseline: str | None,
              origin: Callable[[str], tuple[str, str]] = lambda name: (name, ""),
              tune_seeds: Sequence[int] | None = None) -> list[dict[str, Any]]:
    """One row per (function, model entry), medians across seeds. Diverged runs count in
    `diverged` and as an infinite final error; runs that raised count in `failed` (with the
    diverged ones) and are left out of the numbers. `origin(entry)`: (tuned model, candidate);
    the candidates of a tuned model are chosen among on validation MSE alone
    (relukan_bench.tuning.select), on `tune_seeds` alone when given. gain = the baseline's
    median final test MSE (its selected candidate's, when tuned) / this one's."""
    from relukan_bench.experiments.seed_groups import over_seeds, unbounded as _final
    from relukan_bench.tuning import choice_scores, select

    groups = over_seeds(runs, lambda run: (run["function"], run["model"]))
    summary = []
    for (function, model), group in groups.items():
        rows, some = group.rows, group.first
        finals = [_final(r, "final_test_mse") for r in rows]
        tuned_model, candidate = origin(model)
        summary.append(SummaryRecord.blank(
            function=function, model=model, tuned_model=tuned_model, candidate=candidate or None, selected=False,
            kind=some["kind"], trainer=some["trainer"], n_seeds=len(rows), failed=group.failed,
            diverged=sum(bool(r["diverged"]) for r in rows),
            final_train_mse=median([_final(r, "final_train_mse") for r in rows]),
            final_test_mse=median(finals),
            final_test_mse_min=min(finals, default=math.nan),
            final_test_mse_max=max(finals, default=math.nan),
            best_test_mse=median([r["best_test_mse"] for r in rows if r["best_test_mse"] == r["best_test_mse"]]),
            final_test_rmse=median([_final(r, "final_test_rmse") for r in rows]),
            final_val_mse=median([_final(r, "final_val_mse") for r in rows]),
            seconds=median([r["seconds"] for r in rows]),
            params=rows[0]["params"] if rows else None,
            spline_params=rows[0]["spline_params"] if rows else None,
            macs=some.get("macs"), sized=some.get("sized"),
        ))
    chosen = select(summary, None if tune_seeds is None else choice_scores(runs, tune_seeds))
    base = {r["function"]: r["final_test_mse"] for r in summary
            if r["tuned_model"] == baseline and (r["function"], r["model"]) in chosen}
    for row in summary:
        row["selected"] = (row["function"], row["model"]) in chosen
        row["gain"] = _ratio(base.get(row["function"]), row["final_test_mse"]) if baseline else math.nan
    return summary


def selected_rows(summary: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The summary as the paper's comparison reads it: each model once per function, a tuned
    one by its selected candidate (under the tuned model's name)."""
    return [{**row, "model": row["tuned_model"] or row["model"]} for row in summary if row["selected"] in (True, "True")]


def _ratio(numerator: float | None, denominator: float | None) -> float:
    """numerator / denominator; NaN when either is missing or not a finite positive ratio."""
    if numerator is None or denominator is None or numerator != numerator or denominator != denominator:
        return math.nan
    if math.isinf(numerator) and math.isinf(denominator):
        return math.nan
    if denominator == 0:
        return math.inf if numerator > 0 else math.nan
    return numerator / denominator


def representative_seed(runs: Sequence[dict[str, Any]], function: str, model: str) -> int | None:
    """The seed whose final test MSE is the median of its (function, model) (the lower of the
    two middle ones for an even count); None when every run diverged."""
    from relukan_bench.experiments.seed_groups import representative_seed as median_seed

    return median_seed(runs, "final_test_mse", function=function, model=model)


def curve_bands(results: Sequence[RunResult]) -> dict[tuple[str, str], dict[str, list[float]]]:
    """Per (function, model): at every logged step, the median, minimum and maximum across
    seeds of the train and test MSE. Runs that diverged early count until they stop."""
    by_key: dict[tuple[str, str], list[RunResult]] = defaultdict(list)
    for result in results:
        by_key[(result.run["function"], result.run["model"])].append(result)
    bands = {}
    for key, group in by_key.items():
        columns: dict[int, dict[str, list[float]]] = defaultdict(lambda: {"train": [], "test": []})
        for result in group:
            for step, train, test in zip(result.steps, result.train_mse, result.test_mse):
                columns[step]["train"].append(train)
                columns[step]["test"].append(test)
        steps = sorted(columns)
        band: dict[str, list[float]] = {"step": steps}
        for which in ("train", "test"):
            values = [[v for v in columns[s][which] if math.isfinite(v)] for s in steps]
            band[f"{which}_median"] = [median(v) for v in values]
            band[f"{which}_min"] = [min(v) if v else math.nan for v in values]
            band[f"{which}_max"] = [max(v) if v else math.nan for v in values]
        bands[key] = band
    return bands


# ----------------------------------------------------------------------------- the paper
@dataclass(frozen=True)
class PaperFit:
    """The paper's numbers for one function, each side only where it ran our function."""

    kan_test_mse: float | None
    relukan_test_mse: float | None
    gain: float  # the paper's KAN / ReLU-KAN, both in MSE, as published (even if they ran different targets)
    gain_as_plotted: float  # KAN RMSE / ReLU-KAN MSE: the gap the paper's figures show
    note: str


def paper_fits(paper_rows: Sequence[dict[str, str]], config: FitConfig) -> dict[str, PaperFit]:
    """The paper's final errors (`results/paper/fit.csv`) for the functions of `config` that
    share a name with the paper's. The KAN side counts when our function is what KAN ran (the
    paper's stated function); the ReLU-KAN side when it is what ReLU-KAN ran (`as_run`)."""
    mine = {f.name: f for f in config.functions}
    fits = {}
    for row in paper_rows:
        function = mine.get(row["function"])
        if function is None:
            continue
        kan_ran = (row["expression"], row["width"], row["grid"])
        relukan_ran = (row["relukan_as_run_expression"], row["relukan_as_run_width"], row["relukan_as_run_grid"])
        kan_same = _same(function, *kan_ran, row["k"])
        relukan_same = _same(function, *relukan_ran, row["k"])
        if not (kan_same or relukan_same):
            continue
        notes = []
        if kan_ran != relukan_ran:
            notes.append(f"paper's ReLU-KAN ran {_describe(*relukan_ran)}, its KAN {_describe(*kan_ran)}")
        kan_mse, relukan_mse = float(row["kan_test_final_mse"]), float(row["relukan_test_final_mse"])
        fits[row["function"]] = PaperFit(
            kan_test_mse=kan_mse if kan_same else None,
            relukan_test_mse=relukan_mse if relukan_same else None,
            gain=kan_mse / relukan_mse,
            gain_as_plotted=float(row["kan_test_final_rmse"]) / relukan_mse,
            note="; ".join(notes),
        )
    return fits


def paper_curves(curve_rows: Sequence[dict[str, str]], fits: dict[str, PaperFit]) -> dict[tuple[str, str], dict[str, list[float]]]:
    """The paper's logged curves (`results/paper/loss_curves.csv`) as MSE, keyed by
    (function, kind), for the sides of `fits` that ran our function. KAN's logs are RMSE and
    are squared here."""
    curves: dict[tuple[str, str], dict[str, list[float]]] = {}
    for row in curve_rows:
        fit = fits.get(row["function"])
        if fit is None:
            continue
        step = int(row["iteration"])
        sides = []
        if fit.kan_test_mse is not None:
            sides.append(("kan", float(row["kan_train_rmse"]) ** 2, float(row["kan_test_rmse"]) ** 2))
        if fit.relukan_test_mse is not None:
            sides.append(("relukan", float(row["relukan_train_mse"]), float(row["relukan_test_mse"])))
        for kind, train, test in sides:
            curve = curves.setdefault((row["function"], kind), {"step": [], "train": [], "test": []})
            curve["step"].append(step)
            curve["train"].append(train)
            curve["test"].append(test)
    return curves


def _same(function: Any, expression: str, width: str, grid: str, k: str) -> bool:
    def compact(text: str) -> str:
        return "".join(text.split())

    return (
        compact(function.expression) == compact(expression)
        and function.width == [int(v) for v in width.strip("[]").split(",")]
        and function.grid == int(grid)
        and function.k == int(k)
    )


def _describe(expression: str, width: str, grid: str) -> str:
    return f"{expression} at {width} G{grid}"


#: table.csv's columns as `table_columns` writes them, `{M}` standing for a model's name
TABLE_LAYOUT: dict[str, type] = {
    "function": str, "{M}_test_mse": float, "{M}_gain": float, "paper_kan_test_mse": float,
    "paper_relukan_test_mse": float, "paper_gain": float, "paper_gain_as_plotted": float, "paper_note": str,
}


def table_columns(model_names: Sequence[str], baseline: str | None) -> list[str]:
    """`function`, then per model its test MSE and gain over the baseline, then the paper's
    numbers (`TABLE_LAYOUT`)."""
    gains = [f"{m}_gain" for m in model_names if m != baseline] if baseline else []
    return [
        "function", *[f"{m}_test_mse" for m in model_names], *gains,
        "paper_kan_test_mse", "paper_relukan_test_mse", "paper_gain", "paper_gain_as_plotted", "paper_note",
    ]


def compared(config: FitConfig) -> FitConfig:
    """The config as the comparison reads it: each tuned model as one entry under its own name
    (its first candidate's settings, less what the candidates set), the others as they are."""
    if not config.tuned:
        return config
    entries: dict[str, Any] = {}
    for entry in config.models:
        model, candidate = config.origin(entry.name)
        if model in entries:
            continue
        reset = {key: type(entry).model_fields[key].default for key in ("lr", "optimizer", "lbfgs", "pykan_fit")
                 if candidate and key in type(entry).model_fields}
        entries[model] = entry.model_copy(update={"name": model, **reset})
    return config.model_copy(update={"models": list(entries.values()), "tuned": {}})


def _renamed(result: RunResult, config: FitConfig) -> RunResult:
    """A tuned candidate's result under its tuned model's name (the figures draw the choice)."""
    model = config.origin(result.run["model"])[0]
    if model == result.run["model"]:
        return result
    return replace(result, run={**result.run, "model": model},
                   predictions=[{**p, "model": model} for p in result.predictions])


def paper_table(summary: Sequence[dict[str, Any]], function_names: Sequence[str], model_names: Sequence[str],
                baseline: str | None, paper: dict[str, PaperFit]) -> list[dict[str, Any]]:
    """One row per function: our median final test MSE per model, each model's gain over the
    baseline (baseline MSE / model MSE), and the paper's numbers in MSE beside them."""
    by_key = {(r["function"], r["model"]): r for r in summary}
    table = []
    for function in function_names:
        row: dict[str, Any] = {"function": function}
        for model in model_names:
            found = by_key.get((function, model))
            row[f"{model}_test_mse"] = found["final_test_mse"] if found else None
            if baseline and model != baseline:
                row[f"{model}_gain"] = found["gain"] if found else None
        fit = paper.get(function)
        if fit is not None:
            row.update({
                "paper_kan_test_mse": fit.kan_test_mse,
                "paper_relukan_test_mse": fit.relukan_test_mse,
                "paper_gain": fit.gain,
                "paper_gain_as_plotted": fit.gain_as_plotted,
                "paper_note": fit.note,
            })
        table.append(row)
    return table


# ----------------------------------------------------------------------------- figures
#: Two curves coincide when the median over steps of |log10(a / b)| is at most this (a factor 1.05):
#: relukan-fast on relukan, bspline on kan. Train and test coincide within TRAIN_TEST (a factor 1.26).
SAME_CURVE, TRAIN_TEST = math.log10(1.05), 0.1


def figures(run_dir: Any, config: FitConfig, results: Sequence[RunResult], paper: dict[str, PaperFit],
            summary: Sequence[dict[str, Any]] = ()) -> None:
    """Per function a loss-curve and a fit figure; one overview of all functions; every seed."""
    from relukan_bench import plots, resources
    from relukan_bench.kinds import looks
    from relukan_bench.results import read_csv

    bands = curve_bands(results)
    reference = paper_curves(read_csv(resources.paper_dir() / "loss_curves.csv"), paper)
    named = looks(config.models)
    same = {f.name: coinciding({m: bands[(f.name, m)] for m in named if (f.name, m) in bands}) for f in config.functions}
    ratios = {f.name: final_ratio(summary, f.name, named, config.baseline) for f in config.functions}
    for function in config.functions:
        mine = {m: bands[(function.name, m)] for m in named if (function.name, m) in bands}
        if not mine:
            continue
        theirs = {role: curve for (name, role), curve in reference.items() if name == function.name}
        together = all(_deviation(b["train_median"], b["test_median"]) <= TRAIN_TEST for b in mine.values())
        plots.plot_fit_curves(function, mine, theirs, named, run_dir / f"curves_{function.name}.png", same=same[function.name],
                              panels=("test",) if together else ("train", "test"), ratio=ratios[function.name],
                              note=f"train MSE within a factor {10 ** TRAIN_TEST:.2f} of it, not drawn" if together else "")
        plots.plot_fit_predictions(function, _median_fits(results, function.name, mine), named,
                                   run_dir / f"fit_{function.name}.png", same=same[function.name])
    plotted = [f for f in config.functions if any((f.name, m) in bands for m in named)]
    plots.plot_fit_overview(plotted, bands, named, reference, run_dir / "overview.png", same=same, ratios=ratios)
    plots.plot_fit_seeds(plotted, [r.run for r in results], named, run_dir / "seeds.png")


def _deviation(a: Sequence[float], b: Sequence[float]) -> float:
    """The median over steps of |log10(a / b)| where both are finite and positive; inf when
    nowhere."""
    gaps = [abs(math.log10(x / y)) for x, y in zip(a, b) if 0 < x < math.inf and 0 < y < math.inf]
    return median(gaps) if gaps else math.inf


def coinciding(bands: dict[str, dict[str, list[float]]]) -> dict[str, str]:
    """Each model whose median test curve lies on an earlier model's (within SAME_CURVE) -> that
    model; figures draw it dashed over it and say so."""
    same: dict[str, str] = {}
    for i, (model, band) in enumerate(bands.items()):
        for other, earlier in list(bands.items())[:i]:
            if other not in same and _deviation(band["test_median"], earlier["test_median"]) <= SAME_CURVE:
                same[model] = other
                break
    return same


def final_ratio(summary: Sequence[dict[str, Any]], function: str, named: dict[str, Any], baseline: str | None) -> dict[str, Any] | None:
    """The final test MSE (median over seeds) of the pykan KAN (the baseline when it is one,
    else the first model in the role kan) over that of the first ReLU-KAN; None without both."""
    kan = baseline if baseline in named and named[baseline].role == "kan" else next((m for m, v in named.items() if v.role == "kan"), None)
    relukan = next((m for m, v in named.items() if v.role == "relukan"), None)
    rows = {r["model"]: r for r in summary if r["function"] == function}
    if kan not in rows or relukan not in rows:
        return None
    kan_mse, relukan_mse = rows[kan]["final_test_mse"], rows[relukan]["final_test_mse"]
    return {"kan": kan, "relukan": relukan, "kan_mse": kan_mse, "relukan_mse": relukan_mse, "value": _ratio(kan_mse, relukan_mse)}


def _median_fits(results: Sequence[RunResult], function: str, models: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """Each model's predictions on its representative seed."""
    runs = [r.run for r in results]
    shown = {}
    for model in models:
        seed = representative_seed(runs, function, model)
        match = [r for r in results if (r.run["function"], r.run["model"], r.run["seed"]) == (function, model, seed)]
        if match:
            shown[model] = match[0].predictions
    return shown


# ----------------------------------------------------------------------------- the declaration
class Fit(Experiment):
    name, rank, title = "fit", 1, "Fitting accuracy"
    report = f"{__name__}.report"  # its REPORT.md part: RULE, section, verdict
    claim = "ReLU-KAN is two orders of magnitude more accurate than KAN"
    help = ("Train ReLU-KAN and the original KAN on the paper's six fitting functions and record their errors.\n\n"
            "Writes config.yaml, env.json, runs.csv (one row per training run), curves.csv (train and test MSE per step), "
            "predictions.csv, summary.csv (medians over seeds), table.csv (beside the paper's numbers, all in MSE) and "
            "PNG figures into results/fit/<UTC timestamp>/.")
    quick_help = "Smoke run: every function and model, 20 steps, one seed."
    quick = ("train.steps=20", "seeds=[0]")
    # `reproduce --tuned`: every model again at its own best, chosen on validation (REPORT.md states the claim both ways)
    parts = (Part("fit-tuned", "fit", "fit-tuned", "each model at its best, chosen on validation"),
             Part("fit-peers", "fit", "fit-peers", "ReLU-KAN among the field's KANs, at the same grid and at equal size",
                  flag="peers"),
             Part("fit-peers-tuned", "fit", "fit-peers-tuned", "the field's KANs at equal size, each at its best",
                  flag=("peers", "tuned")))

    @property
    def schema(self) -> type:
        from relukan_bench.config import FitConfig

        return FitConfig

    tables = {"curves": CurveRecord, "predictions": PredictionRecord, "runs": RunRecord}
    summaries = {"summary": SummaryRecord}
    layouts = {"table": TABLE_LAYOUT}
    units_name = "training runs"
    selects = ("functions", "models")
    options = (Option("--seeds", "seeds", "Seeds of data and initialisation, e.g. 0,1,2: one training run per seed.",
                      convert=seed_list),)

    compare_keys = ("function", "model")
    compare_metrics = ("test_mse",)
    higher_is_better = {"test_mse": False}

    @property
    def compare_tables(self) -> tuple[CompareTable, ...]:
        from relukan_bench.experiments.fit import compare as read

        return (
            CompareTable("summary.csv", frozenset({"function", "model", "final_test_mse", "n_seeds"}), read.fit_summary),
            CompareTable("fit.csv", frozenset({"function", "kan_test_final_mse", "relukan_test_final_mse"}), read.paper_fit, paper=True),
            CompareTable("table.csv", frozenset({"function", "paper_gain"}), read.fit_table),
        )

    def comparison_rows(self, summary: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        return selected_rows(summary) if summary and "selected" in summary[0] else list(summary)

    def compare_note(self, metrics: Sequence[str], paper: bool) -> str:
        return "final test MSE, median over seeds (lower is better), compared as ratios on a log scale"

    def paper_keys(self, paper_rows: Sequence[dict[str, str]], config_path: Any) -> set[tuple[str, ...]]:
        from relukan_bench.experiments.fit.compare import paper_keys

        return paper_keys(paper_rows, config_path)

    def context(self, config: FitConfig) -> dict[str, PaperFit]:
        from relukan_bench import resources
        from relukan_bench.results import read_csv

        return paper_fits(read_csv(resources.paper_dir() / "fit.csv"), config)

    def demand(self, config: FitConfig, devices: Sequence[str]) -> Any:
        from relukan_bench.limits import Demand

        from relukan_bench.kinds import kind_of

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

    def plan(self, config: FitConfig, devices: Sequence[str]) -> list[Unit]:
        return plan(config)

    def due(self, config: FitConfig, units: Sequence[Unit], finished: Sequence[RunResult]) -> list[Unit]:
        from relukan_bench.tuning import due

        return due(config, units, [result.run for result in finished])

    def key(self, row: dict[str, Any]) -> Unit:
        return key(row)

    def steps(self, config: FitConfig) -> int:
        return config.train.steps

    def execute(self, config: FitConfig, devices: Sequence[str], units: Sequence[Unit], progress: Any) -> Iterator[RunResult]:
        return iter_fit(config, devices[0], progress, units)

    def tasks(self, config: FitConfig, units: Sequence[Unit]) -> list[list[Unit]]:
        from relukan_bench.experiments.seed_groups import tasks

        return tasks(plan(config), units, config, together)

    def rows(self, result: RunResult) -> dict[str, list[dict[str, Any]]]:
        return {"curves": list(result.curve_rows()), "predictions": result.predictions, "runs": [result.run]}

    def rebuild(self, loaded: dict[str, list[dict[str, Any]]]) -> list[RunResult]:
        return [RunResult(run, steps=[r["step"] for r in rows["curves"]], train_mse=[r["train_mse"] for r in rows["curves"]],
                          test_mse=[r["test_mse"] for r in rows["curves"]], predictions=rows["predictions"],
                          val_mse=[r["val_mse"] for r in rows["curves"]])
                for run, rows in rows_by_unit(loaded, "runs", key)]

    def failure(self, result: RunResult) -> str | None:
        run = result.run
        return f"{run['function']} {run['model']} seed {run['seed']}: {run['error']}" if run.get("error") else None

    def label(self, unit: Unit) -> str:
        return f"{unit.function} {unit.model} seed {unit.seed}"

    def summarize(self, run_dir: Any, config: FitConfig, results: Sequence[RunResult], context: Any) -> dict[str, Any]:
        from relukan_bench.experiments.fit import targets
        from relukan_bench.results import write_csv

        summary = summarize([r.run for r in results], config.baseline, config.origin, config.tune_seeds)
        speed_run, warning = targets.speed_run(config, run_dir)
        targets.summary_columns(results, summary, targets.speed_step_times(config, speed_run))
        chosen = selected_rows(summary)
        shown = compared(config)
        model_names, function_names = [m.name for m in shown.models], [f.name for f in config.functions]
        table = paper_table(chosen, function_names, model_names, config.baseline, context)
        write_csv(run_dir / "summary.csv", SUMMARY_COLUMNS, summary)
        write_csv(run_dir / "table.csv", table_columns(model_names, config.baseline), table)
        return {"summary": chosen, "all": summary, "table": table, "paper": context, "config": shown,
                "warnings": [warning] if warning else []}

    def figures(self, run_dir: Any, config: FitConfig, results: Sequence[RunResult], shown: dict[str, Any]) -> None:
        from relukan_bench import plots

        chosen = {(r["function"], r["tuned_model"] or r["model"]): r["model"] for r in shown["all"] if r["selected"]}
        kept = [_renamed(r, config) for r in results
                if r.steps and chosen.get((r.run["function"], config.origin(r.run["model"])[0])) == r.run["model"]]
        if kept:
            figures(run_dir, shown["config"], kept, shown["paper"], shown["summary"])
        if config.tuned:
            plots.plot_tuning(config.functions, shown["all"], [m.name for m in shown["config"].models],
                              run_dir / "tuning.png")

    def show(self, outcome: Any) -> list[Any]:
        from relukan_bench import render

        shown = outcome.shown
        times = render.target_table(shown["summary"], shown["config"])
        return [render.fit_table(shown["summary"], shown["table"], shown["config"]), *([times] if times else [])]



EXPERIMENT = Fit()
