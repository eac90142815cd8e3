"""Figures. They receive plain records and draw them; they compute nothing but layout.

Every figure is sized for a printed page (`WIDTH` inches wide, the width of a full-width figure
in a paper) and names models by their readable labels (`relukan_bench.kinds.Look`: "ReLU-KAN
(paper code)", "pykan KAN"), one hue per family of models, shades within it.

Every series is drawn through `_finite` (inf and NaN become gaps) and every log axis through
`_log_y` (a linear axis saying it is empty where nothing positive and finite is left), so a
run whose every number is infinite or missing still gets its figures."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

WIDTH = 7.0  # inches: a full-width figure in a paper
DPI = 150
PAPER_MARKERS = {"cpu": "D", "gpu": "^"}  # the paper's speedups, hollow black
DEVICE_MARKERS = ("o", "s", "v", "P", "X")  # ours, per device in order: cpu, cuda, ...
DUPLICATE_LINE = {"linestyle": (0, (2.5, 2.5)), "linewidth": 1.7}  # a curve on top of another one's


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only, never a window
    import matplotlib.pyplot as plt

    return plt


def _finite(values: Sequence[Any]) -> list[float]:
    """`values` with every non-finite or missing value as NaN, which matplotlib leaves out."""
    return [float(v) if isinstance(v, (int, float)) and math.isfinite(v) else math.nan for v in values]


def _positive(*series: Sequence[Any]) -> list[float]:
    return [v for values in series for v in _finite(values) if v > 0]


def _log_y(ax: Any, *series: Sequence[Any]) -> None:
    """A log y axis when some value of `series` is finite and positive; else the axis says it
    has nothing to draw (a log axis of no positive data cannot be laid out)."""
    if _positive(*series):
        ax.set_yscale("log")
    else:
        ax.text(0.5, 0.5, "no finite values to draw", transform=ax.transAxes, ha="center", va="center", color="0.4")


def _log_limits(ax: Any, *series: Sequence[Any], margin: float = 2.5) -> None:
    """The y range of a log axis: the positive finite values of `series` (our data), widened by
    `margin` either way; whatever else is drawn (the paper's spikes) is cut there."""
    values = _positive(*series)
    if values:
        ax.set_ylim(min(values) / margin, max(values) * margin)


def _save(fig: Any, path: Path) -> Path:
    fig.savefig(path, dpi=DPI, bbox_inches="tight", pad_inches=0.05)
    _pyplot().close(fig)
    return path


def _grid(count: int, height: float, extra: float = 0.0, **options: Any) -> tuple[Any, Any]:
    """A figure WIDTH wide of panels three a row for `count` items, each row `height` inches
    (plus `extra` for titles and legends): (figure, 2-D array of axes)."""
    cols = min(3, max(1, count))
    rows = -(-max(1, count) // cols)
    return _pyplot().subplots(rows, cols, figsize=(WIDTH, height * rows + extra), squeeze=False, **options)


def _finish_grid(axes: Any, used: int, xlabel: str = "", ylabel: str = "") -> None:
    """The panels past the `used` ones hidden; `xlabel` under the bottom row, `ylabel` left of
    the first column."""
    for ax in list(axes.flat)[used:]:
        ax.axis("off")
    for ax in axes[-1] if xlabel else ():
        ax.set_xlabel(xlabel, fontsize=7)
    for ax in axes[:, 0] if ylabel else ():
        ax.set_ylabel(ylabel, fontsize=7)


def _palette(looks: dict[str, Any]) -> dict[str, Any]:
    """A colour per model: every family its own colormap (`Look.hue`), its models darkest first."""
    plt = _pyplot()
    families: dict[str, list[str]] = {}
    for name, look in looks.items():
        families.setdefault(look.family, []).append(name)
    colors = {}
    for names in families.values():
        try:
            cmap = plt.get_cmap(looks[names[0]].hue)
        except ValueError:  # a kind's hue that is no colormap
            cmap = plt.get_cmap("Greys")
        shades = [0.8] if len(names) == 1 else [0.9 - 0.5 * i / (len(names) - 1) for i in range(len(names))]
        colors.update({name: cmap(shade) for name, shade in zip(names, shades)})
    return colors


def _math(text: str) -> str:
    """An expression as mathtext (relukan_bench.expressions), or as written where matplotlib
    cannot typeset it."""
    from matplotlib.mathtext import MathTextParser

    from relukan_bench.expressions import mathtext

    tex = mathtext(text)
    try:
        MathTextParser("path").parse(tex)
    except ValueError:
        return text
    return tex


def _times(value: float) -> str:
    """A factor as people write it: 0.5x, 1.9x, 16x, 230x, 4e+03x."""
    if not math.isfinite(value):
        return "n/a"
    if value >= 1e4 or 0 < value < 1e-2:
        return f"{value:.0e}x"
    return f"{value:.0f}x" if value >= 10 else (f"{value:.1f}x" if value >= 0.95 else f"{value:.2f}x")


def _better(value: float) -> str:
    """A ratio read as "how many times better ReLU-KAN is" (REPORT.md's convention, fmt.times):
    below 1 written 1/N x."""
    from relukan_bench import fmt

    return fmt.times(value) if math.isfinite(value) else "n/a"


def _shared_legend(fig: Any, axes: Sequence[Any], ncol: int = 3, right: bool = False) -> None:
    """One legend for the whole figure, each label once: under it, or right of it in a column."""
    handles: dict[str, Any] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, handle)
    if handles:
        fig.legend(list(handles.values()), list(handles), loc="center left" if right else "upper center",
                   bbox_to_anchor=(1.0, 0.5) if right else (0.5, 0.0), ncol=1 if right else ncol, fontsize=7, frameon=False,
                   handlelength=2.6, columnspacing=1.2)


# ----------------------------------------------------------------------------- speed
def plot_speed(points: Sequence[dict[str, Any]], looks: dict[str, Any], ticks: dict[str, str], path: Path, *,
               paper: dict[tuple[str, str], float] | None = None, paper_after: str | None = None,
               title: str = "", ylabel: str = "", reference: str | None = None) -> Path:
    """One point per function, model and device (`points`: function, model, device, value,
    low, high: the speedup over the baseline and its quartile range, or seconds), whiskers from
    low to high, log y; the models side by side in each function's group, one marker per
    device. `paper` ({(function, "cpu" | "gpu"): the paper's ReLU-KAN speedup over KAN}) as
    hollow black markers beside `paper_after`'s points. `reference`: a line at 1 so named."""
    plt = _pyplot()
    functions = [f for f in ticks if any(p["function"] == f for p in points)]
    models = [m for m in looks if any(p["model"] == m for p in points)]
    devices = list(dict.fromkeys(p["device"] for p in points))
    paper = {key: v for key, v in (paper or {}).items() if key[0] in functions}
    slots = list(models)
    if paper:
        slots.insert(slots.index(paper_after) + 1 if paper_after in slots else len(slots), "paper")
    fig, ax = plt.subplots(figsize=(WIDTH, 3.3))
    step = 0.84 / max(1, len(slots))
    where = {slot: (i - (len(slots) - 1) / 2) * step for i, slot in enumerate(slots)}
    _speed_ours(ax, points, functions, models, devices, where, step, _palette({m: looks[m] for m in models}))
    if paper:
        _speed_paper(ax, paper, functions, where["paper"], step)
    if reference:
        ax.axhline(1.0, color="0.35", linewidth=0.8, zorder=1)
        ax.text(1.0, 1.0, f" {reference}", transform=ax.get_yaxis_transform(), fontsize=6.5, color="0.35", va="center")
    _log_y(ax, [p["value"] for p in points], list(paper.values()))
    _speed_axes(ax, functions, ticks, title, ylabel)
    _speed_legend(fig, ax, models, looks, devices, paper)
    return _save(fig, path)


def _speed_ours(ax: Any, points: Sequence[dict[str, Any]], functions: Sequence[str], models: Sequence[str],
                devices: Sequence[str], where: dict[str, float], step: float, colors: dict[str, Any]) -> None:
    """Our points with their whiskers, devices side by side inside each model's slot; the
    value written beside the paper's model's points."""
    for p in points:
        if p["function"] not in functions or p["model"] not in models:
            continue
        d = devices.index(p["device"])
        x = functions.index(p["function"]) + where[p["model"]] + (d - (len(devices) - 1) / 2) * step * 0.45
        value, low, high = _finite([p["value"], p["low"], p["high"]])
        errors = [[max(0.0, value - low)], [max(0.0, high - value)]] if value == value and low == low and high == high else None
        ax.errorbar([x], [value], yerr=errors, fmt=DEVICE_MARKERS[d % len(DEVICE_MARKERS)], color=colors[p["model"]],
                    markersize=4.5, elinewidth=1.0, capsize=1.5, markeredgecolor="black", markeredgewidth=0.4, zorder=3)
        if p.get("annotate") and value == value:
            ax.annotate(_better(value), (x, high if high == high else value), textcoords="offset points", xytext=(0, 2),
                        ha="center", va="bottom", fontsize=6, color=colors[p["model"]])


def _speed_paper(ax: Any, paper: dict[tuple[str, str], float], functions: Sequence[str], offset: float, step: float) -> None:
    """The paper's speedups: hollow black markers, CPU left of GPU, the value above."""
    for (function, device), value in paper.items():
        x = functions.index(function) + offset + (-0.22 if device == "cpu" else 0.22) * step
        ax.scatter([x], [value], marker=PAPER_MARKERS.get(device, "o"), s=22, facecolors="white", edgecolors="black",
                   linewidths=1.0, zorder=4)
        ax.annotate(_times(value), (x, value), textcoords="offset points", xytext=(0, 4), ha="center", va="bottom", fontsize=6)


def _speed_axes(ax: Any, functions: Sequence[str], ticks: dict[str, str], title: str, ylabel: str) -> None:
    from matplotlib import ticker

    ax.set_xticks(range(len(functions)), [ticks[f] for f in functions], fontsize=7.5 if len(functions) <= 8 else 6.5)
    ax.set_xlim(-0.5, len(functions) - 0.5)
    for boundary in range(1, len(functions)):
        ax.axvline(boundary - 0.5, color="0.85", linewidth=0.6, zorder=0)
    if ax.get_yscale() == "log":
        ax.yaxis.set_major_locator(ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}x" if "speedup" in ylabel else f"{v:g}"))
        ax.yaxis.set_minor_formatter(ticker.NullFormatter())
        low, high = ax.get_ylim()
        ax.set_ylim(low, high * 1.6)  # room for the values written above the points
    ax.tick_params(axis="y", labelsize=7.5)
    ax.set_ylabel(ylabel, fontsize=8)
    ax.set_title(title, fontsize=8.5)
    ax.grid(axis="y", which="major", alpha=0.3)


def _speed_legend(fig: Any, ax: Any, models: Sequence[str], looks: dict[str, Any], devices: Sequence[str],
                  paper: dict[tuple[str, str], float]) -> None:
    from matplotlib.lines import Line2D

    colors = _palette({m: looks[m] for m in models})
    handles = [Line2D([], [], marker="o", linestyle="", color=colors[m], markeredgecolor="black", markeredgewidth=0.4,
                      label=looks[m].label) for m in models]
    if len(devices) > 1:
        handles += [Line2D([], [], marker=DEVICE_MARKERS[i % len(DEVICE_MARKERS)], linestyle="", color="0.6",
                           label=f"ours, {device.upper()}") for i, device in enumerate(devices)]
    handles += [Line2D([], [], marker=PAPER_MARKERS[d], linestyle="", markerfacecolor="white", markeredgecolor="black",
                       label=f"paper's ReLU-KAN over KAN, {d.upper()}") for d in ("cpu", "gpu") if any(k[1] == d for k in paper)]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3, fontsize=7, frameon=False)


