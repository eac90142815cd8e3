"""The fit experiment's part of REPORT.md: its section (final test MSE beside the paper's
numbers, the figures) and its verdict.

"Two orders of magnitude more accurate": the geometric mean over functions of KAN MSE /
ReLU-KAN MSE (medians over seeds); *holds* at `HOLDS_AT` or more, *partly holds* above 1x,
*does not hold* at 1x or less.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from relukan_bench import fmt
from relukan_bench.report import FAILS, HOLDS, PARTLY, UNTESTED, Experiment, Verdict, finite, geomean, link, span
from relukan_bench.stats import ratio_range
from relukan_bench.tables import markdown_table

HOLDS_AT = 100.0  # "two orders of magnitude"
RULE = (f"accuracy holds when the geometric mean over functions of KAN MSE / ReLU-KAN MSE is at least {HOLDS_AT:.0f}x, "
        "and partly holds above 1x")


def section(exp: Experiment, run_dir: Path) -> str:
    """The medians of ReLU-KAN and KAN, each ReLU-KAN's ratio and the paper's, per function (the
    other models, the seed ranges and the paper's errors stay in table.csv and summary.csv)."""
    kan, relukan = exp.kan(), exp.relukan()
    variants = [m for m in exp.model_names() if exp.roles().get(m) == "relukan"]
    main = [m for m in (relukan, kan) if m]
    steps = exp.config.get("train", {}).get("steps")
    seeds = exp.config.get("seeds", [])
    header = ["function", *[f"{m} test MSE" for m in main], *[f"{m} ratio" for m in variants], "paper ratio"]
    body, notes = [], []
    for table_row in exp.table:
        function = table_row["function"]
        mark = "*" if table_row.get("paper_note") else ""
        body.append([function, *[_mse_cell(exp, function, m) for m in main],
                     *[f"**{fmt.times(table_row.get(f'{m}_gain'))}**" for m in variants],
                     fmt.times(table_row.get("paper_gain")) + mark])
        if mark:
            notes.append(f"{function}: {table_row['paper_note']}.")
    figures = [f"![{p.stem}]({link(p, run_dir)})" for p in [exp.directory / "overview.png"] if p.is_file()]
    curves = sorted(exp.directory.glob("curves_*.png"))
    fits = sorted(exp.directory.glob("fit_*.png"))
    text = [
        f"Final test MSE after {steps} full-batch Adam steps, median over {len(seeds)} seed(s). A model's ratio is "
        f"{kan} MSE / its MSE: how many times lower its error is than {kan}'s (below 1: 1/N x, N times higher). The "
        "paper's ratio is its KAN MSE over its ReLU-KAN MSE. The ratio as the paper's figures plot it (KAN RMSE "
        "against ReLU-KAN MSE), the seed ranges, the other models and the paper's errors are in table.csv and "
        "summary.csv.",
        "",
        markdown_table(header, body),
        "",
        *[f"- \\* {note}" for note in notes],
        "",
        *figures,
        "",
        "Per function: " + ", ".join(f"[{p.stem}]({link(p, run_dir)})" for p in [*curves, *fits]) if curves or fits else "",
    ]
    return "\n".join(text)


def _mse_cell(exp: Experiment, function: str, model: str) -> str:
    """A model's median test MSE on a function, with its failures ("1 diverged")."""
    row = next((r for r in exp.summary if r["function"] == function and r["model"] == model), None)
    if row is None:
        return ""
    return fmt.mse(row["final_test_mse"]) + (f" ({fmt.failures(row)})" if fmt.failures(row) else "")


def verdict(exp: Experiment | None) -> Verdict:
    from relukan_bench.experiments.fit import EXPERIMENT

    claim = EXPERIMENT.claim
    if exp is None or not exp.summary or exp.relukan() is None or exp.kan() is None:
        return Verdict("fit", claim, UNTESTED, "Untested: the fit experiment did not produce ReLU-KAN and KAN rows.")
    relukan, kan = exp.relukan(), exp.kan()
    rows = {(r["function"], r["model"]): r for r in exp.summary}
    gains, worst, best, functions = [], [], [], []
    for function in dict.fromkeys(r["function"] for r in exp.summary):
        mine, base = rows.get((function, relukan)), rows.get((function, kan))
        if not mine or not base or not mine["final_test_mse"] or not base["final_test_mse"]:
            continue
        functions.append(function)
        gains.append(base["final_test_mse"] / mine["final_test_mse"])
        worst.append((base.get("final_test_mse_min") or math.nan) / (mine.get("final_test_mse_max") or math.nan))
        best.append((base.get("final_test_mse_max") or math.nan) / (mine.get("final_test_mse_min") or math.nan))
    if not gains:
        return Verdict("fit", claim, UNTESTED, "Untested: no function has both models' errors.")
    mean = geomean(gains)
    better = sum(1 for g in gains if g > 1)
    paper = [r.get("paper_gain") for r in exp.table]
    plotted = [r.get("paper_gain_as_plotted") for r in exp.table]
    outcome = HOLDS if mean >= HOLDS_AT else PARTLY if mean > 1 else FAILS
    steps = exp.config.get("train", {}).get("steps")
    lowest, highest = functions[gains.index(min(gains))], functions[gains.index(max(gains))]
    sentence = (
        f"After {steps} Adam steps in the same training loop, ReLU-KAN's median test MSE was lower than KAN's on "
        f"{better} of {len(gains)} functions: ReLU-KAN's ratio (KAN MSE / ReLU-KAN MSE) from {fmt.times(min(gains))} "
        f"({lowest}) to {fmt.times(max(gains))} ({highest}), geometric mean {fmt.times(mean)} ({span(worst + best)} "
        f"between the seeds' extremes); the paper's own numbers give {span(paper)} in MSE, {span(plotted)} as plotted."
    )
    return Verdict("fit", claim, outcome, sentence, paper=f"{span(plotted)} as plotted, {span(paper)} in MSE",
                   ours=f"{fmt.times(mean)} (geometric mean); lower MSE on {better} of {len(gains)}")


# ----------------------------------------------------------------------------- forgetting
