"""The fit experiment's figures: per function its loss curves and its fit, an overview of every
function, every seed's final error, and the tuning curve of a tuned run. They draw what the
run measured; `figures` picks what each one shows (which curves coincide, the final
KAN / ReLU-KAN ratio, each model's representative seed)."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Mapping, Sequence, TypedDict

from relukan_bench import resources
from relukan_bench.experiments.fit.paper import PaperFit, paper_curves
from relukan_bench.experiments.fit.records import PredictionRecord, RunRecord, RunResult, SummaryRecord
from relukan_bench.experiments.fit.summary import curve_bands, representative_seed
from relukan_bench.experiments.fit.summary import ratio as mse_ratio
from relukan_bench.kinds import Look, looks
from relukan_bench.plots import (
    DUPLICATE_LINE,
    WIDTH,
    better,
    finish_grid,
    finite,
    grid,
    log_limits,
    log_y,
    palette,
    pyplot,
    save,
    shared_legend,
    typeset,
)
from relukan_bench.results import read_csv
from relukan_bench.stats import median

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.typing import ColorType

    from relukan_bench.config import FunctionSpec
    from relukan_bench.experiments.fit.config import FitConfig


PAPER_LABELS = {"kan": "paper's KAN (its RMSE squared)", "relukan": "paper's ReLU-KAN"}


class FinalRatio(TypedDict):
    """`final_ratio`: the two models compared, their final test MSE and KAN / ReLU-KAN."""

    kan: str
    relukan: str
    kan_mse: float
    relukan_mse: float
    value: float


def _label(model: str, looks: dict[str, Look], same: Mapping[str, str]) -> str:
    """A model's legend label; a model whose curve lies on another's says so."""
    label = looks[model].label if model in looks else model
    return f"{label}: same as {looks[same[model]].label}" if model in same else label


def _draw_bands(ax: Axes, bands: dict[str, dict[str, list[float]]], which: str, colors: Mapping[str, ColorType],
                paper: dict[str, dict[str, list[float]]], looks: dict[str, Look], same: Mapping[str, str]) -> None:
    """Each model's median across seeds with its min-max range shaded, in its kind's line style;
    a model whose curve coincides with an earlier one's (`same`) dashed over it, unshaded. The
    paper's curves thin and dashed in the colour of our first model in the same role. The y range
    is our data's and the paper's values at our last step: the paper's spikes are cut."""
    for model, band in bands.items():
        if model not in same:
            ax.fill_between(band["step"], finite(band[f"{which}_min"]), finite(band[f"{which}_max"]), color=colors[model],
                            alpha=0.15, linewidth=0)
        style = DUPLICATE_LINE if model in same else (looks[model].line if model in looks else {"linewidth": 1.2})
        ax.plot(band["step"], finite(band[f"{which}_median"]), color=colors[model], label=_label(model, looks, same),
                zorder=3 if model in same else 2, **style)
    last = max((band["step"][-1] for band in bands.values() if band["step"]), default=1)
    ends = []  # the paper's value at our last step: in range, unlike its spikes
    for role, curve in paper.items():
        color = next((colors[m] for m in bands if m in looks and looks[m].role == role), "0.4")
        shown = [i for i, step in enumerate(curve["step"]) if step <= last]  # the paper's steps past ours are cut
        ax.plot([curve["step"][i] for i in shown], finite([curve[which][i] for i in shown]), color=color,
                linestyle=(0, (4, 1.5)), linewidth=0.7, alpha=0.7, label=PAPER_LABELS.get(role, f"paper's {role}"), zorder=1)
        ends += [curve[which][shown[-1]]] if shown else []
    ours = [band[f"{which}_{part}"] for band in bands.values() for part in ("median", "min", "max")]
    log_y(ax, *ours)
    log_limits(ax, *ours, ends, margin=2.0)
    ax.set_xlim(0, last)
    ax.grid(which="major", alpha=0.3)
    ax.tick_params(which="both", labelsize=7)


