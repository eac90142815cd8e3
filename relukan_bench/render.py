"""Terminal tables (rich). They arrange records and compute nothing, save the forward-only
latency's spread and speedup (from the quartiles and medians in its rows).

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


NOISY = 0.10  # torch.utils.benchmark's threshold for a noisy measurement


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


def _by_model(summary: Sequence[dict[str, Any]], title: str, caption: str,
              cell: Callable[[dict[str, Any] | None], Text],
              last: Callable[[str, list[str]], tuple[Text, list[Text]]] | None = None) -> SplitTable:
    """A row per device and model that ran there, a column per function, `cell` of each
    summary row; `last(device, functions)`: an optional last row per device (label, cells)."""
    models = list(dict.fromkeys(row["model"] for row in summary))
    functions = list(dict.fromkeys(row["function"] for row in summary))
    table = SplitTable(title, caption, ["device", "model"], [(function, None) for function in functions])
    by_key = {(r["function"], r["device"], r["model"]): r for r in summary}
    devices = list(dict.fromkeys(row["device"] for row in summary))
    for device in devices:
        here = [m for m in models if any((f, device, m) in by_key for f in functions)]
        for index, model in enumerate(here):
            table.add_row([device, model], [cell(by_key.get((f, device, model))) for f in functions],
                          end_section=last is None and index == len(here) - 1)
        if last is not None:
            label, cells = last(device, functions)
            table.add_row([device, label], cells, end_section=True)
    return table


def speed_table(
    summary: Sequence[dict[str, Any]],
    baseline: str | None,
    paper: dict[tuple[str, str], float],
    steps: int,
) -> SplitTable:
    """A row per device and model, a column per function (so that a run of many baselines
    stays readable; split into parts of consecutive functions where the width needs it): each
    cell the median ms per step with its interquartile range, and below it the speedup over
    the baseline, or "too slow" where the unit was not timed; a last row per device with the
    paper's ReLU-KAN/KAN speedup."""
    too_slow = any(row.get("too_slow") for row in summary)

    def paper_row(device: str, functions: list[str]) -> tuple[Text, list[Text]]:
        label = "gpu" if device == "cuda" else device
        return Text("paper speedup", style="dim"), [Text(_times(paper.get((f, label))), style="dim") for f in functions]

    return _by_model(
        summary,
        f"ms per training step over {steps} steps: median (IQR/median); below: speedup over {baseline or 'nothing'}",
        f"speedup = {baseline or 'baseline'} / model, medians; yellow: IQR > {NOISY:.0%}"
        + ("; too slow: not timed, one step estimated above timing.max_step_seconds (summary.csv's too_slow says "
           "by how much)" if too_slow else ""),
        lambda row: _speed_cell(row, row is not None and row["model"] == baseline),
        paper_row,
    )


def _speed_cell(row: dict[str, Any] | None, is_baseline: bool) -> Text:
    """'12.5 (6%)' (yellow when noisy), the speedup below it in bold, "too slow" (dim) where
    the unit was not timed, failures in red."""
    if row is None:
        return Text("")
    spread = row["iqr_rel"]
    noisy = spread == spread and spread > NOISY  # IQR above 10% of the median: say so
    if not row["n"]:
        plain = ""
    elif spread == spread:
        plain = f"{row['ms_per_step']:.3g} ({100 * spread:.0f}%)"
    else:
        plain = f"{row['ms_per_step']:.3g}"
    text = Text(plain, style="yellow" if noisy else "")
    if not is_baseline and _times(row.get("speedup")):
        text = below(text, _times(row.get("speedup")), "bold")
    if row.get("too_slow"):
        text = below(text, "too slow", "dim")
    return below(text, fmt.failures(row), "red") if fmt.failures(row) else text


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def inference_table(summary: Sequence[dict[str, Any]], baseline: str | None) -> SplitTable | None:
    """The forward-only latency (ms per call, no gradients), in the layout of `speed_table`:
    the median with its interquartile range, and below it the speedup over the baseline's
    (the ratio of the two medians); None when no row has one (runs from before it)."""
    if not any(_finite(row.get("infer_ms")) for row in summary):
        return None
    base = {(r["function"], r["device"]): r.get("infer_ms") for r in summary if r["model"] == baseline}

    def cell(row: dict[str, Any] | None) -> Text:
        if row is None:
            return Text("")
        median, low, high = row.get("infer_ms"), row.get("infer_q1_ms"), row.get("infer_q3_ms")
        text = Text("")
        if _finite(median):
            spread = (high - low) / median if median > 0 and _finite(low) and _finite(high) else math.nan
            text = Text(f"{median:.3g}" + (f" ({100 * spread:.0f}%)" if spread == spread else ""),
                        style="yellow" if spread == spread and spread > NOISY else "")
            reference = base.get((row["function"], row["device"]))
            if row["model"] != baseline and _finite(reference) and median > 0:
                text = below(text, _times(reference / median), "bold")
        if row.get("too_slow"):
            text = below(text, "too slow", "dim")
        return below(text, fmt.failures(row), "red") if fmt.failures(row) else text

    return _by_model(
        summary,
        f"ms per forward call (inference, no gradients): median (IQR/median); below: speedup over {baseline or 'nothing'}",
        f"speedup = {baseline or 'baseline'} / model, medians of the forward-only latency; yellow: IQR > {NOISY:.0%}",
        cell,
    )


