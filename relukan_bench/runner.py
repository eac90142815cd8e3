"""Glue between the CLI and the library: config -> experiment -> records -> files.

Data flows one way. `run_speed`, `run_fit` and `run_forgetting` resolve the config (file, `--quick` presets,
CLI options, `key=value` overrides, validation), check every option, and only then create the
run directory; they write each unit's records to disk as it finishes (`raw.csv`; `curves.csv`,
`predictions.csv`, `runs.csv`; `matrix.csv`), with the derived tables after every unit and the
figures at the end. Ctrl-C keeps what finished. With `Request.resume` they go on with an
interrupted run instead: the units its logs hold are kept, the others run (`_start`). A unit
that fails is a record with an `error`, and the run goes on. Progress goes to a `Reporter` the
CLI supplies. `run_reproduce` runs the three in one directory and writes `REPORT.md`
(`relukan_bench.report`).
"""

from __future__ import annotations

import json
import math
import signal
import threading
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Protocol, Sequence

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
    resume: Path | None = None  # an interrupted run directory to finish


@dataclass
class SpeedRun:
    """A finished (or interrupted) speed run, ready to render."""

    run_dir: Path
    config: Any
    summary: list[dict[str, Any]]
    paper: dict[tuple[str, str], float]
    interrupted: bool = False
    failed: list[str] = field(default_factory=list)  # "what: why", one per failed unit
    units: tuple[int, int] = (0, 0)  # (finished, planned)
    split: list[dict[str, Any]] = field(default_factory=list)  # speed.decompose's rows


def resolve_config(request: Request, experiment: str, schema: type) -> Any:
    """The validated config of `request`: file, then `--quick`, options, overrides."""
    from relukan_bench.config import load_config, select

    path = request.config if request.config is not None else resources.default_config(experiment)
    overrides = [*(QUICK_OVERRIDES[experiment] if request.quick else []), *request.options, *request.overrides]
    config = load_config(path, overrides, schema)
    return select(config, functions=request.functions, models=request.models)


#: What must not change between the sessions of one run (`--resume`).
SAME_ENVIRONMENT = ("cpu", "gpu", "python", "torch", "pykan", "numpy", "threads")


@dataclass
class _Session:
    """A run directory being written by this process: its config and devices, its environment
    record, its per-unit logs, and the records of the units earlier sessions finished."""

    run_dir: Path
    config: Any
    devices: list[str]
    env: dict[str, Any]
    logs: dict[str, Any]  # table -> CsvLog
    loaded: dict[str, list[dict[str, Any]]]  # table -> records of finished units, as written
    done: set[Any]  # the units finished before this session

    def record(self, rows: dict[str, Iterable[dict[str, Any]]]) -> None:
        """Write one finished unit's rows, table by table in the declared order, so that the
        commit log comes last: until its row is on disk the unit counts as unfinished."""
        for name, log in self.logs.items():
            log.extend(rows.get(name, ()))


def _start(experiment: str, request: Request, schema: type, tables: dict[str, dict[str, type]],
           key: Callable[[dict[str, Any]], Any], devices_of: Callable[[str], list[str]],
           check: Callable[[Any], Any] = lambda config: None) -> _Session:
    """Validate everything, then open the run: a new directory, or with `request.resume` the
    directory of an interrupted run with the same config, environment and columns.

    `tables` are the per-unit logs, `<name>.csv` each, in the order a unit is written; the last
    one commits it (a unit is finished when its row there is on disk). `check(config)` runs
    before anything is written. Nothing is written before every check has passed."""
    from relukan_bench.env import environment
    from relukan_bench.errors import UsageError
    from relukan_bench.results import CsvLog, read_records, remove_temporaries, write_csv

    if request.resume is None:
        config = resolve_config(request, experiment, schema)
        devices = devices_of(config.device)
        check(config)
        run_dir, env = _open_run(experiment, request, config, devices)  # nothing is created before this line
        logs = {name: CsvLog(run_dir / f"{name}.csv", list(types)) for name, types in tables.items()}
        return _Session(run_dir, config, devices, env, logs, {name: [] for name in tables}, set())

    run_dir = Path(request.resume)
    commit = list(tables)[-1]
    config, env = resumed_config(request, experiment, schema, f"{commit}.csv")
    devices = devices_of(config.device)
    check(config)
    try:
        found = {name: read_records(run_dir / f"{name}.csv", types) if (run_dir / f"{name}.csv").exists() else []
                 for name, types in tables.items()}
    except (OSError, ValueError) as exc:
        raise UsageError(f"--resume {run_dir}: cannot read the run ({exc})") from None
    now = environment(config.threads, devices)
    _same_environment(run_dir, env, now)
    done = {key(row) for row in found[commit]}
    # Rows of a unit that a kill cut short before its commit are dropped.
    loaded = {name: [row for row in rows if key(row) in done] for name, rows in found.items()}
    # Every check has passed: from here on the directory is written to.
    remove_temporaries(run_dir)
    for name, rows in loaded.items():
        if len(rows) < len(found[name]):  # records read back write the same bytes
            write_csv(run_dir / f"{name}.csv", list(tables[name]), rows)
    logs = {name: CsvLog(run_dir / f"{name}.csv", list(types), resume=True) for name, types in tables.items()}
    _record_session(run_dir, env, now, units_done=len(done))
    return _Session(run_dir, config, devices, env, logs, loaded, done)


