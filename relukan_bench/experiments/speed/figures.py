"""The speed experiment's figure, speed.png: the speedup over the baseline per function (or
seconds, without a baseline), beside the paper's speedups; `speed_points` says what it draws,
`plot_speed` draws it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Mapping, Sequence, TypedDict

from relukan_bench import kinds
from relukan_bench.plots import WIDTH, better, finite, log_y, palette, pyplot, save, times
from relukan_bench.stats import ratio_range

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from relukan_bench.experiments.speed.config import SpeedConfig, SpeedFunctionSpec
    from relukan_bench.experiments.speed.records import SummaryRecord
    from relukan_bench.kinds import Look

PAPER_MARKERS = {"cpu": "D", "gpu": "^"}  # the paper's speedups, hollow black
DEVICE_MARKERS = ("o", "s", "v", "P", "X")  # ours, per device in order: cpu, cuda, ...


class _Point(TypedDict):
    function: str
    model: str
    device: str
    value: float
    low: float
    high: float


class Point(_Point, total=False):
    """One point of speed.png: a model's speedup over the baseline (or seconds) on a function
    and device, its whiskers from low to high; `annotate`: its value written beside it."""

    annotate: bool


def speed_points(summary: Sequence[SummaryRecord], baseline: str | None) -> list[Point]:
    """What speed.png draws, one point per summary row: with a baseline, every other model's
    speedup over it on the same function and device, its quartile range pairing the quartiles
    the unfavourable and the favourable way (stats.ratio_range, as decomposition.csv does);
    without one, the median seconds and their quartiles."""
    by_key = {(r.function, r.model, r.device): r for r in summary}
    points = []
    for row in summary:
        if baseline is None:
            value, low, high = row.median_s, row.q1_s, row.q3_s
        elif row.model == baseline:
            continue
        else:
            base = by_key.get((row.function, baseline, row.device))
            value, low, high = ratio_range(base if base is not None else {}, row)
        points.append(Point(function=row.function, model=row.model, device=row.device, value=value, low=low, high=high))
    return points


def figure(run_dir: Path, config: SpeedConfig, summary: Sequence[SummaryRecord], paper: dict[tuple[str, str], float]) -> None:
    """speed.png: the speedup over the baseline per function (or seconds, without a baseline),
    beside the paper's CPU and GPU speedups when the baseline is a pykan KAN."""
    named = kinds.looks(config.models)
    baseline = config.baseline
    relukan = next((m for m, look in named.items() if look.role == "relukan"), None)
    compared = baseline is not None and named[baseline].role == "kan"
    points = speed_points(summary, baseline)
    for point in points:  # the paper's model's speedups are written beside it, as the paper's are
        point["annotate"] = baseline is not None and point["model"] == relukan
    repeats = config.timing.repeats
    title = (f"Training speedup over {named[baseline].label}, {config.train.steps} steps (median of {repeats} repeats, "
             "whiskers: quartile range)" if baseline else
             f"Training time of {config.train.steps} steps (median of {repeats} repeats, whiskers: quartiles)")
    plot_speed(points, {m: v for m, v in named.items() if m != baseline}, {f.name: _tick(f) for f in config.functions},
               run_dir / "speed.png", paper=paper if compared else None, paper_after=relukan, title=title,
               ylabel=f"speedup over {named[baseline].label}" if baseline else "seconds",
               reference=f"{named[baseline].label} (1x)" if baseline else None)


def _tick(function: SpeedFunctionSpec) -> str:
    """A function's label under speed.png: its name and width; a bare shape (`expression:
    random`) its name alone, on two lines at its dashes (the sweep's names say width and batch:
    L1000-b100)."""
    return function.name.replace("-", "\n") if function.bare else f"{function.name}\n{list(function.width)}"


