"""REPORT.md's "Among the field's KANs" for the forgetting experiment: the run of
`reproduce --peers` in forgetting-peers/ (configs/forgetting-peers.yaml), and the verdict on
"which KAN forgets least?".

What a model forgets is read as its forgotten fraction (the share of what its phases gained
on their own segments that is lost by the end: experiments/forgetting), a median over seeds
with the seeds' range. A KAN is every model whose kind declares a basis (kinds.ModelKind.basis:
"local" or "global"); the others (the MLP) are controls.
"""

from __future__ import annotations

import math
from typing import Any, Callable

from relukan_bench import fmt
from relukan_bench.experiments.forgetting.target import zero_mse as of_data
from relukan_bench.kinds import kinds
from relukan_bench.report import FAILS, HOLDS, PARTLY, UNTESTED, LoadedRun, Verdict, finite
from relukan_bench.tables import Column, Table

#: the reproduce run's directory of this part (experiments/forgetting: `parts`)
PART = "forgetting-peers"
CLAIM = "ReLU-KAN forgets least among the field's KANs"
RULE = ("forgets least holds when ReLU-KAN loses the smallest share of its gains (median over seeds) of every KAN that "
        "learned its segments (a learned MSE below that of predicting 0), partly holds when another KAN of a local basis "
        "does, and does not hold when a KAN of a global basis does")
#: what each kind's basis functions are, for the sentence on local and global bases
FUNCTIONS = {"relukan": "ReLU bumps", "kan": "B-splines", "bspline": "B-splines", "rbf": "Gaussians",
             "inkan": "B-splines", "flashkan": "B-splines", "chebyshev": "Chebyshev polynomials",
             "fourier": "sines and cosines"}
WHERE = {"local": "each basis function acts on a few grid intervals",
         "global": "each basis function acts on the whole domain"}


def run(exp: LoadedRun | None) -> LoadedRun | None:
    """The forgetting-peers run a reproduce run holds (None without it, or without a summary)."""
    found = exp.variants.get(PART) if exp is not None else None
    return found if found is not None and found.summary else None


def _basis(run: LoadedRun, model: str) -> str | None:
    kind = kinds().get(run.kinds().get(model, ""))
    return kind.basis if kind is not None else None


def _label(kind: str) -> str:
    return kinds()[kind].label if kind in kinds() else kind


def _fraction(row: dict[str, Any]) -> float:
    value = row.get("forgotten_fraction")
    return value if finite(value) else math.inf


def zero_mse(run: LoadedRun) -> float:
    """The MSE of predicting 0 on a segment, from the run's own data settings (the forgetting
    report's too, which imports this module)."""
    from relukan_bench.experiments.forgetting.config import ForgettingDataSpec  # pydantic: not for --help

    return of_data(ForgettingDataSpec.model_validate(run.config.get("data", {})))  # the defaults where the run names none


def _kans(run: LoadedRun) -> list[str]:
    """The run's KANs (a kind that declares a basis) with a forgotten fraction, in config order."""
    rows = {r["model"]: r for r in run.summary}
    return [m for m in run.model_names() if _basis(run, m) is not None and finite(rows[m].get("forgotten_fraction"))]


def unlearned(run: LoadedRun) -> list[str]:
    """The KANs whose median learned MSE is not below that of predicting 0: what they did not
    learn they cannot forget, so they are not ranked."""
    rows, zero = {r["model"]: r for r in run.summary}, zero_mse(run)
    return [m for m in _kans(run) if not (finite(rows[m].get("learned_mse")) and rows[m]["learned_mse"] < zero)]


def order(run: LoadedRun) -> list[str]:
    """The KANs that learned their segments, the least forgetting (forgotten fraction) first."""
    rows, left_out = {r["model"]: r for r in run.summary}, unlearned(run)
    return sorted((m for m in _kans(run) if m not in left_out), key=lambda m: _fraction(rows[m]))


def bases_sentence(run: LoadedRun) -> str:
    """Which of the run's KANs have a local basis and which a global one, read from their kinds,
    grouped by what their basis functions are: "local: B-splines (`kan`, `bspline`), ...; global: ..."."""
    found: dict[str, dict[str, list[str]]] = {basis: {} for basis in WHERE}
    for model in run.model_names():
        kind, basis = run.kinds()[model], _basis(run, model)
        if basis in found:
            found[basis].setdefault(FUNCTIONS.get(kind, _label(kind)), []).append(f"`{model}`")
    parts = [f"{basis} ({WHERE[basis]}): " + ", ".join(f"{what} ({', '.join(names)})" for what, names in groups.items())
             for basis, groups in found.items() if groups]
    return "Bases, as each kind declares them: " + "; ".join(parts) + "." if parts else ""


def _ranged(row: dict[str, Any], key: str, style: Callable[[float | None], str]) -> str:
    """`median [min to max]` of one summary metric; the median alone for one seed."""
    text = style(row.get(key))
    if (row.get("n_seeds") or 0) > 1:
        text += f" [{style(row.get(f'{key}_min'))} to {style(row.get(f'{key}_max'))}]"
    return text + fmt.failures(row)


