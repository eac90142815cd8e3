"""The speed experiment's statistics: `summarize` (summary.csv: median and quartiles of the
repeats, speedup over the baseline) and `decompose` (decomposition.csv: a ReLU-KAN's speedup
over pykan split into the implementation's part and the basis's).

    summary = summarize(records, baseline="kan")
    split = decompose(summary, {"kan": "kan", "bspline": "bspline", "relukan": "relukan"}, baseline="kan")
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Mapping, Sequence

from relukan_bench.experiments.speed.records import DecompositionRecord, RawRecord, SummaryRecord
from relukan_bench.kinds import StepOptions
from relukan_bench.stats import describe, ratio_range, relative_iqr


def summarize(records: Sequence[RawRecord], baseline: str | None) -> list[SummaryRecord]:
    """One row per (function, model, device): statistics of the repeats' seconds, and the
    speedup = baseline median / this median on the same function and device (NaN when the
    baseline did not run there). Failed units are counted in `failed` and left out of the
    statistics. Rows keep the order in which units first appear."""
    groups: dict[tuple[str, str, str], list[RawRecord]] = defaultdict(list)
    for record in records:
        groups[(record.function, record.model, record.device)].append(record)
    timed = {key: [r for r in rows if not r.error and not r.too_slow] for key, rows in groups.items()}
    stats = {key: describe([r.seconds for r in rows]) for key, rows in timed.items()}
    summary = []
    for (function, model, device), rows in groups.items():
        base = stats.get((function, baseline, device)) if baseline else None
        summary.append(_summary_row(rows, timed[(function, model, device)], stats[(function, model, device)], base))
    return summary


def _summary_row(rows: Sequence[RawRecord], ok: Sequence[RawRecord], mine: dict[str, float],
                 base: dict[str, float] | None) -> SummaryRecord:
    """The summary of one (function, model, device)'s repeats `rows`, `ok` the timed ones;
    `mine` and `base` the statistics of its seconds and of the baseline's (None: none)."""
    first = rows[0]
    inference = describe(_known([r.infer_ms for r in ok]))
    return SummaryRecord(
        function=first.function,
        model=first.model,
        pykan_version=first.pykan_version,
        pykan_mode=first.pykan_mode,
        device=first.device,
        n=int(mine["n"]),  # describe's count, an int
        failed=sum(bool(r.error) for r in rows),
        median_s=mine["median"],
        q1_s=mine["q1"],
        q3_s=mine["q3"],
        min_s=mine["min"],
        max_s=mine["max"],
        iqr_rel=relative_iqr(mine),
        ms_per_step=1000.0 * mine["median"] / first.steps,
        speedup=base["median"] / mine["median"] if base is not None and mine["median"] > 0 else math.nan,
        final_loss=describe([r.final_loss for r in ok])["median"],
        params=next((r.params for r in rows if r.params is not None), None),
        compile_s=_median_of_known([r.compile_seconds for r in ok]),
        forward_ms=_median_of_known([r.forward_ms for r in ok]),
        backward_ms=_median_of_known([r.backward_ms for r in ok]),
        optimizer_ms=_median_of_known([r.optimizer_ms for r in ok]),
        peak_memory_mb=_median_of_known([r.peak_memory_mb for r in ok]),
        samples=first.samples, macs=first.macs, sized=first.sized, effort=first.effort,
        infer_ms=inference["median"], infer_q1_ms=inference["q1"], infer_q3_ms=inference["q3"],
        infer_memory_mb=_median_of_known([r.infer_memory_mb for r in ok]),
        too_slow=next((r.too_slow for r in rows if r.too_slow), None),
    )


def _known(values: Sequence[float | None]) -> list[float]:
    """The values that are numbers (not None, not NaN)."""
    return [v for v in values if v is not None and v == v]


def _median_of_known(values: Sequence[float | None]) -> float:
    """The median of the values that are numbers; NaN when none is."""
    return describe(_known(values))["median"]


def decompose(summary: Sequence[SummaryRecord], roles: dict[str, str | None], baseline: str | None,
              efforts: Mapping[str, StepOptions] | None = None) -> list[DecompositionRecord]:
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
    rows = {(r.function, r.model, r.device): r for r in summary}
    split = []
    for function, device in dict.fromkeys((r.function, r.device) for r in summary):
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
               slow: SummaryRecord, middle: SummaryRecord, fast: SummaryRecord) -> DecompositionRecord:
    total, implementation, basis = (ratio_range(a, b) for a, b in ((slow, fast), (slow, middle), (middle, fast)))
    share = math.log(implementation[0]) / math.log(total[0]) if total[0] > 1 and implementation[0] > 0 else math.nan
    return DecompositionRecord(
        function=function, device=device, relukan=relukan, kan=kan, bspline=bspline, equal_effort=equal,
        total=total[0], total_low=total[1], total_high=total[2],
        implementation=implementation[0], implementation_low=implementation[1], implementation_high=implementation[2],
        basis=basis[0], basis_low=basis[1], basis_high=basis[2],
        implementation_share=share,
    )
