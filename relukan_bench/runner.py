"""Glue between the CLI and the library: config -> experiment -> records -> files.

Data flows one way. `run_speed` resolves the config (file, `--quick` presets, CLI options,
`key=value` overrides, validation), checks every option, and only then creates the run
directory; it streams the experiment's records into `raw.csv` as they come, then writes the
derived tables and the figure. Progress goes to a `Reporter` the CLI supplies.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Protocol, Sequence

from relukan_bench import resources

#: `--quick`: every function and model, a handful of steps, one repeat.
QUICK_OVERRIDES = {
    "speed": ["train.steps=5", "timing.repeats=1", "timing.warmup_steps=1"],
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


def run_speed(request: Request, reporter: Reporter | None = None) -> SpeedRun:
    from relukan_bench.config import SpeedConfig, dump_config
    from relukan_bench.devices import resolve_devices
    from relukan_bench.env import environment, utc_now
    from relukan_bench.experiments import speed
    from relukan_bench.results import CsvLog, new_run_dir, read_csv, write_csv, write_json, write_text
    from relukan_bench.timing import threads

    reporter = reporter or SilentReporter()
    config = resolve_config(request, "speed", SpeedConfig)
    devices = resolve_devices(config.device)
    paper = speed.paper_speedups(read_csv(resources.paper_dir() / "speed.csv"), config)
    run_dir = new_run_dir("speed", request.out)  # nothing is created before this line

    write_text(run_dir / "config.yaml", dump_config(config))
    env = environment(config.threads, devices)
    write_json(run_dir / "env.json", env)
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
    env["end_time"] = utc_now()
    env["interrupted"] = interrupted
    write_json(run_dir / "env.json", env)
    return SpeedRun(run_dir, config, summary, paper, interrupted)


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
