"""REPORT.md's "Among the field's KANs" for accuracy: the fit runs of `reproduce --peers`
(`fit-peers/`: every KAN at the same grid and at ReLU-KAN's parameter count, one shared
protocol) and `reproduce --peers --tuned` (`fit-peers-tuned/`: the equal-size models, each at
its best on validation), and their verdicts.

Which KAN is most accurate on a function: the lowest median final test MSE over the seeds
among the KANs (every model whose role is not "control": the MLP is shown, never ranked).
Which reaches MSE 1e-4 first: the lowest time to the validation MSE 1e-4 (steps times the
step time; experiments/fit/targets.py); a model most of whose seeds never get there is "not
reached" and ranks last.
"""

from __future__ import annotations

import math
from typing import Any, Callable

from relukan_bench import fmt
from relukan_bench.report import FAILS, HOLDS, PARTLY, UNTESTED, LoadedRun, Verdict, finite
from relukan_bench.tables import Cell, Column, Table

SHARED, TUNED = "fit-peers", "fit-peers-tuned"
CLAIM = "ReLU-KAN is the most accurate KAN at equal size"
RULE = ("most accurate holds when the paper-faithful ReLU-KAN has the lowest median test MSE of every KAN of its "
        "parameter count on every function, partly holds when on some, does not hold when on none (read at each "
        "one's best when the run tuned, else under the shared protocol)")


def _run(exp: LoadedRun | None, name: str) -> LoadedRun | None:
    run = exp.variants.get(name) if exp is not None else None
    return run if run is not None and run.summary else None


def _matched(run: LoadedRun) -> list[str]:
    """The equal-size preset: ReLU-KAN, the entries sized by `match`, in config order."""
    relukan = run.relukan()
    return [m["name"] for m in run.entries() if m.get("match") or m["name"] == relukan
            if m["name"] in run.model_names()]


def _same_grid(run: LoadedRun) -> list[str]:
    return [m["name"] for m in run.entries() if not m.get("match") and m["name"] in run.model_names()]


def _kans(run: LoadedRun, models: list[str]) -> list[str]:
    roles = run.roles()
    return [m for m in models if roles.get(m) != "control"]


def _row(run: LoadedRun, function: str, model: str) -> dict[str, Any] | None:
    return next((r for r in run.summary if r["function"] == function and r["model"] == model), None)


def _functions(run: LoadedRun) -> list[str]:
    return list(dict.fromkeys(r["function"] for r in run.summary))


def most_accurate(run: LoadedRun, function: str, models: list[str]) -> str | None:
    """The KAN of `models` with the lowest median final test MSE on `function`."""
    scored = [(row["final_test_mse"], m) for m in _kans(run, models)
              if (row := _row(run, function, m)) is not None and finite(row.get("final_test_mse"))]
    return min(scored)[1] if scored else None


def _time(row: dict[str, Any] | None, key: str = "e4") -> float:
    value = row.get(f"time_{key}") if row is not None else None
    return value if isinstance(value, (int, float)) and value == value else math.inf


def first_to(run: LoadedRun, function: str, models: list[str], key: str = "e4") -> str | None:
    """The KAN of `models` that reaches the validation MSE 1e-N first in wall time (None: none does)."""
    timed = [(_time(_row(run, function, m), key), m) for m in _kans(run, models)]
    timed = [t for t in timed if not math.isinf(t[0])]
    return min(timed)[1] if timed else None


def _mse(row: dict[str, Any] | None) -> str:
    return _mse_cell(row).to_markdown()


def _mse_cell(row: dict[str, Any] | None) -> Cell:
    """The median final test MSE [the seeds' range] (the candidate kept)."""
    if row is None:
        return Cell()
    spread = f"{fmt.mse(row.get('final_test_mse_min'))} to {fmt.mse(row.get('final_test_mse_max'))}"
    return Cell(fmt.mse(row.get("final_test_mse")), spread if (row.get("n_seeds") or 0) > 1 else "",
                str(row["candidate"]) if row.get("candidate") else "")


