"""Terminal tables (rich): the shared parts (`SplitTable`, styled cells) and `compare`'s table.
Each experiment's own tables live in its folder (`experiments/<name>/tables.py`). They arrange
records and compute nothing.

Cells are plain text or `rich.text.Text` with styles set as attributes, never markup: the
consoles that print them read no markup, so that nothing a user typed (a path, a name, an
error message) is ever taken for a style."""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from relukan_bench import fmt


def styled(*parts: str | tuple[str, str]) -> Text:
    """Text from plain parts and (text, style) pairs, as `Text.assemble`; no markup read."""
    return Text.assemble(*parts)


def below(text: str | Text, line: str, style: str) -> Text:
    """`text` with `line` in `style` on a line below it (or alone when `text` is empty)."""
    return styled(text, ("\n" + line if str(text) else line, style))


def _times(value: float | None) -> str:
    if value is None or value != value:
        return ""
    return "inf" if math.isinf(value) else f"{value:.2f}x"


WIDE = 1 << 20  # a width no table reaches: the natural width of whatever is measured in it


class SplitTable:
    """A table of row labels (device, model) and value columns (one per function) drawn as
    as many tables of consecutive value columns as the console's width needs, the labels
    repeated in each: so that many functions stay readable in 80 columns. No column is ever
    wrapped or cut: each is as wide as its longest header or cell line (`no_wrap`,
    `min_width`, measured by rich); the parts are as even as the width allows. The title goes
    above the first part (`title` may be changed until drawn, as the CLI does), the caption
    below the last. Cells are plain text or `Text`; plain text is taken as `Text`, never markup.

    Only where the labels and one value column do not fit together (a console far below 80
    columns) do that part's value columns wrap and fold; the labels stay whole."""

    def __init__(self, title: str, caption: str, labels: Sequence[str], columns: Sequence[tuple[str, str | None]]):
        self.title, self.caption = title, caption
        self.labels = list(labels)
        self.columns = list(columns)  # (header, style) per value column, right-justified
        self.rows: list[tuple[list[Text], bool]] = []

    def add_row(self, labels: Sequence[str | Text], cells: Sequence[str | Text], end_section: bool = False) -> None:
        """A row: its labels, then a cell per value column."""
        self.rows.append(([Text(c) if isinstance(c, str) else c for c in [*labels, *cells]], end_section))

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        wide = options.update_width(WIDE)
        headers = [*self.labels, *(header for header, _ in self.columns)]
        widths = [max(Measurement.get(console, wide, Text(cell) if isinstance(cell, str) else cell).maximum
                      for cell in [header, *(row[index] for row, _ in self.rows)])
                  for index, header in enumerate(headers)]
        groups = self._groups(lambda group: self._fits(console, options, group, widths))
        for index, group in enumerate(groups):
            yield self._part(group, widths, self._fits(console, options, group, widths),
                             self.title if index == 0 else None, self.caption if index == len(groups) - 1 else None)

    def _fits(self, console: Console, options: ConsoleOptions, group: list[int], widths: list[int]) -> bool:
        """Whether the labels and these value columns, none of them narrowed, fit the width."""
        part = self._part(group, widths, True, None, None)
        return Measurement.get(console, options.update_width(WIDE), part).maximum <= options.max_width

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

    def _part(self, group: list[int], widths: list[int], whole: bool, title: str | None, caption: str | None) -> Table:
        """One part: the labels and the value columns in `group` (their indices); `whole`:
        every column at its full width, else the value columns may wrap."""
        table = Table(title=title, caption=caption)
        for index, header in enumerate(self.labels):
            table.add_column(Text(header), no_wrap=True, min_width=widths[index])
        for index in group:
            header, style = self.columns[index]
            width = widths[len(self.labels) + index]
            table.add_column(Text(header), justify="right", style=style, no_wrap=whole, min_width=width if whole else None,
                             overflow="ellipsis" if whole else "fold")
        for cells, end_section in self.rows:
            table.add_row(*cells[:len(self.labels)], *(cells[len(self.labels) + i] for i in group), end_section=end_section)
        return table


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


MARK_STYLES = {"+": "bold red", "-": "bold green", "~": "dim", "!": "bold magenta", "x": "yellow"}


def compare_table(comparison: Any, base: str, new: str) -> Table:
    """One experiment's comparison: the keys, BASE, NEW, NEW/BASE and the mark per row, then
    the geometric means."""
    out = Table(
        title=f"{comparison.experiment}: {comparison.metric_note}",
        caption=(f"BASE {base}, NEW {new}. +: worse beyond the threshold, -: better, ~: within it or not significant, "
                 "!: failed or diverged on one side only, x: on one side only."
                 + (" Speed differences need a Mann-Whitney U test p < 0.01 where both sides have 7+ repeats."
                    if comparison.tests else "")),
    )
    for key in comparison.keys:
        out.add_column(key)
    metrics = {row.metric for row in comparison.rows}
    if len(metrics) > 1:
        out.add_column("metric")
    for name in ("BASE", "NEW", "NEW/BASE"):
        out.add_column(name, justify="right", no_wrap=True)
    out.add_column("", justify="center")
    out.add_column("p", justify="right")
    out.add_column("note", style="dim")
    for index, row in enumerate([*comparison.rows, *comparison.summary]):
        cells = list(row.keys)
        if len(metrics) > 1:
            cells.append(row.metric)
        style = MARK_STYLES.get(row.mark, "")
        cells += [_value(row.metric, row.base), _value(row.metric, row.new), fmt.ratio(row.ratio),
                  Text(row.mark, style=style), f"{row.p:.3g}" if row.p is not None else "", row.note]
        out.add_row(*cells, end_section=index == len(comparison.rows) - 1 and bool(comparison.summary))
    return out


def _value(metric: str, value: float | None) -> str:
    if value is None or value != value:
        return ""
    if metric == "speedup":
        return _times(value)
    if metric == "ms_per_step":
        return f"{value:.3g} ms"
    return fmt.mse(value)
