"""Terminal tables (rich). They arrange records; they compute nothing."""

from __future__ import annotations

import math
from typing import Any, Sequence

from rich.table import Table


def _seconds(value: float | None) -> str:
    return "" if value is None or value != value else f"{value:.3g}"


def _times(value: float | None) -> str:
    return "" if value is None or value != value or math.isinf(value) else f"{value:.2f}x"


def speed_table(
    summary: Sequence[dict[str, Any]],
    baseline: str | None,
    paper: dict[tuple[str, str], float],
    steps: int,
) -> Table:
    """Per function and device: each model's median ms per step with its quartiles, each
    model's speedup over the baseline, and the paper's ReLU-KAN/KAN speedup beside them."""
    models = list(dict.fromkeys(row["model"] for row in summary))
    others = [m for m in models if m != baseline] if baseline else []
    table = Table(title=f"Training time, {steps} steps (median of repeats; speedup = {baseline or 'baseline'} / model)")
    table.add_column("function")
    table.add_column("device")
    for model in models:
        table.add_column(f"{model}\nms/step [q1-q3]", justify="right")
    for model in others:
        table.add_column(f"{model}\nspeedup", justify="right", style="bold")
    table.add_column("paper\nspeedup", justify="right", style="dim")
    keys = list(dict.fromkeys((row["function"], row["device"]) for row in summary))
    by_key = {(r["function"], r["device"], r["model"]): r for r in summary}
    for function, device in keys:
        cells = [function, device]
        for model in models:
            row = by_key.get((function, device, model))
            if row is None:
                cells.append("")
                continue
            scale = 1000.0 / steps
            cells.append(f"{row['ms_per_step']:.3g} [{row['q1_s'] * scale:.3g}-{row['q3_s'] * scale:.3g}]")
        for model in others:
            row = by_key.get((function, device, model))
            cells.append(_times(row["speedup"]) if row else "")
        cells.append(_times(paper.get((function, "gpu" if device == "cuda" else device))))
        table.add_row(*cells)
    return table
