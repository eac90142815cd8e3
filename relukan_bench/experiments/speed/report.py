"""The speed experiment's part of REPORT.md: its section (the timing table beside the
paper's speedups, the figure, where the speedup comes from) and its verdict.

"About 20x faster" *holds* when ReLU-KAN's median speedup over KAN reaches `HOLDS_AT` on some
function and device; *partly holds* when it is faster on every function but never reaches it;
*does not hold* when KAN is as fast or faster on some function.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import relukan_bench.experiments.speed.peers as peers
from relukan_bench import fmt
from relukan_bench.experiments.speed.paper import CLAIM
from relukan_bench.report import FAILS, HOLDS, PARTLY, UNTESTED, LoadedRun, Verdict, finite, geomean, link, span
from relukan_bench.stats import median, ratio_range
from relukan_bench.tables import Cell, Column, Table

HOLDS_AT = 15.0  # "about 20x": at least 15x somewhere
RULE = (f"speed holds when ReLU-KAN's median speedup reaches {HOLDS_AT:.0f}x on some function and device, and partly "
        "holds when it is faster on every function")


def _speed_rows(exp: LoadedRun) -> dict[tuple[str, str, str], dict[str, Any]]:
    return {(r["function"], r["model"], r["device"]): r for r in exp.summary}


def speed_spread(exp: LoadedRun, function: str, model: str, device: str) -> tuple[float, float]:
    """The speedup's quartile range: baseline q1 / model q3 to baseline q3 / model q1."""
    rows = _speed_rows(exp)
    kan = exp.kan()
    mine, base = rows.get((function, model, device)), rows.get((function, kan, device)) if kan is not None else None
    if not mine or not base:
        return math.nan, math.nan
    return ratio_range(base, mine)[1:]


def section(exp: LoadedRun, run_dir: Path) -> str:
    models = exp.model_names()
    kan = exp.kan()
    others = [m for m in models if m != kan]
    rows = _speed_rows(exp)
    paper = {r["function"]: r for r in exp.table}
    steps = exp.config.get("train", {}).get("steps")
    repeats = exp.config.get("timing", {}).get("repeats")
    table = Table("", "", [Column("function", "left"), Column("device", "left")],
                  [Column(name) for name in [*[f"{m} ms/step (IQR)" for m in models],
                                             *[f"{m} speedup [quartile range]" for m in others],
                                             "paper speedup CPU", "paper speedup GPU"]])
    for function, device in dict.fromkeys((r["function"], r["device"]) for r in exp.summary):
        cells: list[Cell | str] = [function, device]
        cells += [_ms_cell(rows.get((function, model, device))) for model in models]
        for model in others:
            row = rows.get((function, model, device))
            low, high = speed_spread(exp, function, model, device)
            cells.append(Cell() if row is None else Cell(fmt.times(row.get("speedup")), f"{fmt.times(low)} to {fmt.times(high)}",
                                                         style="bold"))
        found = paper.get(function, {})
        cells += [fmt.times(found.get("paper_speedup_cpu")), fmt.times(found.get("paper_speedup_gpu"))]
        table.add_row(cells)
    text = [
        f"{steps} full-batch Adam steps per timing, repeated on {repeats} fresh model(s) per function, model and device; "
        f"median ms per step with the interquartile range as a share of the median. Speedup = {kan} / model, "
        "medians on the same device; the range pairs the quartiles the unfavourable and the favourable way. "
        "The paper's speedups are its KAN seconds over its ReLU-KAN seconds (absolute seconds from different "
        "machines are not comparable).",
        "",
        table.to_markdown(),
        "",
        f"![speed]({link(exp.directory / 'speed.png', run_dir)})" if (exp.directory / "speed.png").is_file() else "",
    ]
    if exp.decomposition:
        text += ["", decomposition_section(exp)]
    text += ["", baselines_section(exp)]
    among = peers.section(exp)
    return "\n".join(text + (["", among] if among else []))


def _ms_cell(row: dict[str, Any] | None) -> Cell:
    """A model's median ms per step (its IQR as a share of the median), with its failures."""
    if row is None:
        return Cell()
    spread = row.get("iqr_rel")
    text = "" if not finite(row.get("ms_per_step")) else f"{row['ms_per_step']:.3g}" + (f" ({spread:.0%})" if finite(spread) else "")
    return Cell(text, note=fmt.failures(row))


# ----------------------------------------------------------------------------- against which KAN?
def _baselines(exp: LoadedRun) -> list[str]:
    """The run's pykan models, in config order."""
    return [m for m in exp.model_names() if exp.roles().get(m) == "kan"]


