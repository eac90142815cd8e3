"""Tests of relukan_bench.stats against hand-computed values and numpy."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from relukan_bench.stats import describe, quantile, ratio_range, relative_iqr


def test_quantile_interpolates_linearly():
    assert quantile([1, 2, 3, 4], 0.25) == 1.75
    assert quantile([1, 2, 3, 4], 0.75) == 3.25
    assert quantile([10, 20], 0.1) == pytest.approx(11.0, abs=1e-12)


def test_median_of_odd_and_even_lists():
    assert quantile([5, 1, 3], 0.5) == 3
    assert quantile([1, 2, 3, 4, 5], 0.5) == 3
    assert quantile([1, 2, 3, 4], 0.5) == 2.5
    assert quantile([4.0, 1.0], 0.5) == 2.5


def test_extreme_quantiles_are_min_and_max():
    samples = [3.5, -1.0, 7.25, 2.0, 0.5]
    assert quantile(samples, 0.0) == -1.0
    assert quantile(samples, 1.0) == 7.25


def test_single_sample():
    for q in (0.0, 0.25, 0.5, 0.75, 1.0):
        assert quantile([4.2], q) == 4.2


def test_unsorted_input_is_not_modified():
    samples = [9.0, 1.0, 5.0, 3.0, 7.0]
    assert quantile(samples, 0.25) == 3.0
    assert quantile(samples, 0.5) == 5.0
    assert quantile(samples, 0.75) == 7.0
    assert samples == [9.0, 1.0, 5.0, 3.0, 7.0]


def test_tuples_are_accepted():
    assert quantile((1.0, 3.0), 0.5) == 2.0


def test_agrees_with_numpy_percentile():
    rng = random.Random(1234)
    for n in (1, 2, 3, 7, 10, 101, 1000):
        samples = [rng.uniform(-5.0, 5.0) for _ in range(n)]
        for q in (0.0, 0.01, 0.1, 0.25, 0.33, 0.5, 0.6, 0.75, 0.9, 0.99, 1.0):
            expected = float(np.percentile(samples, 100 * q))
            assert abs(quantile(samples, q) - expected) <= 1e-12, (n, q)


def test_describe_hand_example():
    summary = describe([4.0, 1.0, 3.0, 2.0, 10.0])
    assert set(summary) == {"n", "median", "q1", "q3", "min", "max"}
    assert summary == {"n": 5, "median": 3.0, "q1": 2.0, "q3": 4.0, "min": 1.0, "max": 10.0}


def test_describe_even_example():
    summary = describe([1, 2, 3, 4])
    assert summary == {"n": 4, "median": 2.5, "q1": 1.75, "q3": 3.25, "min": 1, "max": 4}


def test_relative_iqr_hand_example():
    # q1 = 2, q3 = 4, median = 3 -> (4 - 2) / 3
    assert relative_iqr([4.0, 1.0, 3.0, 2.0, 10.0]) == pytest.approx(2.0 / 3.0, abs=1e-15)
    # q1 = 1.75, q3 = 3.25, median = 2.5 -> 1.5 / 2.5
    assert relative_iqr([1, 2, 3, 4]) == pytest.approx(0.6, abs=1e-15)


def test_relative_iqr_of_identical_samples_is_zero():
    assert relative_iqr([2.0] * 7) == 0.0


def test_relative_iqr_with_zero_median_is_nan():
    assert math.isnan(relative_iqr([-1.0, 0.0, 1.0]))


def test_empty_input():
    with pytest.raises(ValueError):
        quantile([], 0.5)
    # a group whose every unit failed: no numbers, but a row
    empty = describe([])
    assert empty["n"] == 0 and all(math.isnan(empty[k]) for k in ("median", "q1", "q3", "min", "max"))
    assert math.isnan(relative_iqr([]))


@pytest.mark.parametrize("q", [-0.01, 1.01, -1.0, 2.0, math.nan])
def test_q_outside_unit_interval_is_refused(q):
    with pytest.raises(ValueError, match="q must be in"):
        quantile([1.0, 2.0], q)


def test_quantiles_of_infinite_samples():
    inf = float("inf")
    assert quantile([inf], 0.5) == inf
    assert quantile([1.0, inf, inf], 0.5) == inf
    assert quantile([1.0, 2.0, inf], 0.5) == 2.0
    assert quantile([1.0, 3.0, inf], 0.25) == 2.0
    assert quantile([1.0, inf], 0.5) == inf  # halfway to infinity
    assert quantile([inf, inf], 0.5) == inf


def test_ratio_range_pairs_quartiles_both_ways():
    slow = {"median_s": 8.0, "q1_s": 6.0, "q3_s": 10.0}
    fast = {"median_s": 2.0, "q1_s": 1.0, "q3_s": 4.0}
    assert ratio_range(slow, fast) == (4.0, 1.5, 10.0)
    missing = ratio_range({"median_s": 8.0, "q1_s": None, "q3_s": 10.0}, {"median_s": 0.0, "q1_s": 1.0, "q3_s": 2.0})
    assert all(math.isnan(v) for v in missing[:2]) and missing[2] == 10.0
