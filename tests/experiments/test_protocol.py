"""Tests of relukan_bench.experiments.protocol's option parsing: `--seeds`."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from relukan_bench.errors import UsageError
from relukan_bench.experiments.protocol import seed_list
from relukan_bench.yamlio import loads


@pytest.mark.parametrize("text,seeds", [("0,1,2", [0, 1, 2]), (" 4 , 5 ,", [4, 5]), ("4294967295", [4294967295])])
def test_seeds_read_as_decimal_integers(text, seeds):
    assert loads(seed_list(text)) == seeds


@pytest.mark.parametrize("text,message", [
    ("010", "--seeds: expected decimal integers without leading zeros (got '010': write 10 if that is what you mean)"),
    ("00", "(got '00': write 0 if"),
    ("\u00b2", "--seeds: expected comma-separated integers >= 0"),
    ("\u0661", "--seeds: expected comma-separated integers >= 0"),  # an Arabic-Indic one: a digit to Python, not to us
    ("-1", "--seeds: expected comma-separated integers >= 0"),
    ("4294967296", "--seeds: expected seeds of at most 4294967295"),
    ("9" * 5000, "--seeds: expected comma-separated integers >= 0, e.g. 0,1,2 (got '999"),
])
def test_seeds_that_cannot_be_meant_are_refused(text, message):
    with pytest.raises(UsageError) as caught:
        seed_list(text)
    assert message in str(caught.value) and len(str(caught.value)) < 200


@given(st.one_of(st.text(max_size=40), st.lists(st.sampled_from(["0", "1", "9", "01", ",", " ", "-", "\u00b2", "x"]),
                                                 max_size=20).map("".join)))
def test_any_seeds_text_is_a_list_of_seeds_or_refused(text):
    try:
        seeds = loads(seed_list(text))
    except UsageError as exc:
        assert str(exc).startswith("--seeds: ") and "\n" not in str(exc)
        return
    assert seeds and all(isinstance(seed, int) and 0 <= seed < 2**32 for seed in seeds)