def accuracy_table(run: LoadedRun, models: list[str]) -> str:
    """Median final test MSE [seed range] per model (rows) and function (columns); the most
    accurate KAN of each function in bold."""
    functions = _functions(run)
    best = {f: most_accurate(run, f, models) for f in functions}
    table = Table("", "", [Column("model", "left")],
                  [Column("params (" + functions[0] + ")"), *(Column(f, "left") for f in functions)])
    for model in models:
        row = _row(run, functions[0], model) or {}
        cells = [(Cell(f"**{_mse(r)}**") if best[f] == model else _mse_cell(r)) for f in functions
                 for r in [_row(run, f, model)]]  # the whole cell in bold, its range too
        table.add_row([f"`{model}`", str(int(row["params"])) if row.get("params") else "", *cells])
    return table.to_markdown()


def _reach(row: dict[str, Any] | None, key: str = "e4") -> str:
    if row is None:
        return ""
    seeds = int(row.get("n_seeds") or 0)
    if math.isinf(_time(row, key)):
        return f"not reached ({int(row.get(f'reached_{key}') or 0)}/{seeds} seeds)"
    return f"{_time(row, key):.3g} s ({row.get(f'steps_{key}'):.0f} steps)"


def time_table(run: LoadedRun, models: list[str], key: str = "e4") -> str:
    """Time to the validation MSE 1e-N (steps) per model and function; the first KAN in bold."""
    functions = _functions(run)
    first = {f: first_to(run, f, models, key) for f in functions}
    table = Table("", "", [Column("model", "left")], [Column(f, "left") for f in functions])
    for m in models:
        table.add_row([f"`{m}`", *[(f"**{_reach(_row(run, f, m), key)}**" if first[f] == m else _reach(_row(run, f, m), key))
                                   for f in functions]])
    return table.to_markdown()


def _sources(run: LoadedRun) -> str:
    """Where the step times came from: the speed run beside this one (named), this run, or both."""
    found = sorted({r["step_source"] for r in run.summary if r.get("step_source")})
    named = run.config.get("step_times")
    return " and ".join(f"the speed run `{named}/`" if s == "speed run" and named else s for s in found) or "unknown"


def _winners(run: LoadedRun, models: list[str], pick: Callable[[LoadedRun, str, list[str]], str | None],
             show: Callable[[dict[str, Any] | None], str]) -> str:
    """"f1 `model` (value), ..." for every function, by `pick(run, function, models)`."""
    parts = []
    for function in _functions(run):
        model = pick(run, function, models)
        parts.append(f"{function} `{model}` ({show(_row(run, function, model))})" if model else f"{function} none")
    return "; ".join(parts)


def answers(exp: LoadedRun | None) -> list[str]:
    """The answers up front: most accurate at equal size (and at each one's best), first to 1e-4."""
    shared, tuned = _run(exp, SHARED), _run(exp, TUNED)
    lines = []
    if shared is not None:
        lines += [f"- Most accurate KAN at equal size, shared protocol: {_winners(shared, _matched(shared), most_accurate, _mse)}.",
                  f"- Most accurate KAN at the same grid: {_winners(shared, _same_grid(shared), most_accurate, _mse)}."]
    if tuned is not None:
        lines += [f"- Most accurate KAN at equal size, each at its best: {_winners(tuned, _matched(tuned), most_accurate, _mse)}."]
    for run, how in ((shared, "shared protocol"), (tuned, "each at its best")):
        if run is not None:
            lines += [f"- First KAN to validation MSE 1e-4 in wall time ({how}, every model of the run): "
                      f"{_winners(run, run.model_names(), first_to, _reach)}."]
    return lines