def table(run: LoadedRun) -> str:
    """Per model, the least forgetting first (models without a fraction last): its basis, its
    parameters, what it learned and what it lost."""
    rows = {r["model"]: r for r in run.summary}
    names = sorted(run.model_names(), key=lambda m: _fraction(rows[m]))
    table = Table("", "", [Column("model", "left"), Column("basis", "left")],
                  [Column(name) for name in ("params", "learned MSE", "lost of its gains [seeds]", "forgetting [seeds]")])
    for m in names:
        table.add_row([f"`{m}`" + (f" ({rows[m]['sized']})" if rows[m].get("sized") else ""),
                       _basis(run, m) or "none (control)", fmt.count(rows[m].get("params")),
                       fmt.mse(rows[m].get("learned_mse")), _ranged(rows[m], "forgotten_fraction", fmt.percent),
                       _ranged(rows[m], "forgetting", fmt.mse)])
    return table.to_markdown()


def reordered_sentence(run: LoadedRun) -> str:
    """Which models ran at an order of their own (the cubic-only peers at k = 3), and on which grid."""
    found = [(r["model"], r["sized"]) for r in run.summary if str(r.get("sized") or "").startswith("k ")]
    if not found:
        return ""
    listed = "; ".join(f"`{model}` at {note}" for model, note in found)
    return (f"Built at an order of their own (`k:` on the entry; the cubic-only packages at k = 3), each edge keeping "
            f"the network's basis functions: {listed}.")


def answer(run: LoadedRun) -> str:
    """"Which KAN forgets least?" with its number and ReLU-KAN's."""
    ranked, left_out = order(run), unlearned(run)
    skipped = (f" Not ranked, their learned MSE not below the {zero_mse(run):.3f} of predicting 0: "
               + ", ".join(f"`{m}`" for m in left_out) + "." if left_out else "")
    if not ranked:
        return "No KAN learned its segments and kept a forgotten fraction: none is ranked." + skipped
    rows = {r["model"]: r for r in run.summary}
    best, relukan = ranked[0], run.relukan()
    text = (f"The KAN that forgets least is `{best}` ({_basis(run, best)} basis): it loses "
            f"{_ranged(rows[best], 'forgotten_fraction', fmt.percent)} of what its phases gained")
    if relukan in ranked and relukan != best:
        text += (f"; ReLU-KAN (`{relukan}`) is number {ranked.index(relukan) + 1} of {len(ranked)}, losing "
                 f"{fmt.percent(rows[relukan]['forgotten_fraction'])}")
    return text + f" ({len(ranked)} KANs ranked)." + skipped


def section(exp: LoadedRun | None) -> str:
    """### Among the field's KANs: the bases, the table, the models at their own order and the answer."""
    found = run(exp)
    if found is None:
        return ""
    train = found.config.get("train", {})
    lines = ["### Among the field's KANs", "",
             f"`{PART}/`: the same protocol ({train.get('steps_per_phase')} steps per phase at lr {train.get('lr')}) for "
             "ReLU-KAN and the KANs the field uses (docs/peers.md, \"Forgetting\"), every model trained by the same loop. "
             + bases_sentence(found) + " A local basis is why a KAN is expected to forget little: training one segment "
             "leaves the coefficients of the others alone. Lost of its gains: the forgotten fraction, median over seeds "
             "[lowest to highest]; forgetting: the mean increase of a segment's MSE by the end. " + RULE[0].upper()
             + RULE[1:] + ".", "", table(found), ""]
    sentence = reordered_sentence(found)
    lines += [sentence, ""] if sentence else []
    lines.append(answer(found))
    return "\n".join(lines)


def verdict(exp: LoadedRun | None) -> Verdict | None:
    """"Forgets least among the field's KANs?" (RULE); None without the peers' run."""
    found = run(exp)
    if found is None:
        return None
    ranked, relukan = order(found), found.relukan()
    if not ranked or relukan not in ranked:
        return Verdict(PART, CLAIM, UNTESTED, "Untested: ReLU-KAN has no forgotten fraction or did not learn its "
                       "segments (a learned MSE not below that of predicting 0). " + answer(found))
    rows = {r["model"]: r for r in found.summary}
    best = ranked[0]
    mine = rows[relukan]["forgotten_fraction"]
    first = best == relukan or mine <= rows[best]["forgotten_fraction"]
    outcome = HOLDS if first else PARTLY if _basis(found, best) == "local" else FAILS
    sentence = answer(found) + (" ReLU-KAN ties with it." if first and best != relukan else "")
    ours = f"ReLU-KAN {fmt.percent(mine)}" + ("" if first else f"; least `{best}` {fmt.percent(rows[best]['forgotten_fraction'])}")
    return Verdict(PART, CLAIM, outcome, sentence, paper="not compared (resists forgetting, like KAN)", ours=ours)
