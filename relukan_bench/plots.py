"""Figures. They receive plain records and draw them; they compute nothing but layout.

Every series is drawn through `_finite` (inf and NaN become gaps) and every log axis through
`_log_y` (a linear axis saying it is empty where nothing positive and finite is left), so a
run whose every number is infinite or missing still gets its figures."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only, never a window
    import matplotlib.pyplot as plt

    return plt


def _finite(values: Sequence[Any]) -> list[float]:
    """`values` with every non-finite or missing value as NaN, which matplotlib leaves out."""
    return [float(v) if isinstance(v, (int, float)) and math.isfinite(v) else math.nan for v in values]


def _log_y(ax: Any, *series: Sequence[Any]) -> None:
    """A log y axis when some value of `series` is finite and positive; else the axis says it
    has nothing to draw (a log axis of no positive data cannot be laid out)."""
    if any(v > 0 for values in series for v in _finite(values)):
        ax.set_yscale("log")
    else:
        ax.text(0.5, 0.5, "no finite values to draw", transform=ax.transAxes, ha="center", va="center", color="0.4")


def plot_speed(summary: Sequence[dict[str, Any]], baseline: str | None, path: Path,
               paper: dict[tuple[str, str], float] | None = None, relukan: str | None = None) -> Path:
    """Grouped bars of median training seconds per function (log scale), one panel per
    device; whiskers from the first to the third quartile; speedups over the baseline above
    the bars of the other models. With `paper` ({(function, "cpu" | "gpu"): the paper's
    ReLU-KAN speedup over KAN}) and `relukan` (the paper's model's name), a marker on each
    `relukan` bar where that bar would end at the paper's speedup over our baseline."""
    plt = _pyplot()
    from matplotlib import ticker

    devices = list(dict.fromkeys(row["device"] for row in summary))
    functions = list(dict.fromkeys(row["function"] for row in summary))
    models = list(dict.fromkeys(row["model"] for row in summary))
    by_key = {(r["device"], r["function"], r["model"]): r for r in summary}
    width = 0.8 / len(models)
    colours = plt.get_cmap("tab10" if len(models) <= 10 else "tab20").colors  # one colour per model
    fig, axes = plt.subplots(1, len(devices), figsize=(max(6.0, (1.4 + 0.12 * len(models)) * len(functions) * len(devices) + 2),
                                                       4.2 + 0.25 * math.ceil(len(models) / 4)), squeeze=False)
    for ax, device in zip(axes[0], devices):
        for m, model in enumerate(models):
            xs, heights, lower, upper = [], [], [], []
            for f, function in enumerate(functions):
                row = by_key.get((device, function, model))
                if row is None:
                    continue
                median, q1, q3 = _finite([row["median_s"], row["q1_s"], row["q3_s"]])
                xs.append(f + (m - (len(models) - 1) / 2) * width)
                heights.append(median)
                lower.append(median - q1)
                upper.append(q3 - median)
            bars = ax.bar(xs, heights, width, yerr=[lower, upper], capsize=3, label=model, color=colours[m % len(colours)])
            if model != baseline:
                for bar, function in zip(bars, [fn for fn in functions if (device, fn, model) in by_key]):
                    speedup = by_key[(device, function, model)]["speedup"]
                    top = by_key[(device, function, model)]["q3_s"]  # above the whisker
                    if _finite([speedup, top]) == [speedup, top]:  # both finite
                        ax.annotate(f"{speedup:.1f}x", (bar.get_x() + bar.get_width() / 2, top),
                                    textcoords="offset points", xytext=(0, 5), ha="center", fontsize=8, fontweight="bold")
            if model == relukan and paper and baseline:
                _paper_markers(ax, by_key, device, functions, xs, model, baseline, paper)
        _log_y(ax, [row["median_s"] for row in summary if row["device"] == device])
        ax.yaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))
        ax.yaxis.set_minor_formatter(ticker.FormatStrFormatter("%g"))
        ax.set_xticks(range(len(functions)), functions)
        ax.set_title(f"{device.upper()}: training time" + (f" (labels: speedup over {baseline})" if baseline else ""), fontsize=10)
        ax.set_ylabel("seconds (median, IQR whiskers)")
        ax.grid(axis="y", which="both", alpha=0.3)
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=4, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _paper_markers(ax: Any, by_key: dict[tuple[str, str, str], dict[str, Any]], device: str, functions: Sequence[str],
                   xs: Sequence[float], model: str, baseline: str, paper: dict[tuple[str, str], float]) -> None:
    """Black diamonds at baseline median / the paper's speedup, on the model's bars."""
    label = "cpu" if device == "cpu" else "gpu"
    points = []
    for x, function in zip(xs, [fn for fn in functions if (device, fn, model) in by_key]):
        base, speedup = by_key.get((device, function, baseline)), paper.get((function, label))
        if base is not None and speedup and _finite([base["median_s"]]) == [base["median_s"]]:
            points.append((x, base["median_s"] / speedup))
    if points:
        ax.scatter([p[0] for p in points], [p[1] for p in points], marker="D", color="black", s=22, zorder=5,
                   label=f"paper's speedup ({baseline} / paper's {label.upper()} speedup)")