def _run_lines(run: LoadedRun, title: str) -> list[str]:
    steps, seeds = run.config.get("train", {}).get("steps"), run.config.get("seeds", [])
    where = run.directory.name
    lines = [f"#### `{where}/`: {title}", "",
             f"{steps} full-batch steps, {len(seeds)} seeds; median final test MSE over the seeds [their range], "
             "the most accurate KAN in bold (the MLP is a control, never ranked)"
             + (", with the candidate each kept" if run.config.get("tuned") else "") + "." + _chosen_on(run), ""]
    matched, same = _matched(run), _same_grid(run)
    lines += ["At equal size (every KAN at most ReLU-KAN's parameter count):", "", accuracy_table(run, matched), ""]
    if [m for m in same if m not in matched]:
        lines += ["At the same grid G and order k (each KAN its own size):", "", accuracy_table(run, same), ""]
    lines += [f"Time to MSE 1e-4: the median first step at which the validation MSE reaches 1e-4 (read off curves logged "
              f"every {run.config.get('train', {}).get('log_every')} steps) times the median seconds per step (from "
              f"{_sources(run)}); the first KAN in bold; not reached: most seeds never got there.", "",
              time_table(run, [m for m in run.model_names()]), ""]
    return lines


def _chosen_on(run: LoadedRun) -> str:
    """How a run that chose on some seeds (`tune_seeds`) chose, else nothing."""
    on = run.config.get("tune_seeds") if run.config.get("tuned") else None
    if not on:
        return ""
    return (f" Every candidate trained on seed{'s' if len(on) > 1 else ''} {', '.join(map(str, on))}, which chose it by "
            "final validation MSE; the kept one alone trained on the other seeds.")


def section(exp: LoadedRun | None) -> str:
    """### Among the field's KANs: the answers, then each run's tables."""
    shared, tuned = _run(exp, SHARED), _run(exp, TUNED)
    if shared is None and tuned is None:
        return ""
    lines = ["### Among the field's KANs", "",
             "ReLU-KAN beside the KANs the field uses (docs/models.md, \"The field's KANs\"; docs/peers.md), trained on "
             "the paper's six functions by one loop, at the same grid and at equal size (`-matched`: sized by `match:` "
             "to at most the paper-faithful ReLU-KAN's parameter count). " + RULE[0].upper() + RULE[1:] + ".", "",
             *answers(exp), ""]
    if shared is not None:
        lines += _run_lines(shared, "one shared protocol")
    if tuned is not None:
        lines += _run_lines(tuned, "equal size, each model at its best on validation")
    return "\n".join(lines).rstrip()


def verdict(exp: LoadedRun | None) -> Verdict | None:
    """"Most accurate KAN at equal size?" (RULE); None without the peers' fit runs."""
    run = _run(exp, TUNED) or _run(exp, SHARED)
    if run is None:
        return None
    relukan, functions = run.relukan(), _functions(run)
    winners = {f: most_accurate(run, f, _matched(run)) for f in functions}
    decided = [f for f in functions if winners[f] is not None]
    if relukan is None or not decided:
        return Verdict(run.directory.name, CLAIM, UNTESTED, "Untested: no KAN finished at equal size.")
    won = [f for f in decided if winners[f] == relukan]
    outcome = HOLDS if len(won) == len(decided) else PARTLY if won else FAILS
    how = "each at its best" if run.directory.name == TUNED else "shared protocol"
    tally = "; ".join(f"{f} `{winners[f]}`" for f in decided)
    return Verdict(run.directory.name, CLAIM, outcome,
                   f"At equal size ({how}), the most accurate KAN per function: {tally}. ReLU-KAN on {len(won)} of "
                   f"{len(decided)}.", paper="not claimed (compared with pykan only)",
                   ours=f"ReLU-KAN most accurate on {len(won)} of {len(decided)} functions", finding=_first(exp))


def _first(exp: LoadedRun | None) -> str:
    """The line under the verdicts: the first KAN to validation MSE 1e-4 per function, in the
    shared protocol (every model trained alike, Adam, its step times from the speed run)."""
    run = _run(exp, SHARED)
    if run is None:
        return ""
    return (f"First KAN to validation MSE 1e-4 in wall time (`{SHARED}/`, every model trained alike): "
            f"{_winners(run, run.model_names(), first_to, _reach)}.")