def baseline_label(exp: LoadedRun, model: str) -> str:
    """'pykan 0.0.5, default' from the summary's columns (a run from before they existed: its
    config's mode, or speed)."""
    row = next((r for r in exp.summary if r["model"] == model), {})
    entry: dict[str, Any] = next((m for m in exp.config.get("models", []) if m.get("name") == model), {})
    version = row.get("pykan_version") or entry.get("pykan") or exp.env.get("pykan") or "?"
    return f"pykan {version}, {row.get('pykan_mode') or entry.get('mode') or 'speed'}"


def _speedups(exp: LoadedRun, relukan: str, kan: str, device: str) -> dict[str, tuple[float, float, float]]:
    """ReLU-KAN's speedup over `kan` per function on `device`: (median ratio, low, high)."""
    rows = _speed_rows(exp)
    found = {}
    for function in dict.fromkeys(r["function"] for r in exp.summary):
        slow, fast = rows.get((function, kan, device)), rows.get((function, relukan, device))
        if slow and fast and finite(slow.get("median_s")) and finite(fast.get("median_s")):
            found[function] = ratio_range(slow, fast)
    return found


def baselines_section(exp: LoadedRun) -> str:
    """ReLU-KAN's speedup over every pykan version and mode the run timed, beside the paper's."""
    relukan, kans = exp.relukan(), _baselines(exp)
    functions = list(dict.fromkeys(r["function"] for r in exp.summary))
    paper = {r["function"]: r for r in exp.table}
    lines = ["### Against which KAN?", ""]
    if relukan is None or not kans:
        return "\n".join(lines + ["No ReLU-KAN and pykan rows to compare."])
    table = Table("", "", [Column("device", "left"), Column("against", "left")], [Column(f) for f in functions])
    verdicts = []
    for device in dict.fromkeys(r["device"] for r in exp.summary):
        label = "cpu" if device == "cpu" else "gpu"
        for kan in kans:
            speedups = _speedups(exp, relukan, kan, device)
            ms = {r["function"]: r.get("ms_per_step") for r in exp.summary if r["model"] == kan and r["device"] == device}
            table.add_row([device, f"`{kan}` ({baseline_label(exp, kan)})",
                           *[Cell(fmt.times(speedups[f][0]), note=f"{ms[f]:.3g} ms", style="bold") if f in speedups else ""
                             for f in functions]])
            verdicts.append(_baseline_verdict(exp, kan, device, speedups, paper, label))
        table.add_row([device, "the paper (its pykan, its machine)",
                       *[fmt.times(paper.get(f, {}).get(f"paper_speedup_{label}")) for f in functions]])
    lines += [
        f"`{relukan}`'s speedup over each pykan the run timed: its median seconds over `{relukan}`'s on the same "
        "function and device, with that pykan's median ms per step. pykan's `speed()` (0.2.0 and later) switches "
        "off the symbolic branch and the saved activations; `default` is the model as `KAN(width, grid, k)` builds "
        "it, the only mode before 0.2.0. Versions other than the installed one ran in worker processes with the same "
        "torch (docs/methodology.md).",
        "",
        table.to_markdown(),
        "",
        *verdicts,
    ]
    if len({baseline_label(exp, k).split(",")[0] for k in kans}) < 2:
        lines += ["", "Only one pykan version was timed: prepare the others with `relukan-bench pykan install "
                  "0.0.5 0.1.2` (or `make baselines`) and run `configs/speed-baselines.yaml`."]
    return "\n".join(lines)


def _baselines_sentence(exp: LoadedRun, relukan: str) -> str:
    """With several pykan baselines: the range of ReLU-KAN's speedups over all of them, and the
    one it is fastest against."""
    kans = _baselines(exp)
    if len(kans) < 2:
        return ""
    found = {(kan, device): _speedups(exp, relukan, kan, device) for kan in kans
             for device in dict.fromkeys(r["device"] for r in exp.summary)}
    medians = {key: [v[0] for v in values.values()] for key, values in found.items() if values}
    if not medians:
        return ""
    (kan, device), best = max(medians.items(), key=lambda item: max(item[1]))
    return (f" Against all {len(kans)} pykan versions and modes timed, its median speedups span "
            f"{span([v for values in medians.values() for v in values])}; the most is {fmt.times(max(best))} against "
            f"`{kan}` ({baseline_label(exp, kan)}) on {device} (see \"Against which KAN?\").")