# ----------------------------------------------------------------------------- fit
PAPER_LABELS = {"kan": "paper's KAN (its RMSE squared)", "relukan": "paper's ReLU-KAN"}


def _label(model: str, looks: dict[str, Any], same: dict[str, str]) -> str:
    """A model's legend label; a model whose curve lies on another's says so."""
    label = looks[model].label if model in looks else model
    return f"{label}: same as {looks[same[model]].label}" if model in same else label


def _draw_bands(ax: Any, bands: dict[str, dict[str, list[float]]], which: str, colors: dict[str, Any],
                paper: dict[str, dict[str, list[float]]], looks: dict[str, Any], same: dict[str, str]) -> None:
    """Each model's median across seeds with its min-max range shaded, in its kind's line style;
    a model whose curve coincides with an earlier one's (`same`) dashed over it, unshaded. The
    paper's curves thin and dashed in the colour of our first model in the same role. The y range
    is our data's and the paper's values at our last step: the paper's spikes are cut."""
    for model, band in bands.items():
        if model not in same:
            ax.fill_between(band["step"], _finite(band[f"{which}_min"]), _finite(band[f"{which}_max"]), color=colors[model],
                            alpha=0.15, linewidth=0)
        style = DUPLICATE_LINE if model in same else (looks[model].line if model in looks else {"linewidth": 1.2})
        ax.plot(band["step"], _finite(band[f"{which}_median"]), color=colors[model], label=_label(model, looks, same),
                zorder=3 if model in same else 2, **style)
    last = max((band["step"][-1] for band in bands.values() if band["step"]), default=1)
    ends = []  # the paper's value at our last step: in range, unlike its spikes
    for role, curve in paper.items():
        color = next((colors[m] for m in bands if m in looks and looks[m].role == role), "0.4")
        shown = [i for i, step in enumerate(curve["step"]) if step <= last]  # the paper's steps past ours are cut
        ax.plot([curve["step"][i] for i in shown], _finite([curve[which][i] for i in shown]), color=color,
                linestyle=(0, (4, 1.5)), linewidth=0.7, alpha=0.7, label=PAPER_LABELS.get(role, f"paper's {role}"), zorder=1)
        ends += [curve[which][shown[-1]]] if shown else []
    ours = [band[f"{which}_{part}"] for band in bands.values() for part in ("median", "min", "max")]
    _log_y(ax, *ours)
    _log_limits(ax, *ours, ends, margin=2.0)
    ax.set_xlim(0, last)
    ax.grid(which="major", alpha=0.3)
    ax.tick_params(which="both", labelsize=7)


