"""The `relukan-bench` command line. Thin: each command turns its options into a request,
makes one call into the library and renders the result.

Only the CLI (this module, and `cli_common` which its commands share) turns library errors
into a one-line message and an exit status: 2 for bad input (config, option, device), 128 +
the signal for a stop (Ctrl-C 130, SIGTERM 143, SIGHUP 129). Nothing heavy is imported at
module level, so `--help` and `--version` answer at once: the package's own modules are
imported at the top, except the runner, which a command imports when it runs (it validates
configs with pydantic; docs/development.md lists what counts as heavy).
"""

from __future__ import annotations

import enum
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, List, Optional

import typer

from relukan_bench import __version__
from relukan_bench.cli_common import OVERRIDES, Command, Commands, one_line, reports_errors, tables_console
from relukan_bench.cli_tools import compare, config_app, pykan_app
from relukan_bench.errors import UsageError, escape
from relukan_bench.executors import MAX_WORKERS, WORKERS_VARIABLE
from relukan_bench.experiments.protocol import Experiment, Outcome, experiment, experiments
from relukan_bench.outcome_json import dumps, reproduce_object, run_object
from relukan_bench.progress import reporter
from relukan_bench.render import styled
from relukan_bench.report import SMOKE
from relukan_bench.signals import describe, exit_status, interrupts_ignored
from relukan_bench.streams import shielded

if TYPE_CHECKING:
    from relukan_bench.runner import ReproduceRun, Request

app = typer.Typer(
    cls=Commands,
    name="relukan-bench",
    no_args_is_help=True,
    rich_markup_mode=None,  # plain help: rich's help panels take a third of --help's half second
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


def _names(value: Optional[str]) -> Optional[List[str]]:
    if value is None:
        return None
    names = [name.strip() for name in value.split(",") if name.strip()]
    return names or None



class Device(str, enum.Enum):
    cpu = "cpu"
    cuda = "cuda"
    auto = "auto"


# Options several commands share: one definition each.
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
                             "'relukan-bench[dask]'), local on 127.0.0.1 or the one --address names.")
ADDRESS = typer.Option(None, "--address", metavar="SCHEDULER", show_default=False,
                       help="With --executor dask: an existing cluster's scheduler, e.g. tcp://10.0.0.5:8786.")


def _workers_option(exp: Experiment[Any, Any, Any, Any] | None) -> Any:
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
    text = os.environ.get(WORKERS_VARIABLE, "")
    if given is not None or not parallel or not text.strip():
        return given
    if not re.fullmatch(r"[0-9]{1,9}", text.strip()) or not 1 <= int(text.strip()) <= MAX_WORKERS:
        raise UsageError(f"{WORKERS_VARIABLE}={one_line(text)[:40]!r}: expected a whole number of workers from 1 "
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

    if value is not None and escape(str(value)) != str(value):
        raise typer.BadParameter(f"{escape(str(value))[:200]}: a path this command creates may not hold control characters")
    return value


def _request(config: Optional[Path], overrides: Optional[List[str]], options: dict[str, Any],
             functions: Optional[str], models: Optional[str], out: Optional[Path], quick: bool,
             resume: Optional[Path] = None) -> Request:
    """The library's request: CLI options given become key=value overrides, applied before
    the trailing ones."""
    from relukan_bench.runner import Request  # the runner reads configs: pydantic would slow --help

    settings = [f"{key}={value}" for key, value in options.items() if value is not None]
    return Request(config=config, overrides=overrides or [], options=settings,
                   functions=_names(functions), models=_names(models), out=out, quick=quick, resume=resume)


def _finish(command: str, result: Outcome[Any, Any], what: str, as_json: bool) -> None:
    """What went wrong beside the units, the run directory on the last line of stdout (or the
    whole outcome as one JSON object), then how the run ended (`_ending`)."""
    for warning in result.warnings:
        typer.echo(f"warning: {one_line(warning)}", err=True)
    if as_json:

        shielded(typer.echo)(dumps(run_object(result)))
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
        typer.echo(f"failed: {one_line(line)}", err=True)

    if lost:
        typer.echo(f"error: {one_line(lost)}; {kept}; to finish the run: relukan-bench {command} --resume {run_dir}",
                   err=True)
    elif interrupted:
        typer.echo(one_line(f"interrupted{describe()}: {kept}; to finish the run: relukan-bench {command} "
                             f"--resume {run_dir}"), err=True)
    elif failures:
        typer.echo(f"{failed} failed (recorded in the results with their error)", err=True)
    if not as_json:
        shielded(typer.echo)(escape(str(run_dir)))
    if interrupted or failures or lost:
        raise typer.Exit(exit_status() if interrupted and not lost else 1)


JSON = typer.Option(False, "--json", help="Print one JSON object (run directory, status, summary rows) instead of "
                                          "the tables; progress stays on stderr.")


def _experiment_command(exp: Experiment[Any, Any, Any, Any]) -> None:
    """The command of one registered experiment: the common options, then its own (each sets a
    config key), the trailing overrides; runs it, shows its tables, says how it ended."""
    import inspect

    def command(**given: Any) -> None:
        from dataclasses import replace

        options = {"threads": given["threads"], "device": given["device"].value if given["device"] else None}
        for option in exp.command.options:
            value = given[option.param]
            if value is not None:
                options[option.key] = option.convert(value) if option.convert else value
        request = _request(given["config"], given["overrides"], options, given.get("functions"), given.get("models"),
                           given["out"], given["quick"], given["resume"])
        request = replace(request, workers=_workers(given["workers"], exp.parallel), executor=given["executor"].value, address=given["address"])

        from relukan_bench.runner import run  # the runner reads configs: pydantic would slow --help

        result = run(exp.name, request, reporter(exp.name))
        with interrupts_ignored():  # the run is closed: how it ended is told as it ended, whatever is pressed now
            if not given["json"]:
                shielded(_show_experiment)(exp.name, result)
            _finish(exp.name, result, exp.command.units_name, given["json"])

    def parameter(name: str, default: Any, annotation: Any) -> inspect.Parameter:
        return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)

    params = [parameter("overrides", OVERRIDES, Optional[List[str]]), parameter("config", CONFIG, Optional[Path]),
              parameter("device", typer.Option(None, "--device", case_sensitive=False, help=exp.command.device_help,
                                               show_default=False), Optional[Device])]
    params += [parameter(o.param, typer.Option(None, o.flag, help=o.help, min=o.min, show_default=False,
                                                metavar="N" if o.type is int else o.param.upper()),
                         Optional[o.type]) for o in exp.command.options]
    params += [parameter("threads", THREADS, Optional[int]), parameter("workers", _workers_option(exp), Optional[int]),
               parameter("executor", EXECUTOR, Executor), parameter("address", ADDRESS, Optional[str])]
    params += [parameter(name, {"functions": FUNCTIONS, "models": MODELS}[name], Optional[str]) for name in exp.command.selects]
    params += [parameter("out", _out(exp.name), Optional[Path]),
               parameter("quick", typer.Option(False, "--quick", help=exp.command.quick_help), bool),
               parameter("resume", RESUME, Optional[Path]), parameter("json", JSON, bool)]
    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__name__, command.__doc__ = exp.name, exp.command.help
    app.command(name=exp.name, help=exp.command.help, cls=Command)(reports_errors(command))