def _ratio_mark(ax: Axes, ratio: FinalRatio | None, last: float, words: str = "") -> None:
    """The final KAN / ReLU-KAN ratio of test MSE: a bracket between the two final medians past
    the last step, the factor beside it (after `words`)."""
    if not ratio or not all(math.isfinite(ratio[k]) and ratio[k] > 0 for k in ("kan_mse", "relukan_mse")):
        return
    x = last * 1.05
    ax.annotate("", (x, ratio["kan_mse"]), (x, ratio["relukan_mse"]),
                arrowprops={"arrowstyle": "<->", "color": "black", "linewidth": 0.8, "shrinkA": 0, "shrinkB": 0})
    middle = math.sqrt(ratio["kan_mse"] * ratio["relukan_mse"])
    ax.annotate(f"{words}{better(ratio['value'])}", (x, middle), textcoords="offset points", xytext=(4, 0),
                fontsize=6.5, va="center", ha="left", fontweight="bold")
    ax.set_xlim(right=last * (1.45 if words else 1.27))


def plot_fit_curves(function: FunctionSpec, bands: dict[str, dict[str, list[float]]], paper: dict[str, dict[str, list[float]]],
                    looks: dict[str, Look], path: Path, *, same: dict[str, str] | None = None,
                    panels: Sequence[str] = ("train", "test"), ratio: FinalRatio | None = None, note: str = "") -> Path:
    """MSE against the step, log y, a panel per entry of `panels` ("train", "test"; one panel
    where the caller found they coincide, `note` saying so): each model's median across seeds,
    its range over seeds shaded, the paper's curves where the paper ran this function, the
    final KAN/ReLU-KAN ratio (`ratio`: kan_mse, relukan_mse, value) at the right edge."""
    plt = pyplot()
    same = same or {}
    colors = palette({m: looks[m] for m in bands if m in looks})
    fig, axes = plt.subplots(1, len(panels), figsize=(WIDTH if len(panels) > 1 else WIDTH * 0.62, 2.9), sharey=True,
                             squeeze=False)
    for ax, which in zip(axes[0], panels):
        _draw_bands(ax, bands, which, colors, paper, looks, same)
        last = max((band["step"][-1] for band in bands.values() if band["step"]), default=1)
        _ratio_mark(ax, ratio if which == "test" else None, last, "KAN /\nReLU-KAN\n")
        ax.set_title(f"{which} MSE" + (f" ({note})" if note and len(panels) == 1 else ""), fontsize=8)
        ax.set_xlabel("training step", fontsize=7.5)
    axes[0][0].set_ylabel("MSE: median over seeds, min-max shaded", fontsize=7.5)
    fig.suptitle(f"{function.name}: {typeset(function.expression)},  width {list(function.width)}, G = {function.grid}, "
                 f"k = {function.k}", fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    shared_legend(fig, axes[0], ncol=2, right=len(panels) == 1)
    return save(fig, path)


def plot_fit_predictions(function: FunctionSpec, predictions: dict[str, list[PredictionRecord]], looks: dict[str, Look],
                         path: Path, *, same: dict[str, str] | None = None) -> Path:
    """Each model's fit on its median seed. 1-D: target and predictions over x (a model whose
    curves coincide with another's dashed over it). n-D: per model, predicted against true
    value on the test set, with the line y = x."""
    plt = pyplot()
    same = same or {}
    colors = palette({m: looks[m] for m in predictions if m in looks})
    if function.width[0] == 1:
        fig, ax = plt.subplots(figsize=(WIDTH * 0.55, 2.8))
        first = next((rows for rows in predictions.values() if rows), [])
        ax.plot(finite([r.x1 for r in first]), finite([r.y_true for r in first]), color="black", linewidth=3,
                alpha=0.25, label="target")
        for model, rows in predictions.items():
            style = DUPLICATE_LINE if model in same else {"linewidth": 1.2}
            ax.plot(finite([r.x1 for r in rows]), finite([r.y_pred for r in rows]), color=colors[model],
                    label=_label(model, looks, same) + (f" (seed {rows[0].seed})" if rows else ""), **style)
        ax.set(xlabel="$x_1$", ylabel="$y$")
        axes = [ax]
    else:
        fig, axes = _scatter_grid(predictions, looks, colors, same)
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=7)
    fig.suptitle(f"{function.name}: {typeset(function.expression)}  (each model's median seed)", fontsize=9)
    fig.tight_layout()
    shared_legend(fig, axes, right=True)  # only the 1-D figure has labelled lines
    return save(fig, path)


