"""Statistics of raw samples: pure functions, no numpy, tested against hand-computed values."""

from __future__ import annotations

import math
from typing import Sequence

from relukan_bench.records import Row, cells


def quantile(samples: Sequence[float], q: float) -> float:
    """The q-quantile with linear interpolation between order statistics
    (numpy's and pandas' default): quantile([1, 2, 3, 4], 0.25) == 1.75."""
    if not samples:
        raise ValueError("quantile of no samples")
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"q must be in [0, 1] (got {q})")
    ordered = sorted(samples)
    position = q * (len(ordered) - 1)
    below = math.floor(position)
    fraction = position - below
    if fraction == 0 or ordered[below] == ordered[below + 1]:
        return ordered[below]  # exact, also for infinite samples (inf - inf would be NaN)
    return ordered[below] + (ordered[below + 1] - ordered[below]) * fraction


def median(samples: Sequence[float]) -> float:
    """The median, or NaN for no samples (a group whose every run failed)."""
    return quantile(samples, 0.5) if samples else math.nan


def describe(samples: Sequence[float]) -> dict[str, float]:
    """n, median, first and third quartile, min and max of the samples (NaN for none)."""
    if not samples:
        return {"n": 0, **{key: math.nan for key in ("median", "q1", "q3", "min", "max")}}
    return {
        "n": len(samples),
        "median": quantile(samples, 0.5),
        "q1": quantile(samples, 0.25),
        "q3": quantile(samples, 0.75),
        "min": min(samples),
        "max": max(samples),
    }


def relative_iqr(samples: Sequence[float] | dict[str, float]) -> float:
    """(q3 - q1) / median of the samples, or of their `describe()`: above 0.1 the
    measurement is noisy (torch.utils.benchmark's rule)."""
    summary = samples if isinstance(samples, dict) else describe(samples)
    return (summary["q3"] - summary["q1"]) / summary["median"] if summary["median"] else math.nan


def ratio_range(slower: Row, faster: Row) -> tuple[float, float, float]:
    """slow / fast for two summary records or rows of seconds (median_s, q1_s, q3_s): the
    medians' ratio, then its quartile range, pairing the quartiles the unfavourable way
    (q1 / q3) and the favourable way (q3 / q1). NaN where a value is missing or a divisor is zero."""
    slow, fast = cells(slower), cells(faster)

    def divide(a: float | None, b: float | None) -> float:
        if a is None or b is None or a != a or b != b or b == 0:
            return math.nan
        return a / b

    return (divide(slow.get("median_s"), fast.get("median_s")), divide(slow.get("q1_s"), fast.get("q3_s")),
            divide(slow.get("q3_s"), fast.get("q1_s")))
