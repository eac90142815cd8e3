"""The `relukan-bench` command line. Thin: each command turns its options into a request,
makes one call into the library and renders the result.

Only this module turns library errors into a one-line message and an exit status:
2 for bad input (config, option, device), 128 + the signal for a stop (Ctrl-C 130, SIGTERM 143, SIGHUP 129). Nothing heavy is imported at module
level, so `--help` and `--version` answer at once.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Any, Callable, List, Optional

import enum

import typer
from typer.core import TyperCommand, TyperGroup

from relukan_bench import __version__

try:  # recent typer vendors click; older typer used click itself
    from typer._click.exceptions import UsageError as _ClickUsageError
except ImportError:  # pragma: no cover
    from click.exceptions import UsageError as _ClickUsageError


class _TidyHelp:
    """Help that shows a value's type only where the option takes one: no `<bool>` after a
    flag, no `<list[str]>` after an argument whose name already says what it takes."""

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)  # type: ignore[misc]
        for param in params:
            if getattr(param, "is_flag", False) and param.metavar is None:
                param.metavar = ""  # an option's metavar replaces its type in the help
            elif param.param_type_name == "argument" and param.metavar is not None:
                param.display_type_rich = lambda ctx: None  # an argument's metavar does not
        return params


class _Command(_TidyHelp, TyperCommand):
    """One command (see `_TidyHelp`)."""


class _Commands(_TidyHelp, TyperGroup):
    """The command group, with usage errors (an option's value out of range, an unknown
    option or choice) reported like every other error: one line, exit status 2."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        null_before, _GONE[:] = _is_null(1), []
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except OSError as exc:
            if not _reader_gone(exc):
                raise
            _silence(1, 2)
            sys.exit(_stopped_status())
        except SystemExit as exc:  # click and rich end a closed pipe of their own output (the help) with status 1
            if exc.code == 1 and (type(sys.stdout).__name__ == "PacifyFlushWrapper" or _is_null(1) > null_before):
                _silence(1, 2)
                sys.exit(_stopped_status())
            raise
        except _ClickUsageError as exc:
            if exc.__class__.__name__ == "NoArgsIsHelpError":  # no arguments at all: the help, as usual
                return super().main(*args, standalone_mode=True, **kwargs)
            command = exc.ctx.command_path if exc.ctx is not None else "relukan-bench"
            typer.echo(f"error: {command}: {_one_line(' '.join(exc.format_message().split()))}", err=True)
            sys.exit(exc.exit_code)
        except typer.Abort:
            typer.echo("aborted", err=True)
            sys.exit(1)
        code = code if isinstance(code, int) else 0
        sys.exit(_stopped_status() if code == 0 and _GONE else code)


#: set once the reader of stdout is gone: what the command still writes there goes nowhere
_GONE: list[int] = []


def _reader_gone(exc: BaseException) -> bool:
    """A write failed because its reader went away: a closed pipe (`| head`), a hung-up terminal."""
    import errno

    return isinstance(exc, OSError) and exc.errno in (errno.EPIPE, errno.EIO)


def _silence(*descriptors: int) -> None:
    """Point `descriptors` at /dev/null, so that what is still written (and Python's own flush
    at exit) ends quietly, as other command-line tools end on a closed pipe."""
    import os

    null = os.open(os.devnull, os.O_WRONLY)
    for descriptor in descriptors:
        os.dup2(null, descriptor)
    os.close(null)
    _GONE.append(1)


def _is_null(descriptor: int) -> bool:
    """Whether `descriptor` writes to /dev/null."""
    import os

    try:
        return os.path.samestat(os.fstat(descriptor), os.stat(os.devnull))
    except OSError:
        return False


def _stopped_status() -> int:
    """The exit status once the reader went away: the stop signal's if one stopped the run,
    else 141, the status of a process that SIGPIPE ended (what `seq 9 | true` gives)."""
    from relukan_bench.signals import exit_status, received

    return exit_status() if received() else 141