def _scatter_grid(predictions: dict[str, list[PredictionRecord]], looks: dict[str, Look], colors: Mapping[str, ColorType],
                  same: Mapping[str, str]) -> tuple[Figure, list[Axes]]:
    """Predicted against true value, a panel per model, three a row: (figure, the panels drawn)."""
    fig, panels = grid(len(predictions), 2.45)
    axes = list(panels.flat)
    for ax, (model, points) in zip(axes, predictions.items()):
        true, pred = finite([r.y_true for r in points]), finite([r.y_pred for r in points])
        drawn = [v for v in true + pred if v == v]
        ends = [min(drawn), max(drawn)] if drawn else [0, 1]
        ax.plot(ends, ends, color="black", linewidth=0.8, alpha=0.5)
        ax.scatter(true, pred, s=6, color=colors.get(model, "0.3"), alpha=0.8, linewidths=0)
        seed = f", seed {points[0].seed}" if points else ""
        ax.set_title(_label(model, looks, same).replace(": same as", "\nsame as") + seed, fontsize=7)
        ax.set_aspect("equal", adjustable="datalim")
    finish_grid(panels, len(predictions), "true value (test set)", "predicted")
    return fig, axes[:len(predictions)] or axes[:1]


def plot_fit_overview(functions: Sequence[FunctionSpec], bands: dict[tuple[str, str], dict[str, list[float]]],
                      looks: dict[str, Look], paper: dict[tuple[str, str], dict[str, list[float]]], path: Path, *,
                      same: dict[str, dict[str, str]] | None = None, ratios: Mapping[str, FinalRatio | None] | None = None) -> Path:
    """Test MSE curves of every function, three panels a row, each with its final KAN/ReLU-KAN
    ratio (`ratios` by function; `same` by function: which curves coincide)."""
    colors = palette(looks)
    fig, axes = grid(len(functions), 2.2, 0.5)
    for ax, function in zip(axes.flat, functions):
        mine = {m: bands[(function.name, m)] for m in looks if (function.name, m) in bands}
        theirs = {kind: curve for (name, kind), curve in paper.items() if name == function.name}
        _draw_bands(ax, mine, "test", colors, theirs, looks, (same or {}).get(function.name, {}))
        last = max((band["step"][-1] for band in mine.values() if band["step"]), default=1)
        _ratio_mark(ax, (ratios or {}).get(function.name), last)
        ax.set_title(f"{function.name}: {typeset(function.expression)}", fontsize=7.5)
        ax.tick_params(labelsize=6.5)
    finish_grid(axes, len(functions), "training step", "test MSE")
    pair = next((r for r in (ratios or {}).values() if r), None)
    fig.suptitle("Test MSE over training: median over seeds, min-max shaded; the paper's curves thin dashed" + (
        f";\nat the right: final {looks[pair['kan']].label} / {looks[pair['relukan']].label} ratio" if pair else ""), fontsize=8.5)
    fig.tight_layout(rect=(0, 0, 1, 0.98))
    shared_legend(fig, list(axes.flat), ncol=2)
    return save(fig, path)


def plot_fit_seeds(functions: Sequence[FunctionSpec], runs: Sequence[RunRecord], looks: dict[str, Look], path: Path) -> Path:
    """Every seed's final test MSE as a dot, per function and model (log y), the median over
    seeds as a bar; a diverged run as a cross at the top of its panel. With many seeds this
    shows what a median and a range hide: two clusters, one outlier."""
    from matplotlib.lines import Line2D

    models, colors = list(looks), palette(looks)
    fig, axes = grid(len(functions), 2.0, 0.6)
    for ax, function in zip(axes.flat, functions):
        _seed_dots(ax, [r for r in runs if r.function == function.name], models, colors)
        ax.set_title(f"{function.name}: {typeset(function.expression)}", fontsize=7.5)
    finish_grid(axes, len(functions), ylabel="final test MSE")
    seeds = len({r.seed for r in runs})
    fig.suptitle(f"Final test MSE of every seed ({seeds} seeds): dots, the median as a bar, xN: N diverged runs", fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 0.98))
    handles = [Line2D([], [], marker="o", linestyle="", color=colors[m], label=looks[m].label) for m in models]
    fig.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=3, fontsize=7, frameon=False)
    return save(fig, path)