def resumed_config(request: Request, experiment: str, schema: type, log: str) -> tuple[Any, dict[str, Any]]:
    """The config of `request` for finishing the run in `request.resume`, and the run's
    recorded environment: the recorded `config.yaml` (or `request.config`) with the request's
    options and overrides, which must come out the same as the recorded one. UsageError
    otherwise, or when the directory is not a run of `experiment` (`log` is a file every such
    run has)."""
    from relukan_bench.config import differences, load_config
    from relukan_bench.errors import UsageError

    run_dir = Path(request.resume)
    env = _recorded_env(request)
    # Runs record their experiment in env.json; older ones are known by their log.
    kind = env.get("experiment", experiment if (run_dir / log).is_file() else None) if env is not None else None
    if kind != experiment or not (run_dir / "config.yaml").is_file():
        raise UsageError(f"--resume {run_dir}: expected a {experiment} run directory (with config.yaml and env.json)")
    recorded = load_config(run_dir / "config.yaml", [], schema)
    config = resolve_config(replace(request, config=request.config or run_dir / "config.yaml"), experiment, schema)
    changed = differences(recorded, config)
    if changed:
        shown = "; ".join(changed[:3]) + (f"; and {len(changed) - 3} more" if len(changed) > 3 else "")
        raise UsageError(f"--resume {run_dir}: the config differs from the one the run recorded ({shown}); "
                         "resume with the same config, or start a new run")
    return config, env


