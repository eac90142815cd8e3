"""The commands that run no experiment: `compare`, `config list|show|copy` and
`pykan install|list`. `relukan_bench.cli` adds them to the app.

The shipped configs' module is imported by the commands that read them, when they run: it
reads YAML, which `--help` does without (docs/development.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from relukan_bench import compare as comparing
from relukan_bench import pykan_envs
from relukan_bench.cli_common import OVERRIDES, Command, Commands, one_line, reports_errors, tables_console
from relukan_bench.compare_sides import load
from relukan_bench.errors import UsageError, escape
from relukan_bench.render import compare_table, styled


@reports_errors
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

    comparing.check_threshold(threshold)  # before anything is read
    sides = load(base), load(new)
    comparisons = comparing.compare(*sides, threshold)
    if out is not None:  # never over a file it read, nor anything but a regular file
        comparing.write_table(out, comparisons, sides)
    console = tables_console()
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


config_app = typer.Typer(cls=Commands, no_args_is_help=True, add_completion=False, rich_markup_mode=None,
                         help="The configs shipped with the package: list them, print one resolved, copy one to edit.")


@config_app.command("list", cls=Command)
@reports_errors
def config_list() -> None:
    """Every shipped config: its name (what --config takes), its experiment and its purpose."""
    from rich.table import Table

    from relukan_bench import shipped

    table = Table(caption="relukan-bench config show NAME: every key resolved; config copy NAME: the file, to edit")
    for column in ("name", "experiment", "purpose"):
        table.add_column(column, no_wrap=column != "purpose")
    for row in shipped.listing():
        table.add_row(*row)
    tables_console().print(table)


@config_app.command("show", cls=Command)
@reports_errors
def config_show(
    name: str = typer.Argument(..., metavar="NAME|PATH", help="A shipped config's name (config list) or a YAML file.", show_default=False),
    overrides: Optional[List[str]] = OVERRIDES,
    experiment: Optional[str] = typer.Option(None, "--experiment", metavar="NAME", show_default=False,
                                             help="The experiment it configures, where its name does not say."),
) -> None:
    """Print a config resolved, overrides applied and every default filled in, as YAML ready to save: what a run with it records in config.yaml."""

    from relukan_bench import shipped

    typer.echo(shipped.show(name, overrides or [], experiment), nl=False)


@config_app.command("copy", cls=Command)
@reports_errors
def config_copy(
    name: str = typer.Argument(..., metavar="NAME", help="A shipped config's name (config list).", show_default=False),
    dest: Optional[Path] = typer.Argument(None, metavar="DEST", show_default=False,
                                          help="Where to write it: a file or a directory (default: NAME.yaml here)."),
    force: bool = typer.Option(False, "--force", help="Replace DEST if it is a regular file (never the config copied, nor anything else)."),
) -> None:
    """Copy a shipped config, comments and all, to edit it and pass it to --config. Prints the path written."""

    from relukan_bench import shipped

    typer.echo(str(shipped.copy(name, dest, force)))


pykan_app = typer.Typer(cls=Commands, no_args_is_help=True, add_completion=False, rich_markup_mode=None,
                        help="Prepare pykan versions other than the installed one, for the speed experiment's baselines.")


@pykan_app.command("install", cls=Command)
@reports_errors
def pykan_install(
    versions: List[str] = typer.Argument(..., metavar="VERSION...", help="pykan releases, e.g. 0.0.5 0.1.2.", show_default=False),
) -> None:
    """Install pykan releases, each into an environment of its own (pip, from the package index).

    A speed config's kan entry names one with `pykan: "0.0.5"`; the run times it in a worker process of this interpreter with that release first on its path. Nothing is downloaded while a run runs.
    """

    bad = [v for v in versions if not pykan_envs.VERSION.fullmatch(v)]
    if bad:
        raise UsageError(f"VERSION {one_line(bad[0])[:40]!r}: expected a pykan release such as 0.0.5")
    pykan_envs.released(list(dict.fromkeys(versions)))  # asks the index; writes nothing
    pykan_envs.writable_home()
    for version in dict.fromkeys(versions):
        try:
            pykan_envs.install(version, echo=lambda line: typer.echo(escape(line)))
        except RuntimeError as exc:
            typer.echo(f"error: {one_line(str(exc))}", err=True)
            raise typer.Exit(1) from None


@pykan_app.command("list", cls=Command)
@reports_errors
def pykan_list() -> None:
    """The installed pykan and every prepared environment."""

    typer.echo(f"installed: {pykan_envs.installed() or 'none'} (this process)")
    for version in pykan_envs.prepared_versions():
        typer.echo(escape(f"{version}: {pykan_envs.env_dir(version)}"))