def _shielded(show: Callable[..., None]) -> Callable[..., None]:
    """`show` (tables on stdout) that goes on quietly when stdout's reader is gone: a run
    (reproduce's next part) must not stop because nobody reads its tables any more."""

    def shown(*args: Any) -> None:
        try:
            show(*args)
        except OSError as exc:
            if not _reader_gone(exc):
                raise
            _silence(1)

    return shown


app = typer.Typer(
    cls=_Commands,
    name="relukan-bench",
    no_args_is_help=True,
    add_completion=True,
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

    Each experiment command reads a YAML config (its shipped default, a shipped config's name given to --config, or a file: `relukan-bench config list`), applies trailing key=value overrides validated like the file, and writes a new run directory under results/, named on the last line of its output.

    \b
    Examples:
      relukan-bench fit train.steps=500 --seeds 0,1,2
      relukan-bench speed --config speed-baselines timing.repeats=3
      relukan-bench compare paper results/fit/20261201T120000Z
    """


def _reports_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn library errors into one line on stderr and an exit status, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from relukan_bench.errors import BenchError
        from relukan_bench.signals import exit_status, stops_as_interrupts

        try:
            with stops_as_interrupts():  # SIGTERM and SIGHUP stop a run as Ctrl-C does
                return command(*args, **kwargs)
        except BenchError as exc:
            typer.echo(f"error: {_one_line(str(exc))}", err=True)
            raise typer.Exit(exc.exit_code) from None
        except OSError as exc:  # a disk that filled up, a directory removed under the run: what finished is on disk
            if _reader_gone(exc):  # stdout's reader is gone (`| head`): end quietly
                _silence(1, 2)
                raise typer.Exit(_stopped_status()) from None
            where = f"{exc.filename}: " if exc.filename else ""
            typer.echo(f"error: {_one_line(where + (exc.strerror or str(exc)))}", err=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            from relukan_bench.signals import describe

            typer.echo(f"interrupted{describe()}", err=True)
            raise typer.Exit(exit_status()) from None

    return wrapper


def _one_line(message: str) -> str:
    """A message as the one line the CLI prints (relukan_bench.errors.clip, 2000 characters)."""
    from relukan_bench.errors import clip

    return clip(message, 2000)


def _escape(text: str) -> str:
    """`text` with its control characters escaped (relukan_bench.errors.escape)."""
    from relukan_bench.errors import escape

    return escape(text)


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

    class Tables(Console):
        def on_broken_pipe(self) -> None:  # the reader is gone: the run goes on, its tables go nowhere
            self.quiet = True
            _silence(1)

        def _render_buffer(self, buffer: Any) -> str:  # text from a user (a path in a title) never drives the terminal
            from rich.segment import Segment

            from relukan_bench.errors import escape

            return super()._render_buffer(part if part.control else Segment(
                "\n".join(map(escape, part.text.split("\n"))), part.style) for part in buffer)

    console = Tables(stderr=False, markup=False)  # nothing a user typed is read as markup
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Tables(stderr=False, markup=False, width=160)
    return console


def _reporter(name: str) -> Any:
    """Progress on stderr: a bar on a terminal, plain lines in a log (relukan_bench.progress)."""
    from relukan_bench.progress import reporter

    return reporter(name)


class Device(str, enum.Enum):
    cpu = "cpu"
    cuda = "cuda"
    auto = "auto"


# Options several commands share: one definition each.
OVERRIDES = typer.Argument(None, metavar="KEY=VALUE", show_default=False,
                           help="Config overrides as key=value, e.g. train.steps=50 functions.f1.grid=10.")
CONFIG = typer.Option(None, "--config", "-c", metavar="NAME|PATH", show_default=False,
                      help="A shipped config's name (relukan-bench config list) or a YAML file. Default: the "
                           "command's own shipped config, e.g. fit.")
THREADS = typer.Option(None, "--threads", min=1, metavar="N", help="torch threads, pinned and recorded. Default: the config's (1).", show_default=False)
FUNCTIONS = typer.Option(None, "--functions", metavar="NAMES", help="Only these functions, e.g. f1,f4.", show_default=False)
MODELS = typer.Option(None, "--models", metavar="NAMES", help="Only these models (config names), e.g. relukan,kan.", show_default=False)


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
    if exp is None or exp.parallel:
        text += " RELUKAN_BENCH_WORKERS sets the default."
    return typer.Option(None, "--workers", min=1, metavar="N", help=text + (" Speed stays serial." if exp is None else ""),
                        show_default=False)


def _workers(given: Optional[int], parallel: bool) -> Optional[int]:
    """`--workers` as typed, else (for work that runs in parallel) RELUKAN_BENCH_WORKERS, read
    here so that an error names the variable only when the value came from it."""
    import os
    import re

    from relukan_bench.errors import UsageError
    from relukan_bench.executors import MAX_WORKERS, WORKERS_VARIABLE

    text = os.environ.get(WORKERS_VARIABLE, "")
    if given is not None or not parallel or not text.strip():
        return given
    if not re.fullmatch(r"[0-9]{1,9}", text.strip()) or not 1 <= int(text.strip()) <= MAX_WORKERS:
        raise UsageError(f"{WORKERS_VARIABLE}={_one_line(text)[:40]!r}: expected a whole number of workers from 1 "
                         f"to {MAX_WORKERS} (unset it for the default)")
    return int(text.strip())


RESUME = typer.Option(None, "--resume", metavar="RUN_DIR", show_default=False,
                      help="Finish an interrupted run in RUN_DIR: its finished units are kept, the rest run. "
                           "Its recorded config is used; options that change it are refused.")


def _out(experiment: str) -> Any:
    return typer.Option(None, "--out", metavar="DIR", help=f"Run directory, new or empty (default: results/{experiment}/<UTC timestamp>/).",
                        show_default=False, callback=_plain_path)


def _plain_path(value: Optional[Path]) -> Optional[Path]:
    """A path this command creates, refused when it holds a control character (a newline
    would make the last line of stdout a path that does not exist; an escape drives the terminal)."""
    from relukan_bench.errors import escape

    if value is not None and escape(str(value)) != str(value):
        raise typer.BadParameter(f"{escape(str(value))[:200]}: a path this command creates may not hold control characters")
    return value


def _request(config: Optional[Path], overrides: Optional[List[str]], options: dict[str, Any],
             functions: Optional[str], models: Optional[str], out: Optional[Path], quick: bool,
             resume: Optional[Path] = None) -> Any:
    """The library's request: CLI options given become key=value overrides, applied before
    the trailing ones."""
    from relukan_bench.runner import Request

    settings = [f"{key}={value}" for key, value in options.items() if value is not None]
    return Request(config=config, overrides=overrides or [], options=settings,
                   functions=_names(functions), models=_names(models), out=out, quick=quick, resume=resume)


def _finish(command: str, result: Any, what: str, as_json: bool) -> None:
    """What went wrong beside the units, the run directory on the last line of stdout (or the
    whole outcome as one JSON object), then how the run ended (`_ending`)."""
    for warning in result.warnings:
        typer.echo(f"warning: {_one_line(warning)}", err=True)
    if as_json:
        from relukan_bench.outcome_json import dumps, run_object

        _shielded(typer.echo)(dumps(run_object(result)))
    finished, planned = result.units
    _ending(command, result.run_dir, result.failed, result.interrupted, as_json,
            kept=f"{finished} of {planned} {what} finished and were kept and summarised",
            failed=f"{len(result.failed)} of {planned} {what}", lost=result.lost)


def _ending(command: str, run_dir: Path, failures: List[str], interrupted: bool, as_json: bool, kept: str,
            failed: str, lost: Optional[str] = None) -> None:
    """On stderr, the units that failed and how the run ended; the run directory alone on the
    last line of stdout (unless it went out as JSON); after a stop signal 128 + its number
    (Ctrl-C: 130; with the command that finishes the run), 1 when a unit failed or the
    executor lost units (a worker died: they are unfinished, and --resume runs them)."""
    for line in failures:
        typer.echo(f"failed: {_one_line(line)}", err=True)
    from relukan_bench.signals import describe, exit_status

    if lost:
        typer.echo(f"error: {_one_line(lost)}; {kept}; to finish the run: relukan-bench {command} --resume {run_dir}",
                   err=True)
    elif interrupted:
        typer.echo(_one_line(f"interrupted{describe()}: {kept}; to finish the run: relukan-bench {command} "
                             f"--resume {run_dir}"), err=True)
    elif failures:
        typer.echo(f"{failed} failed (recorded in the results with their error)", err=True)
    if not as_json:
        _shielded(typer.echo)(_escape(str(run_dir)))
    if interrupted or failures or lost:
        raise typer.Exit(exit_status() if interrupted and not lost else 1)


JSON = typer.Option(False, "--json", help="Print one JSON object (run directory, status, summary rows) instead of "
                                          "the tables; progress stays on stderr.")


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
        request = replace(request, workers=_workers(given["workers"], exp.parallel), executor=given["executor"].value, address=given["address"])
        from relukan_bench.signals import interrupts_ignored

        result = run(exp.name, request, _reporter(exp.name))
        with interrupts_ignored():  # the run is closed: how it ended is told as it ended, whatever is pressed now
            if not given["json"]:
                _shielded(_show_experiment)(exp.name, result)
            _finish(exp.name, result, exp.units_name, given["json"])

    def parameter(name: str, default: Any, annotation: Any) -> inspect.Parameter:
        return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)

    params = [parameter("overrides", OVERRIDES, Optional[List[str]]), parameter("config", CONFIG, Optional[Path]),
              parameter("device", typer.Option(None, "--device", case_sensitive=False, help=exp.device_help,
                                               show_default=False), Optional[Device])]
    params += [parameter(o.param, typer.Option(None, o.flag, help=o.help, min=o.min, show_default=False,
                                                metavar="N" if o.type is int else o.param.upper()),
                         Optional[o.type]) for o in exp.options]
    params += [parameter("threads", THREADS, Optional[int]), parameter("workers", _workers_option(exp), Optional[int]),
               parameter("executor", EXECUTOR, Executor), parameter("address", ADDRESS, Optional[str])]
    params += [parameter(name, {"functions": FUNCTIONS, "models": MODELS}[name], Optional[str]) for name in exp.selects]
    params += [parameter("out", _out(exp.name), Optional[Path]),
               parameter("quick", typer.Option(False, "--quick", help=exp.quick_help), bool),
               parameter("resume", RESUME, Optional[Path]), parameter("json", JSON, bool)]
    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__name__, command.__doc__ = exp.name, exp.help
    app.command(name=exp.name, help=exp.help, cls=_Command)(_reports_errors(command))


def _register_experiments() -> None:
    """One command per registered experiment (relukan_bench.experiments.protocol)."""
    from relukan_bench.experiments.protocol import experiments

    for exp in experiments().values():
        _experiment_command(exp)


_register_experiments()


@app.command(cls=_Command)
@_reports_errors
def reproduce(
    device: Optional[Device] = typer.Option(None, "--device", case_sensitive=False, help="cpu, cuda, or auto (speed: the CPU plus CUDA when present; fit and forgetting: CUDA when present, else the CPU). Default: the configs' (cpu).", show_default=False),
    threads: Optional[int] = THREADS,
    workers: Optional[int] = _workers_option(None),
    executor: Executor = EXECUTOR,
    address: Optional[str] = ADDRESS,
    out: Optional[Path] = _out("reproduce"),
    quick: bool = typer.Option(False, "--quick", help="Smoke run of all three experiments (about a minute), marked so in the report."),
    tuned: bool = typer.Option(False, "--tuned", help="Also fit with every model at its own best, chosen on validation (configs/fit-tuned.yaml, into fit-tuned/; about nine times fit's work): the report states the accuracy claim both ways."),
    peers: bool = typer.Option(False, "--peers", help="Also run ReLU-KAN among the field's KANs: speed (configs/speed-peers.yaml and speed-scale.yaml), fit (fit-peers.yaml) and forgetting (forgetting-peers.yaml), each into the directory of its config's name; peers from PyPI need pip install 'relukan-bench[peers]'."),
    resume: Optional[Path] = typer.Option(None, "--resume", metavar="RUN_DIR", show_default=False,
                                          help="Finish an interrupted reproduce run in RUN_DIR: finished experiments and units are kept."),
    as_json: bool = JSON,
) -> None:
    """Run speed, fit and forgetting with their default configs and write REPORT.md.

    Writes speed/ (with --peers also speed-peers/ and speed-scale/), fit/ (with --tuned also fit-tuned/, with --peers fit-peers/) and forgetting/ (with --peers also forgetting-peers/; each a run directory as its own command writes it), env.json and REPORT.md (environment, our tables beside the paper's, the figures, and a verdict on each of the paper's claims) into results/reproduce/<UTC timestamp>/.
    """
    from relukan_bench.runner import Request, run_reproduce

    options = [f"{key}={value}" for key, value in {"threads": threads, "device": device.value if device else None}.items()
               if value is not None]
    from relukan_bench.experiments.protocol import experiments
    from relukan_bench.signals import interrupts_ignored

    notes = [] if resume is not None else [note for exp in experiments().values() if (note := exp.reproduce_config()[1])]
    request = Request(options=options, out=out, quick=quick, tuned=tuned, peers=peers, resume=resume,
                      workers=_workers(workers, True),
                      executor=executor.value, address=address)
    result = run_reproduce(request, _reporter, None if as_json else _shielded(_show_experiment))
    with interrupts_ignored():
        for note in notes:
            typer.echo(f"note: {note}", err=True)
        _reproduce_ending(result, as_json)


def _reproduce_ending(result: Any, as_json: bool) -> None:
    """The verdicts (or the JSON object), where the report is, and how the reproduce run ended."""
    from relukan_bench.render import styled

    if as_json:
        from relukan_bench.outcome_json import dumps, reproduce_object

        _shielded(typer.echo)(dumps(reproduce_object(result)))
    else:
        console = _console()
        console.rule("Verdicts")
        for verdict in result.verdicts:
            console.print(styled((verdict.headline, "bold"), f" {verdict.sentence}"), highlight=False)
        console.print(f"Report: {result.report}")
    failures = [f"{name}: {line}" for name, run in result.runs.items() for line in run.failed]
    _ending("reproduce", result.run_dir, failures, result.interrupted, as_json,
            kept="the finished work was kept and reported", failed=f"{len(failures)} unit(s)", lost=result.lost)


def _show_experiment(name: str, result: Any) -> None:
    """The tables of a finished experiment run (also after each of `reproduce`'s); a `--quick`
    run's say on their first line that they are a smoke run, not a result."""
    from relukan_bench.experiments.protocol import experiment
    from relukan_bench.report import SMOKE

    console = _console()
    for table in experiment(result.experiment).show(result):
        if name != result.experiment:  # a further part of reproduce (fit-tuned, speed-peers, ...)
            table.title = f"{name}: {table.title or ''}".rstrip(": ")
        if result.quick:
            table.title = f"{SMOKE.upper()} (--quick): {table.title or ''}".rstrip(": ")
        console.print(table)


@app.command(cls=_Command)
@_reports_errors
def compare(
    base: Path = typer.Argument(..., metavar="BASE", help="A results directory (a run, a reproduce run), a summary/table CSV, or `paper`: the paper's numbers, shipped with the package.", show_default=False),
    new: Path = typer.Argument(..., metavar="NEW", help="The same kinds as BASE (or `paper`).", show_default=False),
    out: Optional[Path] = typer.Option(None, "--out", help="Also write the table as CSV: the key columns, then base, new, ratio, mark, metric, p, note. A regular file there is replaced; anything else, or a file the comparison reads, is refused.", show_default=False),
    threshold: float = typer.Option(1.10, "--threshold", help="A ratio NEW/BASE beyond this (or below its inverse) counts as a change."),
    fail_on_regression: bool = typer.Option(False, "--fail-on-regression", help="Exit 1 when some row is worse beyond the threshold (+)."),
) -> None:
    """Put two result tables side by side: what changed between BASE and NEW, and whether it matters.

    Rows are matched on function, model and device. Speed compares ms per step (with a Mann-Whitney U test where both sides have 7+ raw repeats), or speedups when one side is the paper; fit and forgetting compare errors as ratios with a geometric mean per model.
    """
    from relukan_bench import compare as comparing
    from relukan_bench.render import compare_table, styled

    comparing.check_threshold(threshold)  # before anything is read
    sides = comparing.load(base), comparing.load(new)
    comparisons = comparing.compare(*sides, threshold)
    if out is not None:  # never over a file it read, nor anything but a regular file
        comparing.write_table(out, comparisons, sides)
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


config_app = typer.Typer(cls=_Commands, no_args_is_help=True, add_completion=False,
                         help="The configs shipped with the package: list them, print one resolved, copy one to edit.")
app.add_typer(config_app, name="config")


@config_app.command("list", cls=_Command)
@_reports_errors
def config_list() -> None:
    """Every shipped config: its name (what --config takes), its experiment and its purpose."""
    from rich.table import Table

    from relukan_bench.shipped import listing

    table = Table(caption="relukan-bench config show NAME: every key resolved; config copy NAME: the file, to edit")
    for column in ("name", "experiment", "purpose"):
        table.add_column(column, no_wrap=column != "purpose")
    for row in listing():
        table.add_row(*row)
    _console().print(table)


@config_app.command("show", cls=_Command)
@_reports_errors
def config_show(
    name: str = typer.Argument(..., metavar="NAME|PATH", help="A shipped config's name (config list) or a YAML file.", show_default=False),
    overrides: Optional[List[str]] = OVERRIDES,
    experiment: Optional[str] = typer.Option(None, "--experiment", metavar="NAME", show_default=False,
                                             help="The experiment it configures, where its name does not say."),
) -> None:
    """Print a config resolved, overrides applied and every default filled in, as YAML ready to save: what a run with it records in config.yaml."""
    from relukan_bench.shipped import show

    typer.echo(show(name, overrides or [], experiment), nl=False)


@config_app.command("copy", cls=_Command)
@_reports_errors
def config_copy(
    name: str = typer.Argument(..., metavar="NAME", help="A shipped config's name (config list).", show_default=False),
    dest: Optional[Path] = typer.Argument(None, metavar="DEST", show_default=False,
                                          help="Where to write it: a file or a directory (default: NAME.yaml here)."),
    force: bool = typer.Option(False, "--force", help="Replace DEST if it is a regular file (never the config copied, nor anything else)."),
) -> None:
    """Copy a shipped config, comments and all, to edit it and pass it to --config. Prints the path written."""
    from relukan_bench.shipped import copy

    typer.echo(str(copy(name, dest, force)))


pykan_app = typer.Typer(cls=_Commands, no_args_is_help=True, add_completion=False,
                        help="Prepare pykan versions other than the installed one, for the speed experiment's baselines.")
app.add_typer(pykan_app, name="pykan")


@pykan_app.command("install", cls=_Command)
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
    pykan_envs.released(list(dict.fromkeys(versions)))  # asks the index; writes nothing
    pykan_envs.writable_home()
    for version in dict.fromkeys(versions):
        try:
            pykan_envs.install(version, echo=lambda line: typer.echo(_escape(line)))
        except RuntimeError as exc:
            typer.echo(f"error: {_one_line(str(exc))}", err=True)
            raise typer.Exit(1) from None


@pykan_app.command("list", cls=_Command)
@_reports_errors
def pykan_list() -> None:
    """The installed pykan and every prepared environment."""
    from relukan_bench import pykan_envs

    typer.echo(f"installed: {pykan_envs.installed() or 'none'} (this process)")
    for version in pykan_envs.prepared_versions():
        typer.echo(_escape(f"{version}: {pykan_envs.env_dir(version)}"))


def main() -> None:
    """Console-script entry point."""
    app(prog_name="relukan-bench")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