def plot_tuning(functions: Sequence[FunctionSpec], summary: Sequence[SummaryRecord], models: Sequence[str], path: Path) -> Path:
    """The tuning curve: per function a panel, the candidates along x (every tuned model's, in
    the order the config lists them), per tuned model its candidates' median final validation
    MSE (log y), the selected one ringed; an untuned model as a dashed level. The test set
    chose nothing here."""
    plt = pyplot()
    fig, axes = grid(len(functions), 2.4, 0.9)
    colors = {m: plt.get_cmap("tab10")(i % 10) for i, m in enumerate(models)}
    labels = list(dict.fromkeys(r.candidate for r in summary if r.candidate))
    for ax, function in zip(axes.flat, functions):
        _tuning_panel(ax, [r for r in summary if r.function == function.name], models, labels, colors)
        ax.set_title(f"{function.name}: {typeset(function.expression)}", fontsize=7.5)
    finish_grid(axes, len(functions), ylabel="final validation MSE")
    fig.suptitle("Tuning: each candidate's median final validation MSE over seeds; ringed: the one selected; "
                 "dashed: not tuned", fontsize=8.5)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    handles, names = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=min(5, len(models)), fontsize=7, frameon=False)
    return save(fig, path)


def _tuning_panel(ax: Axes, rows: Sequence[SummaryRecord], models: Sequence[str], labels: Sequence[str],
                  colors: Mapping[str, ColorType]) -> None:
    values: list[float] = []
    for model in models:
        mine = [r for r in rows if r.tuned_model == model]
        ys = finite([r.final_val_mse for r in mine])
        values += ys
        if len(mine) == 1 and not mine[0].candidate:
            ax.axhline(ys[0], color=colors[model], linestyle="--", linewidth=1, label=f"{model} (not tuned)")
            continue
        xs = [labels.index(r.candidate) for r in mine]
        ax.plot(xs, ys, marker="o", markersize=3, linewidth=1, color=colors[model], label=model)
        for x, y, r in zip(xs, ys, mine):
            if r.selected and y == y:
                ax.scatter([x], [y], s=60, facecolors="none", edgecolors=colors[model], linewidths=1.3, zorder=4)
    log_y(ax, values)
    ax.set_xticks(range(len(labels)), labels, rotation=40, ha="right", fontsize=6)
    ax.tick_params(axis="y", labelsize=6.5)
    ax.grid(axis="y", which="major", alpha=0.3)