def decomposition_table(split: Sequence[dict[str, Any]]) -> SplitTable:
    """Per function, device and ReLU-KAN: its speedup over pykan split into the
    implementation's part (pykan / our B-spline KAN) and the basis's (our B-spline KAN /
    ReLU-KAN), with quartile ranges below (experiments/speed.py, `decompose`); split into
    parts like `SplitTable` where the width needs it."""
    first = split[0]
    table = SplitTable(
        "where the speedup comes from: total = implementation x basis",
        f"implementation = {first['kan']} / {first['bspline']} (the same B-spline KAN, pykan's code vs a few "
        f"tensor operations); basis = {first['bspline']} / ReLU-KAN; share = the implementation's part of the "
        "total on a log scale; brackets: quartile range",
        ["function", "device", "ReLU-KAN"],
        [("total", None), ("implementation", None), ("basis", None), ("implementation\nshare", "bold")],
    )
    for row in split:
        cells: list[str | Text] = []
        for name in ("total", "implementation", "basis"):
            cells.append(below(_times(row[name]), f"[{_times(row[name + '_low'])}-{_times(row[name + '_high'])}]", "dim"))
        share = row["implementation_share"]
        cells.append(f"{share:.0%}" if share == share else "")
        table.add_row([row["function"], row["device"], row["relukan"]], cells)
    return table


def fit_table(summary: Sequence[dict[str, Any]], table: Sequence[dict[str, Any]], config: Any) -> SplitTable:
    """A row per model, a column per function (split into parts of consecutive functions where
    the width needs it): each cell the model's median final test MSE over seeds, its range
    below, then its gain over the baseline; two last rows with the paper's KAN/ReLU-KAN ratio,
    in MSE and as plotted."""
    models = [m.name for m in config.models if any(r["model"] == m.name for r in summary)]
    baseline = config.baseline if config.baseline in models else None
    out = SplitTable(
        f"Final test MSE after {config.train.steps} steps: median over seeds, range below"
        + (f"; below that: gain over {baseline}" if baseline else ""),
        (f"gain = {baseline} MSE / model MSE (medians): how many times lower the model's error is; "
         "below 1 written 1/N x, N times higher. " if baseline else "")
        + "Paper: its KAN/ReLU-KAN ratio in MSE on both sides, and as its figures plot it "
        "(KAN RMSE against ReLU-KAN MSE). *: the paper's two models ran different functions (table.csv says which).",
        ["model"], [(row["function"], None) for row in table],
    )
    by_key = {(r["function"], r["model"]): r for r in summary}
    for index, model in enumerate(models):
        gains = [row.get(f"{model}_gain") if baseline and model != baseline else None for row in table]
        out.add_row([model], [_mse_cell(by_key.get((row["function"], model)), gain) for row, gain in zip(table, gains)],
                    end_section=index == len(models) - 1)
    for label, key in (("paper gain", "paper_gain"), ("paper as plotted", "paper_gain_as_plotted")):
        out.add_row([Text(label, style="dim")],
                    [Text(fmt.times(row.get(key)) + ("*" if row.get("paper_note") else "") if row.get(key) is not None
                          else "", style="dim") for row in table])
    return out


def target_table(summary: Sequence[dict[str, Any]], config: Any, key: str = "e4") -> SplitTable | None:
    """A row per model, a column per function: the time to the validation MSE 1e-N (the median
    steps below it), or "not reached" with the seeds that did; None for a summary without
    those columns (a run from before they existed)."""
    if not summary or summary[0].get(f"time_{key}") is None:
        return None
    functions = list(dict.fromkeys(r["function"] for r in summary))
    models = [m.name for m in config.models if any(r["model"] == m.name for r in summary)]
    sources = " and ".join(sorted({str(r.get("step_source")) for r in summary if r.get("step_source")}))
    out = SplitTable(f"Time to validation MSE 1{key.replace('e', 'e-')}: median steps x median seconds per step",
                     f"steps read off curves logged every {config.train.log_every}; step times from {sources}",
                     ["model"], [(f, None) for f in functions])
    by_key = {(r["function"], r["model"]): r for r in summary}
    for model in models:
        out.add_row([model], [_target_cell(by_key.get((f, model)), key) for f in functions])
    return out


def _target_cell(row: dict[str, Any] | None, key: str) -> Text:
    if row is None:
        return Text("")
    time, steps = row.get(f"time_{key}"), row.get(f"steps_{key}")
    if not _finite(time) or not _finite(steps):
        return below(Text("not reached", style="dim"), f"{int(row.get(f'reached_{key}') or 0)}/{row['n_seeds']} seeds", "dim")
    return below(Text(f"{time:.3g} s"), f"{steps:.0f} steps", "dim")


def _mse_cell(row: dict[str, Any] | None, gain: float | None) -> Text:
    """The median final test MSE; below it the range over seeds (2 digits); below that the
    gain over the baseline (bold), then how many diverged or failed."""
    if row is None:
        return Text("")
    text = Text(fmt.mse(row["final_test_mse"]))
    if row["n_seeds"] > 1 and math.isfinite(row["final_test_mse_min"]):
        high = row["final_test_mse_max"]
        text = below(text, f"{fmt.mse(row['final_test_mse_min'], 1)}-{'inf' if math.isinf(high) else fmt.mse(high, 1)}", "dim")
    if fmt.times(gain):
        text = below(text, fmt.times(gain), "bold")
    if fmt.failures(row):
        text = below(text, fmt.failures(row), "red")
    return text


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
