"""Numbers as text, shared by the terminal tables (`render`) and REPORT.md (`report`).
Every function returns "" for None or NaN."""

from __future__ import annotations

import math

from relukan_bench.records import Row, cells


def ratio(value: float | None) -> str:
    """A ratio that may span orders of magnitude: 6932x, 16.4x, 0.6x, 0.00105x."""
    if value is None or value != value:
        return ""
    if math.isinf(value):
        return "inf"
    return f"{value:.0f}x" if value >= 100 else f"{value:.3g}x"


def times(value: float | None) -> str:
    """A ratio read as "how many times better" (REPORT.md's convention): one at or above 1 as
    `ratio` writes it (16.4x); one below 1 as 1/N x, N times worse (0.00105 -> 1/952x), so a
    reader sees at once how far below 1 it is."""
    if value is None or value != value:
        return ""
    if value >= 1 or value <= 0 or math.isinf(value):
        return ratio(value)
    inverse = ratio(1 / value)
    return "1x" if inverse == "1x" else f"1/{inverse}"


def mse(value: float | None, digits: int = 2) -> str:
    """An error: 1.23e-04, or "diverged" for an infinite one."""
    if value is None or value != value:
        return ""
    return "diverged" if math.isinf(value) else f"{value:.{digits}e}"


def percent(value: float | None) -> str:
    if value is None or value != value:
        return ""
    return "inf" if math.isinf(value) else f"{value:.0%}"


def failures(summary: Row) -> str:
    """How many units of a summary record or row did not give a number: "1 diverged", "2 failed"
    (raised or, in speed, ended with a non-finite loss), "1 diverged, 1 failed", or ""."""
    row = cells(summary)

    def count(key: str) -> int:
        value = row.get(key)
        return 0 if value is None or value != value or value == "" else int(float(value))

    diverged = count("diverged")
    failed = count("failed") - diverged if "diverged" in row else count("failed")
    return ", ".join(text for n, text in ((diverged, f"{diverged} diverged"), (failed, f"{failed} failed")) if n > 0)


def count(value: float | None) -> str:
    """A count with thousands separators (8,017,000); "" for none."""
    if value is None or value != value:
        return ""
    return f"{int(value):,}"
