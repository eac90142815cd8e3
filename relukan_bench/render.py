"""Terminal tables (rich). They arrange records; they compute nothing."""

from __future__ import annotations

import math
from typing import Any, Sequence

from rich.table import Table


NOISY = 0.10  # torch.utils.benchmark's threshold for a noisy measurement


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
    table = Table(
        title=f"ms per training step over {steps} steps: median (IQR/median)",
        caption=f"speedup = {baseline or 'baseline'} / model, medians; yellow: IQR > {NOISY:.0%}",
    )
    table.add_column("function")
    table.add_column("device")
    for model in models:
        table.add_column(f"{model}\nms/step (IQR)", justify="right", no_wrap=True)
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
            spread = row["iqr_rel"]
            noisy = spread == spread and spread > NOISY  # IQR above 10% of the median: say so
            text = f"{row['ms_per_step']:.3g} ({100 * spread:.0f}%)" if spread == spread else f"{row['ms_per_step']:.3g}"
            cells.append(f"[yellow]{text}[/yellow]" if noisy else text)
        for model in others:
            row = by_key.get((function, device, model))
            cells.append(_times(row["speedup"]) if row else "")
        cells.append(_times(paper.get((function, "gpu" if device == "cuda" else device))))
        table.add_row(*cells)
    return table
