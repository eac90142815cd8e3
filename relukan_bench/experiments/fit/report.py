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
    models = exp.model_names()
    kan = exp.kan()
    others = [m for m in models if m != kan]
    rows = {(r["function"], r["model"]): r for r in exp.summary}
    steps = exp.config.get("train", {}).get("steps")
    seeds = exp.config.get("seeds", [])
    header = ["function", *[f"{m} test MSE [seed range]" for m in models], *[f"{kan} / {m}" for m in others],
              "paper KAN", "paper ReLU-KAN", "paper KAN / ReLU-KAN (MSE)", "as plotted"]
    body, notes = [], []
    for table_row in exp.table:
        function = table_row["function"]
        cells = [function]
        for model in models:
            row = rows.get((function, model))
            if row is None:
                cells.append("")
                continue
            cell = fmt.mse(row["final_test_mse"])
            if (row.get("n_seeds") or 0) > 1:
                cell += f" [{fmt.mse(row.get('final_test_mse_min'))} to {fmt.mse(row.get('final_test_mse_max'))}]"
            if fmt.failures(row):
                cell += f" ({fmt.failures(row)})"
            cells.append(cell)
        for model in others:
            cells.append(f"**{fmt.ratio(table_row.get(f'{model}_gain'))}**")
        mark = "*" if table_row.get("paper_note") else ""
        ran_other = "other function*" if mark else ""  # the paper ran something else under this name
        cells += [fmt.mse(table_row.get("paper_kan_test_mse")) or ran_other, fmt.mse(table_row.get("paper_relukan_test_mse")) or ran_other,
                  fmt.ratio(table_row.get("paper_gain")) + mark, fmt.ratio(table_row.get("paper_gain_as_plotted")) + mark]
        if mark:
            notes.append(f"{function}: {table_row['paper_note']}.")
        body.append(cells)
    figures = [f"![{p.stem}]({link(p, run_dir)})" for p in [exp.directory / "overview.png"] if p.is_file()]
    curves = sorted(exp.directory.glob("curves_*.png"))
    fits = sorted(exp.directory.glob("fit_*.png"))
    text = [
        f"Final test MSE after {steps} full-batch Adam steps, median over {len(seeds)} seed(s) with the range over seeds; "
        f"`{kan} / model` > 1 means the model's error is lower than {kan}'s. The paper's columns are its final "
        "test errors in MSE, and its ratio as its figures plot it (KAN RMSE against ReLU-KAN MSE).",
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
        f"{better} of {len(gains)} functions: KAN/ReLU-KAN MSE from {fmt.ratio(min(gains))} ({lowest}) to "
        f"{fmt.ratio(max(gains))} ({highest}), geometric mean {fmt.ratio(mean)} ({span(worst + best)} between "
        f"the seeds' extremes); the paper's own numbers give {span(paper)} in MSE, {span(plotted)} as plotted."
    )
    return Verdict("fit", claim, outcome, sentence)


# ----------------------------------------------------------------------------- forgetting
