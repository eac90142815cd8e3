import math

from relukan_bench import fmt


def test_ratio_spans_orders_of_magnitude():
    assert [fmt.ratio(v) for v in (6931.54, 16.43, 0.6, 0.00105, 1.0)] == ["6932x", "16.4x", "0.6x", "0.00105x", "1x"]
    assert fmt.ratio(math.inf) == "inf" and fmt.ratio(math.nan) == "" and fmt.ratio(None) == ""


def test_mse_and_percent():
    assert fmt.mse(1.234e-4) == "1.23e-04" and fmt.mse(1.234e-4, 1) == "1.2e-04" and fmt.mse(math.inf) == "diverged"
    assert fmt.percent(0.0234) == "2%" and fmt.percent(-0.03) == "-3%" and fmt.percent(math.inf) == "inf"
    assert fmt.mse(None) == fmt.percent(math.nan) == ""


def test_failures_of_a_summary_row():
    assert fmt.failures({"n_seeds": 3, "failed": 0, "diverged": 0}) == ""
    assert fmt.failures({"failed": 2, "diverged": 1}) == "1 diverged, 1 failed"  # failed counts the diverged too
    assert fmt.failures({"failed": 2, "diverged": 2}) == "2 diverged"
    assert fmt.failures({"failed": 1}) == "1 failed"  # speed: no divergence column
    assert fmt.failures({"diverged": "1.0", "failed": "3"}) == "1 diverged, 2 failed"  # as read from a CSV
    assert fmt.failures({"diverged": 1}) == "1 diverged"  # a summary written before `failed` existed
    assert fmt.failures({"failed": math.nan, "diverged": None}) == ""
