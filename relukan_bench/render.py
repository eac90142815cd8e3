"""Terminal tables (rich). They arrange records; they compute nothing.

Cells are plain text or `rich.text.Text` with styles set as attributes, never markup: the
consoles that print them read no markup, so that nothing a user typed (a path, a name, an
error message) is ever taken for a style."""

from __future__ import annotations

import math
from typing import Any, Sequence

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


def speed_table(
    summary: Sequence[dict[str, Any]],
    baseline: str | None,
    paper: dict[tuple[str, str], float],
    steps: int,
) -> Table:
    """A row per device and model, a column per function (so that a run of many baselines
    stays readable): each cell the median ms per step with its interquartile range, and below
    it the speedup over the baseline; a last row per device with the paper's ReLU-KAN/KAN
    speedup."""
    models = list(dict.fromkeys(row["model"] for row in summary))
    functions = list(dict.fromkeys(row["function"] for row in summary))
    table = Table(
        title=f"ms per training step over {steps} steps: median (IQR/median); below: speedup over {baseline or 'nothing'}",
        caption=f"speedup = {baseline or 'baseline'} / model, medians; yellow: IQR > {NOISY:.0%}",
    )
    table.add_column("device")
    table.add_column("model")
    for function in functions:
        table.add_column(function, justify="right", no_wrap=True)
    by_key = {(r["function"], r["device"], r["model"]): r for r in summary}
    devices = list(dict.fromkeys(row["device"] for row in summary))
    for device in devices:
        for model in models:
            if any((f, device, model) in by_key for f in functions):
                table.add_row(device, model, *[_speed_cell(by_key.get((f, device, model)), model == baseline) for f in functions])
        label = "gpu" if device == "cuda" else device
        table.add_row(device, Text("paper speedup", style="dim"),
                      *[Text(_times(paper.get((f, label))), style="dim") for f in functions], end_section=True)
    return table


def _speed_cell(row: dict[str, Any] | None, is_baseline: bool) -> Text:
    """'12.5 (6%)' (yellow when noisy), the speedup below it in bold, failures in red."""
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
    return below(text, fmt.failures(row), "red") if fmt.failures(row) else text


def decomposition_table(split: Sequence[dict[str, Any]]) -> Table:
    """Per function, device and ReLU-KAN: its speedup over pykan split into the
    implementation's part (pykan / our B-spline KAN) and the basis's (our B-spline KAN /
    ReLU-KAN), with quartile ranges (experiments/speed.py, `decompose`)."""
    first = split[0]
    table = Table(
        title="where the speedup comes from: total = implementation x basis",
        caption=f"implementation = {first['kan']} / {first['bspline']} (the same B-spline KAN, pykan's code vs a few "
                f"tensor operations); basis = {first['bspline']} / ReLU-KAN; share = the implementation's part of the "
                "total on a log scale; brackets: quartile range",
    )
    for name in ("function", "device", "ReLU-KAN"):
        table.add_column(name)
    for name in ("total", "implementation", "basis"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("implementation\nshare", justify="right", style="bold")
    for row in split:
        cells = [row["function"], row["device"], row["relukan"]]
        for name in ("total", "implementation", "basis"):
            cells.append(f"{_times(row[name])} [{_times(row[name + '_low'])}-{_times(row[name + '_high'])}]")
        share = row["implementation_share"]
        cells.append(f"{share:.0%}" if share == share else "")
        table.add_row(*cells)
    return table


def fit_table(summary: Sequence[dict[str, Any]], table: Sequence[dict[str, Any]], config: Any) -> Table:
    """Per function: each model's median final test MSE over seeds with its range, each
    model's gain over the baseline, and the paper's KAN/ReLU-KAN ratio in MSE and as plotted."""
    models = [m.name for m in config.models if any(r["model"] == m.name for r in summary)]
    baseline = config.baseline if config.baseline in models else None
    others = [m for m in models if m != baseline] if baseline else []
    out = Table(
        title=f"Final test MSE after {config.train.steps} steps: median over seeds, range below",
        caption=(f"gain = {baseline} MSE / model MSE (medians): how many times lower the model's error is; "
                 "below 1 written 1/N x, N times higher. " if baseline else "")
        + "Paper: its KAN/ReLU-KAN ratio in MSE on both sides, and as its figures plot it "
        "(KAN RMSE against ReLU-KAN MSE). *: the paper's two models ran different functions (table.csv says which).",
    )
    out.add_column("fn")
    for model in models:
        out.add_column(f"{model}\ntest MSE", justify="right", no_wrap=True)
    for model in others:
        out.add_column(f"{model}\ngain", justify="right", style="bold", no_wrap=True)
    out.add_column("paper\ngain", justify="right", style="dim", no_wrap=True)
    out.add_column("paper as\nplotted", justify="right", style="dim", no_wrap=True)
    by_key = {(r["function"], r["model"]): r for r in summary}
    for row in table:
        cells = [row["function"]]
        for model in models:
            found = by_key.get((row["function"], model))
            cells.append(_mse_cell(found) if found else "")
        for model in others:
            cells.append(fmt.times(row.get(f"{model}_gain")))
        mark = "*" if row.get("paper_note") else ""
        cells.append(fmt.times(row.get("paper_gain")) + mark if row.get("paper_gain") is not None else "")
        cells.append(fmt.times(row.get("paper_gain_as_plotted")) + mark if row.get("paper_gain_as_plotted") is not None else "")
        out.add_row(*cells)
    return out


def _mse_cell(row: dict[str, Any]) -> Text:
    """The median final test MSE; below it the range over seeds (2 digits); below that how
    many diverged or failed."""
    text = Text(fmt.mse(row["final_test_mse"]))
    if row["n_seeds"] > 1 and math.isfinite(row["final_test_mse_min"]):
        high = row["final_test_mse_max"]
        text = below(text, f"{fmt.mse(row['final_test_mse_min'], 1)}-{'inf' if math.isinf(high) else fmt.mse(high, 1)}", "dim")
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