def _ratio_mark(ax: Any, ratio: dict[str, Any] | None, last: float, words: str = "") -> None:
    """The final KAN / ReLU-KAN ratio of test MSE: a bracket between the two final medians past
    the last step, the factor beside it (after `words`)."""
    if not ratio or not all(math.isfinite(ratio[k]) and ratio[k] > 0 for k in ("kan_mse", "relukan_mse")):
        return
    x = last * 1.05
    ax.annotate("", (x, ratio["kan_mse"]), (x, ratio["relukan_mse"]),
                arrowprops={"arrowstyle": "<->", "color": "black", "linewidth": 0.8, "shrinkA": 0, "shrinkB": 0})
    middle = math.sqrt(ratio["kan_mse"] * ratio["relukan_mse"])
    ax.annotate(f"{words}{_better(ratio['value'])}", (x, middle), textcoords="offset points", xytext=(4, 0),
                fontsize=6.5, va="center", ha="left", fontweight="bold")
    ax.set_xlim(right=last * (1.45 if words else 1.27))


def plot_fit_curves(function: Any, bands: dict[str, dict[str, list[float]]], paper: dict[str, dict[str, list[float]]],
                    looks: dict[str, Any], path: Path, *, same: dict[str, str] | None = None,
                    panels: Sequence[str] = ("train", "test"), ratio: dict[str, Any] | None = None, note: str = "") -> Path:
    """MSE against the step, log y, a panel per entry of `panels` ("train", "test"; one panel
    where the caller found they coincide, `note` saying so): each model's median across seeds,
    its range over seeds shaded, the paper's curves where the paper ran this function, the
    final KAN/ReLU-KAN ratio (`ratio`: kan_mse, relukan_mse, value) at the right edge."""
    plt = _pyplot()
    same = same or {}
    colors = _palette({m: looks[m] for m in bands if m in looks})
    fig, axes = plt.subplots(1, len(panels), figsize=(WIDTH if len(panels) > 1 else WIDTH * 0.62, 2.9), sharey=True,
                             squeeze=False)
    for ax, which in zip(axes[0], panels):
        _draw_bands(ax, bands, which, colors, paper, looks, same)
        last = max((band["step"][-1] for band in bands.values() if band["step"]), default=1)
        _ratio_mark(ax, ratio if which == "test" else None, last, "KAN /\nReLU-KAN\n")
        ax.set_title(f"{which} MSE" + (f" ({note})" if note and len(panels) == 1 else ""), fontsize=8)
        ax.set_xlabel("training step", fontsize=7.5)
    axes[0][0].set_ylabel("MSE: median over seeds, min-max shaded", fontsize=7.5)
    fig.suptitle(f"{function.name}: {_math(function.expression)},  width {list(function.width)}, G = {function.grid}, "
                 f"k = {function.k}", fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    _shared_legend(fig, axes[0], ncol=2, right=len(panels) == 1)
    return _save(fig, path)


def plot_fit_predictions(function: Any, predictions: dict[str, list[dict[str, Any]]], looks: dict[str, Any], path: Path,
                         *, same: dict[str, str] | None = None) -> Path:
    """Each model's fit on its median seed. 1-D: target and predictions over x (a model whose
    curves coincide with another's dashed over it). n-D: per model, predicted against true
    value on the test set, with the line y = x."""
    plt = _pyplot()
    same = same or {}
    colors = _palette({m: looks[m] for m in predictions if m in looks})
    if function.width[0] == 1:
        fig, ax = plt.subplots(figsize=(WIDTH * 0.55, 2.8))
        first = next((rows for rows in predictions.values() if rows), [])
        ax.plot(_finite([r["x1"] for r in first]), _finite([r["y_true"] for r in first]), color="black", linewidth=3,
                alpha=0.25, label="target")
        for model, rows in predictions.items():
            style = DUPLICATE_LINE if model in same else {"linewidth": 1.2}
            ax.plot(_finite([r["x1"] for r in rows]), _finite([r["y_pred"] for r in rows]), color=colors[model],
                    label=_label(model, looks, same) + (f" (seed {rows[0]['seed']})" if rows else ""), **style)
        ax.set(xlabel="$x_1$", ylabel="$y$")
        axes = [ax]
    else:
        axes = _scatter_grid(predictions, looks, colors, same)
        fig = axes[0].figure
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=7)
    fig.suptitle(f"{function.name}: {_math(function.expression)}  (each model's median seed)", fontsize=9)
    fig.tight_layout()
    _shared_legend(fig, axes, right=True)  # only the 1-D figure has labelled lines
    return _save(fig, path)


