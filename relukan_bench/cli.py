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

from relukan_bench import __version__

app = typer.Typer(
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
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            typer.echo("interrupted", err=True)
            raise typer.Exit(130) from None

    return wrapper


def _names(value: Optional[str]) -> Optional[List[str]]:
    if value is None:
        return None
    names = [name.strip() for name in value.split(",") if name.strip()]
    return names or None


def _console():
    from rich.console import Console

    return Console(stderr=False)


class _RichReporter:
    """A rich progress bar across all units of a run, on stderr."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
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


CONFIG_HELP = "YAML config (default: configs/<command>.yaml)."
OVERRIDES_HELP = "Config overrides as key=value, e.g. train.steps=50 functions.f1.grid=10."


@app.command()
@_reports_errors
def speed(
    overrides: Optional[List[str]] = typer.Argument(None, metavar="[KEY=VALUE]...", help=OVERRIDES_HELP, show_default=False),
    config: Optional[Path] = typer.Option(None, "--config", "-c", help=CONFIG_HELP, show_default=False),
    device: Optional[Device] = typer.Option(None, "--device", case_sensitive=False, help="cpu, cuda, or auto (the CPU plus CUDA when present). Default: the config's (cpu).", show_default=False),
    repeats: Optional[int] = typer.Option(None, "--repeats", min=1, help="Fresh models timed per function, model and device.", show_default=False),
    threads: Optional[int] = typer.Option(None, "--threads", min=1, help="torch threads while timing, recorded. Default: the config's (1).", show_default=False),
    functions: Optional[str] = typer.Option(None, "--functions", help="Only these functions, e.g. f1,f4.", show_default=False),
    models: Optional[str] = typer.Option(None, "--models", help="Only these models, e.g. relukan,kan.", show_default=False),
    seed: Optional[int] = typer.Option(None, "--seed", min=0, help="Base seed of data and initialisation.", show_default=False),
    out: Optional[Path] = typer.Option(None, "--out", help="Run directory (default: results/speed/<UTC timestamp>/).", show_default=False),
    quick: bool = typer.Option(False, "--quick", help="Smoke run: every function and model, a handful of steps, one repeat."),
) -> None:
    """Time ReLU-KAN and the original KAN on the paper's five speed functions.

    Writes config.yaml, env.json, raw.csv (every repeat), summary.csv (median, quartiles, speedup over the baseline), table.csv (the paper's layout) and speed.png into results/speed/<UTC timestamp>/.
    """
    from relukan_bench.runner import Request, run_speed

    options = []
    if threads is not None:
        options.append(f"threads={threads}")
    if device is not None:
        options.append(f"device={device.value}")
    if repeats is not None:
        options.append(f"timing.repeats={repeats}")
    if seed is not None:
        options.append(f"seed={seed}")
    request = Request(
        config=config, overrides=overrides or [], options=options,
        functions=_names(functions), models=_names(models), out=out, quick=quick,
    )
    result = run_speed(request, _RichReporter())

    from relukan_bench.render import speed_table

    console = _console()
    console.print(speed_table(result.summary, result.config.baseline, result.paper, result.config.train.steps))
    console.print(f"Results in {result.run_dir}")
    if result.interrupted:
        typer.echo("interrupted: the finished repeats were kept and summarised", err=True)
        raise typer.Exit(130)


def main() -> None:
    """Console-script entry point."""
    app(prog_name="relukan-bench")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
