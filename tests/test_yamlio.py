"""Tests of relukan_bench.yamlio: the configs' YAML reader refuses what cannot be meant, bounds
what it reads, and never fails with anything but its own one-line error."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from relukan_bench.schema import show
from relukan_bench.yamlio import MAX_VALUES, YamlError, dumps, loads, read_text


@pytest.mark.parametrize("text,value", [
    ("a: 10", {"a": 10}), ("a: -3", {"a": -3}), ("a: 0", {"a": 0}), ("a: 1_000", {"a": 1000}),
    ("a: 1e-3", {"a": 1e-3}), ("a: 2.5", {"a": 2.5}), ("a: '010'", {"a": "010"}), ("a: yes", {"a": True}),
    ("a: 0o10", {"a": "0o10"}),  # YAML 1.1 reads it as text, which the schema refuses where a number is expected
])
def test_what_can_be_meant_reads_as_written(text, value):
    assert loads(text) == value


@pytest.mark.parametrize("text,reason", [
    ("a: 010", "expected an integer in decimal without leading zeros (got 010;"),
    ("a: 0x1F", "expected an integer in decimal without leading zeros (got 0x1F;"),
    ("a: 0b101", "expected an integer in decimal without leading zeros (got 0b101;"),
    ("a: 1:30", "(got 1:30; YAML 1.1 would read it as octal, hex, binary or base 60)"),
    ("a: 1:30.5", "(got 1:30.5; YAML 1.1 would read it in base 60)"),
    ("a: " + "7" * 31, "an integer of more than 30 digits"),
    ("a: 1\nb: 2\na: 3\n", "the key 'a' is given twice (first at line 1)"),
    ("x: {k: 1, k: 2}", "the key 'k' is given twice"),
    ("x: " + "[" * 60 + "]" * 60, "nested deeper than 50 levels"),
    ("x: " + "[" * 3000 + "]" * 3000, "nested deeper than 50 levels"),
    ("!!python/object/apply:os.system ['echo hi']", "could not determine a constructor"),
])
def test_what_cannot_be_meant_is_refused_with_a_reason(text, reason):
    with pytest.raises(YamlError) as caught:
        loads(text)
    assert reason in str(caught.value) and "\n" not in str(caught.value)


def test_a_key_beside_a_merge_key_overrides_it_and_is_no_duplicate():
    assert loads("base: &b {steps: 1, lr: 2}\ntrain: {<<: *b, steps: 5}\n")["train"] == {"steps": 5, "lr": 2}


def _bomb(levels: int = 9) -> str:
    names = [f"l{i}" for i in range(levels)]
    lines = [f"{names[0]}: &{names[0]} [1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    lines += [f"{b}: &{b} [{', '.join(['*' + a] * 9)}]" for a, b in zip(names, names[1:])]
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_at_once():
    """12 levels: 9^12 values, which no walk without the bound would finish in a day."""
    with pytest.raises(YamlError, match=f"more than {MAX_VALUES} values once aliases are expanded"):
        loads(_bomb(12))


def test_show_stops_at_its_limit_whatever_the_value():
    x: list = [1] * 9
    for _ in range(9):
        x = [x] * 9  # 9^10 values
    shown = show(x)
    assert shown.startswith("[[[[[[[[[[1, 1,") and shown.endswith("...") and len(shown) <= 80
    assert show("a" * 10_000).endswith("...") and len(show("a" * 10_000)) <= 80
    assert show({"a": [1, True, None]}) == "{a: [1, true, null]}"


def test_dumps_loads_back_equal():
    data = {"name": "1e3", "seeds": [0, 1], "lr": 1e-3, "flag": True, "nothing": None, "text": "010"}
    assert loads(dumps(data)) == data


@given(st.one_of(
    st.text(max_size=200),
    st.lists(st.sampled_from(["a", ": ", "- ", "\n", "  ", "[", "]", "{", "}", ",", "&x ", "*x", "<<", "010", "0x1",
                              "1:2", "1e3", ".inf", ".nan", "9" * 40, "'", '"', "!!python/name:os.system", "? ", "|",
                              "---", "...", "%YAML 1.1", "\t", "#"]), max_size=40).map("".join),
))
def test_any_text_reads_or_is_refused_with_a_yaml_error(text):
    """The reader's whole contract: data, or YamlError; no other exception, whatever the text."""
    try:
        loads(text)
    except YamlError as exc:
        assert "\n" not in str(exc)


def test_a_file_beyond_the_bound_is_refused_without_reading_it_all(tmp_path):
    (tmp_path / "big.yaml").write_text("# " + "x" * (2 << 20))
    with pytest.raises(YamlError, match="longer than 1024 KiB"):
        read_text(tmp_path / "big.yaml")
    (tmp_path / "small.yaml").write_text("a: 1\n")
    assert read_text(tmp_path / "small.yaml") == "a: 1\n"
