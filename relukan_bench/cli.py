"""The `relukan-bench` command line. Thin: each command turns its options into a request,
makes one call into the library and renders the result.

Only this module turns library errors into a one-line message and an exit status:
2 for bad input (config, option, device), 130 for Ctrl-C. Nothing heavy is imported at module
level, so `--help` and `--version` answer at once.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Any, Callable, List, Optional

import enum

import typer
from typer.core import TyperGroup

from relukan_bench import __version__

try:  # recent typer vendors click; older typer used click itself
    from typer._click.exceptions import UsageError as _ClickUsageError
except ImportError:  # pragma: no cover
    from click.exceptions import UsageError as _ClickUsageError


class _Commands(TyperGroup):
    """The command group, with usage errors (an option's value out of range, an unknown
    option or choice) reported like every other error: one line, exit status 2."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except _ClickUsageError as exc:
            if exc.__class__.__name__ == "NoArgsIsHelpError":  # no arguments at all: the help, as usual
                return super().main(*args, standalone_mode=True, **kwargs)
            command = exc.ctx.command_path if exc.ctx is not None else "relukan-bench"
            typer.echo(f"error: {command}: {_one_line(' '.join(exc.format_message().split()))}", err=True)
            sys.exit(exc.exit_code)
        except typer.Abort:
            typer.echo("aborted", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(
    cls=_Commands,
    name="relukan-bench",
    help="Reproduce the ReLU-KAN paper's experiments against the original KAN (pykan), honestly.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"relukan-bench {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version and exit."),
) -> None:
    """Reproduce the ReLU-KAN paper's experiments against the original KAN (pykan), honestly.

    Every command reads a YAML config (configs/), accepts trailing key=value overrides (train.steps=50) and writes a new run directory under results/.
    """


def _reports_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn library errors into one line on stderr and an exit status, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from relukan_bench.errors import BenchError

        try:
            return command(*args, **kwargs)
        except BenchError as exc:
            typer.echo(f"error: {_one_line(str(exc))}", err=True)
            raise typer.Exit(exc.exit_code) from None
        except OSError as exc:  # a disk that filled up, a directory removed under the run: what finished is on disk
            where = f"{exc.filename}: " if exc.filename else ""
            typer.echo(f"error: {_one_line(where + (exc.strerror or str(exc)))}", err=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            typer.echo("interrupted", err=True)
            raise typer.Exit(130) from None

    return wrapper


def _one_line(message: str) -> str:
    """A message as the one line the CLI prints (relukan_bench.errors.clip, 2000 characters)."""
    from relukan_bench.errors import clip

    return clip(message, 2000)


def _names(value: Optional[str]) -> Optional[List[str]]:
    if value is None:
        return None
    names = [name.strip() for name in value.split(",") if name.strip()]
    return names or None


def _console():
    """stdout for tables. Written to a file or pipe (a log), tables get 160 columns rather
    than rich's 80, unless COLUMNS says otherwise."""
    import os

    from rich.console import Console

    console = Console(stderr=False, markup=False)  # nothing a user typed is read as markup
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(stderr=False, markup=False, width=160)
    return console


class _RichReporter:
    """A rich progress bar across all units of a run, on stderr."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        self.progress = Progress(
            TextColumn("{task.description}", style="progress.description", markup=False),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=Console(stderr=True, markup=False),
            transient=False,
        )
        self.task = None

    def start(self, total: int) -> None:
        self.progress.start()
        self.task = self.progress.add_task("starting", total=total)

    def update(self, done: int, current: str) -> None:
        self.progress.update(self.task, completed=done, description=current)

    def stop(self) -> None:
        self.progress.stop()


class Device(str, enum.Enum):
    cpu = "cpu"
    cuda = "cuda"
    auto = "auto"


# Options several commands share: one definition each.
OVERRIDES = typer.Argument(None, metavar="[KEY=VALUE]...", show_default=False,
                           help="Config overrides as key=value, e.g. train.steps=50 functions.f1.grid=10.")
CONFIG = typer.Option(None, "--config", "-c", help="YAML config (default: configs/<command>.yaml).", show_default=False)
THREADS = typer.Option(None, "--threads", min=1, help="torch threads, pinned and recorded. Default: the config's (1).", show_default=False)
FUNCTIONS = typer.Option(None, "--functions", help="Only these functions, e.g. f1,f4.", show_default=False)
MODELS = typer.Option(None, "--models", help="Only these models (config names), e.g. relukan,kan.", show_default=False)


class Executor(str, enum.Enum):
    local = "local"
    dask = "dask"


EXECUTOR = typer.Option("local", "--executor", case_sensitive=False,
                        help="local: worker processes on this machine; dask: a Dask cluster (pip install "
                             "'relukan-bench\\[dask]'), local on 127.0.0.1 or the one --address names.")
ADDRESS = typer.Option(None, "--address", metavar="SCHEDULER", show_default=False,
                       help="With --executor dask: an existing cluster's scheduler, e.g. tcp://10.0.0.5:8786.")


def _workers_option(exp: Any | None) -> Any:
    if exp is not None and not exp.parallel:
        text = (f"Units timed at once. Default 1, one after another: {exp.serial_reason}. More is allowed, "
                "with a warning recorded in env.json.")
    else:
        text = ("Training units at once, each in a worker process with the pinned thread count; the results are "
                "the same whatever N. Default: every usable core (cores / threads); 1: in this process.")
    from relukan_bench.executors import WORKERS_VARIABLE

    parallel = exp is None or exp.parallel  # the variable never makes a timing experiment parallel
    return typer.Option(None, "--workers", min=1, help=text + (" Speed stays serial." if exp is None else ""),
                        show_default=False, envvar=WORKERS_VARIABLE if parallel else None)


RESUME = typer.Option(None, "--resume", metavar="RUN_DIR", show_default=False,
                      help="Finish an interrupted run in RUN_DIR: its finished units are kept, the rest run. "
                           "Its recorded config is used; options that change it are refused.")


def _out(experiment: str) -> Any:
    return typer.Option(None, "--out", help=f"Run directory, new or empty (default: results/{experiment}/<UTC timestamp>/).", show_default=False)


def _request(config: Optional[Path], overrides: Optional[List[str]], options: dict[str, Any],
             functions: Optional[str], models: Optional[str], out: Optional[Path], quick: bool,
             resume: Optional[Path] = None) -> Any:
    """The library's request: CLI options given become key=value overrides, applied before
    the trailing ones."""
    from relukan_bench.runner import Request

    settings = [f"{key}={value}" for key, value in options.items() if value is not None]
    return Request(config=config, overrides=overrides or [], options=settings,
                   functions=_names(functions), models=_names(models), out=out, quick=quick, resume=resume)


def _finish(command: str, result: Any, what: str) -> None:
    """Where the results are, what went wrong beside the units, then how the run ended (`_ending`)."""
    _console().print(f"Results in {result.run_dir}")
    for warning in result.warnings:
        typer.echo(f"warning: {_one_line(warning)}", err=True)
    finished, planned = result.units
    _ending(command, result.run_dir, result.failed, result.interrupted,
            kept=f"{finished} of {planned} {what} finished and were kept and summarised",
            failed=f"{len(result.failed)} of {planned} {what}")


def _ending(command: str, run_dir: Path, failures: List[str], interrupted: bool, kept: str, failed: str) -> None:
    """On stderr, the units that failed and how the run ended: exit 130 after Ctrl-C (with the
    command that finishes the run), 1 when a unit failed."""
    for line in failures:
        typer.echo(f"failed: {line}", err=True)
    if interrupted:
        typer.echo(f"interrupted: {kept}; to finish the run: relukan-bench {command} --resume {run_dir}", err=True)
        raise typer.Exit(130)
    if failures:
        typer.echo(f"{failed} failed (recorded in the results with their error)", err=True)
        raise typer.Exit(1)


def _experiment_command(exp: Any) -> None:
    """The command of one registered experiment: the common options, then its own (each sets a
    config key), the trailing overrides; runs it, shows its tables, says how it ended."""
    import inspect

    def command(**given: Any) -> None:
        from dataclasses import replace

        from relukan_bench.runner import run

        options = {"threads": given["threads"], "device": given["device"].value if given["device"] else None}
        for option in exp.options:
            value = given[option.param]
            if value is not None:
                options[option.key] = option.convert(value) if option.convert else value
        request = _request(given["config"], given["overrides"], options, given.get("functions"), given.get("models"),
                           given["out"], given["quick"], given["resume"])
        request = replace(request, workers=given["workers"], executor=given["executor"].value, address=given["address"])
        from relukan_bench.session import interrupts_ignored

        result = run(exp.name, request, _RichReporter())
        with interrupts_ignored():  # the run is closed: how it ended is told as it ended, whatever is pressed now
            _show_experiment(exp.name, result)
            _finish(exp.name, result, exp.units_name)

    def parameter(name: str, default: Any, annotation: Any) -> inspect.Parameter:
        return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)

    params = [parameter("overrides", OVERRIDES, Optional[List[str]]), parameter("config", CONFIG, Optional[Path]),
              parameter("device", typer.Option(None, "--device", case_sensitive=False, help=exp.device_help,
                                               show_default=False), Optional[Device])]
    params += [parameter(o.param, typer.Option(None, o.flag, help=o.help, min=o.min, show_default=False),
                         Optional[o.type]) for o in exp.options]
    params += [parameter("threads", THREADS, Optional[int]), parameter("workers", _workers_option(exp), Optional[int]),
               parameter("executor", EXECUTOR, Executor), parameter("address", ADDRESS, Optional[str])]
    params += [parameter(name, {"functions": FUNCTIONS, "models": MODELS}[name], Optional[str]) for name in exp.selects]
    params += [parameter("out", _out(exp.name), Optional[Path]),
               parameter("quick", typer.Option(False, "--quick", help=exp.quick_help), bool),
               parameter("resume", RESUME, Optional[Path])]
    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__name__, command.__doc__ = exp.name, exp.help
    app.command(name=exp.name, help=exp.help)(_reports_errors(command))


def _register_experiments() -> None:
    """One command per registered experiment (relukan_bench.experiments.protocol)."""
    from relukan_bench.experiments.protocol import experiments

    for exp in experiments().values():
        _experiment_command(exp)


_register_experiments()


@app.command()
@_reports_errors
def reproduce(
    device: Optional[Device] = typer.Option(None, "--device", case_sensitive=False, help="cpu, cuda, or auto (speed: the CPU plus CUDA when present; fit and forgetting: CUDA when present, else the CPU). Default: the configs' (cpu).", show_default=False),
    threads: Optional[int] = THREADS,
    workers: Optional[int] = _workers_option(None),
    executor: Executor = EXECUTOR,
    address: Optional[str] = ADDRESS,
    out: Optional[Path] = _out("reproduce"),
    quick: bool = typer.Option(False, "--quick", help="Smoke run of all three experiments (about a minute), marked so in the report."),
    resume: Optional[Path] = typer.Option(None, "--resume", metavar="RUN_DIR", show_default=False,
                                          help="Finish an interrupted reproduce run in RUN_DIR: finished experiments and units are kept."),
) -> None:
    """Run speed, fit and forgetting with their default configs and write REPORT.md.

    Writes speed/, fit/ and forgetting/ (each a run directory as its own command writes it), env.json and REPORT.md (environment, our tables beside the paper's, the figures, and a verdict on each of the paper's claims) into results/reproduce/<UTC timestamp>/.
    """
    from relukan_bench.runner import Request, run_reproduce

    options = [f"{key}={value}" for key, value in {"threads": threads, "device": device.value if device else None}.items()
               if value is not None]
    from relukan_bench.experiments.protocol import experiments
    from relukan_bench.session import interrupts_ignored

    notes = [] if resume is not None else [note for exp in experiments().values() if (note := exp.reproduce_config()[1])]
    request = Request(options=options, out=out, quick=quick, resume=resume, workers=workers, executor=executor.value,
                      address=address)
    result = run_reproduce(request, lambda name: _RichReporter(),
                           _show_experiment)
    with interrupts_ignored():
        _reproduce_ending(result)
        for note in notes:
            typer.echo(f"note: {note}", err=True)


def _reproduce_ending(result: Any) -> None:
    """The verdicts, where the report is, and how the reproduce run ended."""
    from relukan_bench.render import styled

    console = _console()
    console.rule("Verdicts")
    for verdict in result.verdicts:
        console.print(styled((f"{verdict.claim}: {verdict.outcome}.", "bold"), f" {verdict.sentence}"), highlight=False)
    console.print(f"Report: {result.report}")
    failures = [f"{name}: {line}" for name, run in result.runs.items() for line in run.failed]
    _ending("reproduce", result.run_dir, failures, result.interrupted, kept="the finished work was kept and reported",
            failed=f"{len(failures)} unit(s)")


def _show_experiment(name: str, result: Any) -> None:
    """The tables of a finished experiment run (also after each of `reproduce`'s)."""
    from relukan_bench.experiments.protocol import experiment

    console = _console()
    for table in experiment(name).show(result):
        console.print(table)


@app.command()
@_reports_errors
def compare(
    base: Path = typer.Argument(..., metavar="BASE", help="A results directory (a run, a reproduce run, results/paper) or a summary/table CSV.", show_default=False),
    new: Path = typer.Argument(..., metavar="NEW", help="The same kinds as BASE.", show_default=False),
    out: Optional[Path] = typer.Option(None, "--out", help="Also write the table as CSV: the key columns, then base, new, ratio, mark, metric, p, note.", show_default=False),
    threshold: float = typer.Option(1.10, "--threshold", help="A ratio NEW/BASE beyond this (or below its inverse) counts as a change."),
    fail_on_regression: bool = typer.Option(False, "--fail-on-regression", help="Exit 1 when some row is worse beyond the threshold (+)."),
) -> None:
    """Put two result tables side by side: what changed between BASE and NEW, and whether it matters.

    Rows are matched on function, model and device. Speed compares ms per step (with a Mann-Whitney U test where both sides have 7+ raw repeats), or speedups when one side is the paper; fit and forgetting compare errors as ratios with a geometric mean per model.
    """
    from relukan_bench import compare as comparing
    from relukan_bench.render import compare_table, styled

    comparing.check_threshold(threshold)  # before anything is read
    comparisons = comparing.compare(comparing.load(base), comparing.load(new), threshold)
    if out is not None:
        from relukan_bench.results import write_csv

        try:
            write_csv(out, comparing.csv_columns(comparisons), comparing.csv_rows(comparisons))
        except OSError as exc:
            from relukan_bench.errors import UsageError

            raise UsageError(f"--out {out}: cannot write the file ({exc.strerror})") from None
    console = _console()
    for comparison in comparisons:
        console.print(compare_table(comparison, str(base), str(new)))
        for warning in comparison.warnings:
            console.print(styled(("warning:", "yellow"), f" {warning}"), highlight=False)
        if comparison.tests and not comparison.tested and comparison.rows:
            console.print(styled(("no significance test: the ratio alone decides (raw repeats on both sides needed)", "dim")))
    regressions = sum(len(c.regressions) for c in comparisons)
    if fail_on_regression and regressions:
        typer.echo(f"{regressions} row(s) worse beyond the threshold {threshold:g}", err=True)
        raise typer.Exit(1)


pykan_app = typer.Typer(cls=_Commands, no_args_is_help=True, add_completion=False,
                        help="Prepare pykan versions other than the installed one, for the speed experiment's baselines.")
app.add_typer(pykan_app, name="pykan")


@pykan_app.command("install")
@_reports_errors
def pykan_install(
    versions: List[str] = typer.Argument(..., metavar="VERSION...", help="pykan releases, e.g. 0.0.5 0.1.2.", show_default=False),
) -> None:
    """Install pykan releases, each into an environment of its own (pip, from the package index).

    A speed config's kan entry names one with `pykan: "0.0.5"`; the run times it in a worker process of this interpreter with that release first on its path. Nothing is downloaded while a run runs.
    """
    from relukan_bench import pykan_envs
    from relukan_bench.errors import UsageError

    bad = [v for v in versions if not pykan_envs.VERSION.fullmatch(v)]
    if bad:
        raise UsageError(f"VERSION {_one_line(bad[0])[:40]!r}: expected a pykan release such as 0.0.5")
    for version in dict.fromkeys(versions):
        try:
            pykan_envs.install(version, echo=typer.echo)
        except RuntimeError as exc:
            typer.echo(f"error: {_one_line(str(exc))}", err=True)
            raise typer.Exit(1) from None


@pykan_app.command("list")
@_reports_errors
def pykan_list() -> None:
    """The installed pykan and every prepared environment."""
    from relukan_bench import pykan_envs

    typer.echo(f"installed: {pykan_envs.installed() or 'none'} (this process)")
    for version in pykan_envs.prepared_versions():
        typer.echo(f"{version}: {pykan_envs.env_dir(version)}")


def main() -> None:
    """Console-script entry point."""
    app(prog_name="relukan-bench")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
