"""tests/close.py: tolerances scaled to the whole tensor, not to each element."""

import math

import numpy as np
import pytest
import torch

from tests.close import assert_close_scaled, scaled_error


def test_a_near_zero_elements_tiny_absolute_difference_passes():
    """The failure this exists for: a float32 prediction near zero, 1e-7 off on another CPU,
    where the predictions are of order one. Elementwise relative tolerance rejects it."""
    expected = torch.tensor([0.9, -0.5, 1e-4, 0.3])
    actual = expected.clone()
    actual[2] += 1.04e-7
    with pytest.raises(AssertionError):
        torch.testing.assert_close(actual, expected, rtol=1e-5, atol=1e-7)
    assert actual.tolist() != pytest.approx(expected.tolist(), rel=1e-5, abs=1e-7)
    assert_close_scaled(actual, expected, rtol=1e-5)
    assert scaled_error(actual, expected) == pytest.approx(1.04e-7 / 0.9, rel=1e-2)


def test_a_real_difference_fails_and_says_where():
    expected = np.linspace(-1.0, 2.0, 12).reshape(3, 4)
    actual = expected.copy()
    actual[1, 2] += 1e-3  # 5e-4 of the largest magnitude
    assert_close_scaled(actual, expected, rtol=1e-3)
    with pytest.raises(AssertionError, match=r"predictions: max \|actual - expected\| = 1\.000e-03 at index \(1, 2\).*scale 2\.000e\+00"):
        assert_close_scaled(actual, expected, rtol=1e-4, what="predictions")
    with pytest.raises(AssertionError, match="shapes differ"):
        assert_close_scaled(actual, expected.T, rtol=1.0)


def test_every_element_counts_not_only_the_large_ones():
    """A small element computed wrongly is still caught once its error is large against the scale."""
    expected = [1.0, 0.0, 0.001]
    assert_close_scaled([1.0, 0.0, 0.0011], expected, rtol=1e-3)
    with pytest.raises(AssertionError, match=r"index \(2,\)"):
        assert_close_scaled([1.0, 0.0, 0.003], expected, rtol=1e-3)


def test_inputs_of_every_kind():
    assert_close_scaled(3.0, 3.0 + 1e-9, rtol=1e-6)
    assert_close_scaled([[1.0, 2.0]], np.array([[1.0, 2.0]]), rtol=0.0)
    tensor = torch.tensor([1.0, 2.0], dtype=torch.float32, requires_grad=True) * 2
    assert_close_scaled(tensor, [2.0, 4.0], rtol=0.0)
    assert_close_scaled(torch.zeros(3), [0.0, 0.0, 0.0], rtol=0.0)  # all zero: equal
    with pytest.raises(AssertionError):
        assert_close_scaled(torch.zeros(3), [0.0, 1e-20, 0.0], rtol=1e-3)  # 1e-20 is not zero
    assert_close_scaled([0.0], [1e-40], rtol=1e-3)  # far below the floor (1e-30): zero
    with pytest.raises(AssertionError):
        assert_close_scaled([0.0], [1e-40], rtol=1e-3, floor=1e-45)


def test_nan_and_inf_must_match_in_position_and_value():
    nan, inf = math.nan, math.inf
    assert_close_scaled([1.0, nan, inf, -inf], [1.0 + 1e-9, nan, inf, -inf], rtol=1e-6)
    assert_close_scaled([nan, nan], [nan, nan], rtol=0.0)
    with pytest.raises(AssertionError, match=r"different positions: at index \(1,\)"):
        assert_close_scaled([1.0, nan, 2.0], [1.0, 2.0, nan], rtol=1.0)
    with pytest.raises(AssertionError, match="non-finite values differ"):
        assert_close_scaled([inf], [-inf], rtol=1.0)
    with pytest.raises(AssertionError, match="non-finite values differ"):
        assert_close_scaled([inf, 1.0], [nan, 1.0], rtol=1.0)
    with pytest.raises(AssertionError):
        assert_close_scaled([1.0, inf], [2.0, inf], rtol=1e-3)  # the finite elements still count
    assert scaled_error([1.0, inf], [1.0, inf]) == 0.0
