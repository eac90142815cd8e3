"""Glue between the CLI and the library: config -> experiment -> records -> files.

Data flows one way. `run_speed`, `run_fit` and `run_forgetting` resolve the config (file, `--quick` presets,
CLI options, `key=value` overrides, validation), check every option, and only then create the
run directory; they stream the experiment's records to disk as they come (`raw.csv`; `runs.csv`,
`curves.csv`, `predictions.csv`; `matrix.csv`), then write the derived tables and the figures. Ctrl-C keeps
what finished. Progress goes to a `Reporter` the CLI supplies. `run_reproduce` runs the three
in one directory and writes `REPORT.md` (`relukan_bench.report`).
"""

from __future__ import annotations

import math
import signal
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Protocol, Sequence

from relukan_bench import resources

#: `--quick`: every function and model, a handful of steps, one repeat or seed.
QUICK_OVERRIDES = {
    "speed": ["train.steps=5", "timing.repeats=1", "timing.warmup_steps=1"],
    "fit": ["train.steps=20", "seeds=[0]"],
    "forgetting": ["train.steps_per_phase=10", "seeds=[0]"],
}


class Reporter(Protocol):
    def start(self, total: int) -> None: ...
    def update(self, done: int, current: str) -> None: ...
    def stop(self) -> None: ...


class SilentReporter:
    def start(self, total: int) -> None: ...
    def update(self, done: int, current: str) -> None: ...
    def stop(self) -> None: ...


@dataclass
class Request:
    """What the user asked for, before any validation."""

    config: Path | None = None
    overrides: Sequence[str] = ()
    options: Sequence[str] = ()  # CLI options already turned into key=value overrides
    functions: Sequence[str] | None = None
    models: Sequence[str] | None = None
    out: Path | None = None
    quick: bool = False


@dataclass
class SpeedRun:
    """A finished (or interrupted) speed run, ready to render."""

    run_dir: Path
    config: Any
    summary: list[dict[str, Any]]
    paper: dict[tuple[str, str], float]
    interrupted: bool = False


def resolve_config(request: Request, experiment: str, schema: type) -> Any:
    """The validated config of `request`: file, then `--quick`, options, overrides."""
    from relukan_bench.config import load_config, select

    path = request.config if request.config is not None else resources.default_config(experiment)
    overrides = [*(QUICK_OVERRIDES[experiment] if request.quick else []), *request.options, *request.overrides]
    config = load_config(path, overrides, schema)
    return select(config, functions=request.functions, models=request.models)


def _open_run(experiment: str, request: Request, config: Any, devices: list[str]) -> tuple[Path, dict[str, Any]]:
    """Create the run directory; write the resolved config and the environment into it."""
    from relukan_bench.config import dump_config
    from relukan_bench.env import environment
    from relukan_bench.results import new_run_dir, write_json, write_text

    run_dir = new_run_dir(experiment, request.out)
    write_text(run_dir / "config.yaml", dump_config(config))
    env = environment(config.threads, devices)
    write_json(run_dir / "env.json", env)
    return run_dir, env


def _close_run(run_dir: Path, env: dict[str, Any], interrupted: bool) -> None:
    from relukan_bench.env import utc_now
    from relukan_bench.results import write_json

    env["end_time"] = utc_now()
    env["interrupted"] = interrupted
    write_json(run_dir / "env.json", env)


