"""Figures. They receive plain records and draw them; they compute nothing but layout."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only, never a window
    import matplotlib.pyplot as plt

    return plt


def plot_speed(summary: Sequence[dict[str, Any]], baseline: str | None, path: Path) -> Path:
    """Grouped bars of median training seconds per function (log scale), one panel per
    device; whiskers from the first to the third quartile; speedups over the baseline above
    the bars of the other models."""
    plt = _pyplot()
    from matplotlib import ticker

    devices = list(dict.fromkeys(row["device"] for row in summary))
    functions = list(dict.fromkeys(row["function"] for row in summary))
    models = list(dict.fromkeys(row["model"] for row in summary))
    by_key = {(r["device"], r["function"], r["model"]): r for r in summary}
    width = 0.8 / len(models)
    fig, axes = plt.subplots(1, len(devices), figsize=(max(6.0, 1.4 * len(functions) * len(devices) + 2), 4.2), squeeze=False)
    for ax, device in zip(axes[0], devices):
        for m, model in enumerate(models):
            xs, heights, lower, upper = [], [], [], []
            for f, function in enumerate(functions):
                row = by_key.get((device, function, model))
                if row is None:
                    continue
                xs.append(f + (m - (len(models) - 1) / 2) * width)
                heights.append(row["median_s"])
                lower.append(row["median_s"] - row["q1_s"])
                upper.append(row["q3_s"] - row["median_s"])
            bars = ax.bar(xs, heights, width, yerr=[lower, upper], capsize=3, label=model)
            if model != baseline:
                for bar, function in zip(bars, [fn for fn in functions if (device, fn, model) in by_key]):
                    speedup = by_key[(device, function, model)]["speedup"]
                    if speedup == speedup:  # not NaN
                        top = by_key[(device, function, model)]["q3_s"]  # above the whisker
                        ax.annotate(f"{speedup:.1f}x", (bar.get_x() + bar.get_width() / 2, top),
                                    textcoords="offset points", xytext=(0, 5), ha="center", fontsize=8, fontweight="bold")
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))
        ax.yaxis.set_minor_formatter(ticker.FormatStrFormatter("%g"))
        ax.set_xticks(range(len(functions)), functions)
        ax.set_title(f"{device.upper()}: training time" + (f" (labels: speedup over {baseline})" if baseline else ""), fontsize=10)
        ax.set_ylabel("seconds (median, IQR whiskers)")
        ax.grid(axis="y", which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