def _seed_dots(ax: Axes, runs: Sequence[RunRecord], models: Sequence[str], colors: Mapping[str, ColorType]) -> None:
    values: list[float] = []
    for i, model in enumerate(models):
        mine = [r for r in runs if r.model == model and not r.error]
        finals = finite([r.final_test_mse for r in mine if not r.diverged])
        values += finals
        jitter = [i + 0.5 * ((j * 0.618) % 1 - 0.5) for j in range(len(finals))]  # spread, reproducibly
        ax.scatter(jitter, finals, s=9, color=colors[model], alpha=0.8, linewidths=0)
        known = sorted(v for v in finals if v == v)
        if known:
            ax.hlines(known[(len(known) - 1) // 2], i - 0.35, i + 0.35, color="black", linewidth=1.2)
        diverged = sum(bool(r.diverged) for r in mine)
        if diverged:
            ax.text(i, 0.98, f"x{diverged}", transform=ax.get_xaxis_transform(), ha="center", va="top", color="crimson", fontsize=7)
    log_y(ax, values)
    ax.set_xticks(range(len(models)), [])
    ax.set_xlim(-0.6, len(models) - 0.4)
    ax.tick_params(which="both", labelsize=6.5)
    ax.grid(axis="y", which="major", alpha=0.3)


#: Two curves coincide when the median over steps of |log10(a / b)| is at most this (a factor 1.05):
#: relukan-fast on relukan, bspline on kan. Train and test coincide within TRAIN_TEST (a factor 1.26).
SAME_CURVE, TRAIN_TEST = math.log10(1.05), 0.1


def figures(run_dir: Path, config: FitConfig, results: Sequence[RunResult], paper: dict[str, PaperFit],
            summary: Sequence[SummaryRecord] = ()) -> None:
    """Per function a loss-curve and a fit figure; one overview of all functions; every seed."""
    bands = curve_bands(results)
    reference = paper_curves(read_csv(resources.paper_dir() / "loss_curves.csv"), paper)
    named = looks(config.models)
    same = {f.name: coinciding({m: bands[(f.name, m)] for m in named if (f.name, m) in bands}) for f in config.functions}
    ratios = {f.name: final_ratio(summary, f.name, named, config.baseline) for f in config.functions}
    for function in config.functions:
        mine = {m: bands[(function.name, m)] for m in named if (function.name, m) in bands}
        if not mine:
            continue
        theirs = {role: curve for (name, role), curve in reference.items() if name == function.name}
        together = all(_deviation(b["train_median"], b["test_median"]) <= TRAIN_TEST for b in mine.values())
        plot_fit_curves(function, mine, theirs, named, run_dir / f"curves_{function.name}.png", same=same[function.name],
                              panels=("test",) if together else ("train", "test"), ratio=ratios[function.name],
                              note=f"train MSE within a factor {10 ** TRAIN_TEST:.2f} of it, not drawn" if together else "")
        plot_fit_predictions(function, _median_fits(results, function.name, mine), named,
                                   run_dir / f"fit_{function.name}.png", same=same[function.name])
    plotted = [f for f in config.functions if any((f.name, m) in bands for m in named)]
    plot_fit_overview(plotted, bands, named, reference, run_dir / "overview.png", same=same, ratios=ratios)
    plot_fit_seeds(plotted, [r.run for r in results], named, run_dir / "seeds.png")


def _deviation(a: Sequence[float], b: Sequence[float]) -> float:
    """The median over steps of |log10(a / b)| where both are finite and positive; inf when
    nowhere."""
    gaps = [abs(math.log10(x / y)) for x, y in zip(a, b) if 0 < x < math.inf and 0 < y < math.inf]
    return median(gaps) if gaps else math.inf


def coinciding(bands: dict[str, dict[str, list[float]]]) -> dict[str, str]:
    """Each model whose median test curve lies on an earlier model's (within SAME_CURVE) -> that
    model; figures draw it dashed over it and say so."""
    same: dict[str, str] = {}
    for i, (model, band) in enumerate(bands.items()):
        for other, earlier in list(bands.items())[:i]:
            if other not in same and _deviation(band["test_median"], earlier["test_median"]) <= SAME_CURVE:
                same[model] = other
                break
    return same


def final_ratio(summary: Sequence[SummaryRecord], function: str, named: dict[str, Look],
                baseline: str | None) -> FinalRatio | None:
    """The final test MSE (median over seeds) of the pykan KAN (the baseline when it is one,
    else the first model in the role kan) over that of the first ReLU-KAN; None without both."""
    kan = (baseline if baseline is not None and baseline in named and named[baseline].role == "kan"
           else next((m for m, v in named.items() if v.role == "kan"), None))
    relukan = next((m for m, v in named.items() if v.role == "relukan"), None)
    rows = {r.model: r for r in summary if r.function == function}
    if kan is None or relukan is None or kan not in rows or relukan not in rows:
        return None
    kan_mse, relukan_mse = rows[kan].final_test_mse, rows[relukan].final_test_mse
    return {"kan": kan, "relukan": relukan, "kan_mse": kan_mse, "relukan_mse": relukan_mse, "value": mse_ratio(kan_mse, relukan_mse)}


def _median_fits(results: Sequence[RunResult], function: str, models: Iterable[str]) -> dict[str, list[PredictionRecord]]:
    """Each model's predictions on its representative seed."""
    runs = [r.run for r in results]
    shown = {}
    for model in models:
        seed = representative_seed(runs, function, model)
        match = [r for r in results if (r.run.function, r.run.model, r.run.seed) == (function, model, seed)]
        if match:
            shown[model] = match[0].predictions
    return shown


def renamed(result: RunResult, config: FitConfig) -> RunResult:
    """A tuned candidate's result under its tuned model's name (the figures draw the choice)."""
    model = config.origin(result.run.model)[0]
    if model == result.run.model:
        return result
    return replace(result, run=replace(result.run, model=model), predictions=[replace(p, model=model) for p in result.predictions])
