"""The driver: one experiment's run from a request to its files, and `reproduce`.

Data flows one way. `run(name, request)` opens a session (relukan_bench.session: every check
first, then a new run directory or the interrupted one it resumes), asks the experiment for
its plan, executes the units still to do and writes each unit's rows as it finishes (the
commit log last), with the derived tables after every unit and the figures at the end. Ctrl-C
keeps what finished. A unit that fails is a record with an `error`, and the run goes on.
Progress goes to a `Reporter` the CLI supplies. `run_reproduce` runs every experiment in one
directory and writes `REPORT.md` (relukan_bench.report). Nothing here names an experiment: it
reads their declarations (relukan_bench.experiments.protocol).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Hashable, Iterator, Mapping, Protocol, Sequence

from relukan_bench import resources
from relukan_bench.devices import ieee_float32
from relukan_bench.env import environment
from relukan_bench.errors import ExecutionError, UsageError, failure
from relukan_bench.executors import Execution, execute, record
from relukan_bench.experiments.protocol import (
    REPRODUCE_FLAGS,
    Experiment,
    Outcome,
    Part,
    Shown,
    experiment,
    reproduce_parts,
)
from relukan_bench.records import Row, cells
from relukan_bench.report import Verdict, write_report
from relukan_bench.results import remove_temporaries, write_json
from relukan_bench.session import (
    Request,
    RunLock,
    Session,
    check,
    close_run,
    execution_of,
    new_run,
    record_session,
    recorded_env,
    resolve_config,
    resumed_config,
    same_environment,
    start,
)
from relukan_bench.signals import first_interrupt_only, interrupts_deferred, interrupts_ignored
from relukan_bench.timing import threads

__all__ = ["Reporter", "SilentReporter", "Request", "ReproduceRun", "run", "run_reproduce"]


class Reporter(Protocol):
    """Progress of one run: `total` steps; `update` as steps are done (`current`: what runs);
    `finished` after each unit is written (`units` of `planned`, earlier sessions' included)."""

    def start(self, total: int) -> None: ...
    def update(self, done: int, current: str) -> None: ...
    def finished(self, units: int, planned: int) -> None: ...
    def stop(self) -> None: ...


class SilentReporter:
    def start(self, total: int) -> None: ...
    def update(self, done: int, current: str) -> None: ...
    def finished(self, units: int, planned: int) -> None: ...
    def stop(self) -> None: ...


def run(name: str, request: Request, reporter: Reporter | None = None) -> Outcome[Any, Any]:
    """Run (or with `request.resume` finish) the experiment `name`; return its `Outcome`."""

    exp = experiment(name)
    reporter = reporter or SilentReporter()
    session = start(exp, request)
    try:
        with first_interrupt_only():  # a second Ctrl-C does not cut short the closing the first began
            return _drive(exp, session, reporter)
    finally:
        session.release()


def _drive(exp: Experiment[Any, Any, Any, Any], session: Session, reporter: Reporter) -> Outcome[Any, Any]:
    """Execute the units `session` has still to do (relukan_bench.executors: here or in parallel
    workers), writing each as it finishes; summaries, figures; close the run."""

    config, run_dir, execution = session.config, session.run_dir, session.execution
    assert execution is not None  # decided when the session started (session.start)
    session.note(execution=record(execution, session.warning))
    units = exp.plan(config, session.devices)
    results = _Results(exp, {unit: index for index, unit in enumerate(units)}, exp.rebuild(session.loaded))
    track = _Progress(exp, reporter, results, exp.steps(config), len(units))

    def write(result: object) -> None:
        rows = exp.rows(result)
        session.record(rows)
        results.add(result, rows)
        track.finished(results.last)
        exp.summarize(run_dir, config, results.ordered, session.context)

    with threads(config.threads), ieee_float32():
        interrupted, lost, wanted = _stages(exp, session, execution, units, results, track, reporter, write)
    warnings: list[str] = [session.warning] if session.warning else []
    with interrupts_ignored():  # the run is closed as it stands, whatever is pressed meanwhile
        try:
            if results.shuffled:
                session.rewrite([exp.rows(result) for result in results.ordered])  # the logs in plan order
            shown = exp.summarize(run_dir, config, results.ordered, session.context)
            warnings += list(shown.warnings)
            warnings += _figures(exp, run_dir, config, results.ordered, shown)
        finally:
            session.close(interrupted)
    failed = [line for line in map(exp.failure, results.ordered) if line]
    return Outcome(exp.name, run_dir, config, shown, interrupted, failed, (len(results.ordered), wanted), warnings,
                   bool(session.env.get("quick")), None if lost is None else str(lost))


def _stages(exp: Experiment[Any, Any, Any, Any], session: Session, execution: Execution, units: list[Hashable], results: _Results, track: _Progress,
            reporter: Reporter, write: Callable[[object], None]) -> tuple[bool, Exception | None, int]:
    """Execute the planned units that are due (`exp.due`) and not finished, stage after stage
    (what finished may make more due), until nothing new is due or the run stops. Returns
    (interrupted, the execution error that stopped it, how many units are wanted)."""

    first = True
    while True:
        wanted = exp.due(session.config, units, results.ordered)
        todo = [unit for unit in wanted if unit not in results.units]
        if not (first or todo):
            return False, None, len(wanted)
        first = False
        track.total = len(wanted)
        runs = execute(exp, session.config, session.devices, todo, track.progress, execution)
        try:
            interrupted = _collect(runs, write, reporter, track, len(wanted) - len(todo), len(wanted),
                                   first=lambda: track.progress(todo[0], 0, math.nan) if todo else None)
        except ExecutionError as exc:
            return True, exc, len(wanted)
        if interrupted or not todo:
            return interrupted, None, len(wanted)


class _Results:
    """A run's results in plan order, whatever order they finished in; `shuffled` when the logs
    on disk are in another order (parallel workers), so that closing puts them in plan order."""

    def __init__(self, exp: Experiment[Any, Any, Any, Any], order: dict[Hashable, int], rebuilt: list[object]):
        self.exp, self.order, self.last = exp, order, None
        self.ordered: list[object] = []
        self.keys: list[int] = []
        self.units: set[Hashable] = set()
        self.shuffled = False
        for result in rebuilt:
            self.add(result, exp.rows(result))

    def add(self, result: object, rows: Mapping[str, Sequence[Row]]) -> None:
        commit = list(self.exp.tables)[-1]
        self.last = self.exp.key(cells(rows[commit][0]))
        self.units.add(self.last)
        index = self.order.get(self.last, len(self.order))
        at = bisect.bisect_right(self.keys, index)
        self.keys.insert(at, index)
        self.ordered.insert(at, result)
        self.shuffled = self.shuffled or at != len(self.keys) - 1

    def __len__(self) -> int:
        return len(self.ordered)


class _Progress:
    """Progress over the whole run in steps: the finished units' and those of every unit under
    way (several at once when workers run in parallel)."""

    def __init__(self, exp: Experiment[Any, Any, Any, Any], reporter: Reporter, results: _Results, steps: int, total: int):
        self.exp, self.reporter, self.results, self.steps, self.total = exp, reporter, results, steps, total
        self.running: dict[Hashable, int] = {}

    def progress(self, unit: Hashable, done: int, loss: float) -> None:
        self.running[unit] = done
        label = f"run {len(self.results) + 1}/{self.total}: {self.exp.label(unit)}"
        if len(self.running) > 1:
            label = f"{len(self.results)}/{self.total} done, {len(self.running)} running; {self.exp.label(unit)}"
        if self.steps > 1:
            label += f", step {done}/{self.steps}" + (f", train MSE {loss:.2e}" if loss == loss else "")
        self.reporter.update(self.done(), label)

    def finished(self, unit: Hashable) -> None:
        self.running.pop(unit, None)

    def done(self) -> int:
        return len(self.results) * self.steps + sum(self.running.values())


def _figures(exp: Experiment[Any, Any, Any, Any], run_dir: Path, config: object, results: list[object], shown: Shown) -> list[str]:
    """Draw the run's figures; a figure that cannot be drawn is a warning, never the end of a
    run whose tables are written."""

    try:
        exp.figures(run_dir, config, results, shown)
    except Exception as exc:  # noqa: BLE001 - matplotlib can fail in many ways; the data are safe
        return [f"figures of {run_dir} not drawn ({failure(exc)})"]
    return []


def _collect(runs: Iterator[object], write: Callable[[object], None], reporter: Reporter, track: _Progress,
             already: int, total: int, first: Callable[[], object] | None = None) -> bool:
    """Take each finished unit from `runs` and `write` it (to disk and to the results: both or
    neither, Ctrl-C waits); report progress, `already` of `total` units done before. Return
    True when Ctrl-C stopped the runs: what they still hand over then (units parallel workers
    finished meanwhile) is written too."""
    reporter.start(total * track.steps)
    try:
        reporter.update(already * track.steps, "done" if already == total else "next run")
        reporter.finished(already, total)
        if first is not None:
            first()
        for result in runs:
            with interrupts_deferred():  # a unit is on disk and in the summary, or not at all
                write(result)
            reporter.update(track.done(), "done" if len(track.results) == total else "next run")
            reporter.finished(len(track.results), total)
    except KeyboardInterrupt:
        _keep_finished(runs, write)
        return True
    finally:
        reporter.stop()
    return False


def _keep_finished(runs: Iterator[object], write: Callable[[object], None]) -> None:
    """After Ctrl-C: tell `runs` (a generator) it was interrupted, and write what it still yields."""
    throw = getattr(runs, "throw", None)
    if throw is None:
        return
    try:
        result = throw(KeyboardInterrupt())
        while True:
            with interrupts_deferred():
                write(result)
            result = next(runs)
    except (KeyboardInterrupt, StopIteration):
        pass


@dataclass
class ReproduceRun:
    """A finished (or interrupted) reproduce run: one run directory per experiment inside it."""

    run_dir: Path
    report: Path
    runs: dict[str, Outcome[Any, Any]]  # experiment -> Outcome (those that started)
    verdicts: list[Verdict]
    interrupted: bool = False
    lost: str | None = None  # why a part's executor lost units (a worker died); the rest was not run


def run_reproduce(request: Request, reporter: Callable[[str], Reporter] | None = None,
                  announce: Callable[[str, Outcome[Any, Any]], None] | None = None) -> ReproduceRun:
    """Every experiment with its default config (and the request's `--quick`, options and
    overrides) into `<run_dir>/<experiment>/`, with `request.tuned` and `request.peers` also the
    parts experiments declare for them (`<run_dir>/fit-tuned/`, `speed-peers/`, `forgetting-peers/`, ...;
    protocol.reproduce_parts), then `<run_dir>/REPORT.md`.

    Every config is validated and every device checked before anything is created. After each
    part `announce(part name, result)` lets the caller show it. Ctrl-C stops the part in
    progress (its finished work is kept), skips the rest and still writes the report."""

    run_dir, parts, env, lock = _open_reproduce(request)
    runs: dict[str, Outcome[Any, Any]] = {}
    interrupted = False
    try:
        with first_interrupt_only():
            for name, (experiment_name, part) in parts.items():
                runs[name] = run(experiment_name, part, reporter(name) if reporter else None)
                if announce:
                    announce(name, runs[name])
                if runs[name].interrupted:  # a part whose units were lost is closed as interrupted too
                    interrupted = True
                    break
    except KeyboardInterrupt:  # between two parts
        interrupted = True
    finally:
        with interrupts_ignored():
            try:
                close_run(run_dir, env, interrupted)
                found = write_report(run_dir)
            finally:
                lock.release()
    lost = next((f"{name}: {outcome.lost}" for name, outcome in runs.items() if outcome.lost), None)
    return ReproduceRun(run_dir, run_dir / "REPORT.md", runs, found, interrupted, lost)


def _open_reproduce(request: Request) -> tuple[Path, dict[str, tuple[str, Request]], dict[str, Any], RunLock]:
    """Check every part's config and devices, then create (or reopen) the reproduce
    directory: its path, each part's experiment and request, its env.json record and this
    process's lock on it."""

    recorded, quick, flags = _recorded_reproduce(request)
    asked = reproduce_parts(**flags)
    declared = {name: experiment(part.experiment) for name, part in asked.items()}
    parts = {name: _part(request, part, quick) for name, part in asked.items()}
    configs = {}
    for name, part in parts.items():
        exp = declared[name]
        configs[name] = resumed_config(part, exp, f"{list(exp.tables)[-1]}.csv")[0] if part.resume else resolve_config(part, exp)
        check(exp, configs[name], exp.devices(configs[name].device), part.config)
        execution_of(exp, part, configs[name])
    devices = list(dict.fromkeys(d for name, config in configs.items() for d in declared[name].devices(config.device)))
    env = {"experiment": "reproduce", **environment(next(iter(configs.values())).threads, devices)}
    if recorded is None:
        env["quick"] = quick
        env.update(flags)
        with new_run("reproduce", request.out) as (run_dir, lock):  # nothing is created before this line
            write_json(run_dir / "env.json", env)
        return run_dir, {name: (declared[name].name, replace(part, out=run_dir / name)) for name, part in parts.items()}, env, lock
    assert request.resume is not None  # a recorded run is a resumed one (_recorded_reproduce)
    run_dir = Path(request.resume)
    lock = RunLock(run_dir)
    same_environment(run_dir, recorded, env)
    for part in parts.values():  # a part killed before it wrote its config starts afresh
        if part.out is not None and part.out.is_dir():
            remove_temporaries(part.out)
    record_session(run_dir, recorded, env)
    return run_dir, {name: (declared[name].name, part) for name, part in parts.items()}, recorded, lock


def _recorded_reproduce(request: Request) -> tuple[dict[str, Any] | None, bool, dict[str, bool]]:
    """The env.json of the reproduce run `request.resume` names (None for a new run), whether
    the run is a `--quick` one, and which further parts it asks for, {"tuned": .., "peers": ..}
    (all as recorded when resumed)."""

    if request.resume is None:
        return None, request.quick, {flag: bool(getattr(request, flag)) for flag in REPRODUCE_FLAGS}
    run_dir = Path(request.resume)
    recorded = recorded_env(request)
    if recorded is None or "quick" not in recorded:
        raise UsageError(f"--resume {run_dir}: expected a reproduce run directory (with env.json)")
    if request.quick and not recorded["quick"]:
        raise UsageError(f"--resume {run_dir}: --quick, but the run was a full one; resume without --quick")
    for flag in REPRODUCE_FLAGS:
        if getattr(request, flag) and not recorded.get(flag):
            raise UsageError(f"--resume {run_dir}: --{flag}, but the run was started without it; resume without --{flag}")
    return recorded, bool(recorded["quick"]), {flag: bool(recorded.get(flag)) for flag in REPRODUCE_FLAGS}


def _part(request: Request, declared: Part, quick: bool) -> Request:
    """The request of one part of a reproduce run (protocol.Part): resumed where it had begun."""

    exp = experiment(declared.experiment)
    part = Request(overrides=request.overrides, options=request.options, quick=quick,
                   workers=request.workers if exp.parallel else 1, executor=request.executor if exp.parallel else "local",
                   address=request.address if exp.parallel else None)
    config = resources.default_config(declared.config) if declared.config else None
    if request.resume is None:
        return replace(part, config=config or exp.reproduce_config()[0])
    directory = Path(request.resume) / declared.name
    return replace(part, resume=directory) if (directory / "config.yaml").is_file() else replace(part, config=config, out=directory)
