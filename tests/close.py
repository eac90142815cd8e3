"""Comparing computed floats with a tolerance scaled to the whole tensor's magnitude.

Different CPUs (AMD or Intel, AVX2 or AVX-512, with or without FMA) and different kernels
(a batched matmul against a plain one) round float32 differently: sums are reduced in another
order, products fused or not. What that changes is a few units of the last place of the
*largest* terms, so an element near zero can differ by far more than its own relative
tolerance (1e-7 on a prediction of 1e-3 that is the difference of terms near 1). An
elementwise `pytest.approx(rel=...)` or `torch.testing.assert_close(rtol=...)` fails there on
one machine and passes on another; this compares

    max |actual - expected|  <=  rtol * max(max |expected|, max |actual|, floor)

instead, over the finite elements, and requires NaN and infinities at the same positions
with the same values.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: The smallest scale a comparison uses: two all-zero tensors compare equal, zero against 1e-20
#: does not, and differences far below the floor (float64 denormals) count as none.
FLOOR = 1e-30


def as_array(value: Any) -> np.ndarray:
    """A torch tensor (any device, with or without grad), numpy array, list or number as a
    float64 numpy array."""
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().cpu().double().numpy()
    return np.asarray(value, dtype=np.float64)


def _compare(actual: Any, expected: Any, label: str, floor: float) -> tuple[float, float, tuple[int, ...], np.ndarray, np.ndarray]:
    """(max |actual - expected| over the finite elements, the scale, where the max is, the two
    arrays); AssertionError if the shapes or the non-finite elements differ."""
    a, e = as_array(actual), as_array(expected)
    if a.shape != e.shape:
        raise AssertionError(f"{label}shapes differ: actual {a.shape}, expected {e.shape}")
    finite = np.isfinite(a)
    if not np.array_equal(finite, np.isfinite(e)):
        index = tuple(int(i) for i in np.argwhere(finite != np.isfinite(e))[0])
        raise AssertionError(f"{label}non-finite values at different positions: at index {index} "
                             f"actual {a[index]!r}, expected {e[index]!r}")
    unequal = ~finite & (a != e) & ~(np.isnan(a) & np.isnan(e))  # +inf against -inf
    if unequal.any():
        index = tuple(int(i) for i in np.argwhere(unequal)[0])
        raise AssertionError(f"{label}non-finite values differ: at index {index} actual {a[index]!r}, expected {e[index]!r}")
    if not finite.any():
        return 0.0, floor, (), a, e
    diff = np.abs(np.where(finite, a, 0.0) - np.where(finite, e, 0.0))
    scale = max(float(np.abs(a[finite]).max()), float(np.abs(e[finite]).max()), floor)
    index = tuple(int(i) for i in np.unravel_index(int(diff.argmax()), diff.shape))
    return float(diff.max()), scale, index, a, e


def scaled_error(actual: Any, expected: Any, floor: float = FLOOR) -> float:
    """max |actual - expected| over the finite elements divided by the largest finite
    magnitude of either (at least `floor`): what `assert_close_scaled` compares with rtol.
    AssertionError if the shapes or the non-finite elements differ."""
    worst, scale, _, _, _ = _compare(actual, expected, "", floor)
    return worst / scale


def assert_close_scaled(actual: Any, expected: Any, rtol: float, what: str = "", floor: float = FLOOR) -> None:
    """Fail unless max |actual - expected| <= rtol * max(max |expected|, max |actual|, floor)
    over the finite elements, and the non-finite ones (NaN, +-inf) match in position and value.

    `actual` and `expected`: torch tensors, numpy arrays, (nested) lists or numbers of one shape.
    `rtol`: the tolerance relative to the largest magnitude of either.
    `what`: named in the failure message.
    """
    label = f"{what}: " if what else ""
    worst, scale, index, a, e = _compare(actual, expected, label, floor)
    if not worst <= rtol * scale:
        raise AssertionError(
            f"{label}max |actual - expected| = {worst:.3e} at index {index} (actual {a[index]!r}, expected {e[index]!r}) "
            f"> rtol {rtol:.1e} x scale {scale:.3e} (the largest magnitude of either): {worst / scale:.2e} relative"
        )
