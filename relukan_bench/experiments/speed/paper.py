"""The paper's side of the speed experiment: its claim, its speedups (results/paper/speed.csv)
for the functions that are its own, and table.csv, the run's medians in the paper's layout."""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    from relukan_bench.experiments.speed.config import SpeedConfig, SpeedFunctionSpec
    from relukan_bench.experiments.speed.records import SummaryRecord

#: what the paper claims, as REPORT.md states it
CLAIM = "ReLU-KAN trains about 20x faster than KAN"

DEVICE_LABELS = {"cpu": "cpu", "cuda": "gpu"}  # the paper's column names say GPU


#: table.csv's columns as `table_columns` writes them, `{M}` standing for a model's name
TABLE_LAYOUT: dict[str, type] = {
    "function": str, "{M}_cpu_s": float, "{M}_gpu_s": float, "{M}_speedup_cpu": float, "{M}_speedup_gpu": float,
    "paper_speedup_cpu": float, "paper_speedup_gpu": float,
}


def table_columns(model_names: Sequence[str], baseline: str | None) -> list[str]:
    """`function`; median seconds per model and device as the paper lays them out; each
    model's measured speedup over the baseline; the paper's ReLU-KAN-over-KAN speedup
    (`TABLE_LAYOUT`)."""
    seconds = [f"{m}_{d}_s" for m in model_names for d in ("cpu", "gpu")]
    speedups = [f"{m}_speedup_{d}" for m in model_names if m != baseline for d in ("cpu", "gpu")] if baseline else []
    return ["function", *seconds, *speedups, "paper_speedup_cpu", "paper_speedup_gpu"]


def paper_table(
    summary: Sequence[SummaryRecord],
    function_names: Sequence[str],
    model_names: Sequence[str],
    paper: dict[tuple[str, str], float],
) -> list[dict[str, str | float | None]]:
    """One row per function in the paper's layout (None where not run), with speedups: a row
    of `table_columns` (a column per model: a layout, not a record)."""
    by_key = {(row.function, row.model, DEVICE_LABELS.get(row.device, row.device)): row for row in summary}
    table = []
    for function in function_names:
        row: dict[str, str | float | None] = {"function": function}
        for model in model_names:
            for device in ("cpu", "gpu"):
                found = by_key.get((function, model, device))
                row[f"{model}_{device}_s"] = found.median_s if found else None
                row[f"{model}_speedup_{device}"] = found.speedup if found else None
        for device in ("cpu", "gpu"):
            row[f"paper_speedup_{device}"] = paper.get((function, device))
        table.append(row)
    return table


def paper_speedups(paper_rows: Sequence[dict[str, str]], config: SpeedConfig) -> dict[tuple[str, str], float]:
    """The paper's ReLU-KAN speedup over KAN, keyed by (function, device label), for the
    functions of `config` that are the paper's own (same name, expression, width and grid).
    Absolute seconds from different machines are not comparable; speedups are."""
    mine = {f.name: f for f in config.functions}
    speedups: dict[tuple[str, str], float] = {}
    for row in paper_rows:
        function = mine.get(row["function"])
        if function is None or not _same_function(function, row):
            continue
        for device in ("cpu", "gpu"):
            kan, relukan = float(row[f"kan_{device}_s"]), float(row[f"relukan_{device}_s"])
            speedups[(row["function"], device)] = kan / relukan
    return speedups


def _same_function(function: SpeedFunctionSpec, row: dict[str, str]) -> bool:
    def compact(text: str) -> str:
        return "".join(text.split())

    width = [int(v) for v in row["width"].strip("[]").split(",")]
    return (
        compact(function.expression) == compact(row["expression"])
        and function.width == width
        and function.grid == int(row["grid"])
        and function.k == int(row["k"])
    )