# ----------------------------------------------------------------------------- fit
PAPER_LABELS = {"kan": "paper KAN (RMSE² = MSE)", "relukan": "paper ReLU-KAN"}


def _colors(models: Sequence[str]) -> dict[str, Any]:
    plt = _pyplot()
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    return {model: cycle[i % len(cycle)] for i, model in enumerate(models)}


def _draw_bands(ax: Any, bands: dict[str, dict[str, list[float]]], which: str, colors: dict[str, Any],
                paper: dict[str, dict[str, list[float]]], looks: dict[str, Any]) -> None:
    """Each model's median across seeds with its min-max range shaded, drawn in its kind's line
    style (`looks[model]`: role and line); the paper's logged curves as faint dashed lines, in
    the colour of our first model in the same role."""
    for role, curve in paper.items():
        color = next((colors[m] for m in bands if m in looks and looks[m].role == role), "0.5")
        ax.plot(curve["step"], _finite(curve[which]), color=color, linestyle="--", linewidth=0.6, alpha=0.45, label=PAPER_LABELS.get(role, f"paper {role}"))
    for model, band in bands.items():
        ax.fill_between(band["step"], _finite(band[f"{which}_min"]), _finite(band[f"{which}_max"]), color=colors[model],
                        alpha=0.18, linewidth=0)
        style = looks[model].line if model in looks else {"linewidth": 1.2}
        ax.plot(band["step"], _finite(band[f"{which}_median"]), color=colors[model], label=model, **style)
    _log_y(ax, *[curve[which] for curve in paper.values()], *[band[f"{which}_median"] for band in bands.values()])
    ax.grid(which="major", alpha=0.3)