def _register_experiments() -> None:
    """One command per registered experiment (relukan_bench.experiments.protocol)."""

    for exp in experiments().values():
        _experiment_command(exp)


_register_experiments()


@app.command(cls=Command)
@reports_errors
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

    options = [f"{key}={value}" for key, value in {"threads": threads, "device": device.value if device else None}.items()
               if value is not None]

    from relukan_bench.runner import Request, run_reproduce  # the runner reads configs: pydantic would slow --help

    notes = [] if resume is not None else [note for exp in experiments().values() if (note := exp.reproduce_config()[1])]
    request = Request(options=options, out=out, quick=quick, tuned=tuned, peers=peers, resume=resume,
                      workers=_workers(workers, True),
                      executor=executor.value, address=address)
    result = run_reproduce(request, reporter, None if as_json else shielded(_show_experiment))
    with interrupts_ignored():
        for note in notes:
            typer.echo(f"note: {note}", err=True)
        _reproduce_ending(result, as_json)


def _reproduce_ending(result: ReproduceRun, as_json: bool) -> None:
    """The verdicts (or the JSON object), where the report is, and how the reproduce run ended."""
    if as_json:

        shielded(typer.echo)(dumps(reproduce_object(result)))
    else:
        console = tables_console()
        console.rule("Verdicts")
        for verdict in result.verdicts:
            console.print(styled((verdict.headline, "bold"), f" {verdict.sentence}"), highlight=False)
        console.print(f"Report: {result.report}")
    failures = [f"{name}: {line}" for name, run in result.runs.items() for line in run.failed]
    _ending("reproduce", result.run_dir, failures, result.interrupted, as_json,
            kept="the finished work was kept and reported", failed=f"{len(failures)} unit(s)", lost=result.lost)


def _show_experiment(name: str, result: Outcome[Any, Any]) -> None:
    """The tables of a finished experiment run (also after each of `reproduce`'s); a `--quick`
    run's say on their first line that they are a smoke run, not a result."""

    console = tables_console()
    for table in experiment(result.experiment).show(result):
        if name != result.experiment:  # a further part of reproduce (fit-tuned, speed-peers, ...)
            table.title = f"{name}: {table.title or ''}".rstrip(": ")
        if result.quick:
            table.title = f"{SMOKE.upper()} (--quick): {table.title or ''}".rstrip(": ")
        console.print(table)


# the commands that run no experiment (relukan_bench.cli_tools), listed after those that do
app.command(cls=Command)(compare)
app.add_typer(config_app, name="config")
app.add_typer(pykan_app, name="pykan")


def main() -> None:
    """Console-script entry point."""
    app(prog_name="relukan-bench")


if __name__ == "__main__":  # pragma: no cover
    main()
