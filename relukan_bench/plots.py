"""Figures. They receive plain records and draw them; they compute nothing but layout.

Every figure is sized for a printed page (`WIDTH` inches wide, the width of a full-width figure
in a paper) and names models by their readable labels (`relukan_bench.kinds.Look`: "ReLU-KAN
(paper code)", "pykan KAN"), one hue per family of models, shades within it.

Every series is drawn through `finite` (inf and NaN become gaps) and every log axis through
`log_y` (a linear axis saying it is empty where nothing positive and finite is left), so a
run whose every number is infinite or missing still gets its figures.

Every figure is written by `save`, which calls through `_save`: the tests replace `_save` to
keep the figures open."""

from __future__ import annotations

import math
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Mapping, Sequence

from relukan_bench import fmt
from relukan_bench.expressions import mathtext

if TYPE_CHECKING:
    import numpy as np
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from relukan_bench.kinds import Look

WIDTH = 7.0  # inches: a full-width figure in a paper
DPI = 150
DUPLICATE_LINE = {"linestyle": (0, (2.5, 2.5)), "linewidth": 1.7}  # a curve on top of another one's


def pyplot() -> ModuleType:
    """matplotlib.pyplot, drawing to files only."""
    import matplotlib

    matplotlib.use("Agg")  # files only, never a window
    import matplotlib.pyplot as plt

    return plt


def finite(values: Sequence[object]) -> list[float]:
    """`values` with every non-finite or missing value as NaN, which matplotlib leaves out."""
    return [float(v) if isinstance(v, (int, float)) and math.isfinite(v) else math.nan for v in values]


def _positive(*series: Sequence[object]) -> list[float]:
    return [v for values in series for v in finite(values) if v > 0]


def log_y(ax: Axes, *series: Sequence[object]) -> None:
    """A log y axis when some value of `series` is finite and positive; else the axis says it
    has nothing to draw (a log axis of no positive data cannot be laid out)."""
    if _positive(*series):
        ax.set_yscale("log")
    else:
        ax.text(0.5, 0.5, "no finite values to draw", transform=ax.transAxes, ha="center", va="center", color="0.4")


def log_limits(ax: Axes, *series: Sequence[object], margin: float = 2.5) -> None:
    """The y range of a log axis: the positive finite values of `series` (our data), widened by
    `margin` either way; whatever else is drawn (the paper's spikes) is cut there."""
    values = _positive(*series)
    if values:
        ax.set_ylim(min(values) / margin, max(values) * margin)


def save(fig: Figure, path: Path) -> Path:
    """Write `fig` to `path` (at DPI, cropped to what is drawn) and close it; return `path`."""
    return _save(fig, path)


def _save(fig: Figure, path: Path) -> Path:
    """What `save` does (the tests replace it to keep the figures open)."""
    fig.savefig(path, dpi=DPI, bbox_inches="tight", pad_inches=0.05)
    pyplot().close(fig)
    return path


def grid(count: int, height: float, extra: float = 0.0, **options: object) -> tuple[Figure, np.ndarray]:
    """A figure WIDTH wide of panels three a row for `count` items, each row `height` inches
    (plus `extra` for titles and legends): (figure, 2-D array of axes)."""
    cols = min(3, max(1, count))
    rows = -(-max(1, count) // cols)
    return pyplot().subplots(rows, cols, figsize=(WIDTH, height * rows + extra), squeeze=False, **options)


def finish_grid(axes: np.ndarray, used: int, xlabel: str = "", ylabel: str = "") -> None:
    """The panels past the `used` ones hidden; `xlabel` under the bottom row, `ylabel` left of
    the first column."""
    for ax in list(axes.flat)[used:]:
        ax.axis("off")
    for ax in axes[-1] if xlabel else ():
        ax.set_xlabel(xlabel, fontsize=7)
    for ax in axes[:, 0] if ylabel else ():
        ax.set_ylabel(ylabel, fontsize=7)


def palette(looks: Mapping[str, Look]) -> dict[str, tuple[float, float, float, float]]:
    """A colour per model (RGBA): every family its own colormap (`Look.hue`), its models darkest first."""
    plt = pyplot()
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


def typeset(text: str) -> str:
    """An expression as mathtext (relukan_bench.expressions), or as written where matplotlib
    cannot typeset it."""
    from matplotlib.mathtext import MathTextParser

    tex = mathtext(text)
    try:
        MathTextParser("path").parse(tex)
    except ValueError:
        return text
    return tex


def times(value: float) -> str:
    """A factor as people write it: 0.5x, 1.9x, 16x, 230x, 4e+03x."""
    if not math.isfinite(value):
        return "n/a"
    if value >= 1e4 or 0 < value < 1e-2:
        return f"{value:.0e}x"
    return f"{value:.0f}x" if value >= 10 else (f"{value:.1f}x" if value >= 0.95 else f"{value:.2f}x")


def better(value: float) -> str:
    """A ratio read as "how many times better ReLU-KAN is" (REPORT.md's convention, fmt.times):
    below 1 written 1/N x."""
    return fmt.times(value) if math.isfinite(value) else "n/a"


def shared_legend(fig: Figure, axes: Sequence[Axes], ncol: int = 3, right: bool = False) -> None:
    """One legend for the whole figure, each label once: under it, or right of it in a column."""
    handles: dict[str, Artist] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, handle)
    if handles:
        fig.legend(list(handles.values()), list(handles), loc="center left" if right else "upper center",
                   bbox_to_anchor=(1.0, 0.5) if right else (0.5, 0.0), ncol=1 if right else ncol, fontsize=7, frameon=False,
                   handlelength=2.6, columnspacing=1.2)