def plot_fit_curves(function: Any, bands: dict[str, dict[str, list[float]]], paper: dict[str, dict[str, list[float]]],
                    looks: dict[str, Any], path: Path) -> Path:
    """Train and test MSE against the step, log y: each model's median across seeds, its
    range over seeds shaded, the paper's curves faint where the paper ran this function."""
    plt = _pyplot()
    colors = _colors(list(bands))
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    for ax, which in zip(axes, ("train", "test")):
        _draw_bands(ax, bands, which, colors, paper, looks)
        ax.set_title(f"{which} MSE", fontsize=10)
        ax.set_xlabel("training step")
    axes[0].set_ylabel("MSE (median over seeds, min-max shaded)")
    axes[1].legend(fontsize=8)
    fig.suptitle(f"{function.name}: {function.expression}   width {function.width}, G={function.grid}, k={function.k}", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_fit_predictions(function: Any, predictions: dict[str, list[dict[str, Any]]], path: Path) -> Path:
    """Each model's fit on its median seed. 1-D: target and predictions over x. n-D: predicted
    against true value on the test set, with the line y = x."""
    plt = _pyplot()
    models = list(predictions)
    colors = _colors(models)
    if function.width[0] == 1:
        fig, ax = plt.subplots(figsize=(6.5, 4.2))
        first = next((rows for rows in predictions.values() if rows), [])
        ax.plot(_finite([r["x1"] for r in first]), _finite([r["y_true"] for r in first]), color="black", linewidth=2.5, alpha=0.35, label="target")
        for model, rows in predictions.items():
            ax.plot(_finite([r["x1"] for r in rows]), _finite([r["y_pred"] for r in rows]), color=colors[model], linewidth=1.2,
                    label=f"{model} (seed {rows[0]['seed']})" if rows else model)
        ax.set_xlabel("x1")
        ax.set_ylabel("y")
        ax.legend(fontsize=8)
        axes = [ax]
    else:
        fig, axes = plt.subplots(1, max(1, len(models)), figsize=(4.2 * max(1, len(models)), 4.2), squeeze=False)
        axes = list(axes[0])
        for ax, (model, rows) in zip(axes, predictions.items()):
            true, pred = _finite([r["y_true"] for r in rows]), _finite([r["y_pred"] for r in rows])
            drawn = [v for v in true + pred if v == v]
            ends = [min(drawn), max(drawn)] if drawn else [0, 1]
            ax.plot(ends, ends, color="black", linewidth=0.8, alpha=0.5, label="y = x")
            ax.scatter(true, pred, s=10, color=colors[model], alpha=0.8, label=f"{model} (seed {rows[0]['seed']})" if rows else model)
            ax.set_xlabel("true value (test set)")
            ax.set_ylabel("predicted value")
            ax.set_aspect("equal", adjustable="datalim")
            ax.legend(fontsize=8)
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.suptitle(f"{function.name}: {function.expression}   (median seed of each model)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_fit_overview(functions: Sequence[Any], bands: dict[tuple[str, str], dict[str, list[float]]], models: Sequence[str],
                      paper: dict[tuple[str, str], dict[str, list[float]]], looks: dict[str, Any], path: Path) -> Path:
    """Test MSE curves of every function in one figure, three panels a row."""
    plt = _pyplot()
    colors = _colors(models)
    cols = min(3, len(functions))
    rows = -(-len(functions) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.4 * rows), squeeze=False)
    for ax, function in zip(axes.flat, functions):
        mine = {m: bands[(function.name, m)] for m in models if (function.name, m) in bands}
        theirs = {kind: curve for (name, kind), curve in paper.items() if name == function.name}
        _draw_bands(ax, mine, "test", colors, theirs, looks)
        ax.set_title(f"{function.name}: {function.expression}", fontsize=9)
        ax.set_xlabel("step", fontsize=8)
        ax.set_ylabel("test MSE", fontsize=8)
    for ax in list(axes.flat)[len(functions):]:
        ax.axis("off")
    handles: dict[str, Any] = {}
    for ax in axes.flat:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, handle)
    fig.legend(list(handles.values()), list(handles), loc="lower center", ncol=min(6, len(handles)), fontsize=8, frameon=False)
    fig.suptitle("Test MSE over training: median over seeds, min-max shaded; paper's curves dashed", fontsize=11)
    fig.tight_layout(rect=(0, 0.05, 1, 0.97))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_fit_seeds(functions: Sequence[Any], runs: Sequence[dict[str, Any]], models: Sequence[str], path: Path) -> Path:
    """Every seed's final test MSE as a dot, per function and model (log y), the median over
    seeds as a bar; a diverged run as a cross at the top of its panel. With many seeds this
    shows what a median and a range hide: two clusters, one outlier."""
    plt = _pyplot()
    colors = _colors(models)
    cols = min(3, len(functions))
    rows = -(-len(functions) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(max(4.6, 0.9 * len(models) + 1.5) * cols, 3.4 * rows), squeeze=False)
    for ax, function in zip(axes.flat, functions):
        values: list[float] = []
        for i, model in enumerate(models):
            mine = [r for r in runs if r["function"] == function.name and r["model"] == model and not r.get("error")]
            finals = _finite([r["final_test_mse"] for r in mine if not r["diverged"]])
            values += finals
            jitter = [i + 0.28 * ((j * 0.618) % 1 - 0.5) for j in range(len(finals))]  # spread, reproducibly
            ax.scatter(jitter, finals, s=14, color=colors[model], alpha=0.75, linewidths=0)
            known = sorted(v for v in finals if v == v)
            if known:
                ax.hlines(known[(len(known) - 1) // 2], i - 0.3, i + 0.3, color="black", linewidth=1.4)
            diverged = sum(bool(r["diverged"]) for r in mine)
            if diverged:
                ax.text(i, 0.98, f"x{diverged}", transform=ax.get_xaxis_transform(), ha="center", va="top", color="crimson", fontsize=8)
        _log_y(ax, values)
        ax.set_xticks(range(len(models)), models, rotation=30, ha="right", fontsize=8)
        ax.set_xlim(-0.6, len(models) - 0.4)
        ax.set_title(f"{function.name}: {function.expression}", fontsize=9)
        ax.set_ylabel("final test MSE", fontsize=8)
        ax.grid(axis="y", which="major", alpha=0.3)
    for ax in list(axes.flat)[len(functions):]:
        ax.axis("off")
    seeds = len({r["seed"] for r in runs})
    fig.suptitle(f"Final test MSE of every seed ({seeds} seeds): dots, median as a bar, xN: N diverged runs", fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# ----------------------------------------------------------------------------- forgetting
def plot_forgetting_panels(model: str, x: Sequence[float], y: Sequence[float], segments: int,
                           predictions: dict[int, dict[int, list[float]]], shown: int | None, path: Path) -> Path:
    """The paper's figure for one model: a column per phase; top row the data of that phase
    (solid) over the whole target (dashed); bottom row the prediction after that phase over
    the whole target, the median seed in black and the other seeds in grey."""
    plt = _pyplot()
    size = len(x) // segments
    fig, axes = plt.subplots(2, segments, figsize=(2.9 * segments, 5.0), sharex=True, squeeze=False)
    shown_phases = predictions.get(shown, {}) if shown is not None else {}
    values = [v for v in _finite([*y, *(v for phase in shown_phases.values() for v in phase)]) if v == v] or [0.0, 1.0]
    low, high = max(-1.0, min(values) - 0.1), min(2.0, max(values) + 0.1)
    for phase in range(1, segments + 1):
        top, bottom = axes[0][phase - 1], axes[1][phase - 1]
        part = slice((phase - 1) * size, phase * size)
        top.plot(x, y, "--", color="black", linewidth=0.8)
        top.plot(x[part], y[part], "-", color="black", linewidth=1.4)
        top.set_title(f"Phase {phase}", fontsize=11)
        bottom.plot(x, y, "--", color="black", linewidth=0.8)
        for seed, by_phase in sorted(predictions.items()):
            if seed != shown and phase in by_phase:
                bottom.plot(x, _finite(by_phase[phase]), "-", color="0.6", linewidth=0.7, alpha=0.8)
        if phase in shown_phases:
            bottom.plot(x, _finite(shown_phases[phase]), "-", color="black", linewidth=1.2)
        else:
            bottom.text(0.5, 0.5, "not reached", transform=bottom.transAxes, ha="center", fontsize=9, color="red")
        for ax in (top, bottom):
            ax.set_ylim(low, high)
            ax.tick_params(labelsize=7)
    axes[0][0].set_ylabel("input", fontsize=11)
    axes[1][0].set_ylabel("output", fontsize=11)
    seeds = f"seed {shown} (median forgetting) in black, other seeds grey" if shown is not None else "every seed diverged"
    fig.suptitle(f"{model}: data of each phase (top), prediction after each phase (bottom); {seeds}", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_forgetting_heatmaps(matrices: dict[str, list[list[float]]], path: Path) -> Path:
    """One heatmap per model of its (phase 0..S) x segment MSE matrix (median over seeds), on
    one log colour scale; each cell annotated, the segment trained in that phase outlined."""

    from matplotlib.colors import LogNorm
    from matplotlib.patches import Rectangle

    plt = _pyplot()
    finite = [v for m in matrices.values() for row in m for v in row if v == v and 0 < v < math.inf]
    norm = LogNorm(vmin=min(finite, default=1e-6), vmax=max(finite, default=1.0))
    fig, axes = plt.subplots(1, len(matrices), figsize=(3.9 * len(matrices) + 1.0, 4.2), squeeze=False)
    image = None
    for ax, (model, matrix) in zip(axes[0], matrices.items()):
        segments = len(matrix[0]) if matrix else 0
        masked = [[v if v == v and v > 0 else float("nan") for v in row] for row in matrix]
        image = ax.imshow(masked, norm=norm, cmap="viridis", aspect="auto")
        for i, row in enumerate(matrix):
            for j, value in enumerate(row):
                text = "" if value != value else f"{value:.1e}".replace("e-0", "e-")
                shade = norm(value) if value == value and value > 0 else 0.0
                ax.text(j, i, text, ha="center", va="center", fontsize=6.5, color="black" if shade > 0.6 else "white")
            if 1 <= i <= segments:
                ax.add_patch(Rectangle((i - 1.5, i - 0.5), 1, 1, fill=False, edgecolor="red", linewidth=1.4))
        ax.set_xticks(range(segments), [str(j + 1) for j in range(segments)])
        first = ax is axes[0][0]
        ax.set_yticks(range(len(matrix)), (["before"] + [str(i) for i in range(1, len(matrix))]) if first else [])
        ax.set_xlabel("segment (evaluated)")
        ax.set_title(model, fontsize=11)
    axes[0][0].set_ylabel("after phase (trained)")
    if image is not None:
        fig.colorbar(image, ax=list(axes[0]), label="MSE (median over seeds)", shrink=0.9)
    fig.suptitle("MSE on every segment after every phase; red: the segment trained in that phase", fontsize=10)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def plot_forgetting_curves(curves: dict[str, dict[int, tuple[list[int], list[float]]]], steps_per_phase: int, path: Path) -> Path:
    """Per model: the MSE on every segment over all training steps (median over seeds, log y),
    with the phase boundaries marked."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(curves), figsize=(4.6 * len(curves), 3.8), squeeze=False, sharey=True)
    for ax, (model, by_segment) in zip(axes[0], curves.items()):
        colors = _colors([str(s) for s in by_segment])
        last = 0
        for segment, (steps, values) in by_segment.items():
            ax.plot(steps, _finite(values), color=colors[str(segment)], linewidth=1.0, label=f"segment {segment}")
            last = max(last, steps[-1] if steps else 0)
        for boundary in range(steps_per_phase, last, steps_per_phase):
            ax.axvline(boundary, color="0.5", linewidth=0.6, linestyle=":")
        _log_y(ax, *[values for _, values in by_segment.values()])
        ax.set_title(model, fontsize=11)
        ax.set_xlabel("training step (phase i trains segment i)")
        ax.grid(which="major", alpha=0.3)
    axes[0][0].set_ylabel("MSE on the segment (median over seeds)")
    if axes[0][-1].get_legend_handles_labels()[0]:  # no curve at all when every run failed
        axes[0][-1].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
