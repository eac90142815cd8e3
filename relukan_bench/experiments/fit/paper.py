"""The paper's side of the fit experiment: its final errors and logged curves (results/paper/
fit.csv, loss_curves.csv) for the functions a config shares with it, and table.csv, our medians
beside them; `compared`, the config as that comparison reads it (a tuned model as one entry)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

from relukan_bench.experiments.fit.records import SummaryRecord

if TYPE_CHECKING:
    from relukan_bench.config import FunctionSpec
    from relukan_bench.experiments.fit.config import FitConfig
    from relukan_bench.schema import ModelEntry


@dataclass(frozen=True)
class PaperFit:
    """The paper's numbers for one function, each side only where it ran our function."""

    kan_test_mse: float | None
    relukan_test_mse: float | None
    gain: float  # the paper's KAN / ReLU-KAN, both in MSE, as published (even if they ran different targets)
    gain_as_plotted: float  # KAN RMSE / ReLU-KAN MSE: the gap the paper's figures show
    note: str


def paper_fits(paper_rows: Sequence[dict[str, str]], config: FitConfig) -> dict[str, PaperFit]:
    """The paper's final errors (`results/paper/fit.csv`) for the functions of `config` that
    share a name with the paper's. The KAN side counts when our function is what KAN ran (the
    paper's stated function); the ReLU-KAN side when it is what ReLU-KAN ran (`as_run`)."""
    mine = {f.name: f for f in config.functions}
    fits = {}
    for row in paper_rows:
        function = mine.get(row["function"])
        if function is None:
            continue
        kan_ran = (row["expression"], row["width"], row["grid"])
        relukan_ran = (row["relukan_as_run_expression"], row["relukan_as_run_width"], row["relukan_as_run_grid"])
        kan_same = _same(function, *kan_ran, row["k"])
        relukan_same = _same(function, *relukan_ran, row["k"])
        if not (kan_same or relukan_same):
            continue
        notes = []
        if kan_ran != relukan_ran:
            notes.append(f"paper's ReLU-KAN ran {_describe(*relukan_ran)}, its KAN {_describe(*kan_ran)}")
        kan_mse, relukan_mse = float(row["kan_test_final_mse"]), float(row["relukan_test_final_mse"])
        fits[row["function"]] = PaperFit(
            kan_test_mse=kan_mse if kan_same else None,
            relukan_test_mse=relukan_mse if relukan_same else None,
            gain=kan_mse / relukan_mse,
            gain_as_plotted=float(row["kan_test_final_rmse"]) / relukan_mse,
            note="; ".join(notes),
        )
    return fits


def paper_curves(curve_rows: Sequence[dict[str, str]], fits: dict[str, PaperFit]) -> dict[tuple[str, str], dict[str, list[float]]]:
    """The paper's logged curves (`results/paper/loss_curves.csv`) as MSE, keyed by
    (function, kind), for the sides of `fits` that ran our function. KAN's logs are RMSE and
    are squared here."""
    curves: dict[tuple[str, str], dict[str, list[float]]] = {}
    for row in curve_rows:
        fit = fits.get(row["function"])
        if fit is None:
            continue
        step = int(row["iteration"])
        sides = []
        if fit.kan_test_mse is not None:
            sides.append(("kan", float(row["kan_train_rmse"]) ** 2, float(row["kan_test_rmse"]) ** 2))
        if fit.relukan_test_mse is not None:
            sides.append(("relukan", float(row["relukan_train_mse"]), float(row["relukan_test_mse"])))
        for kind, train, test in sides:
            curve = curves.setdefault((row["function"], kind), {"step": [], "train": [], "test": []})
            curve["step"].append(step)
            curve["train"].append(train)
            curve["test"].append(test)
    return curves


def _same(function: FunctionSpec, expression: str, width: str, grid: str, k: str) -> bool:
    def compact(text: str) -> str:
        return "".join(text.split())

    return (
        compact(function.expression) == compact(expression)
        and function.width == [int(v) for v in width.strip("[]").split(",")]
        and function.grid == int(grid)
        and function.k == int(k)
    )


def _describe(expression: str, width: str, grid: str) -> str:
    return f"{expression} at {width} G{grid}"


#: table.csv's columns as `table_columns` writes them, `{M}` standing for a model's name
TABLE_LAYOUT: dict[str, type] = {
    "function": str, "{M}_test_mse": float, "{M}_gain": float, "paper_kan_test_mse": float,
    "paper_relukan_test_mse": float, "paper_gain": float, "paper_gain_as_plotted": float, "paper_note": str,
}


def table_columns(model_names: Sequence[str], baseline: str | None) -> list[str]:
    """`function`, then per model its test MSE and gain over the baseline, then the paper's
    numbers (`TABLE_LAYOUT`)."""
    gains = [f"{m}_gain" for m in model_names if m != baseline] if baseline else []
    return [
        "function", *[f"{m}_test_mse" for m in model_names], *gains,
        "paper_kan_test_mse", "paper_relukan_test_mse", "paper_gain", "paper_gain_as_plotted", "paper_note",
    ]


def compared(config: FitConfig) -> FitConfig:
    """The config as the comparison reads it: each tuned model as one entry under its own name
    (its first candidate's settings, less what the candidates set), the others as they are."""
    if not config.tuned:
        return config
    entries: dict[str, ModelEntry] = {}
    for entry in config.models:
        model, candidate = config.origin(entry.name)
        if model in entries:
            continue
        reset = {key: type(entry).model_fields[key].default for key in ("lr", "optimizer", "lbfgs", "pykan_fit")
                 if candidate and key in type(entry).model_fields}
        entries[model] = entry.model_copy(update={"name": model, **reset})
    return config.model_copy(update={"models": list(entries.values()), "tuned": {}})


def paper_table(summary: Sequence[SummaryRecord], function_names: Sequence[str], model_names: Sequence[str],
                baseline: str | None, paper: dict[str, PaperFit]) -> list[dict[str, Any]]:
    """One row per function: our median final test MSE per model, each model's gain over the
    baseline (baseline MSE / model MSE), and the paper's numbers in MSE beside them."""
    by_key = {(r.function, r.model): r for r in summary}
    table = []
    for function in function_names:
        row: dict[str, Any] = {"function": function}
        for model in model_names:
            found = by_key.get((function, model))
            row[f"{model}_test_mse"] = found.final_test_mse if found else None
            if baseline and model != baseline:
                row[f"{model}_gain"] = found.gain if found else None
        fit = paper.get(function)
        if fit is not None:
            row.update({
                "paper_kan_test_mse": fit.kan_test_mse,
                "paper_relukan_test_mse": fit.relukan_test_mse,
                "paper_gain": fit.gain,
                "paper_gain_as_plotted": fit.gain_as_plotted,
                "paper_note": fit.note,
            })
        table.append(row)
    return table
