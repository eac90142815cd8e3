"""The fit experiment's part of REPORT.md: its section (final test MSE beside the paper's
numbers, the figures) and its verdict.

"Two orders of magnitude more accurate": the geometric mean over functions of KAN MSE /
ReLU-KAN MSE (medians over seeds); *holds* at `HOLDS_AT` or more, *partly holds* above 1x,
*does not hold* at 1x or less.

A tuned run (`tune:` candidates, experiments/fit/tuning.py) is read by each model's selected
candidate only (report.load_experiment). When the reproduce run holds `fit-tuned/`
(`reproduce --tuned`) the claim is stated both ways, each by the same rule: under the shared
protocol (every model trained alike) and with each model at its own best, chosen on
validation (`verdicts`); the section adds the settings kept and the tuned errors beside the
shared ones.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import relukan_bench.experiments.fit.peers as peers
from relukan_bench import fmt
from relukan_bench.experiments import protocol
from relukan_bench.report import FAILS, HOLDS, PARTLY, UNTESTED, LoadedRun, Verdict, geomean, link, span
from relukan_bench.tables import Cell, Column, Table

HOLDS_AT = 100.0  # "two orders of magnitude"
RULE = (f"accuracy holds when the geometric mean over functions of KAN MSE / ReLU-KAN MSE is at least {HOLDS_AT:.0f}x, "
        "and partly holds above 1x (stated both ways when the run tuned: under the shared protocol, and with each "
        "model at its best, chosen on validation)")
AT_ITS_BEST = "each model at its best, chosen on validation"


def section(exp: LoadedRun, run_dir: Path) -> str:
    """The medians of ReLU-KAN and KAN, each ReLU-KAN's ratio and the paper's, per function (the
    other models, the seed ranges and the paper's errors stay in table.csv and summary.csv);
    then, when the reproduce run tuned, each model at its best beside it."""
    kan, relukan = exp.kan(), exp.relukan()
    variants = [m for m in exp.model_names() if exp.roles().get(m) == "relukan"]
    main = [m for m in (relukan, kan) if m]
    table = Table("", "", [Column("function", "left")],
                  [Column(name) for name in [*[f"{m} test MSE" for m in main], *[f"{m} ratio" for m in variants],
                                             "paper ratio"]])
    notes = []
    for table_row in exp.table:
        function = table_row["function"]
        mark = "*" if table_row.get("paper_note") else ""
        table.add_row([function, *[_mse_cell(exp, function, m) for m in main],
                       *[Cell(fmt.times(table_row.get(f'{m}_gain')), style="bold") for m in variants],
                       _paper_cell(table_row)])
        if mark:
            notes.append(f"{function}: {table_row['paper_note']}.")
    figures = [f"![{p.stem}]({link(p, run_dir)})" for p in [exp.directory / "overview.png"] if p.is_file()]
    curves = sorted(exp.directory.glob("curves_*.png"))
    fits = sorted(exp.directory.glob("fit_*.png"))
    text = [
        f"{_trained(exp)} A model's ratio is {kan} MSE / its MSE: how many times lower its error is than {kan}'s "
        "(below 1: 1/N x, N times higher). The paper's ratio is its KAN MSE over its ReLU-KAN MSE. The ratio as the "
        "paper's figures plot it (KAN RMSE against ReLU-KAN MSE), the seed ranges, the other models and the paper's "
        "errors are in table.csv and summary.csv.",
        "",
        table.to_markdown(),
        "",
        *[f"- \\* {note}" for note in notes],
        "",
        *([_settings(exp), ""] if _tuned(exp) else []),
        *figures,
        "",
        "Per function: " + ", ".join(f"[{p.stem}]({link(p, run_dir)})" for p in [*curves, *fits]) if curves or fits else "",
    ]
    best = _at_its_best(exp)
    among = peers.section(exp)
    return "\n".join(text + (["", tuned_section(exp, *best, run_dir)] if best is not None else [])
                     + (["", among] if among else []))


def _trained(exp: LoadedRun) -> str:
    """How the section's errors were obtained, in a sentence."""
    steps, seeds = exp.config.get("train", {}).get("steps"), exp.config.get("seeds", [])
    if _tuned(exp):
        return (f"Final test MSE after {steps} full-batch steps, median over {len(seeds)} seed(s), each model by the "
                "candidate of lowest median validation MSE (the settings kept: below).")
    return f"Final test MSE after {steps} full-batch {_optimizer(exp)} steps, median over {len(seeds)} seed(s)."


def _mse_cell(exp: LoadedRun, function: str, model: str | None) -> Cell:
    """A model's median test MSE on a function, with its failures ("1 diverged")."""
    row = next((r for r in exp.summary if r["function"] == function and r["model"] == model), None)
    if row is None:
        return Cell()
    return Cell(fmt.mse(row["final_test_mse"]), note=fmt.failures(row))


# ----------------------------------------------------------------------------- tuning
def _tuned(exp: LoadedRun) -> bool:
    """Whether the run tuned its models (config `tuned:`)."""
    return bool(exp.config.get("tuned"))


def _at_its_best(exp: LoadedRun | None) -> tuple[protocol.Part, LoadedRun] | None:
    """The reproduce run's tuned fit (`fit-tuned/`: its protocol.Part and directory), when it has one."""
    if exp is None:
        return None
    return next(((part, exp.variants[part.name]) for part in protocol.experiment("fit").report.parts
                 if part.needs == ("tuned",) and part.name in exp.variants), None)


def _optimizer(exp: LoadedRun) -> str:
    """The config's `train.optimizer` as it is written: Adam, LBFGS."""
    name = exp.config.get("train", {}).get("optimizer", "adam")
    return {"adam": "Adam", "lbfgs": "LBFGS"}.get(name, str(name))


def _protocol(exp: LoadedRun) -> str:
    """The shared protocol's optimizer and learning rate: "Adam lr 1e-3"."""
    lr = exp.config.get("train", {}).get("lr")
    if not isinstance(lr, (int, float)) or isinstance(lr, bool) or not lr > 0:
        return _optimizer(exp)
    mantissa, exponent = f"{lr:.3e}".split("e")
    return f"{_optimizer(exp)} lr " + (f"{lr:g}" if 0.01 <= lr < 1000 else f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}")


def _settings(exp: LoadedRun) -> str:
    """The settings kept per function and model (the selected candidates), and those tried."""
    models = exp.model_names()
    kept = {(r["function"], r["model"]): r.get("candidate") for r in exp.summary}
    functions = list(dict.fromkeys(r["function"] for r in exp.summary))
    table = Table("", "", [Column("function", "left")], [Column(m, "left") for m in models])
    for function in functions:
        table.add_row([function, *[f"`{kept[(function, m)]}`" if kept.get((function, m)) else "" for m in models]])
    tried: dict[str, list[str]] = {}
    origins = exp.config.get("tuned") or {}
    for entry in [origins[m["name"]] for m in exp.config.get("models", []) if m["name"] in origins]:
        tried.setdefault(entry["model"], []).append(f"`{entry['candidate']}`")
    grouped: dict[tuple[str, ...], list[str]] = {}
    for model, labels in tried.items():
        grouped.setdefault(tuple(labels), []).append(model)
    lines = [f"- {', '.join(names)}: {', '.join(labels)}" for labels, names in grouped.items()]
    return "\n".join(["The settings kept, per function and model (the candidate of lowest median validation MSE; "
                      "the test set chose nothing):", "", table.to_markdown(),
                      "", "Candidates tried:", "", *lines])


def tuned_section(exp: LoadedRun, part: protocol.Part, best: LoadedRun, run_dir: Path) -> str:
    """The accuracy with each model at its best beside the shared protocol's, the settings kept."""
    kan, relukan = best.kan() or exp.kan(), best.relukan() or exp.relukan()
    where = best.directory.relative_to(run_dir).as_posix()
    files = [f"[{name}]({where}/{name})" for name in ("summary.csv", "table.csv", "tuning.png", "overview.png")
             if (best.directory / name).is_file()]
    shared, tuned = {r["function"]: r for r in exp.table}, {r["function"]: r for r in best.table}
    table = Table("", "", [Column("function", "left")],
                  [Column(name) for name in (f"{relukan} MSE, shared", f"{kan} MSE, shared", "ratio, shared",
                                             f"{relukan} MSE, at its best", f"{kan} MSE, at its best",
                                             "ratio, at its best", "paper ratio")])
    for function in dict.fromkeys([*shared, *tuned]):
        table.add_row([function, _mse_cell(exp, function, relukan), _mse_cell(exp, function, kan),
                       Cell(fmt.times((shared.get(function) or {}).get(f'{relukan}_gain')), style="bold"),
                       _mse_cell(best, function, relukan), _mse_cell(best, function, kan),
                       Cell(fmt.times((tuned.get(function) or {}).get(f'{relukan}_gain')), style="bold"),
                       _paper_cell(tuned.get(function) or shared.get(function) or {})])
    figure = [f"![tuning]({where}/tuning.png)", ""] if (best.directory / "tuning.png").is_file() else []
    steps, seeds = best.config.get("train", {}).get("steps"), best.config.get("seeds", [])
    return "\n".join([
        f"### The same claim with {part.title}", "",
        f"Run directory: [`{where}/`]({where}/) ({', '.join(files)})."
        + (" **Interrupted**: only finished work is shown." if best.interrupted else ""), "",
        f"Every model tried the same candidate settings for {steps} full-batch steps on {len(seeds)} seed(s); per "
        "function each kept the one with the lowest median final validation MSE (a validation set drawn beside the "
        "training and test sets, so the test set chose nothing). Its final test MSE and ratio beside the shared "
        f"protocol's ({_protocol(exp)} for every model):", "",
        table.to_markdown(), "",
        _settings(best) if best.summary else "No finished work.", "",
        *figure,
    ]).rstrip()


def _paper_cell(table_row: dict[str, Any]) -> str:
    """The paper's ratio, marked * where its two models ran different functions (noted above)."""
    return fmt.times(table_row.get("paper_gain")) + ("*" if table_row.get("paper_note") else "")


# ----------------------------------------------------------------------------- the verdicts
@dataclass(frozen=True)
class _Ratios:
    """KAN MSE / ReLU-KAN MSE per function with both models' errors, and between the seeds' extremes."""

    functions: list[str]
    gains: list[float]
    extremes: list[float]


def _ratios(exp: LoadedRun) -> _Ratios:
    relukan, kan = exp.relukan(), exp.kan()
    rows = {(r["function"], r["model"]): r for r in exp.summary}
    functions, gains, extremes = [], [], []
    for function in dict.fromkeys(r["function"] for r in exp.summary):
        mine, base = rows.get((function, relukan)), rows.get((function, kan))
        if not mine or not base or not mine["final_test_mse"] or not base["final_test_mse"]:
            continue
        functions.append(function)
        gains.append(base["final_test_mse"] / mine["final_test_mse"])
        extremes += [(base.get("final_test_mse_min") or math.nan) / (mine.get("final_test_mse_max") or math.nan),
                     (base.get("final_test_mse_max") or math.nan) / (mine.get("final_test_mse_min") or math.nan)]
    return _Ratios(functions, gains, extremes)


def verdict(exp: LoadedRun | None) -> Verdict:
    """The claim judged on one run directory (a tuned one by its selected candidates)."""
    claim = protocol.experiment("fit").report.claim
    if exp is None or not exp.summary or exp.relukan() is None or exp.kan() is None:
        return Verdict("fit", claim, UNTESTED, "Untested: the fit experiment did not produce ReLU-KAN and KAN rows.")
    found = _ratios(exp)
    if not found.gains:
        return Verdict("fit", claim, UNTESTED, "Untested: no function has both models' errors.")
    gains, mean = found.gains, geomean(found.gains)
    better = sum(1 for g in gains if g > 1)
    paper = [r.get("paper_gain") for r in exp.table]
    plotted = [r.get("paper_gain_as_plotted") for r in exp.table]
    outcome = HOLDS if mean >= HOLDS_AT else PARTLY if mean > 1 else FAILS
    lowest, highest = found.functions[gains.index(min(gains))], found.functions[gains.index(max(gains))]
    sentence = (
        f"{_opening(exp)}, ReLU-KAN's median test MSE was lower than KAN's on "
        f"{better} of {len(gains)} functions: ReLU-KAN's ratio (KAN MSE / ReLU-KAN MSE) from {fmt.times(min(gains))} "
        f"({lowest}) to {fmt.times(max(gains))} ({highest}), geometric mean {fmt.times(mean)} ({span(found.extremes)} "
        f"between the seeds' extremes); the paper's own numbers give {span(paper)} in MSE, {span(plotted)} as plotted."
        + _kept(exp)
    )
    return Verdict("fit", claim, outcome, sentence, paper=f"{span(plotted)} as plotted, {span(paper)} in MSE",
                   ours=f"{fmt.times(mean)} (geometric mean); lower MSE on {better} of {len(gains)}")


def _opening(exp: LoadedRun) -> str:
    steps = exp.config.get("train", {}).get("steps")
    if _tuned(exp):
        return (f"With {AT_ITS_BEST} (per function the candidate of lowest median validation MSE after {steps} "
                "steps; the test set chose nothing)")
    return f"After {steps} {_optimizer(exp)} steps in the same training loop"


def _kept(exp: LoadedRun) -> str:
    """" Settings kept: ReLU-KAN `lbfgs-lr1` (4 functions), `lr0.01` (2); KAN ...": what the
    tuned ReLU-KAN and KAN kept, most often first."""
    if not _tuned(exp):
        return ""
    said: list[str] = []
    for model, name in ((exp.relukan(), "ReLU-KAN"), (exp.kan(), "KAN")):
        counts = Counter(r.get("candidate") for r in exp.summary if r["model"] == model and r.get("candidate"))
        cells = [f"`{label}` ({n}{' functions' if not said and index == 0 else ''})"
                 for index, (label, n) in enumerate(counts.most_common())]
        if cells:
            said.append(f"{name} " + ", ".join(cells))
    return (" Settings kept: " + "; ".join(said) + ".") if said else ""


def verdicts(exp: LoadedRun | None) -> list[Verdict]:
    """The claim on the fit run; when the reproduce run tuned too (`fit-tuned/`), stated both
    ways: under the shared protocol and with each model at its best, by the same rule."""
    shared = verdict(exp)
    best = _at_its_best(exp)
    among = [found] if (found := peers.verdict(exp)) is not None else []
    if exp is None or best is None:
        return [shared, *among]
    part, tuned = best[0], verdict(best[1])
    return [replace(shared, claim=f"{shared.claim} (shared protocol: {_protocol(exp)})"),
            replace(tuned, experiment=part.name, claim=f"{tuned.claim} ({part.title})"), *among]


# ----------------------------------------------------------------------------- forgetting