def run_speed(request: Request, reporter: Reporter | None = None) -> SpeedRun:
    from relukan_bench.config import SpeedConfig
    from relukan_bench.devices import resolve_devices
    from relukan_bench.experiments import speed
    from relukan_bench.results import CsvLog, read_csv, write_csv
    from relukan_bench.timing import threads

    reporter = reporter or SilentReporter()
    config = resolve_config(request, "speed", SpeedConfig)
    devices = resolve_devices(config.device)
    paper = speed.paper_speedups(read_csv(resources.paper_dir() / "speed.csv"), config)
    run_dir, env = _open_run("speed", request, config, devices)  # nothing is created before this line

    raw_log = CsvLog(run_dir / "raw.csv", speed.RAW_COLUMNS)
    units = speed.plan(config, devices)
    records: list[dict[str, Any]] = []
    interrupted = False
    reporter.start(len(units))
    try:
        with threads(config.threads):
            reporter.update(0, _label(units[0]))
            for done, record in enumerate(speed.iter_speed(config, devices), start=1):
                with _interrupts_deferred():  # a row is on disk and in the summary, or neither
                    raw_log.append(record)
                    records.append(record)
                reporter.update(done, _label(units[done]) if done < len(units) else "done")
    except KeyboardInterrupt:
        interrupted = True
    finally:
        reporter.stop()

    summary = speed.summarize(records, config.baseline)
    model_names = [m.name for m in config.models]
    table = speed.paper_table(summary, [f.name for f in config.functions], model_names, paper)
    write_csv(run_dir / "summary.csv", speed.SUMMARY_COLUMNS, summary)
    write_csv(run_dir / "table.csv", speed.table_columns(model_names, config.baseline), table)
    if summary:
        from relukan_bench.plots import plot_speed

        plot_speed(summary, config.baseline, run_dir / "speed.png")
    _close_run(run_dir, env, interrupted)
    return SpeedRun(run_dir, config, summary, paper, interrupted)


@dataclass
class FitRun:
    """A finished (or interrupted) fit run, ready to render."""

    run_dir: Path
    config: Any
    summary: list[dict[str, Any]]
    table: list[dict[str, Any]]
    interrupted: bool = False


def run_fit(request: Request, reporter: Reporter | None = None) -> FitRun:
    from relukan_bench.config import FitConfig
    from relukan_bench.devices import resolve_device
    from relukan_bench.experiments import fit
    from relukan_bench.results import CsvLog, read_csv, write_csv
    from relukan_bench.timing import threads

    reporter = reporter or SilentReporter()
    config = resolve_config(request, "fit", FitConfig)
    device = resolve_device(config.device)
    paper = fit.paper_fits(read_csv(resources.paper_dir() / "fit.csv"), config)
    run_dir, env = _open_run("fit", request, config, [device])  # nothing is created before this line

    logs = {
        "runs": CsvLog(run_dir / "runs.csv", fit.RUN_COLUMNS),
        "curves": CsvLog(run_dir / "curves.csv", fit.CURVE_COLUMNS),
        "predictions": CsvLog(run_dir / "predictions.csv", fit.PREDICTION_COLUMNS),
    }
    units = fit.plan(config)
    steps = config.train.steps
    results: list[Any] = []

    def progress(unit: Any, done: int, loss: float) -> None:
        index = len(results)
        label = f"run {index + 1}/{len(units)}: {unit.function} {unit.model} seed {unit.seed}"
        loss_text = f", train MSE {loss:.2e}" if loss == loss else ""
        reporter.update(index * steps + done, f"{label}, step {done}/{steps}{loss_text}")

    def write(result: Any) -> None:
        logs["curves"].extend(result.curve_rows())
        logs["predictions"].extend(result.predictions)
        logs["runs"].append(result.run)

    reporter.start(len(units) * steps)
    with threads(config.threads):
        interrupted = _collect(fit.iter_fit(config, device, progress), write, results, reporter, steps, len(units),
                               first=lambda: progress(units[0], 0, math.nan))

    runs = [r.run for r in results]
    summary = fit.summarize(runs, config.baseline)
    model_names = [m.name for m in config.models]
    function_names = [f.name for f in config.functions]
    table = fit.paper_table(summary, function_names, model_names, config.baseline, paper)
    write_csv(run_dir / "summary.csv", fit.SUMMARY_COLUMNS, summary)
    write_csv(run_dir / "table.csv", fit.table_columns(model_names, config.baseline), table)
    if results:
        _fit_figures(run_dir, config, results, paper)
    _close_run(run_dir, env, interrupted)
    return FitRun(run_dir, config, summary, table, interrupted)


