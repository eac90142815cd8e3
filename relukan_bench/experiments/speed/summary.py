"""The speed experiment's statistics: `summarize` (summary.csv: median and quartiles of the
repeats, speedup over the baseline) and `decompose` (decomposition.csv: a ReLU-KAN's speedup
over pykan split into the implementation's part and the basis's).

    summary = summarize(records, baseline="kan")
    split = decompose(summary, {"kan": "kan", "bspline": "bspline", "relukan": "relukan"}, baseline="kan")
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any, Mapping, Sequence

from relukan_bench.experiments.speed.records import PHASE_COLUMNS, DecompositionRecord, SummaryRecord
from relukan_bench.kinds import StepOptions
from relukan_bench.stats import describe, ratio_range, relative_iqr


def summarize(records: Sequence[dict[str, Any]], baseline: str | None) -> list[dict[str, Any]]:
    """One row per (function, model, device): statistics of the repeats' seconds, and the
    speedup = baseline median / this median on the same function and device (NaN when the
    baseline did not run there). Failed units are counted in `failed` and left out of the
    statistics. Rows keep the order in which units first appear."""
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        groups[(record["function"], record["model"], record["device"])].append(record)
    timed = {key: [r for r in rows if not r.get("error") and not r.get("too_slow")] for key, rows in groups.items()}
    stats = {key: describe([r["seconds"] for r in rows]) for key, rows in timed.items()}
    summary = []
    for (function, model, device), rows in groups.items():
        mine = stats[(function, model, device)]
        base = stats.get((function, baseline, device)) if baseline else None
        ok = timed[(function, model, device)]
        summary.append(SummaryRecord(
            function=function,
            model=model,
            pykan_version=rows[0].get("pykan_version"),
            pykan_mode=rows[0].get("pykan_mode"),
            device=device,
            n=int(mine["n"]),  # describe's count, an int
            failed=sum(bool(r.get("error")) for r in rows),
            median_s=mine["median"],
            q1_s=mine["q1"],
            q3_s=mine["q3"],
            min_s=mine["min"],
            max_s=mine["max"],
            iqr_rel=relative_iqr(mine),
            ms_per_step=1000.0 * mine["median"] / rows[0]["steps"],
            speedup=base["median"] / mine["median"] if base is not None and mine["median"] > 0 else math.nan,
            final_loss=describe([r["final_loss"] for r in ok])["median"],
            params=next((r["params"] for r in rows if r["params"] is not None), None),
            compile_s=_median_of_known([r.get("compile_seconds") for r in ok]),
            **{name: _median_of_known([r.get(name) for r in ok]) for name in PHASE_COLUMNS},
            **_inference(ok), samples=rows[0].get("samples"), macs=rows[0].get("macs"),
            sized=rows[0].get("sized"), effort=rows[0].get("effort"),
            too_slow=next((r["too_slow"] for r in rows if r.get("too_slow")), None),
        ).row())
    return summary


def _inference(rows: Sequence[dict[str, Any]]) -> dict[str, float]:
    """The forward-only latency's median and quartiles over the timed repeats, and the
    median of its memory."""
    found = describe(_known([r.get("infer_ms") for r in rows]))
    return {"infer_ms": found["median"], "infer_q1_ms": found["q1"], "infer_q3_ms": found["q3"],
            "infer_memory_mb": _median_of_known([r.get("infer_memory_mb") for r in rows])}


def _known(values: Sequence[float | None]) -> list[float]:
    """The values that are numbers (not None, not NaN)."""
    return [v for v in values if v is not None and v == v]


def _median_of_known(values: Sequence[float | None]) -> float:
    """The median of the values that are numbers; NaN when none is."""
    return describe(_known(values))["median"]


def decompose(summary: Sequence[dict[str, Any]], roles: dict[str, str | None], baseline: str | None,
              efforts: Mapping[str, StepOptions] | None = None) -> list[dict[str, Any]]:
    """Split every ReLU-KAN's speedup over pykan into the implementation's part and the
    basis's, with our B-spline KAN (the same function as pykan's, in a few tensor operations)
    between them:

        total = kan / relukan = (kan / bspline) * (bspline / relukan) = implementation * basis

    (medians of seconds on the same function and device). `implementation_share` is
    ln(implementation) / ln(total): the implementation's share of the gap on a log scale
    (NaN unless ReLU-KAN is faster, total > 1). Each ratio has a quartile range, pairing the
    quartiles the unfavourable and the favourable way. One row per (function, device, model
    in the role relukan); none without a pykan model (the baseline when it is one, else the
    first in the role kan) and a bspline model. `roles`: each model's role in the paper's
    comparison (relukan_bench.kinds).

    Each ReLU-KAN is held against the B-spline KAN given the same effort where there is one
    (`efforts`: each model's relukan_bench.kinds.StepOptions; compiled against compiled,
    captured against captured): then `equal_effort` is true and `basis` is the basis alone.
    No B-spline KAN has a fused step, so a fast ReLU-KAN meets the first B-spline KAN of its
    compile setting, and its `basis` also holds that implementation's own work."""
    kan = baseline if baseline is not None and roles.get(baseline) == "kan" else next((m for m, r in roles.items() if r == "kan"), None)
    bsplines = [m for m, r in roles.items() if r == "bspline"]
    relukans = [m for m, r in roles.items() if r == "relukan"]
    if kan is None or not bsplines or not relukans:
        return []
    rows = {(r["function"], r["model"], r["device"]): r for r in summary}
    split = []
    for function, device in dict.fromkeys((r["function"], r["device"]) for r in summary):
        slow = rows.get((function, kan, device))
        for relukan in relukans:
            bspline, equal = _partner(relukan, bsplines, efforts or {})
            middle, fast = rows.get((function, bspline, device)), rows.get((function, relukan, device))
            if slow is None or middle is None or fast is None:
                continue
            split.append(_split_row(function, device, relukan, kan, bspline, equal, slow, middle, fast))
    return split


def _partner(relukan: str, bsplines: Sequence[str], efforts: Mapping[str, StepOptions]) -> tuple[str, bool]:
    """The B-spline KAN a ReLU-KAN is held against, and whether it had the same effort."""
    def effort(name: str) -> tuple[bool, bool, bool]:
        options = efforts.get(name)
        return (False, False, False) if options is None else (options.fused, options.compile, options.cuda_graph)

    mine = effort(relukan)
    for bspline in bsplines:
        if effort(bspline) == mine:
            return bspline, True
    for bspline in bsplines:
        if effort(bspline)[1] == mine[1]:
            return bspline, False
    return bsplines[0], False


def _split_row(function: str, device: str, relukan: str, kan: str, bspline: str, equal: bool,
               slow: dict[str, Any], middle: dict[str, Any], fast: dict[str, Any]) -> dict[str, Any]:
    total, implementation, basis = ratio_range(slow, fast), ratio_range(slow, middle), ratio_range(middle, fast)
    share = math.log(implementation[0]) / math.log(total[0]) if total[0] > 1 and implementation[0] > 0 else math.nan
    return DecompositionRecord(
        function=function, device=device, relukan=relukan, kan=kan, bspline=bspline, equal_effort=equal,
        total=total[0], total_low=total[1], total_high=total[2],
        implementation=implementation[0], implementation_low=implementation[1], implementation_high=implementation[2],
        basis=basis[0], basis_low=basis[1], basis_high=basis[2],
        implementation_share=share,
    ).row()