def _scatter_grid(predictions: dict[str, list[dict[str, Any]]], looks: dict[str, Any], colors: dict[str, Any],
                  same: dict[str, str]) -> list[Any]:
    """Predicted against true value, a panel per model, three a row."""
    _, grid = _grid(len(predictions), 2.45)
    axes = list(grid.flat)
    for ax, (model, points) in zip(axes, predictions.items()):
        true, pred = _finite([r["y_true"] for r in points]), _finite([r["y_pred"] for r in points])
        drawn = [v for v in true + pred if v == v]
        ends = [min(drawn), max(drawn)] if drawn else [0, 1]
        ax.plot(ends, ends, color="black", linewidth=0.8, alpha=0.5)
        ax.scatter(true, pred, s=6, color=colors.get(model, "0.3"), alpha=0.8, linewidths=0)
        seed = f", seed {points[0]['seed']}" if points else ""
        ax.set_title(_label(model, looks, same).replace(": same as", "\nsame as") + seed, fontsize=7)
        ax.set_aspect("equal", adjustable="datalim")
    _finish_grid(grid, len(predictions), "true value (test set)", "predicted")
    return axes[:len(predictions)] or axes[:1]


def plot_fit_overview(functions: Sequence[Any], bands: dict[tuple[str, str], dict[str, list[float]]], looks: dict[str, Any],
                      paper: dict[tuple[str, str], dict[str, list[float]]], path: Path, *,
                      same: dict[str, dict[str, str]] | None = None, ratios: dict[str, dict[str, Any]] | None = None) -> Path:
    """Test MSE curves of every function, three panels a row, each with its final KAN/ReLU-KAN
    ratio (`ratios` by function; `same` by function: which curves coincide)."""
    colors = _palette(looks)
    fig, axes = _grid(len(functions), 2.2, 0.5)
    for ax, function in zip(axes.flat, functions):
        mine = {m: bands[(function.name, m)] for m in looks if (function.name, m) in bands}
        theirs = {kind: curve for (name, kind), curve in paper.items() if name == function.name}
        _draw_bands(ax, mine, "test", colors, theirs, looks, (same or {}).get(function.name, {}))
        last = max((band["step"][-1] for band in mine.values() if band["step"]), default=1)
        _ratio_mark(ax, (ratios or {}).get(function.name), last)
        ax.set_title(f"{function.name}: {_math(function.expression)}", fontsize=7.5)
        ax.tick_params(labelsize=6.5)
    _finish_grid(axes, len(functions), "training step", "test MSE")
    pair = next((r for r in (ratios or {}).values() if r), None)
    fig.suptitle("Test MSE over training: median over seeds, min-max shaded; the paper's curves thin dashed" + (
        f";\nat the right: final {looks[pair['kan']].label} / {looks[pair['relukan']].label} ratio" if pair else ""), fontsize=8.5)
    fig.tight_layout(rect=(0, 0, 1, 0.98))
    _shared_legend(fig, list(axes.flat), ncol=2)
    return _save(fig, path)


