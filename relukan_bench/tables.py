"""One table model for the terminal and REPORT.md: a `Table` of text cells is built once (by
the experiment or report section that owns it) and either printed (it is a rich renderable)
or written into REPORT.md (`to_markdown`).

A table has a title and a caption, label columns (device, model: repeated in every part) and
value columns (one per function, say), and rows of cells, grouped into sections. A cell is its
value, an optional spread (the range over seeds: a dim second line in the terminal, brackets
in markdown), optional further lines (their own style in the terminal, after a space in
markdown) and an optional note (failures: red, or parentheses). A value styled "bold" is bold
in both renderings (`**value**` in markdown).

In the terminal the value columns are split into as many parts of consecutive columns as the
console's width needs, the labels repeated in each, so that many functions stay readable in 80
columns. No label or value column is ever wrapped or cut: each is as wide as its longest header
or cell line (`no_wrap`, `min_width`, measured by rich); the parts are as even as the width
allows. A column marked `wrap` (a free-text note) may wrap to make room. The title goes above
the first part (`title` may be changed until drawn, as the CLI does), the caption below the
last. Cells are taken as `Text`, never markup: the consoles that print them read no markup, so
that nothing a user typed (a path, a name, an error message) is ever taken for a style.

Only where the labels and one value column do not fit together (a console far below 80
columns) do that part's value columns wrap and fold; the labels stay whole."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Sequence

from rich.measure import Measurement
from rich.table import Table as RichTable
from rich.text import Text

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, JustifyMethod, RenderResult

WIDE = 1 << 20  # a width no table reaches: the natural width of whatever is measured in it


@dataclass(frozen=True)
class Cell:
    """One cell: `text` in `style`, then below it `spread` (dim), `lines` ((line, style) each)
    and `note` (red); in markdown `text [spread] line ... (note)`, `**text**` where bold."""

    text: str = ""
    spread: str = ""
    note: str = ""
    style: str = ""
    lines: tuple[tuple[str, str], ...] = ()

    def to_text(self) -> Text:
        """The terminal's cell: every part a line of its own, styles set, never markup."""
        text = Text(self.text, style=self.style)
        for line, style in ((self.spread, "dim"), *self.lines, (self.note, "red")):
            text = below(text, line, style) if line else text
        return text

    def to_markdown(self) -> str:
        """The markdown's cell, on one line (`|` is escaped by the table)."""
        text = f"**{self.text}**" if self.style == "bold" else self.text
        text += f" [{self.spread}]" if self.spread else ""
        text += "".join(f" **{line}**" if style == "bold" else f" {line}" for line, style in self.lines if line)
        return text + (f" ({self.note})" if self.note else "")


@dataclass(frozen=True)
class Column:
    """A column's header (`\\n`: a line break in the terminal, a space in markdown), how its
    cells are justified (markdown knows right and left: anything else is left), the style of
    its cells in the terminal, and whether it may wrap there (a free-text note)."""

    name: str
    justify: JustifyMethod = "right"
    style: str = ""
    wrap: bool = False


@dataclass(frozen=True)
class Row:
    cells: list[Cell]
    end_section: bool = False


@dataclass
class Table:
    """Label columns, then value columns; `add_row` takes a cell per column, labels first."""

    title: str
    caption: str
    labels: list[Column]
    columns: list[Column]
    rows: list[Row] = field(default_factory=list)

    def add_row(self, cells: Sequence[Cell | str], end_section: bool = False) -> None:
        """A row: a cell per label column, then one per value column (a string: a plain cell)."""
        self.rows.append(Row([Cell(c) if isinstance(c, str) else c for c in cells], end_section))

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        wide = options.update_width(WIDE)
        texts = [[cell.to_text() for cell in row.cells] for row in self.rows]
        headers = [column.name for column in [*self.labels, *self.columns]]
        widths = [max(Measurement.get(console, wide, cell).maximum for cell in [Text(header), *(row[i] for row in texts)])
                  for i, header in enumerate(headers)]
        groups = self._groups(lambda group: self._fits(console, options, texts, group, widths))
        for index, group in enumerate(groups):
            yield self._part(texts, group, widths, self._fits(console, options, texts, group, widths),
                             self.title if index == 0 else None, self.caption if index == len(groups) - 1 else None)

    def _fits(self, console: Console, options: ConsoleOptions, texts: list[list[Text]], group: list[int],
              widths: list[int]) -> bool:
        """Whether the labels and these value columns, none of them narrowed (but the `wrap`
        ones, at their longest word), fit the width."""
        part = self._part(texts, group, widths, True, None, None)
        return Measurement.get(console, options.update_width(WIDE), part).minimum <= options.max_width

    def _groups(self, fits: Callable[[list[int]], bool]) -> list[list[int]]:
        """The value columns in consecutive groups that fit: as few as packing them in order
        gives, then spread evenly over that many parts where those fit too."""
        packed: list[list[int]] = []
        for index in range(len(self.columns)):
            if packed and fits([*packed[-1], index]):
                packed[-1].append(index)
            else:
                packed.append([index])
        if len(packed) < 2:
            return packed or [[]]
        count, extra = divmod(len(self.columns), len(packed))
        starts = [i * count + min(i, extra) for i in range(len(packed) + 1)]
        even = [list(range(start, end)) for start, end in zip(starts, starts[1:])]
        return even if all(fits(group) for group in even) else packed

    def _part(self, texts: list[list[Text]], group: list[int], widths: list[int], whole: bool, title: str | None,
              caption: str | None) -> RichTable:
        """One part: the labels and the value columns in `group` (their indices); `whole`:
        every column at its full width, else the value columns may wrap."""
        table = RichTable(title=title, caption=caption)
        for index, column in enumerate(self.labels):
            table.add_column(Text(column.name), justify=column.justify, style=column.style or None, no_wrap=True,
                             min_width=widths[index])
        for index in group:
            column, width = self.columns[index], widths[len(self.labels) + index]
            fixed = whole and not column.wrap
            table.add_column(Text(column.name), justify=column.justify, style=column.style or None, no_wrap=fixed,
                             min_width=width if fixed else None, overflow="ellipsis" if fixed else "fold")
        labels = len(self.labels)
        for row, cells in zip(self.rows, texts):
            table.add_row(*cells[:labels], *(cells[labels + i] for i in group), end_section=row.end_section)
        return table

    def to_markdown(self) -> str:
        """A GitHub-flavoured markdown table (no title, no caption); `|` inside cells is escaped,
        line breaks become spaces."""
        columns = [*self.labels, *self.columns]
        clean = [[text.replace("|", "\\|").replace("\n", " ") for text in line]
                 for line in [[c.name for c in columns], *([c.to_markdown() for c in row.cells] for row in self.rows)]]
        lines = ["| " + " | ".join(clean[0]) + " |",
                 "|" + "|".join("---:" if c.justify == "right" else "---" for c in columns) + "|"]
        return "\n".join(lines + ["| " + " | ".join(line) + " |" for line in clean[1:]])


def to_rich(table: Table) -> Table:
    """The table as the terminal shows it: the table itself (a rich renderable)."""
    return table


def to_markdown(table: Table) -> str:
    """The table as REPORT.md shows it (`Table.to_markdown`)."""
    return table.to_markdown()


def styled(*parts: str | Text | tuple[str, str]) -> Text:
    """Text from plain parts and (text, style) pairs, as `Text.assemble`; no markup read."""
    return Text.assemble(*parts)


def below(text: str | Text, line: str, style: str) -> Text:
    """`text` with `line` in `style` on a line below it (or alone when `text` is empty)."""
    return styled(text, ("\n" + line if str(text) else line, style))
