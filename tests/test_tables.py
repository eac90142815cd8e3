"""The one table model: cells, markdown, and the terminal's parts."""

import io

from rich.console import Console

from relukan_bench.tables import Cell, Column, Table


def test_a_cell_in_markdown_and_in_the_terminal():
    cell = Cell("2.1x", "1.9x to 2.3x", "1 failed", style="bold", lines=(("too slow", "dim"),))
    assert cell.to_markdown() == "**2.1x** [1.9x to 2.3x] too slow (1 failed)"
    assert cell.to_text().plain == "2.1x\n1.9x to 2.3x\ntoo slow\n1 failed"
    assert Cell("", note="1 diverged").to_markdown() == " (1 diverged)"
    assert Cell("", note="1 diverged").to_text().plain == "1 diverged"  # no empty line above


def test_markdown_escapes_pipes_and_line_breaks_and_aligns_by_column():
    table = Table("title", "caption", [Column("a", "left")], [Column("b\nc"), Column("d", "center")])
    table.add_row(["x|y", "1", Cell("z", style="bold")], end_section=True)
    assert table.to_markdown().splitlines() == ["| a | b c | d |", "|---|---:|---|", "| x\\|y | 1 | **z** |"]


def test_headers_and_cells_are_never_read_as_markup():
    """(The title and caption are plain strings: the CLI's consoles read no markup.)"""
    table = Table("t", "", [Column("[seed range]", "left")], [Column("v")])
    table.add_row(["[red]x[/red]", "1"])
    console = Console(width=80, record=True, file=io.StringIO(), color_system=None)
    console.print(table)
    text = console.export_text()
    assert "[seed range]" in text and "[red]x[/red]" in text