def plot_fit_seeds(functions: Sequence[Any], runs: Sequence[dict[str, Any]], looks: dict[str, Any], path: Path) -> Path:
    """Every seed's final test MSE as a dot, per function and model (log y), the median over
    seeds as a bar; a diverged run as a cross at the top of its panel. With many seeds this
    shows what a median and a range hide: two clusters, one outlier."""
    from matplotlib.lines import Line2D

    models, colors = list(looks), _palette(looks)
    fig, axes = _grid(len(functions), 2.0, 0.6)
    for ax, function in zip(axes.flat, functions):
        _seed_dots(ax, [r for r in runs if r["function"] == function.name], models, colors)
        ax.set_title(f"{function.name}: {_math(function.expression)}", fontsize=7.5)
    _finish_grid(axes, len(functions), ylabel="final test MSE")
    seeds = len({r["seed"] for r in runs})
    fig.suptitle(f"Final test MSE of every seed ({seeds} seeds): dots, the median as a bar, xN: N diverged runs", fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 0.98))
    handles = [Line2D([], [], marker="o", linestyle="", color=colors[m], label=looks[m].label) for m in models]
    fig.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=3, fontsize=7, frameon=False)
    return _save(fig, path)


def plot_tuning(functions: Sequence[Any], summary: Sequence[dict[str, Any]], models: Sequence[str], path: Path) -> Path:
    """The tuning curve: per function a panel, the candidates along x (every tuned model's, in
    the order the config lists them), per tuned model its candidates' median final validation
    MSE (log y), the selected one ringed; an untuned model as a dashed level. The test set
    chose nothing here."""
    plt = _pyplot()
    fig, axes = _grid(len(functions), 2.4, 0.9)
    colors = {m: plt.get_cmap("tab10")(i % 10) for i, m in enumerate(models)}
    labels = list(dict.fromkeys(r["candidate"] for r in summary if r["candidate"]))
    for ax, function in zip(axes.flat, functions):
        _tuning_panel(ax, [r for r in summary if r["function"] == function.name], models, labels, colors)
        ax.set_title(f"{function.name}: {_math(function.expression)}", fontsize=7.5)
    _finish_grid(axes, len(functions), ylabel="final validation MSE")
    fig.suptitle("Tuning: each candidate's median final validation MSE over seeds; ringed: the one selected; "
                 "dashed: not tuned", fontsize=8.5)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    handles, names = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=min(5, len(models)), fontsize=7, frameon=False)
    return _save(fig, path)


