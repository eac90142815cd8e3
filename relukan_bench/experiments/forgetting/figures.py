"""The forgetting experiment's figures: per model the paper's panels (the data of each phase,
the prediction after it), and for all models the growth heatmaps and the curves of every
segment's MSE during training."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Mapping, Sequence

from relukan_bench.experiments.forgetting.summary import (
    Growth,
    curve_medians,
    growth,
    median_matrix,
    representative_seed,
)
from relukan_bench.experiments.forgetting.target import target
from relukan_bench.kinds import looks
from relukan_bench.plots import WIDTH, finish_grid, finite, grid, log_y, pyplot, save, shared_legend, times

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure

    from relukan_bench.experiments.forgetting.config import ForgettingConfig
    from relukan_bench.experiments.forgetting.plan import RunResult
    from relukan_bench.kinds import Look


def figures(run_dir: Path, config: ForgettingConfig, results: Sequence[RunResult]) -> None:
    """Per model the paper's panel figure; for all models the growth heatmaps and the curves."""
    x, y = target(config.data)
    runs = [r.run for r in results]
    named = {m: look for m, look in looks(config.models).items() if any(r.model == m for r in runs)}
    for model in named:
        predictions: dict[int, dict[int, list[float]]] = {}  # seed -> phase -> y_pred
        for result in results:
            if result.run.model == model:
                by_phase = predictions.setdefault(result.run.seed, {})
                for row in result.predictions:
                    by_phase.setdefault(row.phase, []).append(row.y_pred)
        plot_forgetting_panels(named[model].label, x[:, 0].tolist(), y[:, 0].tolist(), config.data.segments,
                               predictions, representative_seed(runs, model), run_dir / f"panels_{model}.png")
    matrix = [row for r in results for row in r.matrix]
    plot_forgetting_heatmaps({m: growth(median_matrix(matrix, m)) for m in named}, named, run_dir / "heatmap.png")
    curves = [row for r in results for row in r.curves]
    plot_forgetting_curves({m: curve_medians(curves, m) for m in named}, named, config.train.steps_per_phase,
                           run_dir / "curves.png")


def plot_forgetting_panels(label: str, x: Sequence[float], y: Sequence[float], segments: int,
                           predictions: dict[int, dict[int, list[float]]], shown: int | None, path: Path) -> Path:
    """The paper's figure for one model (`label`): a column per phase; top row the data of that
    phase (solid) over the whole target (dashed); bottom row the prediction after that phase
    over the whole target, the median seed in black and the other seeds in grey."""
    plt = pyplot()
    size = len(x) // segments
    fig, axes = plt.subplots(2, segments, figsize=(WIDTH, 2.9), sharex=True, sharey=True, squeeze=False)
    shown_phases = predictions.get(shown, {}) if shown is not None else {}
    values = [v for v in finite([*y, *(v for phase in shown_phases.values() for v in phase)]) if v == v] or [0.0, 1.0]
    for phase in range(1, segments + 1):
        top, bottom = axes[0][phase - 1], axes[1][phase - 1]
        part = slice((phase - 1) * size, phase * size)
        top.plot(x, y, "--", color="black", linewidth=0.6)
        top.plot(x[part], y[part], "-", color="black", linewidth=1.3)
        top.set_title(f"phase {phase}", fontsize=8)
        bottom.plot(x, y, "--", color="black", linewidth=0.6)
        for seed, by_phase in sorted(predictions.items()):
            if seed != shown and phase in by_phase:
                bottom.plot(x, finite(by_phase[phase]), "-", color="0.65", linewidth=0.6)
        if phase in shown_phases:
            bottom.plot(x, finite(shown_phases[phase]), "-", color="black", linewidth=1.0)
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
    return save(fig, path)


