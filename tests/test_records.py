"""Typed records (relukan_bench.records): a record is what a run passes on until the writer;
the writer makes a row of it and a row read back makes the same record again."""

from __future__ import annotations

import math
import typing
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relukan_bench.records import Record, cells
from relukan_bench.results import CsvLog, read_records, write_csv


@dataclass
class Sample(Record):
    name: str
    seed: int
    mse: float
    diverged: bool
    step: int | None
    error: str | None = None


def _same(one: Sample, other: Sample) -> bool:
    """Equal, NaN equal to NaN (a missing float reads back as NaN)."""
    nan = math.isnan(one.mse) and math.isnan(other.mse)
    return nan and one.row() | {"mse": 0} == other.row() | {"mse": 0} or one == other


text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)
samples = st.builds(Sample, name=text.filter(bool), seed=st.integers(-2**62, 2**62), mse=st.floats(allow_nan=True),
                    diverged=st.booleans(), step=st.none() | st.integers(0, 10**9),
                    error=st.none() | text.filter(bool))


@given(records=st.lists(samples, max_size=5))
def test_records_written_and_read_back_are_the_records(records, tmp_path_factory):
    """Whatever a record holds, written by the writer and read back as its rows, it is the same
    record (floats bit for bit; an empty text cell reads back as None, so text is never empty)."""
    path = tmp_path_factory.mktemp("records") / "sample.csv"
    write_csv(path, Sample.columns(), records)
    back = [Sample.from_row(row) for row in read_records(path, Sample)]
    assert len(back) == len(records) and all(_same(a, b) for a, b in zip(back, records))


def test_a_log_takes_records_and_rows_alike(tmp_path):
    path = tmp_path / "log.csv"
    log = CsvLog(path, Sample.columns())
    record = Sample("f1", 0, 0.1 + 0.2, False, 7)
    log.extend([record, record.row()])
    assert [Sample.from_row(row) for row in read_records(path, Sample)] == [record, record]


def test_blank_is_a_record_with_nothing_measured_but_what_is_known():
    blank = Sample.blank(name="f1", seed=3)
    assert isinstance(blank, Sample) and (blank.name, blank.seed) == ("f1", 3)
    assert math.isnan(blank.mse) and blank.diverged is None and blank.step is None and blank.error is None
    with pytest.raises(TypeError, match="Sample has no column 'loss'"):
        Sample.blank(loss=1.0)


def test_a_row_without_a_column_added_since_takes_its_default_or_is_blank():
    row = {"name": "f1", "seed": 0, "mse": 1.0, "diverged": False, "step": None}
    assert Sample.from_row(row) == Sample("f1", 0, 1.0, False, None, None)
    older = Sample.from_row({"name": "f1", "seed": 0})  # no default: blank, as `blank` makes it
    assert math.isnan(older.mse) and (older.diverged, older.step, older.error) == (None, None, None)
    assert cells(Sample.from_row(row)) == row | {"error": None} and cells(row) is row


def test_a_column_is_str_int_float_or_bool_whichever_way_it_is_written():
    """Column types are read from the annotations without evaluating them where they are the
    plain names (`int`, `float | None`), and by evaluating them otherwise: either way a type
    that is not a column's is refused."""

    @dataclass
    class Odd(Record):
        name: str
        sizes: list[int]

    @dataclass
    class Spelled(Record):
        seed: typing.Optional[int]
        mse: "float"

    with pytest.raises(TypeError, match="Odd.sizes: a column is str, int, float or bool"):
        Odd.types()
    assert Spelled.types() == {"seed": int, "mse": float}
    assert Sample.types() == {"name": str, "seed": int, "mse": float, "diverged": bool, "step": int, "error": str}