def _fit_figures(run_dir: Path, config: Any, results: Sequence[Any], paper: dict[str, Any]) -> None:
    """Per function a loss-curve and a fit figure, and one overview of all functions."""
    from relukan_bench import plots
    from relukan_bench.experiments import fit
    from relukan_bench.results import read_csv

    runs = [r.run for r in results]
    bands = fit.curve_bands(results)
    reference = fit.paper_curves(read_csv(resources.paper_dir() / "loss_curves.csv"), paper)
    model_names = [m.name for m in config.models]
    kinds = {m.name: m.kind for m in config.models}
    for function in config.functions:
        mine = {m: bands[(function.name, m)] for m in model_names if (function.name, m) in bands}
        if not mine:
            continue
        theirs = {kind: curve for (name, kind), curve in reference.items() if name == function.name}
        plots.plot_fit_curves(function, mine, theirs, kinds, run_dir / f"curves_{function.name}.png")
        shown = {}
        for model in mine:
            seed = fit.representative_seed(runs, function.name, model)
            match = [r for r in results if (r.run["function"], r.run["model"], r.run["seed"]) == (function.name, model, seed)]
            if match:
                shown[model] = match[0].predictions
        plots.plot_fit_predictions(function, shown, run_dir / f"fit_{function.name}.png")
    plotted = [f for f in config.functions if any((f.name, m) in bands for m in model_names)]
    plots.plot_fit_overview(plotted, bands, model_names, reference, kinds, run_dir / "overview.png")


@dataclass
class ForgettingRun:
    """A finished (or interrupted) forgetting run, ready to render."""

    run_dir: Path
    config: Any
    summary: list[dict[str, Any]]
    zero_mse: float
    interrupted: bool = False


def run_forgetting(request: Request, reporter: Reporter | None = None) -> ForgettingRun:
    from relukan_bench.config import ForgettingConfig
    from relukan_bench.devices import resolve_device
    from relukan_bench.experiments import forgetting
    from relukan_bench.results import CsvLog, write_csv
    from relukan_bench.timing import threads

    reporter = reporter or SilentReporter()
    config = resolve_config(request, "forgetting", ForgettingConfig)
    device = resolve_device(config.device)
    run_dir, env = _open_run("forgetting", request, config, [device])  # nothing is created before this line

    logs = {
        "runs": CsvLog(run_dir / "runs.csv", forgetting.RUN_COLUMNS),
        "matrix": CsvLog(run_dir / "matrix.csv", forgetting.MATRIX_COLUMNS),
        "predictions": CsvLog(run_dir / "predictions.csv", forgetting.PREDICTION_COLUMNS),
        "curves": CsvLog(run_dir / "curves.csv", forgetting.CURVE_COLUMNS),
    }
    units = forgetting.plan(config)
    steps = config.data.segments * config.train.steps_per_phase
    results: list[Any] = []

    def progress(unit: Any, done: int, loss: float) -> None:
        label = f"run {len(results) + 1}/{len(units)}: {unit.model} seed {unit.seed}, step {done}/{steps}"
        reporter.update(len(results) * steps + done, label + (f", train MSE {loss:.2e}" if loss == loss else ""))

    def write(result: Any) -> None:
        logs["matrix"].extend(result.matrix)
        logs["predictions"].extend(result.predictions)
        logs["curves"].extend(result.curves)
        logs["runs"].append(result.run)

    reporter.start(len(units) * steps)
    with threads(config.threads):
        interrupted = _collect(forgetting.iter_forgetting(config, device, progress), write, results, reporter, steps, len(units),
                               first=lambda: progress(units[0], 0, math.nan))

    summary = forgetting.summarize([r.run for r in results])
    write_csv(run_dir / "summary.csv", forgetting.SUMMARY_COLUMNS, summary)
    if results:
        _forgetting_figures(run_dir, config, results)
    _close_run(run_dir, env, interrupted)
    return ForgettingRun(run_dir, config, summary, forgetting.zero_mse(config.data), interrupted)


def _forgetting_figures(run_dir: Path, config: Any, results: Sequence[Any]) -> None:
    """Per model the paper's panel figure; for all models the matrix heatmaps and the curves."""
    from relukan_bench import plots
    from relukan_bench.experiments import forgetting

    x, y = forgetting.target(config.data)
    runs = [r.run for r in results]
    matrix_rows = [row for r in results for row in r.matrix]
    curve_rows = [row for r in results for row in r.curves]
    models = [m.name for m in config.models if any(r["model"] == m.name for r in runs)]
    for model in models:
        shown = forgetting.representative_seed(runs, model)
        predictions: dict[int, dict[int, list[float]]] = {}  # seed -> phase -> y_pred
        for result in results:
            if result.run["model"] == model:
                by_phase = predictions.setdefault(result.run["seed"], {})
                for row in result.predictions:
                    by_phase.setdefault(row["phase"], []).append(row["y_pred"])
        plots.plot_forgetting_panels(model, x[:, 0].tolist(), y[:, 0].tolist(), config.data.segments, predictions, shown,
                                     run_dir / f"panels_{model}.png")
    matrices = {m: forgetting.median_matrix(matrix_rows, m) for m in models}
    plots.plot_forgetting_heatmaps(matrices, run_dir / "heatmap.png")
    curves = {m: forgetting.curve_medians(curve_rows, m) for m in models}
    plots.plot_forgetting_curves(curves, config.train.steps_per_phase, run_dir / "curves.png")