def plot_forgetting_heatmaps(growth: dict[str, Growth], looks: Mapping[str, Look], path: Path, limit: float = 3.0) -> Path:
    """A panel per model (three a row) of how its error on each segment grew after that
    segment's own phase: `growth[model]` has `log10` (rows phases 1..S, columns segments:
    log10(MSE / the MSE right after the segment's own phase); None before that phase, hatched)
    and `own` (that MSE, per segment, written on the diagonal). One diverging colour scale,
    centred at 1x, the same for every panel, cut at 10**`limit`."""
    from matplotlib.colors import TwoSlopeNorm

    known = [abs(v) for g in growth.values() for row in g["log10"] for v in row if v is not None and math.isfinite(v)]
    top = min(limit, max(1.0, math.ceil(max(known, default=1.0) * 2) / 2))
    norm = TwoSlopeNorm(vcenter=0.0, vmin=-top, vmax=top)
    fig, axes = grid(len(growth), 2.35, 0.5)
    image = None
    for ax, (model, g) in zip(axes.flat, growth.items()):
        image = _growth_panel(ax, g, norm) or image
        ax.set_title(looks[model].label if model in looks else model, fontsize=7.5)
    finish_grid(axes, len(growth), "segment", "after phase")
    fig.suptitle("Forgetting: MSE on each segment after each phase over its MSE right after its own phase\n"
                 "(diagonal: that MSE; red: grew, blue: shrank; hatched: not trained yet; median over seeds)", fontsize=8.5)
    fig.tight_layout(rect=(0, 0, 0.9, 0.97))
    if image is not None:
        _growth_colorbar(fig, image, top, max(known, default=0.0) > top)
    return save(fig, path)


def _growth_panel(ax: Axes, growth: Growth, norm: Normalize) -> ScalarMappable | None:
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
                ax.text(s, p, times(10 ** value) if value == value else "n/a", ha="center", va="center", fontsize=6.5,
                        color="white" if strong else "black")
    size = len(growth["own"])
    ax.set_xticks(range(size), [str(s + 1) for s in range(size)], fontsize=6.5)
    ax.set_yticks(range(len(table)), [str(p + 1) for p in range(len(table))], fontsize=6.5)
    ax.tick_params(length=0)
    return image


def _finite_rows(table: list[list[float]]) -> list[list[float]]:
    return [finite(row) for row in table]


def _growth_colorbar(fig: Figure, image: ScalarMappable, top: float, cut: bool) -> None:
    ticks = list(range(-int(top), int(top) + 1))
    bar = fig.colorbar(image, cax=fig.add_axes((0.92, 0.15, 0.018, 0.65)), ticks=ticks, extend="both" if cut else "neither")
    bar.ax.set_yticklabels([f"{10.0 ** t:g}x" for t in ticks], fontsize=6.5)
    bar.set_label("MSE / MSE right after its own phase", fontsize=7)


def plot_forgetting_curves(curves: dict[str, dict[int, tuple[list[int], list[float]]]], looks: Mapping[str, Look],
                           steps_per_phase: int, path: Path) -> Path:
    """Per model a panel (three a row, one y scale): the MSE on every segment over all
    training steps (median over seeds, log y); each phase shaded in the colour of the segment
    it trains, its number on top."""
    plt = pyplot()
    fig, axes = grid(len(curves), 1.95, 0.7, sharex=True, sharey=True)
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
            ax.plot(steps, finite(values), color=palette[(segment - 1) % 10], linewidth=0.9, label=f"segment {segment}")
        ax.set_title(looks[model].label if model in looks else model, fontsize=7.5, pad=9)
        ax.set_xlim(0, max(last, 1))
        ax.grid(which="major", alpha=0.25)
        ax.tick_params(labelsize=6.5)
    log_y(axes.flat[0], *series)
    finish_grid(axes, len(curves), "training step", "MSE on the segment")
    fig.suptitle("MSE on each segment during training (median over seeds); phase i, numbered on top, trains segment i",
                 fontsize=8.5)
    fig.tight_layout(rect=(0, 0, 1, 0.98))
    shared_legend(fig, list(axes.flat), ncol=min(6, max((len(c) for c in curves.values()), default=1)))
    return save(fig, path)