def plot_speed(points: Sequence[Point], looks: Mapping[str, Look], ticks: dict[str, str], path: Path, *,
               paper: dict[tuple[str, str], float] | None = None, paper_after: str | None = None,
               title: str = "", ylabel: str = "", reference: str | None = None) -> Path:
    """One point per function, model and device (`points`: function, model, device, value,
    low, high: the speedup over the baseline and its quartile range, or seconds), whiskers from
    low to high, log y; the models side by side in each function's group, one marker per
    device. `paper` ({(function, "cpu" | "gpu"): the paper's ReLU-KAN speedup over KAN}) as
    hollow black markers beside `paper_after`'s points. `reference`: a line at 1 so named."""
    plt = pyplot()
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
    _speed_ours(ax, points, functions, models, devices, where, step, palette({m: looks[m] for m in models}))
    if paper:
        _speed_paper(ax, paper, functions, where["paper"], step)
    if reference:
        ax.axhline(1.0, color="0.35", linewidth=0.8, zorder=1)
        ax.text(1.0, 1.0, f" {reference}", transform=ax.get_yaxis_transform(), fontsize=6.5, color="0.35", va="center")
    log_y(ax, [p["value"] for p in points], list(paper.values()))
    _speed_axes(ax, functions, ticks, title, ylabel)
    _speed_legend(fig, ax, models, looks, devices, paper)
    return save(fig, path)


def _speed_ours(ax: Axes, points: Sequence[Point], functions: Sequence[str], models: Sequence[str],
                devices: Sequence[str], where: dict[str, float], step: float,
                colors: Mapping[str, tuple[float, float, float, float]]) -> None:
    """Our points with their whiskers, devices side by side inside each model's slot; the
    value written beside the paper's model's points."""
    for p in points:
        if p["function"] not in functions or p["model"] not in models:
            continue
        d = devices.index(p["device"])
        x = functions.index(p["function"]) + where[p["model"]] + (d - (len(devices) - 1) / 2) * step * 0.45
        value, low, high = finite([p["value"], p["low"], p["high"]])
        errors = [[max(0.0, value - low)], [max(0.0, high - value)]] if value == value and low == low and high == high else None
        ax.errorbar([x], [value], yerr=errors, fmt=DEVICE_MARKERS[d % len(DEVICE_MARKERS)], color=colors[p["model"]],
                    markersize=4.5, elinewidth=1.0, capsize=1.5, markeredgecolor="black", markeredgewidth=0.4, zorder=3)
        if p.get("annotate") and value == value:
            ax.annotate(better(value), (x, high if high == high else value), textcoords="offset points", xytext=(0, 2),
                        ha="center", va="bottom", fontsize=6, color=colors[p["model"]])


def _speed_paper(ax: Axes, paper: dict[tuple[str, str], float], functions: Sequence[str], offset: float, step: float) -> None:
    """The paper's speedups: hollow black markers, CPU left of GPU, the value above."""
    for (function, device), value in paper.items():
        x = functions.index(function) + offset + (-0.22 if device == "cpu" else 0.22) * step
        ax.scatter([x], [value], marker=PAPER_MARKERS.get(device, "o"), s=22, facecolors="white", edgecolors="black",
                   linewidths=1.0, zorder=4)
        ax.annotate(times(value), (x, value), textcoords="offset points", xytext=(0, 4), ha="center", va="bottom", fontsize=6)


def _speed_axes(ax: Axes, functions: Sequence[str], ticks: dict[str, str], title: str, ylabel: str) -> None:
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


def _speed_legend(fig: Figure, ax: Axes, models: Sequence[str], looks: Mapping[str, Look], devices: Sequence[str],
                  paper: dict[tuple[str, str], float]) -> None:
    from matplotlib.lines import Line2D

    colors = palette({m: looks[m] for m in models})
    handles = [Line2D([], [], marker="o", linestyle="", color=colors[m], markeredgecolor="black", markeredgewidth=0.4,
                      label=looks[m].label) for m in models]
    if len(devices) > 1:
        handles += [Line2D([], [], marker=DEVICE_MARKERS[i % len(DEVICE_MARKERS)], linestyle="", color="0.6",
                           label=f"ours, {device.upper()}") for i, device in enumerate(devices)]
    handles += [Line2D([], [], marker=PAPER_MARKERS[d], linestyle="", markerfacecolor="white", markeredgecolor="black",
                       label=f"paper's ReLU-KAN over KAN, {d.upper()}") for d in ("cpu", "gpu") if any(k[1] == d for k in paper)]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3, fontsize=7, frameon=False)