@dataclass
class ReproduceRun:
    """A finished (or interrupted) reproduce run: one run directory per experiment inside it."""

    run_dir: Path
    report: Path
    runs: dict[str, Any]  # experiment -> SpeedRun, FitRun or ForgettingRun (those that started)
    verdicts: list[Any]
    interrupted: bool = False



def run_reproduce(request: Request, reporter: Callable[[str], Reporter] | None = None,
                  announce: Callable[[str, Any], None] | None = None) -> ReproduceRun:
    """`speed`, `fit` and `forgetting` with their default configs (and the request's `--quick`,
    options and overrides) into `<run_dir>/<experiment>/`, then `<run_dir>/REPORT.md`.

    Every config is validated and every device checked before anything is created. After each
    experiment `announce(name, result)` lets the caller show it. Ctrl-C stops the experiment in
    progress (its finished work is kept), skips the rest and still writes the report."""
    from relukan_bench.config import ForgettingConfig, FitConfig, SpeedConfig
    from relukan_bench.devices import resolve_device, resolve_devices
    from relukan_bench.env import environment
    from relukan_bench.report import EXPERIMENTS, write_report
    from relukan_bench.results import new_run_dir, write_json

    schemas = {"speed": SpeedConfig, "fit": FitConfig, "forgetting": ForgettingConfig}
    configs = {name: resolve_config(request, name, schemas[name]) for name in EXPERIMENTS}
    devices = list(dict.fromkeys(
        [*resolve_devices(configs["speed"].device), resolve_device(configs["fit"].device),
         resolve_device(configs["forgetting"].device)]))
    run_dir = new_run_dir("reproduce", request.out)  # nothing is created before this line
    env = environment(configs["speed"].threads, devices)
    env["quick"] = request.quick
    write_json(run_dir / "env.json", env)
    runners = {"speed": run_speed, "fit": run_fit, "forgetting": run_forgetting}
    runs: dict[str, Any] = {}
    interrupted = False
    try:
        for name in EXPERIMENTS:
            part = Request(overrides=request.overrides, options=request.options, out=run_dir / name, quick=request.quick)
            runs[name] = runners[name](part, reporter(name) if reporter else None)
            if announce:
                announce(name, runs[name])
            if runs[name].interrupted:
                interrupted = True
                break
    except KeyboardInterrupt:  # between two experiments
        interrupted = True
    finally:
        with _interrupts_deferred():
            _close_run(run_dir, env, interrupted)
            found = write_report(run_dir)
    return ReproduceRun(run_dir, run_dir / "REPORT.md", runs, found, interrupted)


def _collect(runs: Iterator[Any], write: Callable[[Any], None], results: list[Any], reporter: Reporter, steps: int,
             total: int, first: Callable[[], None]) -> bool:
    """Take each finished run from `runs`, `write` it to disk and add it to `results`, both or
    neither (Ctrl-C waits for them); report progress in steps. Return True when Ctrl-C
    stopped the runs."""
    try:
        first()
        for result in runs:
            with _interrupts_deferred():  # a run is on disk and in the summary, or not at all
                write(result)
                results.append(result)
            reporter.update(len(results) * steps, "done" if len(results) == total else "next run")
    except KeyboardInterrupt:
        return True
    finally:
        reporter.stop()
    return False


@contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Hold Ctrl-C until the block has finished; then raise it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received:
        raise KeyboardInterrupt


def _label(unit: Any) -> str:
    return f"{unit.function} {unit.model} on {unit.device}, repeat {unit.repeat + 1}"
