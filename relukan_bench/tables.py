"""One table, two renderings: a `Table` of text cells is built once (by the experiment that
owns it) and shown in the terminal (`to_rich`) or written into REPORT.md (`to_markdown`).

A cell is its value, an optional spread (the range over seeds: a dim second line in the
terminal, brackets in markdown) and an optional note (failures: red, or parentheses).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence


@dataclass(frozen=True)
class Cell:
    text: str
    spread: str = ""
    note: str = ""


@dataclass(frozen=True)
class Column:
    name: str
    right: bool = True
    bold: bool = False


@dataclass
class Table:
    title: str
    caption: str
    columns: list[Column]
    rows: list[list[Cell]] = field(default_factory=list)


def to_rich(table: Table) -> Any:
    """A rich Table: spreads dim on a second line, notes red below (styles, never markup)."""
    from rich.table import Table as RichTable
    from rich.text import Text

    from relukan_bench.render import below

    out = RichTable(title=table.title, caption=table.caption)
    for column in table.columns:
        out.add_column(column.name, justify="right" if column.right else "left", style="bold" if column.bold else None,
                       no_wrap=column.right)
    for row in table.rows:
        cells = []
        for cell in row:
            text = Text(cell.text)
            for line, style in ((cell.spread, "dim"), (cell.note, "red")):
                text = below(text, line, style) if line else text
            cells.append(text)
        out.add_row(*cells)
    return out


def to_markdown(table: Table) -> str:
    """A GitHub-flavoured markdown table: spreads in brackets, notes in parentheses."""
    header = [column.name.replace("\n", " ") for column in table.columns]
    rows = [[cell.text + (f" [{cell.spread}]" if cell.spread else "") + (f" ({cell.note})" if cell.note else "")
             for cell in row] for row in table.rows]
    return markdown_table(header, rows, right=[column.right for column in table.columns])


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool] | None = None) -> str:
    """A GitHub-flavoured markdown table; `|` inside cells is escaped."""
    right = right or [i > 0 for i in range(len(header))]
    clean = [[str(cell).replace("|", "\\|").replace("\n", " ") for cell in row] for row in [header, *rows]]
    lines = ["| " + " | ".join(clean[0]) + " |", "|" + "|".join("---:" if r else "---" for r in right) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in clean[1:]]
    return "\n".join(lines)