def _baseline_verdict(exp: LoadedRun, kan: str, device: str, speedups: dict[str, tuple[float, float, float]],
                      paper: dict[str, dict[str, Any]], label: str) -> str:
    """One sentence: how fast ReLU-KAN is against this pykan, the verdict on "about 20x", and
    how our speedups compare with the paper's on the same functions."""
    if not speedups:
        return f"- Against `{kan}` on {device}: no speedup could be computed."
    medians = [v[0] for v in speedups.values()]
    outcome = HOLDS if max(medians) >= HOLDS_AT else PARTLY if min(medians) > 1.0 else FAILS
    theirs = {f: paper.get(f, {}).get(f"paper_speedup_{label}") for f in speedups}
    both = [speedups[f][0] / value for f, value in theirs.items() if finite(value)]
    against = (f"; ours over the paper's, function by function: {span(both)} (geometric mean {fmt.times(geomean(both))})"
               if both else "")
    return (f"- Against `{kan}` ({baseline_label(exp, kan)}) on {device}: ReLU-KAN {span(medians)} faster across "
            f"{len(medians)} functions, so \"about 20x\" **{outcome}** against it{against}.")


def _equal(exp: LoadedRun, row: dict[str, Any]) -> bool:
    """A decomposition row's `equal_effort`; in runs from before the column, equal unless the
    ReLU-KAN is a fast one (then every B-spline KAN was plain)."""
    value = row.get("equal_effort")
    if value is None:
        return not any(m.get("name") == row["relukan"] and m.get("impl") == "fast" for m in exp.config.get("models", []))
    return str(value).lower() in ("true", "1", "1.0")


def decomposition_section(exp: LoadedRun) -> str:
    """Where the speedup comes from: pykan / our B-spline KAN (the implementation) times our
    B-spline KAN / ReLU-KAN (the basis), from `decomposition.csv`; each ReLU-KAN against the
    B-spline KAN of its own effort where there is one."""
    kan = exp.decomposition[0]["kan"]
    table = Table("", "", [Column(name, "left") for name in ("function", "device", "ReLU-KAN", "B-spline KAN")],
                  [Column(f"total {kan} / ReLU-KAN"), Column(f"implementation {kan} / B-spline KAN"),
                   Column("basis B-spline KAN / ReLU-KAN"), Column("implementation's share")])
    for row in exp.decomposition:
        share = row.get("implementation_share")
        table.add_row([row["function"], row["device"], row["relukan"],
                       Cell(row["bspline"], note="" if _equal(exp, row) else "not equal effort"),
                       *[Cell(fmt.times(row.get(name)), f"{fmt.times(row.get(name + '_low'))} to {fmt.times(row.get(name + '_high'))}")
                         for name in ("total", "implementation", "basis")],
                       f"{share:.0%}" if finite(share) else ""])
    return "\n".join([
        "### Where the speedup comes from",
        "",
        "The B-spline KAN (`kind: bspline`) is pykan's (the same function, the same initial parameters) written as a "
        f"few tensor operations per layer (relukan_bench/models/bspline.py). So `{kan}` / B-spline KAN is what pykan's "
        "implementation costs, B-spline KAN / ReLU-KAN what the B-spline basis costs against ReLU-KAN's, and their "
        "product is the whole speedup. The share is the implementation's part of it on a log scale; brackets: "
        "quartile ranges. Each ReLU-KAN meets the B-spline KAN given the same effort (plain against plain, compiled "
        "against compiled): then `basis` is the basis alone. No B-spline KAN has a fused step, so against a fast "
        "ReLU-KAN (a hand-written backward, fused Adam: docs/performance.md) `basis` also holds that "
        "implementation's own work, and the row says \"not equal effort\".",
        "",
        table.to_markdown(),
        "",
        *_decomposition_lines(exp, kan),
    ])


def _decomposition_lines(exp: LoadedRun, kan: str) -> list[str]:
    lines = []
    for relukan in dict.fromkeys(r["relukan"] for r in exp.decomposition):
        mine = [r for r in exp.decomposition if r["relukan"] == relukan]
        for device in dict.fromkeys(r["device"] for r in mine):
            here = [r for r in mine if r["device"] == device]
            shares = [r["implementation_share"] for r in here if finite(r.get("implementation_share"))]
            effort = "at equal effort" if all(_equal(exp, r) for r in here) else "not at equal effort"
            lines.append(
                f"- `{relukan}` on {device} (against `{here[0]['bspline']}`, {effort}): of its "
                f"{span([r['total'] for r in here])} over `{kan}`, the implementation accounts for "
                f"{span([r['implementation'] for r in here])} and the basis for {span([r['basis'] for r in here])}"
                + (f"; the implementation's share of the gap is {min(shares):.0%} to {max(shares):.0%}." if shares else ".")
            )
    return lines


