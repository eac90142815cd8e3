import math

from relukan_bench import fmt


def test_ratio_spans_orders_of_magnitude():
    assert [fmt.ratio(v) for v in (6931.54, 16.43, 0.6, 0.00105, 1.0)] == ["6932x", "16.4x", "0.6x", "0.00105x", "1x"]
    assert fmt.ratio(math.inf) == "inf" and fmt.ratio(math.nan) == "" and fmt.ratio(None) == ""


def test_mse_and_percent():
    assert fmt.mse(1.234e-4) == "1.23e-04" and fmt.mse(1.234e-4, 1) == "1.2e-04" and fmt.mse(math.inf) == "diverged"
    assert fmt.percent(0.0234) == "2%" and fmt.percent(-0.03) == "-3%" and fmt.percent(math.inf) == "inf"
    assert fmt.mse(None) == fmt.percent(math.nan) == ""
