"""Tests of relukan_bench.results: run directories, atomic writes, CSV tables and logs."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from relukan_bench import results
from relukan_bench.errors import UsageError
from relukan_bench.results import CsvLog, new_run_dir, read_csv, read_log, read_mapping, read_records, write_csv, write_json, write_text

STAMP = re.compile(r"\d{8}T\d{6}Z")


def _freeze_clock(monkeypatch, moment: dt.datetime) -> None:
    class FrozenDatetime:
        @staticmethod
        def now(tz=None):
            return moment.astimezone(tz) if tz is not None else moment.replace(tzinfo=None)

    monkeypatch.setattr(results, "dt", SimpleNamespace(datetime=FrozenDatetime, timezone=dt.timezone))


# ----------------------------------------------------------------------------- run directories
def test_new_run_dir_is_results_experiment_utc_stamp(tmp_path):
    before = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    run_dir = new_run_dir("speed", None, root=tmp_path)
    after = dt.datetime.now(dt.timezone.utc)
    assert run_dir.is_dir()
    assert run_dir.parent == tmp_path / "speed"
    assert STAMP.fullmatch(run_dir.name), run_dir.name
    stamp = dt.datetime.strptime(run_dir.name, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.timezone.utc)
    assert before <= stamp <= after
    assert list(run_dir.iterdir()) == []


def test_two_quick_runs_get_different_directories(tmp_path):
    first = new_run_dir("speed", None, root=tmp_path)
    second = new_run_dir("speed", None, root=tmp_path)
    assert first != second
    assert first.is_dir() and second.is_dir()
    assert sorted(p.name for p in (tmp_path / "speed").iterdir()) == sorted([first.name, second.name])
    for run_dir in (first, second):
        assert re.fullmatch(r"\d{8}T\d{6}Z(-\d+)?", run_dir.name), run_dir.name


def test_runs_in_the_same_second_get_numbered_suffixes(tmp_path, monkeypatch):
    _freeze_clock(monkeypatch, dt.datetime(2024, 3, 5, 7, 8, 9, tzinfo=dt.timezone.utc))
    names = [new_run_dir("speed", None, root=tmp_path).name for _ in range(3)]
    assert names == ["20240305T070809Z", "20240305T070809Z-2", "20240305T070809Z-3"]
    assert sorted(p.name for p in (tmp_path / "speed").iterdir()) == sorted(names)


def test_stamp_is_utc_not_local_time(tmp_path, monkeypatch):
    plus_two = dt.timezone(dt.timedelta(hours=2))
    _freeze_clock(monkeypatch, dt.datetime(2024, 3, 5, 1, 30, 0, tzinfo=plus_two))
    assert new_run_dir("fit", None, root=tmp_path) == tmp_path / "fit" / "20240304T233000Z"


def test_out_to_a_new_directory_creates_it(tmp_path):
    out = tmp_path / "a" / "b" / "run"
    assert new_run_dir("speed", out, root=tmp_path / "results") == out
    assert out.is_dir()
    assert not (tmp_path / "results").exists()  # nothing under the default root


def test_out_to_an_existing_empty_directory_is_used(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    assert new_run_dir("speed", out, root=tmp_path) == out
    assert out.is_dir()


def test_out_to_a_non_empty_directory_is_refused(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("precious", encoding="utf-8")
    with pytest.raises(UsageError) as info:
        new_run_dir("speed", out, root=tmp_path)
    assert str(out) in str(info.value)
    assert (out / "keep.txt").read_text(encoding="utf-8") == "precious"
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]


def test_out_to_a_file_is_refused(tmp_path):
    out = tmp_path / "file.txt"
    out.write_text("x", encoding="utf-8")
    with pytest.raises(UsageError):
        new_run_dir("speed", out, root=tmp_path)
    assert out.read_text(encoding="utf-8") == "x"


# ----------------------------------------------------------------------------- atomic text
def test_write_text_writes_and_leaves_no_temporary_files(tmp_path):
    path = tmp_path / "config.yaml"
    write_text(path, "a: 1\n")
    assert path.read_text(encoding="utf-8") == "a: 1\n"
    write_text(path, "b: 2\nü\n")  # replaces the old content
    assert path.read_text(encoding="utf-8") == "b: 2\nü\n"
    assert [p.name for p in tmp_path.iterdir()] == ["config.yaml"]


def test_write_text_keeps_newlines_as_given(tmp_path):
    path = tmp_path / "t.txt"
    write_text(path, "a\r\nb\n")
    assert path.read_bytes() == b"a\r\nb\n"


def test_failed_write_text_leaves_no_temporary_files(tmp_path):
    target = tmp_path / "target"
    target.mkdir()
    (target / "inside").write_text("x", encoding="utf-8")  # a non-empty directory cannot be replaced
    with pytest.raises(OSError):
        write_text(target, "text")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["target"]
    assert (target / "inside").read_text(encoding="utf-8") == "x"


def test_write_json(tmp_path):
    path = tmp_path / "env.json"
    write_json(path, {"a": 1, "b": [1.5, None], "c": Path("x/y")})
    assert json.loads(path.read_text(encoding="utf-8")) == {"a": 1, "b": [1.5, None], "c": "x/y"}
    assert path.read_text(encoding="utf-8").endswith("\n")
    assert [p.name for p in tmp_path.iterdir()] == ["env.json"]


# ----------------------------------------------------------------------------- CSV
def test_write_csv_header_rows_and_empty_cells(tmp_path):
    path = tmp_path / "summary.csv"
    rows = [
        {"function": "f1", "seconds": 0.5, "speedup": None, "n": 7},
        {"function": "f2", "seconds": math.nan, "speedup": 2.0, "n": 3, "ignored": "x"},
        {"function": "f3"},  # missing keys are empty cells
    ]
    write_csv(path, ["function", "seconds", "speedup", "n"], rows)
    assert path.read_text(encoding="utf-8") == "function,seconds,speedup,n\nf1,0.5,,7\nf2,,2.0,3\nf3,,,\n"
    assert [p.name for p in tmp_path.iterdir()] == ["summary.csv"]


def test_write_csv_floats_at_full_precision(tmp_path):
    values = [0.1 + 0.2, 1.0 / 3.0, 1e-300, 123456789.12345679, -2.5e-7, math.pi, math.inf]
    path = tmp_path / "floats.csv"
    write_csv(path, ["value"], [{"value": v} for v in values])
    cells = [row["value"] for row in read_csv(path)]
    assert cells[0] == "0.30000000000000004"
    assert [float(c) for c in cells] == values  # repr round-trips exactly


def test_write_csv_header_only(tmp_path):
    path = tmp_path / "empty.csv"
    write_csv(path, ["a", "b"], [])
    assert path.read_text(encoding="utf-8") == "a,b\n"
    assert read_csv(path) == []


def test_read_csv_round_trip(tmp_path):
    path = tmp_path / "table.csv"
    columns = ["name", "note", "value", "flag"]
    rows = [
        {"name": "f1", "note": "comma, inside", "value": 1.25, "flag": True},
        {"name": "f2", "note": 'quote " inside', "value": None, "flag": False},
        {"name": "f3", "note": "line\nbreak", "value": -3, "flag": None},
    ]
    write_csv(path, columns, rows)
    assert read_csv(path) == [
        {"name": "f1", "note": "comma, inside", "value": "1.25", "flag": "True"},
        {"name": "f2", "note": 'quote " inside', "value": "", "flag": "False"},
        {"name": "f3", "note": "line\nbreak", "value": "-3", "flag": ""},
    ]


def test_csv_log_appends_one_complete_row_at_a_time(tmp_path):
    path = tmp_path / "raw.csv"
    log = CsvLog(path, ["function", "repeat", "seconds"])
    assert path.read_text(encoding="utf-8") == "function,repeat,seconds\n"
    assert read_csv(path) == []
    records = [
        {"function": "f1", "repeat": 0, "seconds": 0.1 + 0.2},
        {"function": "f1", "repeat": 1, "seconds": None, "extra": "ignored"},
        {"function": "f2", "repeat": 0, "seconds": math.nan},
        {"function": "f2, with comma", "repeat": 1, "seconds": 1e-9},
    ]
    expected = [
        {"function": "f1", "repeat": "0", "seconds": "0.30000000000000004"},
        {"function": "f1", "repeat": "1", "seconds": ""},
        {"function": "f2", "repeat": "0", "seconds": ""},
        {"function": "f2, with comma", "repeat": "1", "seconds": "1e-09"},
    ]
    for count, record in enumerate(records, start=1):
        log.append(record)
        assert read_csv(path) == expected[:count]
        assert path.read_text(encoding="utf-8").endswith("\n")
    assert path.read_text(encoding="utf-8").count("\n") == 1 + len(records)
    assert [p.name for p in tmp_path.iterdir()] == ["raw.csv"]


def test_csv_log_starts_a_fresh_file(tmp_path):
    path = tmp_path / "raw.csv"
    path.write_text("old,content\n1,2\n", encoding="utf-8")
    CsvLog(path, ["a"])
    assert path.read_text(encoding="utf-8") == "a\n"


def test_write_csv_numpy_float64_is_a_plain_number(tmp_path):
    path = tmp_path / "np.csv"
    write_csv(path, ["value"], [{"value": np.float64(0.5)}])
    assert read_csv(path) == [{"value": "0.5"}]


def test_csv_log_extend_appends_many_rows_at_once(tmp_path):
    path = tmp_path / "curves.csv"
    log = CsvLog(path, ["step", "mse"])
    log.extend({"step": s, "mse": 1.0 / s} for s in (1, 2, 4))
    log.extend([])
    log.append({"step": 5, "mse": math.inf})
    assert read_csv(path) == [
        {"step": "1", "mse": "1.0"}, {"step": "2", "mse": "0.5"}, {"step": "4", "mse": "0.25"}, {"step": "5", "mse": "inf"},
    ]


def test_written_files_are_readable_like_any_new_file(tmp_path):
    import os
    import stat

    previous = os.umask(0o022)
    try:
        write_text(tmp_path / "a.txt", "x")
        CsvLog(tmp_path / "log.csv", ["a"])
    finally:
        os.umask(previous)
    for name in ("a.txt", "log.csv"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o644  # not mkstemp's private 0600


def test_csv_log_additions_append_whole_units_in_place(tmp_path):
    """Each addition is appended to the same file (no copy of what is there), whole."""
    path = tmp_path / "runs.csv"
    log = CsvLog(path, ["unit", "value"])
    log.append({"unit": "a", "value": 1})
    before = path.stat().st_ino
    log.extend({"unit": "b", "value": v} for v in range(1000))
    log.extend([])  # nothing to add: the file stays as it is
    assert path.stat().st_ino == before
    assert path.read_text().startswith("unit,value\na,1\nb,0\nb,1\n") and path.read_text().endswith("b,999\n")
    assert len(read_csv(path)) == 1001
    assert [p.name for p in tmp_path.iterdir()] == ["runs.csv"]


def _written_bytes() -> int:
    """Bytes this process has passed to write() so far (Linux)."""
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("wchar:"):
            return int(line.split()[1])
    raise AssertionError("no wchar in /proc/self/io")


@pytest.mark.skipif(not Path("/proc/self/io").exists(), reason="needs Linux's /proc/self/io")
def test_csv_log_costs_the_size_of_the_log_not_its_square(tmp_path):
    """400 units of 50 rows: writing them costs about the final size, where rewriting the log
    for every unit would cost about 200 times it."""
    log = CsvLog(tmp_path / "curves.csv", ["unit", "step", "mse"])
    start = _written_bytes()
    for unit in range(400):
        log.extend({"unit": unit, "step": step, "mse": 1.0 / (step + 1)} for step in range(50))
    written = _written_bytes() - start
    size = (tmp_path / "curves.csv").stat().st_size
    assert size * 0.9 < written < 2 * size, (written, size)  # the header was written before


def test_read_log_leaves_out_a_partial_last_line(tmp_path):
    path = tmp_path / "runs.csv"
    CsvLog(path, ["unit", "value"]).extend([{"unit": "a", "value": 1}, {"unit": "b", "value": 2}])
    types = {"unit": str, "value": int}
    assert read_log(path, types) == ([{"unit": "a", "value": 1}, {"unit": "b", "value": 2}], False)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("c,3")  # a write a crash cut short: no end of line
    assert read_log(path, types) == ([{"unit": "a", "value": 1}, {"unit": "b", "value": 2}], True)


def test_read_records_refuses_what_csv_cannot_read_with_a_value_error(tmp_path):
    path = tmp_path / "runs.csv"
    path.write_text("unit,value\n" + "a," + "9" * 200_000 + "\n")  # a cell beyond csv's field limit
    with pytest.raises(ValueError, match="runs.csv: not a readable CSV table"):
        read_records(path, {"unit": str, "value": int})


def test_csv_log_resume_keeps_the_rows_and_checks_the_header(tmp_path):
    path = tmp_path / "runs.csv"
    CsvLog(path, ["unit", "value"]).extend([{"unit": "a", "value": 1}, {"unit": "b", "value": 2}])
    log = CsvLog(path, ["unit", "value"], resume=True)
    log.append({"unit": "c", "value": 3})
    assert [r["unit"] for r in read_csv(path)] == ["a", "b", "c"]
    with pytest.raises(UsageError, match=r"runs.csv: expected the columns unit,value,extra \(got unit,value\)"):
        CsvLog(path, ["unit", "value", "extra"], resume=True)
    CsvLog(tmp_path / "new.csv", ["unit"], resume=True)  # a log that is not there yet is created
    assert (tmp_path / "new.csv").read_text() == "unit\n"


TYPES = {"name": str, "seed": int, "mse": float, "diverged": bool, "step": int, "error": str}


def test_records_read_back_are_the_records_written(tmp_path):
    """Floats round-trip bit for bit; None stays None, NaN stays NaN (both written empty)."""
    path = tmp_path / "runs.csv"
    records = [
        {"name": "f1", "seed": 0, "mse": 0.1 + 0.2, "diverged": False, "step": None, "error": None},
        {"name": "3", "seed": 2, "mse": math.nan, "diverged": True, "step": 17, "error": "ValueError: x, y"},
        {"name": "f 2", "seed": 1, "mse": 1e-300, "diverged": False, "step": 5, "error": "line\nbreak"},
        {"name": "g", "seed": 1, "mse": math.inf, "diverged": False, "step": 0, "error": ""},
    ]
    CsvLog(path, list(TYPES)).extend(records)
    back = results.read_records(path, TYPES)
    assert back[0] == records[0] and back[2] == records[2]
    assert math.isnan(back[1]["mse"]) and {k: v for k, v in back[1].items() if k != "mse"} == {k: v for k, v in records[1].items() if k != "mse"}
    assert back[3]["error"] is None and back[3]["mse"] == math.inf  # an empty text cell is None
    assert type(back[0]["seed"]) is int and type(back[0]["diverged"]) is bool


@pytest.mark.parametrize(
    "text,message",
    [
        ("name,seed\nf1,0\n", "expected the columns name,seed,mse,diverged,step,error (got name,seed)"),
        ("name,seed,mse,diverged,step,error\nf1,zero,0.1,False,,\n", "line 2, column seed: expected int (got 'zero')"),
        ("name,seed,mse,diverged,step,error\nf1,0,0.1,maybe,,\n", "line 2, column diverged: expected bool (got 'maybe')"),
        ("name,seed,mse,diverged,step,error\nf1,0,0.1,False,,,extra\n", "line 2: more cells than columns"),
        ("name,seed,mse,diverged,step,error\nf1,0,0.1\n", "line 2, column diverged: expected bool (got None)"),
    ],
)
def test_records_that_do_not_parse_name_the_line_and_column(tmp_path, text, message):
    path = tmp_path / "runs.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=re.escape(message)):
        results.read_records(path, TYPES)


def test_remove_temporaries_deletes_only_what_a_killed_write_left(tmp_path):
    (tmp_path / ".runs.csv.abc123.tmp").write_text("half")
    (tmp_path / "runs.csv").write_text("a\n")
    (tmp_path / "notes.tmp").write_text("mine")
    assert [p.name for p in results.remove_temporaries(tmp_path)] == [".runs.csv.abc123.tmp"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.tmp", "runs.csv"]


@pytest.mark.parametrize("name,text", [
    ("env.json", "[" * 100_000 + "]" * 100_000), ("env.json", "{not json"), ("env.json", "[1, 2]"),
    ("config.yaml", "a: [\n"), ("config.yaml", "a: 1\na: 2\n"), ("config.yaml", "- 1\n"), ("env.json", "\udcff"),
])
def test_read_mapping_counts_what_it_cannot_read_as_absent(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", errors="surrogateescape")
    assert read_mapping(path) is None
    assert read_mapping(tmp_path / "missing.json") is None


def test_read_mapping_reads_json_and_yaml(tmp_path):
    (tmp_path / "env.json").write_text('{"a": 1}')
    (tmp_path / "config.yaml").write_text("baseline: kan\nseeds: [0, 1]\n")
    assert read_mapping(tmp_path / "env.json") == {"a": 1}
    assert read_mapping(tmp_path / "config.yaml") == {"baseline": "kan", "seeds": [0, 1]}


# ----------------------------------------------------------------------------- values by their declared type
from hypothesis import given, settings, strategies as st  # noqa: E402

from relukan_bench.results import ENV_JSON, conforms, mapping_of, parse, parse_float, parse_int  # noqa: E402

NAMES = st.text(min_size=1, max_size=30)  # any text a name could hold: `nan`, `1e3`, `True`, quotes, line breaks


@settings(max_examples=200, deadline=None)
@given(st.lists(NAMES, min_size=1, max_size=5))
def test_any_name_written_in_a_text_column_reads_back_as_the_same_string(tmp_path_factory, names):
    path = tmp_path_factory.mktemp("names") / "runs.csv"
    types = {"model": str, "seed": int, "mse": float}
    rows = [{"model": name, "seed": 0, "mse": 0.5} for name in names]
    write_csv(path, list(types), rows)
    assert read_records(path, types) == rows
    assert read_log(path, types) == (rows, False)


INT_TEXT = re.compile(r"-?[0-9]+")
FLOAT_TEXT = re.compile(r"-?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?|-?inf|nan", re.IGNORECASE)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=12), st.text(alphabet="0123456789-+_.eE infatyINFATY\u0663\u00b2 ", max_size=8)))
def test_any_text_in_an_int_or_float_column_is_that_type_or_refused(text):
    """An int is ASCII digits with a minus; a float what `repr` writes (or an integer) and
    within a float's range; never a number of other digits, underscores or spaces, never
    another exception than ValueError."""
    for kind, pattern in ((int, INT_TEXT), (float, FLOAT_TEXT)):
        readable = bool(pattern.fullmatch(text)) and (kind is int or not (math.isinf(float(text)) and "inf" not in text.lower()))
        try:
            value = parse(text, kind)
        except ValueError:
            assert not readable and text != "" or kind is int and text == "", (kind, text)
            continue
        if text == "":
            assert value is None if kind is int else math.isnan(value)
        else:
            assert readable and type(value) is kind and value == kind(text) or math.isnan(value), (kind, text, value)


@pytest.mark.parametrize("text", ["1_0", "\u0663", " 3", "3 ", "+3", "0x10", "3.0", "\u00b2", "1e3", ""])
def test_an_int_is_ascii_digits_and_a_minus_only(text):
    with pytest.raises(ValueError):
        parse_int(text)


@pytest.mark.parametrize("text", ["1_0.5", "\u0663.0", " 1.0", "1.0\n", "infinity", "Infinity", "1e999", "-1e400", "0x1p3", "1.0f", ""])
def test_a_float_is_what_repr_writes(text):
    with pytest.raises(ValueError):
        parse_float(text)


@settings(max_examples=300, deadline=None)
@given(st.floats(allow_nan=True, allow_infinity=True))
def test_every_float_repr_writes_reads_back_bit_for_bit(value):
    back = parse_float(repr(value))
    assert back == value or (math.isnan(back) and math.isnan(value))
    assert math.copysign(1, back) == math.copysign(1, value) or math.isnan(value)


def test_the_committed_runs_env_json_all_have_the_declared_types():
    files = sorted(Path(__file__).resolve().parents[1].glob("results/**/env.json"))
    assert len(files) > 10
    for path in files:
        assert mapping_of(path) == json.loads(path.read_text()), path


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                    max_leaves=8)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(ENV_JSON)), JSON)
def test_an_env_json_field_of_another_type_makes_the_file_unreadable(tmp_path_factory, field, value):
    """Any JSON value in any declared field: the file reads as a mapping whose field has the
    declared type, or counts as unreadable (None, and a reason naming the field)."""
    path = tmp_path_factory.mktemp("env") / "env.json"
    path.write_text(json.dumps({"experiment": "fit", field: value}))
    found = read_mapping(path)
    if found is None:
        with pytest.raises(results.Unreadable, match=f"its field {field} is not "):
            mapping_of(path)
    else:
        assert conforms(found[field], ENV_JSON[field]) and found[field] == value


@pytest.mark.parametrize("field,value", [("gpus", "none"), ("devices", ["cpu", 1]), ("git", 3), ("git", {"commit": 7}),
                                         ("resumed", "yes"), ("resumed", [1]), ("threads", True), ("threads", 1.0),
                                         ("command", "relukan-bench fit"), ("quick", "false"), ("execution", [])])
def test_the_fields_a_reader_relies_on_are_checked(tmp_path, field, value):
    (tmp_path / "env.json").write_text(json.dumps({"experiment": "fit", field: value}))
    assert read_mapping(tmp_path / "env.json") is None


def test_a_config_yaml_is_not_checked_against_env_json_fields(tmp_path):
    (tmp_path / "config.yaml").write_text("gpus: none\n")
    assert read_mapping(tmp_path / "config.yaml") == {"gpus": "none"}


@pytest.mark.parametrize("reader", [read_csv, lambda path: read_log(path, {"a": str}), lambda path: read_records(path, {"a": str})])
def test_the_table_readers_refuse_a_fifo_at_once(tmp_path, reader):
    import os

    os.mkfifo(tmp_path / "runs.csv")
    with pytest.raises(OSError, match="expected a regular file, got a FIFO"):
        reader(tmp_path / "runs.csv")
    os.mkfifo(tmp_path / "env.json")
    with pytest.raises(results.Unreadable, match="expected a regular file, got a FIFO"):
        mapping_of(tmp_path / "env.json")