def verdict(exp: LoadedRun | None) -> Verdict:
    claim = CLAIM
    if exp is None or not exp.summary or (relukan := exp.relukan()) is None or exp.kan() is None:
        return Verdict("speed", claim, UNTESTED, "Untested: the speed experiment did not produce ReLU-KAN and KAN rows.")
    parts, best, all_faster = [], 0.0, True
    for device in dict.fromkeys(r["device"] for r in exp.summary):
        found = [r for r in exp.summary if r["model"] == relukan and r["device"] == device and finite(r.get("speedup"))]
        if not found:
            continue
        speedups = [r["speedup"] for r in found]
        spreads = [speed_spread(exp, r["function"], relukan, device) for r in found]
        best = max(best, *speedups)
        all_faster = all_faster and min(speedups) > 1.0
        low, high = min(s[0] for s in spreads), max(s[1] for s in spreads)
        parts.append(
            f"on {'the CPU' if device == 'cpu' else 'the GPU (' + device + ')'} ReLU-KAN trained "
            f"{span(speedups)} faster than KAN across {len(found)} functions "
            f"(medians; {fmt.times(low)} to {fmt.times(high)} between the repeats' quartiles)"
        )
    if not parts:
        return Verdict("speed", claim, UNTESTED, "Untested: no speedup could be computed.")
    paper_cpu = [r.get("paper_speedup_cpu") for r in exp.table]
    paper_gpu = [r.get("paper_speedup_gpu") for r in exp.table]
    outcome = HOLDS if best >= HOLDS_AT else PARTLY if all_faster else FAILS
    devices = {r["device"] for r in exp.summary}
    gpu_note = "" if "cuda" in devices else "; its ~20x is a GPU-against-GPU result on f4 and f5, and no GPU was measured here"
    sentence = (
        f"{'; '.join(parts)}, against the paper's {span(paper_cpu)} on CPU and {span(paper_gpu)} on GPU{gpu_note}."
    )
    sentence += _baselines_sentence(exp, relukan)
    split = [r for r in exp.decomposition if r["relukan"] == relukan]
    if split:
        sentence += (
            f" Of that, pykan's implementation accounts for {span([r['implementation'] for r in split])} (the same "
            f"B-spline KAN in a few tensor operations, `{split[0]['bspline']}`, is that much faster than pykan) and the "
            f"basis for {span([r['basis'] for r in split])}."
        )
    paper = f"~20x: {span(paper_gpu)} GPU, {span(paper_cpu)} CPU"
    return Verdict("speed", claim, outcome, sentence[0].upper() + sentence[1:], paper=paper, ours=_ours(exp, relukan),
                   finding=finding(exp))


def verdicts(exp: LoadedRun | None) -> list[Verdict]:
    """The claim against pykan; with the peers' runs (`reproduce --peers`), also "fastest KAN?"."""
    among = peers.verdict(exp)
    return [verdict(exp)] + ([among] if among is not None else [])


def _ours(exp: LoadedRun, relukan: str) -> str:
    """ReLU-KAN's median speedups per device, for the head table: `1.88x to 3.77x CPU`."""
    parts = []
    for device in dict.fromkeys(r["device"] for r in exp.summary):
        speedups = [r["speedup"] for r in exp.summary if r["model"] == relukan and r["device"] == device
                    and finite(r.get("speedup"))]
        if speedups:
            parts.append(f"{span(speedups)} {'CPU' if device == 'cpu' else 'GPU'}")
    return "; ".join(parts)


def finding(exp: LoadedRun) -> str:
    """One line: where the paper's ReLU-KAN's speedup over pykan comes from (decomposition.csv):
    pykan's code (kan / B-spline KAN) or the ReLU basis (B-spline KAN / ReLU-KAN); "" without it."""
    relukan = exp.relukan()
    rows = [r for r in exp.decomposition if r["relukan"] == relukan and finite(r.get("implementation"))]
    shares = [r["implementation_share"] for r in rows if finite(r.get("implementation_share"))]
    if not rows or not shares:
        return ""
    devices = " and ".join("the CPU" if d == "cpu" else "the GPU" for d in dict.fromkeys(r["device"] for r in rows))
    code = span([r["implementation"] for r in rows])
    basis = span([r["basis"] for r in rows])
    share = f"{min(shares):.0%} to {max(shares):.0%}" if min(shares) != max(shares) else f"{shares[0]:.0%}"
    functions = len({r["function"] for r in rows})
    if median(shares) > 0.5:
        lead = "Most of ReLU-KAN's speedup over pykan is pykan's code"
    elif median(shares) < 0.5:
        lead = "Most of ReLU-KAN's speedup over pykan is its ReLU basis"
    else:
        lead = "ReLU-KAN's speedup over pykan is half pykan's code, half its ReLU basis"
    return (f"{lead}: our own B-spline KAN (pykan's model in a few tensor operations) is already {code} faster than "
            f"pykan; the ReLU basis adds {basis} (on {devices}, {functions} functions; pykan's code is {share} of the "
            "speedup, on a log scale).")


# ----------------------------------------------------------------------------- fit