def _tuning_panel(ax: Any, rows: Sequence[dict[str, Any]], models: Sequence[str], labels: Sequence[str],
                  colors: dict[str, Any]) -> None:
    values: list[float] = []
    for model in models:
        mine = [r for r in rows if r["tuned_model"] == model]
        ys = _finite([r["final_val_mse"] for r in mine])
        values += ys
        if len(mine) == 1 and not mine[0]["candidate"]:
            ax.axhline(ys[0], color=colors[model], linestyle="--", linewidth=1, label=f"{model} (not tuned)")
            continue
        xs = [labels.index(r["candidate"]) for r in mine]
        ax.plot(xs, ys, marker="o", markersize=3, linewidth=1, color=colors[model], label=model)
        for x, y, r in zip(xs, ys, mine):
            if r["selected"] in (True, "True") and y == y:
                ax.scatter([x], [y], s=60, facecolors="none", edgecolors=colors[model], linewidths=1.3, zorder=4)
    _log_y(ax, values)
    ax.set_xticks(range(len(labels)), labels, rotation=40, ha="right", fontsize=6)
    ax.tick_params(axis="y", labelsize=6.5)
    ax.grid(axis="y", which="major", alpha=0.3)


def _seed_dots(ax: Any, runs: Sequence[dict[str, Any]], models: Sequence[str], colors: dict[str, Any]) -> None:
    values: list[float] = []
    for i, model in enumerate(models):
        mine = [r for r in runs if r["model"] == model and not r.get("error")]
        finals = _finite([r["final_test_mse"] for r in mine if not r["diverged"]])
        values += finals
        jitter = [i + 0.5 * ((j * 0.618) % 1 - 0.5) for j in range(len(finals))]  # spread, reproducibly
        ax.scatter(jitter, finals, s=9, color=colors[model], alpha=0.8, linewidths=0)
        known = sorted(v for v in finals if v == v)
        if known:
            ax.hlines(known[(len(known) - 1) // 2], i - 0.35, i + 0.35, color="black", linewidth=1.2)
        diverged = sum(bool(r["diverged"]) for r in mine)
        if diverged:
            ax.text(i, 0.98, f"x{diverged}", transform=ax.get_xaxis_transform(), ha="center", va="top", color="crimson", fontsize=7)
    _log_y(ax, values)
    ax.set_xticks(range(len(models)), [])
    ax.set_xlim(-0.6, len(models) - 0.4)
    ax.tick_params(which="both", labelsize=6.5)
    ax.grid(axis="y", which="major", alpha=0.3)


# ----------------------------------------------------------------------------- forgetting
def plot_forgetting_panels(label: str, x: Sequence[float], y: Sequence[float], segments: int,
                           predictions: dict[int, dict[int, list[float]]], shown: int | None, path: Path) -> Path:
    """The paper's figure for one model (`label`): a column per phase; top row the data of that
    phase (solid) over the whole target (dashed); bottom row the prediction after that phase
    over the whole target, the median seed in black and the other seeds in grey."""
    plt = _pyplot()
    size = len(x) // segments
    fig, axes = plt.subplots(2, segments, figsize=(WIDTH, 2.9), sharex=True, sharey=True, squeeze=False)
    shown_phases = predictions.get(shown, {}) if shown is not None else {}
    values = [v for v in _finite([*y, *(v for phase in shown_phases.values() for v in phase)]) if v == v] or [0.0, 1.0]
    for phase in range(1, segments + 1):
        top, bottom = axes[0][phase - 1], axes[1][phase - 1]
        part = slice((phase - 1) * size, phase * size)
        top.plot(x, y, "--", color="black", linewidth=0.6)
        top.plot(x[part], y[part], "-", color="black", linewidth=1.3)
        top.set_title(f"phase {phase}", fontsize=8)
        bottom.plot(x, y, "--", color="black", linewidth=0.6)
        for seed, by_phase in sorted(predictions.items()):
            if seed != shown and phase in by_phase:
                bottom.plot(x, _finite(by_phase[phase]), "-", color="0.65", linewidth=0.6)
        if phase in shown_phases:
            bottom.plot(x, _finite(shown_phases[phase]), "-", color="black", linewidth=1.0)
        else:
            bottom.text(0.5, 0.5, "not reached", transform=bottom.transAxes, ha="center", fontsize=7, color="red")
    axes[0][0].set_ylim(max(-1.0, min(values) - 0.1), min(2.0, max(values) + 0.1))
    for ax in axes.flat:
        ax.tick_params(labelsize=6)
    axes[0][0].set_ylabel("data", fontsize=8)
    axes[1][0].set_ylabel("prediction", fontsize=8)
    seeds = f"seed {shown} (median forgetting) black, other seeds grey" if shown is not None else "every seed diverged"
    fig.suptitle(f"{label}: the data of each phase (top), the prediction after it (bottom)\n{seeds}", fontsize=8.5)
    fig.tight_layout(pad=0.4, h_pad=0.3, w_pad=0.2, rect=(0, 0, 1, 0.96))
    return _save(fig, path)


def plot_forgetting_heatmaps(growth: dict[str, dict[str, Any]], looks: dict[str, Any], path: Path, limit: float = 3.0) -> Path:
    """A panel per model (three a row) of how its error on each segment grew after that
    segment's own phase: `growth[model]` has `log10` (rows phases 1..S, columns segments:
    log10(MSE / the MSE right after the segment's own phase); None before that phase, hatched)
    and `own` (that MSE, per segment, written on the diagonal). One diverging colour scale,
    centred at 1x, the same for every panel, cut at 10**`limit`."""
    from matplotlib.colors import TwoSlopeNorm

    known = [abs(v) for g in growth.values() for row in g["log10"] for v in row if v is not None and math.isfinite(v)]
    top = min(limit, max(1.0, math.ceil(max(known, default=1.0) * 2) / 2))
    norm = TwoSlopeNorm(vcenter=0.0, vmin=-top, vmax=top)
    fig, axes = _grid(len(growth), 2.35, 0.5)
    image = None
    for ax, (model, g) in zip(axes.flat, growth.items()):
        image = _growth_panel(ax, g, norm) or image
        ax.set_title(looks[model].label if model in looks else model, fontsize=7.5)
    _finish_grid(axes, len(growth), "segment", "after phase")
    fig.suptitle("Forgetting: MSE on each segment after each phase over its MSE right after its own phase\n"
                 "(diagonal: that MSE; red: grew, blue: shrank; hatched: not trained yet; median over seeds)", fontsize=8.5)
    fig.tight_layout(rect=(0, 0, 0.9, 0.97))
    if image is not None:
        _growth_colorbar(fig, image, top, max(known, default=0.0) > top)
    return _save(fig, path)


def _growth_panel(ax: Any, growth: dict[str, Any], norm: Any) -> Any:
    """One model's matrix: cells coloured by log10 growth, each annotated (the growth factor, the
    MSE on the diagonal), cells before their segment's phase hatched."""
    from matplotlib.patches import Rectangle

    table = [[math.nan if v is None else v for v in row] for row in growth["log10"]]
    if not table or not table[0]:
        ax.text(0.5, 0.5, "no phase finished", transform=ax.transAxes, ha="center", va="center", color="0.4")
        return None
    image = ax.imshow(_finite_rows(table), cmap="RdBu_r", norm=norm, aspect="equal")
    for p, row in enumerate(growth["log10"]):
        for s, value in enumerate(row):
            if value is None:
                ax.add_patch(Rectangle((s - 0.5, p - 0.5), 1, 1, facecolor="0.93", edgecolor="0.7", hatch="////", linewidth=0))
            elif p == s:
                own = growth["own"][s]
                ax.text(s, p, f"{own:.0e}".replace("e-0", "e-") if own == own else "n/a", ha="center", va="center",
                        fontsize=5.5, style="italic")
            else:
                strong = value == value and abs(norm(value) - 0.5) > 0.3
                ax.text(s, p, _times(10 ** value) if value == value else "n/a", ha="center", va="center", fontsize=6.5,
                        color="white" if strong else "black")
    size = len(growth["own"])
    ax.set_xticks(range(size), [str(s + 1) for s in range(size)], fontsize=6.5)
    ax.set_yticks(range(len(table)), [str(p + 1) for p in range(len(table))], fontsize=6.5)
    ax.tick_params(length=0)
    return image


def _finite_rows(table: list[list[float]]) -> list[list[float]]:
    return [_finite(row) for row in table]


def _growth_colorbar(fig: Any, image: Any, top: float, cut: bool) -> None:
    ticks = list(range(-int(top), int(top) + 1))
    bar = fig.colorbar(image, cax=fig.add_axes((0.92, 0.15, 0.018, 0.65)), ticks=ticks, extend="both" if cut else "neither")
    bar.ax.set_yticklabels([f"{10.0 ** t:g}x" for t in ticks], fontsize=6.5)
    bar.set_label("MSE / MSE right after its own phase", fontsize=7)


def plot_forgetting_curves(curves: dict[str, dict[int, tuple[list[int], list[float]]]], looks: dict[str, Any],
                           steps_per_phase: int, path: Path) -> Path:
    """Per model a panel (three a row, one y scale): the MSE on every segment over all
    training steps (median over seeds, log y); each phase shaded in the colour of the segment
    it trains, its number on top."""
    plt = _pyplot()
    fig, axes = _grid(len(curves), 1.95, 0.7, sharex=True, sharey=True)
    palette = plt.get_cmap("tab10").colors
    series = [values for by_segment in curves.values() for _, values in by_segment.values()]
    for ax, (model, by_segment) in zip(axes.flat, curves.items()):
        last = max((steps[-1] for steps, _ in by_segment.values() if steps), default=0)
        for phase, start in enumerate(range(0, last, steps_per_phase)):
            ax.axvspan(start, start + steps_per_phase, color=palette[phase % 10], alpha=0.08, linewidth=0)
            ax.axvline(start, color="0.6", linewidth=0.5)
            ax.text(start + steps_per_phase / 2, 1.0, str(phase + 1), transform=ax.get_xaxis_transform(), ha="center",
                    va="bottom", fontsize=6, color=palette[phase % 10])
        for segment, (steps, values) in by_segment.items():
            ax.plot(steps, _finite(values), color=palette[(segment - 1) % 10], linewidth=0.9, label=f"segment {segment}")
        ax.set_title(looks[model].label if model in looks else model, fontsize=7.5, pad=9)
        ax.set_xlim(0, max(last, 1))
        ax.grid(which="major", alpha=0.25)
        ax.tick_params(labelsize=6.5)
    _log_y(axes.flat[0], *series)
    _finish_grid(axes, len(curves), "training step", "MSE on the segment")
    fig.suptitle("MSE on each segment during training (median over seeds); phase i, numbered on top, trains segment i",
                 fontsize=8.5)
    fig.tight_layout(rect=(0, 0, 1, 0.98))
    _shared_legend(fig, list(axes.flat), ncol=min(6, max((len(c) for c in curves.values()), default=1)))
    return _save(fig, path)
