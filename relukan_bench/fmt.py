"""Numbers as text, shared by the terminal tables (`render`) and REPORT.md (`report`).
Every function returns "" for None or NaN."""

from __future__ import annotations

import math


def ratio(value: float | None) -> str:
    """A ratio that may span orders of magnitude: 6932x, 16.4x, 0.6x, 0.00105x."""
    if value is None or value != value:
        return ""
    if math.isinf(value):
        return "inf"
    return f"{value:.0f}x" if value >= 100 else f"{value:.3g}x"


def mse(value: float | None, digits: int = 2) -> str:
    """An error: 1.23e-04, or "diverged" for an infinite one."""
    if value is None or value != value:
        return ""
    return "diverged" if math.isinf(value) else f"{value:.{digits}e}"


def percent(value: float | None) -> str:
    if value is None or value != value:
        return ""
    return "inf" if math.isinf(value) else f"{value:.0%}"
