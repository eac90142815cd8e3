"""What every command of the CLI shares: the command classes (tidy help; usage errors reported
like every other error, in one line with exit status 2), the wrapper that turns library errors
into one line on stderr and an exit status (`reports_errors`), the console tables go to, and
the trailing `key=value` overrides argument.
"""

from __future__ import annotations

import functools
import sys
from typing import Any, Callable, Sequence

import typer
from typer._click.exceptions import UsageError as ClickUsageError  # the click typer (pinned) vendors
from typer.core import TyperCommand, TyperGroup

from relukan_bench.errors import BenchError, clip, escape
from relukan_bench.signals import describe, exit_status, stops_as_interrupts
from relukan_bench.streams import gone, is_null, reader_gone, reset, silence, stopped_status


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


class Command(_TidyHelp, TyperCommand):
    """One command (see `_TidyHelp`)."""


class Commands(_TidyHelp, TyperGroup):
    """The command group, with usage errors (an option's value out of range, an unknown
    option or choice) reported like every other error: one line, exit status 2."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, windows_expand_args: bool = True, **kwargs: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, windows_expand_args, **kwargs)
        null_before = is_null(1)
        reset()
        try:
            code = super().main(args, prog_name, complete_var, False, windows_expand_args, **kwargs)
        except OSError as exc:
            if not reader_gone(exc):
                raise
            silence(1, 2)
            sys.exit(stopped_status())
        except SystemExit as exc:  # click and rich end a closed pipe of their own output (the help) with status 1
            if exc.code == 1 and (type(sys.stdout).__name__ == "PacifyFlushWrapper" or is_null(1) and not null_before):
                silence(1, 2)
                sys.exit(stopped_status())
            raise
        except ClickUsageError as exc:
            if exc.__class__.__name__ == "NoArgsIsHelpError":  # no arguments at all: the help, as usual
                return super().main(args, prog_name, complete_var, True, windows_expand_args, **kwargs)
            command = exc.ctx.command_path if exc.ctx is not None else "relukan-bench"
            typer.echo(f"error: {command}: {one_line(' '.join(exc.format_message().split()))}", err=True)
            sys.exit(exc.exit_code)
        except typer.Abort:
            typer.echo("aborted", err=True)
            sys.exit(1)
        code = code if isinstance(code, int) else 0
        sys.exit(stopped_status() if code == 0 and gone() else code)


def reports_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn library errors into one line on stderr and an exit status, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with stops_as_interrupts():  # SIGTERM and SIGHUP stop a run as Ctrl-C does
                return command(*args, **kwargs)
        except BenchError as exc:
            typer.echo(f"error: {one_line(str(exc))}", err=True)
            raise typer.Exit(exc.exit_code) from None
        except OSError as exc:  # a disk that filled up, a directory removed under the run: what finished is on disk
            if reader_gone(exc):  # stdout's reader is gone (`| head`): end quietly
                silence(1, 2)
                raise typer.Exit(stopped_status()) from None
            where = f"{exc.filename}: " if exc.filename else ""
            typer.echo(f"error: {one_line(where + (exc.strerror or str(exc)))}", err=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            typer.echo(f"interrupted{describe()}", err=True)
            raise typer.Exit(exit_status()) from None

    return wrapper


def one_line(message: str) -> str:
    """A message as the one line the CLI prints (relukan_bench.errors.clip, 2000 characters)."""
    return clip(message, 2000)


def tables_console():
    """stdout for tables. Written to a file or pipe (a log), tables get 160 columns rather
    than rich's 80, unless COLUMNS says otherwise."""
    import os

    from rich.console import Console

    class Tables(Console):
        def on_broken_pipe(self) -> None:  # the reader is gone: the run goes on, its tables go nowhere
            self.quiet = True
            silence(1)

        def _render_buffer(self, buffer: Any) -> str:  # text from a user (a path in a title) never drives the terminal
            from rich.segment import Segment

            return super()._render_buffer(part if part.control else Segment(
                "\n".join(map(escape, part.text.split("\n"))), part.style) for part in buffer)

    console = Tables(stderr=False, markup=False)  # nothing a user typed is read as markup
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Tables(stderr=False, markup=False, width=160)
    return console


#: The config overrides after the arguments (the experiment commands, `config show`).
OVERRIDES = typer.Argument(None, metavar="KEY=VALUE", show_default=False,
                           help="Config overrides as key=value, e.g. train.steps=50 functions.f1.grid=10.")