def _recorded_env(request: Request) -> dict[str, Any] | None:
    """The env.json of the run `request.resume` names, or None where there is none to read.
    UsageError when `--out` is given too."""
    from relukan_bench.errors import UsageError

    if request.out is not None:
        raise UsageError(f"--out {request.out}: a resumed run goes on in its own directory; give --resume or --out")
    try:
        env = json.loads((Path(request.resume) / "env.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return env if isinstance(env, dict) else None


def _same_environment(run_dir: Path, recorded: dict[str, Any], now: dict[str, Any]) -> None:
    from relukan_bench.errors import UsageError

    moved = [f"{name}: {recorded.get(name)} -> {now.get(name)}" for name in SAME_ENVIRONMENT if recorded.get(name) != now.get(name)]
    if moved:
        raise UsageError(f"--resume {run_dir}: the run was recorded in another environment ({'; '.join(moved)}); "
                         "results of two environments are not one run, start a new run")


def _record_session(run_dir: Path, env: dict[str, Any], now: dict[str, Any], **details: Any) -> None:
    """Note in env.json that another session goes on with the run."""
    from relukan_bench.results import write_json

    env.setdefault("resumed", []).append({"start_time": now["start_time"], **details, "git": now["git"], "command": now["command"]})
    env["end_time"] = None
    write_json(run_dir / "env.json", env)


def _open_run(experiment: str, request: Request, config: Any, devices: list[str]) -> tuple[Path, dict[str, Any]]:
    """Create the run directory; write the resolved config and the environment into it."""
    from relukan_bench.config import dump_config
    from relukan_bench.env import environment
    from relukan_bench.results import new_run_dir, write_json, write_text

    run_dir = new_run_dir(experiment, request.out)
    write_text(run_dir / "config.yaml", dump_config(config))
    env = {"experiment": experiment, **environment(config.threads, devices)}
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
    from relukan_bench.devices import ieee_float32, resolve_devices
    from relukan_bench.experiments import speed
    from relukan_bench.results import read_csv, write_csv
    from relukan_bench.timing import threads

    reporter = reporter or SilentReporter()
    paper: dict[tuple[str, str], float] = {}

    def check(config: Any) -> None:
        paper.update(speed.paper_speedups(read_csv(resources.paper_dir() / "speed.csv"), config))

    session = _start("speed", request, SpeedConfig, {"raw": speed.RAW_TYPES}, speed.key, resolve_devices, check)
    config, run_dir = session.config, session.run_dir
    units = speed.plan(config, session.devices)
    todo = [unit for unit in units if unit not in session.done]
    records = list(session.loaded["raw"])
    model_names, function_names = [m.name for m in config.models], [f.name for f in config.functions]
    from relukan_bench.kinds import roles

    model_roles = roles(config.models)

    def tables() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        summary = speed.summarize(records, config.baseline)
        write_csv(run_dir / "summary.csv", speed.SUMMARY_COLUMNS, summary)
        write_csv(run_dir / "table.csv", speed.table_columns(model_names, config.baseline),
                  speed.paper_table(summary, function_names, model_names, paper))
        split = speed.decompose(summary, model_roles, config.baseline)
        if split:
            write_csv(run_dir / "decomposition.csv", speed.DECOMPOSITION_COLUMNS, split)
        return summary, split

    def write(record: dict[str, Any]) -> None:
        session.record({"raw": [record]})
        records.append(record)
        tables()

    def label(done: int) -> str:
        return _label(todo[done]) if done < len(todo) else "done"

    with threads(config.threads), ieee_float32():
        interrupted = _collect(speed.iter_speed(config, session.devices, todo), write, reporter, 1, len(units),
                               len(units) - len(todo), label)
    summary, split = tables()
    if any(not r.get("error") for r in records):
        from relukan_bench.plots import plot_speed

        plot_speed(summary, config.baseline, run_dir / "speed.png")
    _close_run(run_dir, session.env, interrupted)
    failed = [f"{r['function']} {r['model']} on {r['device']}, repeat {r['repeat'] + 1}: {r['error']}" for r in records if r.get("error")]
    return SpeedRun(run_dir, config, summary, paper, interrupted, failed, (len(records), len(units)), split)


@dataclass
class FitRun:
    """A finished (or interrupted) fit run, ready to render."""

    run_dir: Path
    config: Any
    summary: list[dict[str, Any]]
    table: list[dict[str, Any]]
    interrupted: bool = False
    failed: list[str] = field(default_factory=list)
    units: tuple[int, int] = (0, 0)


def run_fit(request: Request, reporter: Reporter | None = None) -> FitRun:
    from relukan_bench.config import FitConfig
    from relukan_bench.devices import ieee_float32, resolve_device
    from relukan_bench.experiments import fit
    from relukan_bench.results import read_csv, write_csv
    from relukan_bench.timing import threads

    reporter = reporter or SilentReporter()
    paper: dict[str, Any] = {}

    def check(config: Any) -> None:
        paper.update(fit.paper_fits(read_csv(resources.paper_dir() / "fit.csv"), config))

    tables = {"curves": fit.CURVE_TYPES, "predictions": fit.PREDICTION_TYPES, "runs": fit.RUN_TYPES}
    session = _start("fit", request, FitConfig, tables, fit.key, lambda choice: [resolve_device(choice)], check)
    config, run_dir, device = session.config, session.run_dir, session.devices[0]
    units = fit.plan(config)
    todo = [unit for unit in units if unit not in session.done]
    results = _rebuild(session.loaded, "runs", fit.key, lambda run, rows: fit.RunResult(
        run, steps=[r["step"] for r in rows["curves"]], train_mse=[r["train_mse"] for r in rows["curves"]],
        test_mse=[r["test_mse"] for r in rows["curves"]], predictions=rows["predictions"]))
    steps = config.train.steps
    model_names, function_names = [m.name for m in config.models], [f.name for f in config.functions]

    def summarise() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        summary = fit.summarize([r.run for r in results], config.baseline)
        table = fit.paper_table(summary, function_names, model_names, config.baseline, paper)
        write_csv(run_dir / "summary.csv", fit.SUMMARY_COLUMNS, summary)
        write_csv(run_dir / "table.csv", fit.table_columns(model_names, config.baseline), table)
        return summary, table

    def progress(unit: Any, done: int, loss: float) -> None:
        index = len(results)
        label = f"run {index + 1}/{len(units)}: {unit.function} {unit.model} seed {unit.seed}"
        loss_text = f", train MSE {loss:.2e}" if loss == loss else ""
        reporter.update(index * steps + done, f"{label}, step {done}/{steps}{loss_text}")

    def write(result: Any) -> None:
        session.record({"curves": result.curve_rows(), "predictions": result.predictions, "runs": [result.run]})
        results.append(result)
        summarise()

    with threads(config.threads), ieee_float32():
        interrupted = _collect(fit.iter_fit(config, device, progress, todo), write, reporter, steps, len(units),
                               len(units) - len(todo), first=lambda: todo and progress(todo[0], 0, math.nan))

    summary, table = summarise()
    if any(r.steps for r in results):
        _fit_figures(run_dir, config, [r for r in results if r.steps], paper)
    _close_run(run_dir, session.env, interrupted)
    failed = [f"{r.run['function']} {r.run['model']} seed {r.run['seed']}: {r.run['error']}" for r in results if r.run.get("error")]
    return FitRun(run_dir, config, summary, table, interrupted, failed, (len(results), len(units)))


def _rebuild(loaded: dict[str, list[dict[str, Any]]], commit: str, key: Callable[[dict[str, Any]], Any],
             make: Callable[[dict[str, Any], dict[str, list[dict[str, Any]]]], Any]) -> list[Any]:
    """The results of the units earlier sessions finished, from their logs: `make(run, rows)`
    with `rows` the unit's rows of every other log."""
    others = [name for name in loaded if name != commit]
    by_unit: dict[Any, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: {name: [] for name in others})
    for name in others:
        for row in loaded[name]:
            by_unit[key(row)][name].append(row)
    return [make(run, by_unit[key(run)]) for run in loaded[commit]]


def _fit_figures(run_dir: Path, config: Any, results: Sequence[Any], paper: dict[str, Any]) -> None:
    """Per function a loss-curve and a fit figure, and one overview of all functions."""
    from relukan_bench import plots
    from relukan_bench.experiments import fit
    from relukan_bench.kinds import kind_of
    from relukan_bench.results import read_csv

    runs = [r.run for r in results]
    bands = fit.curve_bands(results)
    reference = fit.paper_curves(read_csv(resources.paper_dir() / "loss_curves.csv"), paper)
    model_names = [m.name for m in config.models]
    looks = {m.name: kind_of(m) for m in config.models}
    for function in config.functions:
        mine = {m: bands[(function.name, m)] for m in model_names if (function.name, m) in bands}
        if not mine:
            continue
        theirs = {kind: curve for (name, kind), curve in reference.items() if name == function.name}
        plots.plot_fit_curves(function, mine, theirs, looks, run_dir / f"curves_{function.name}.png")
        shown = {}
        for model in mine:
            seed = fit.representative_seed(runs, function.name, model)
            match = [r for r in results if (r.run["function"], r.run["model"], r.run["seed"]) == (function.name, model, seed)]
            if match:
                shown[model] = match[0].predictions
        plots.plot_fit_predictions(function, shown, run_dir / f"fit_{function.name}.png")
    plotted = [f for f in config.functions if any((f.name, m) in bands for m in model_names)]
    plots.plot_fit_overview(plotted, bands, model_names, reference, looks, run_dir / "overview.png")


@dataclass
class ForgettingRun:
    """A finished (or interrupted) forgetting run, ready to render."""

    run_dir: Path
    config: Any
    summary: list[dict[str, Any]]
    zero_mse: float
    interrupted: bool = False
    failed: list[str] = field(default_factory=list)
    units: tuple[int, int] = (0, 0)


def run_forgetting(request: Request, reporter: Reporter | None = None) -> ForgettingRun:
    from relukan_bench.config import ForgettingConfig
    from relukan_bench.devices import ieee_float32, resolve_device
    from relukan_bench.experiments import forgetting
    from relukan_bench.results import write_csv
    from relukan_bench.timing import threads

    reporter = reporter or SilentReporter()
    tables = {"matrix": forgetting.MATRIX_TYPES, "predictions": forgetting.PREDICTION_TYPES,
              "curves": forgetting.CURVE_TYPES, "runs": forgetting.RUN_TYPES}
    session = _start("forgetting", request, ForgettingConfig, tables, forgetting.key, lambda choice: [resolve_device(choice)])
    config, run_dir, device = session.config, session.run_dir, session.devices[0]
    units = forgetting.plan(config)
    todo = [unit for unit in units if unit not in session.done]
    results = _rebuild(session.loaded, "runs", forgetting.key, lambda run, rows: forgetting.RunResult(
        run, matrix=rows["matrix"], predictions=rows["predictions"], curves=rows["curves"]))
    steps = config.data.segments * config.train.steps_per_phase

    def summarise() -> list[dict[str, Any]]:
        summary = forgetting.summarize([r.run for r in results])
        write_csv(run_dir / "summary.csv", forgetting.SUMMARY_COLUMNS, summary)
        return summary

    def progress(unit: Any, done: int, loss: float) -> None:
        label = f"run {len(results) + 1}/{len(units)}: {unit.model} seed {unit.seed}, step {done}/{steps}"
        reporter.update(len(results) * steps + done, label + (f", train MSE {loss:.2e}" if loss == loss else ""))

    def write(result: Any) -> None:
        session.record({"matrix": result.matrix, "predictions": result.predictions, "curves": result.curves,
                        "runs": [result.run]})
        results.append(result)
        summarise()

    with threads(config.threads), ieee_float32():
        interrupted = _collect(forgetting.iter_forgetting(config, device, progress, todo), write, reporter, steps,
                               len(units), len(units) - len(todo), first=lambda: todo and progress(todo[0], 0, math.nan))

    summary = summarise()
    if any(r.matrix for r in results):
        _forgetting_figures(run_dir, config, [r for r in results if r.matrix])
    _close_run(run_dir, session.env, interrupted)
    failed = [f"{r.run['model']} seed {r.run['seed']}: {r.run['error']}" for r in results if r.run.get("error")]
    return ForgettingRun(run_dir, config, summary, forgetting.zero_mse(config.data), interrupted, failed,
                         (len(results), len(units)))


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
    from relukan_bench.errors import UsageError
    from relukan_bench.report import EXPERIMENTS, write_report
    from relukan_bench.results import new_run_dir, remove_temporaries, write_json

    schemas = {"speed": SpeedConfig, "fit": FitConfig, "forgetting": ForgettingConfig}
    logs = {"speed": "raw.csv", "fit": "runs.csv", "forgetting": "runs.csv"}
    recorded: dict[str, Any] | None = None
    quick = request.quick
    if request.resume is not None:
        run_dir = Path(request.resume)
        recorded = _recorded_env(request)
        if recorded is None or "quick" not in recorded:
            raise UsageError(f"--resume {run_dir}: expected a reproduce run directory (with env.json)")
        if request.quick and not recorded["quick"]:
            raise UsageError(f"--resume {run_dir}: --quick, but the run was a full one; resume without --quick")
        quick = bool(recorded["quick"])
    parts = {}
    for name in EXPERIMENTS:
        part = Request(overrides=request.overrides, options=request.options, quick=quick)
        if request.resume is not None:
            begun = (Path(request.resume) / name / "config.yaml").is_file()
            part = replace(part, resume=Path(request.resume) / name) if begun else replace(part, out=Path(request.resume) / name)
        parts[name] = part
    configs = {name: resumed_config(part, name, schemas[name], logs[name])[0] if part.resume else resolve_config(part, name, schemas[name])
               for name, part in parts.items()}
    devices = list(dict.fromkeys(
        [*resolve_devices(configs["speed"].device), resolve_device(configs["fit"].device),
         resolve_device(configs["forgetting"].device)]))
    env = {"experiment": "reproduce", **environment(configs["speed"].threads, devices)}
    if recorded is None:
        run_dir = new_run_dir("reproduce", request.out)  # nothing is created before this line
        env["quick"] = quick
        write_json(run_dir / "env.json", env)
        for name in EXPERIMENTS:
            parts[name] = replace(parts[name], out=run_dir / name)
    else:
        _same_environment(run_dir, recorded, env)
        for name, part in parts.items():  # an experiment killed before it wrote its config starts afresh
            if part.out is not None and part.out.is_dir():
                remove_temporaries(part.out)
        _record_session(run_dir, recorded, env)
        env = recorded
    runners = {"speed": run_speed, "fit": run_fit, "forgetting": run_forgetting}
    runs: dict[str, Any] = {}
    interrupted = False
    try:
        for name in EXPERIMENTS:
            runs[name] = runners[name](parts[name], reporter(name) if reporter else None)
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


def _collect(runs: Iterator[Any], write: Callable[[Any], None], reporter: Reporter, steps: int, total: int,
             already: int, label: Callable[[int], str] | None = None, first: Callable[[], Any] | None = None) -> bool:
    """Take each finished unit from `runs` and `write` it (to disk and to the results: both or
    neither, Ctrl-C waits); report progress in steps, `already` of `total` units done before,
    with `label(units done now)` as the description ("next run", then "done", by default).
    Return True when Ctrl-C stopped the runs."""
    label = label or (lambda done: "done" if already + done == total else "next run")
    done = 0
    reporter.start(total * steps)
    try:
        reporter.update(already * steps, label(0))
        if first is not None:
            first()
        for result in runs:
            with _interrupts_deferred():  # a unit is on disk and in the summary, or not at all
                write(result)
            done += 1
            reporter.update((already + done) * steps, label(done))
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
