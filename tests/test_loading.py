"""`relukan_bench.load`: tiny real runs of every experiment, the committed reproduce run, bad
input, and the docs against the declarations (dtypes, table.csv's templates, the notebook
example run for real)."""

from __future__ import annotations

import csv
import json
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

import relukan_bench
from relukan_bench.errors import BenchError, UsageError
from relukan_bench.experiments.protocol import experiments
from relukan_bench.loading import column_types, declared_tables
from relukan_bench.records import PANDAS_DTYPES

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO / "results" / "reference-cpu"
DOCS = REPO / "docs"

SPEED = """\
experiment: speed
seed: 0
baseline: kan
data: {samples: 32}
train: {steps: 2}
timing: {repeats: 1, warmup_steps: 1}
models:
  - {name: relukan, kind: relukan}
  - {name: kan, kind: kan}
  - {name: bspline, kind: bspline}
functions:
  - {name: f1, expression: sin(pi*x1), width: [1, 1], grid: 3, k: 2}
"""

FIT = """\
experiment: fit
seeds: [0]
baseline: kan
data: {train_samples: 32, test_samples: 8}
train: {steps: 4, lr: 0.01, log_every: 2}
models:
  - {name: relukan, kind: relukan}
  - {name: kan, kind: kan}
functions:
  - {name: f1, expression: sin(pi*x1), width: [1, 1], grid: 3, k: 2}
"""

FORGETTING = """\
experiment: forgetting
seeds: [0]
data: {points: 60, segments: 3}
network: {width: [1, 1], grid: 6, k: 1}
train: {steps_per_phase: 2, lr: 0.01, log_every: 2}
models:
  - {name: relukan, kind: relukan}
  - {name: mlp, kind: mlp}
"""

FILES = {
    "speed": {"raw", "summary", "decomposition", "table"},
    "fit": {"curves", "predictions", "runs", "summary", "table"},
    "forgetting": {"matrix", "predictions", "curves", "runs", "summary"},
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One tiny real run of each experiment, by the command line: {experiment: directory}."""
    from typer.testing import CliRunner

    from relukan_bench.cli import app

    root = tmp_path_factory.mktemp("runs")
    made = {}
    for name, text in {"speed": SPEED, "fit": FIT, "forgetting": FORGETTING}.items():
        (root / f"{name}.yaml").write_text(text)
        args = [name, "-c", str(root / f"{name}.yaml"), "--out", str(root / name), "--threads", "1"]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        made[name] = root / name
    return made


@pytest.fixture
def fit_copy(runs, tmp_path):
    """A copy of the tiny fit run, to spoil."""
    return Path(shutil.copytree(runs["fit"], tmp_path / "fit"))


def expected_cell(text: str, dtype: str):
    """What a cell should load as, decided from the text alone."""
    if dtype == "float64":
        return math.nan if text == "" else float(text)
    if text == "":
        return None
    return {"Int64": int, "boolean": lambda t: {"True": True, "False": False}[t], "string": str}[dtype](text)


def check_tables(run, directory: Path) -> None:
    """Every CSV of `directory` is a table of `run` with its file's columns, the declared dtypes
    and the file's values, cell by cell."""
    import pandas as pd

    assert set(run.tables) == {p.stem for p in directory.glob("*.csv")}
    declared = declared_tables(experiments()[run.kind])
    for stem, frame in run.tables.items():
        with open(directory / f"{stem}.csv", newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        assert list(frame.columns) == rows[0] and len(frame) == len(rows) - 1, stem
        for index, (column, kind) in enumerate(column_types(declared[stem], rows[0]).items()):
            dtype = PANDAS_DTYPES[kind]
            assert str(frame[column].dtype) == dtype, (stem, column)
            loaded = [None if value is pd.NA else value for value in frame[column].tolist()]
            wanted = [expected_cell(row[index], dtype) for row in rows[1:]]
            assert all(a == b and type(a) is type(b) or (a != a and b != b) for a, b in zip(loaded, wanted)), (stem, column)


@pytest.mark.parametrize("kind", ["speed", "fit", "forgetting"])
def test_a_tiny_real_run_loads_every_table_with_its_declared_dtypes(runs, kind):
    run = relukan_bench.load(runs[kind])
    assert run.kind == kind and run.path == runs[kind] and set(run.tables) == FILES[kind]
    check_tables(run, runs[kind])
    assert run.config == yaml.safe_load((runs[kind] / "config.yaml").read_text())
    assert run.env == json.loads((runs[kind] / "env.json").read_text()) and run.env["experiment"] == kind
    assert run.experiments == {} and run.summary is run.tables["summary"]


def test_the_columns_have_the_types_the_docs_give(runs):
    fit, speed = relukan_bench.load(runs["fit"]), relukan_bench.load(runs["speed"])
    dtypes = {column: str(dtype) for column, dtype in fit.runs.dtypes.items()}
    assert (dtypes["model"], dtypes["seed"], dtypes["diverged"], dtypes["final_test_mse"], dtypes["diverged_step"]) == (
        "string", "Int64", "boolean", "float64", "Int64")
    assert fit.runs["diverged_step"].isna().all() and fit.runs["error"].isna().all()
    assert str(fit.table["paper_note"].dtype) == "string" and str(fit.table["relukan_gain"].dtype) == "float64"
    assert str(speed.table["kan_gpu_s"].dtype) == "float64" and speed.table["kan_gpu_s"].isna().all()
    assert str(speed.decomposition["equal_effort"].dtype) == "boolean"


def test_the_committed_reproduce_run_loads_as_far_as_it_was_kept():
    run = relukan_bench.load(REFERENCE)
    assert run.kind == "reproduce" and run.tables == {} and run.config == {}
    assert run.env == json.loads((REFERENCE / "env.json").read_text())
    assert list(run.experiments) == ["speed", "fit", "forgetting"]
    for name, inner in run.experiments.items():
        assert inner.kind == name and inner.config["experiment"] == name and getattr(run, name) is inner
        check_tables(inner, REFERENCE / name)  # older columns, and no curves.csv or predictions.csv
    assert "pykan_version" not in run.speed.raw.columns and len(run.fit.runs) == 90
    assert "Run(reproduce" in repr(run) and "runs (90 rows)" in repr(run)
    with pytest.raises(AttributeError, match="has no table or experiment 'curves'"):
        run.fit.curves


def test_infinite_missing_and_true_cells_keep_what_they_mean(fit_copy):
    rows = list(csv.DictReader((fit_copy / "runs.csv").open()))
    rows[0].update(final_test_mse="inf", final_train_mse="", diverged="True", diverged_step="3", error="ValueError: x")
    rows[1].update(final_test_mse="-inf", seed="4294967295")
    with open(fit_copy / "runs.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    runs = relukan_bench.load(fit_copy).runs
    assert runs["final_test_mse"].tolist()[:2] == [math.inf, -math.inf] and math.isnan(runs["final_train_mse"][0])
    assert runs["diverged"].tolist()[:2] == [True, False] and runs["diverged_step"][0] == 3
    assert runs["diverged_step"].isna().tolist()[:2] == [False, True] and runs["seed"][1] == 4294967295
    assert runs["error"][0] == "ValueError: x" and runs["error"].isna().tolist()[:2] == [False, True]


def test_an_interrupted_or_older_run_loads_what_is_there(fit_copy):
    (fit_copy / "summary.csv").unlink()
    (fit_copy / "table.csv").unlink()
    with open(fit_copy / "runs.csv", "a") as handle:  # a crash cut the last unit's line short
        handle.write("f1,relukan,relu")
    text = (fit_copy / "curves.csv").read_text().splitlines()
    (fit_copy / "curves.csv").write_text("\n".join(line.rsplit(",", 2)[0] for line in text) + "\n")  # no test_mse, val_mse yet
    run = relukan_bench.load(fit_copy)
    assert set(run.tables) == {"runs", "curves", "predictions"} and len(run.runs) == 2
    assert list(run.curves.columns) == ["function", "model", "seed", "step", "train_mse"]


def test_an_empty_but_declared_table_keeps_its_dtypes(fit_copy):
    (fit_copy / "runs.csv").write_text((fit_copy / "runs.csv").read_text().splitlines()[0] + "\n")
    runs = relukan_bench.load(fit_copy).runs
    assert len(runs) == 0 and str(runs["seed"].dtype) == "Int64" and str(runs["diverged"].dtype) == "boolean"


def _replace(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, count))


def _spoil(case: str, fit: Path) -> Path:
    """`fit` (a copy of the tiny fit run) spoiled as `case` says; the path to load."""
    if case == "missing":
        return fit / "nowhere"
    if case == "a-file":
        return fit / "runs.csv"
    if case == "empty-directory":
        (fit.parent / "empty").mkdir()
        return fit.parent / "empty"
    spoil = {
        "config-not-yaml": lambda: (fit / "config.yaml").write_text("seeds: [0\n"),
        "config-a-list": lambda: (fit / "config.yaml").write_text("- 1\n"),
        "env-missing": lambda: (fit / "env.json").unlink(),
        "env-not-json": lambda: (fit / "env.json").write_text("{"),
        "experiment-not-a-name": lambda: _replace(fit / "env.json", '"experiment": "fit"', '"experiment": ["fit"]'),
        "unknown-experiment": lambda: _replace(fit / "env.json", '"experiment": "fit"', '"experiment": "transformer"'),
        "cell-not-an-int": lambda: _replace(fit / "runs.csv", "\nf1,relukan,relukan,loop,adam,0,", "\nf1,relukan,relukan,loop,adam,zero,"),
        "cell-not-a-bool": lambda: _replace(fit / "runs.csv", ",False,", ",maybe,"),
        "int-beyond-64-bits": lambda: _replace(fit / "runs.csv", "\nf1,relukan,relukan,loop,adam,0,", "\nf1,relukan,relukan,loop,adam,99999999999999999999,"),
        "unknown-column": lambda: _replace(fit / "runs.csv", "function,model,", "function,bogus,"),
        "column-twice": lambda: _replace(fit / "summary.csv", "function,model,", "function,function,"),
        "unknown-table-column": lambda: _replace(fit / "table.csv", "relukan_test_mse", "relukan_test_rmse"),
        "template-spelled-out": lambda: _replace(fit / "table.csv", "relukan_test_mse", "{M}_test_mse"),
        "more-cells": lambda: _replace(fit / "summary.csv", "\nf1,relukan,", "\nf1,relukan,extra,"),
        "not-utf8": lambda: (fit / "predictions.csv").write_bytes(b"function,model\n\xff\xfe,x\n"),
        "empty-csv": lambda: (fit / "summary.csv").write_text(""),
        "nul-byte": lambda: (fit / "summary.csv").write_bytes(b"function,mo\0del\n"),
        "int-with-underscores": lambda: _replace(fit / "runs.csv", "\nf1,relukan,relukan,loop,adam,0,", "\nf1,relukan,relukan,loop,adam,1_0,"),
        "int-in-other-digits": lambda: _replace(fit / "runs.csv", "\nf1,relukan,relukan,loop,adam,0,", "\nf1,relukan,relukan,loop,adam,\u0663,"),
        "float-beyond-a-float": lambda: _set_cell(fit / "runs.csv", "final_test_mse", "1e999"),
        "float-with-underscores": lambda: _set_cell(fit / "runs.csv", "final_test_mse", "1_0.5"),
        "table-fifo": lambda: _special(fit / "runs.csv", "fifo"),
        "table-directory": lambda: _special(fit / "runs.csv", "directory"),
        "table-symlink-loop": lambda: _special(fit / "runs.csv", "runs.csv"),
        "table-dev-zero": lambda: _special(fit / "runs.csv", "/dev/zero"),
        "table-dangling-symlink": lambda: _special(fit / "curves.csv", "nowhere.csv"),
        "env-fifo": lambda: _special(fit / "env.json", "fifo"),
        "config-fifo": lambda: _special(fit / "config.yaml", "fifo"),
        "env-field-a-string-for-a-list": lambda: _replace(fit / "env.json", '"gpus": []', '"gpus": "none"'),
        "env-field-a-number-for-a-mapping": lambda: _replace(fit / "env.json", '"git": ', '"git": 7, "was": '),
    }
    spoil[case]()
    return fit


def _set_cell(path: Path, column: str, text: str) -> None:
    """The first row's `column` of the CSV at `path` set to `text`."""
    rows = list(csv.DictReader(path.open(newline="")))
    rows[0][column] = text
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _special(path: Path, kind: str) -> None:
    """`path` replaced by a FIFO, a directory, or a symbolic link to `kind`."""
    import os

    path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "directory":
        path.mkdir()
    else:
        path.symlink_to(kind)


BAD = [
    ("missing", "nowhere: expected a run directory (no such directory)"),
    ("a-file", "runs.csv: expected a run directory (a file)"),
    ("empty-directory", "empty: not a run directory: expected config.yaml and env.json"),
    ("config-not-yaml", "config.yaml: expected the run's config as a YAML mapping (not YAML)"),
    ("config-a-list", "config.yaml: expected the run's config as a YAML mapping"),
    ("env-missing", "env.json: expected the run's environment as a JSON object (missing)"),
    ("env-not-json", "env.json: expected the run's environment as a JSON object (not JSON)"),
    ("unknown-experiment", "env.json: expected the experiment one of speed, fit, forgetting (got 'transformer')"),
    ("experiment-not-a-name", "env.json: expected the run's environment as a JSON object (its field experiment is not text)"),
    ("cell-not-an-int", "runs.csv: expected a fit runs.csv: line 2, column seed: expected int (got 'zero')"),
    ("cell-not-a-bool", "runs.csv: expected a fit runs.csv: line 2, column diverged: expected bool (got 'maybe')"),
    ("int-beyond-64-bits", "runs.csv: column seed: expected Int64 values"),
    ("unknown-column", "runs.csv: expected a fit runs.csv: 'bogus' is not one of its columns (docs/outputs.md)"),
    ("column-twice", "summary.csv: expected a fit summary.csv: the column 'function' is given twice"),
    ("unknown-table-column", "table.csv: expected a fit table.csv: 'relukan_test_rmse' is not one of its columns"),
    ("template-spelled-out", "table.csv: expected a fit table.csv: '{M}_test_mse' is not one of its columns"),
    ("more-cells", "summary.csv: expected a fit summary.csv: line 2: more cells than columns"),
    ("not-utf8", "predictions.csv: expected a fit predictions.csv in UTF-8 (byte 15 is not)"),
    ("empty-csv", "summary.csv: expected a fit summary.csv: empty file, expected a header row"),
    ("nul-byte", "summary.csv: expected a fit summary.csv: "),
    ("int-with-underscores", "runs.csv: expected a fit runs.csv: line 2, column seed: expected int (got '1_0')"),
    ("int-in-other-digits", "runs.csv: expected a fit runs.csv: line 2, column seed: expected int (got '\u0663')"),
    ("float-beyond-a-float", "runs.csv: expected a fit runs.csv: line 2, column final_test_mse: expected float (got '1e999')"),
    ("float-with-underscores", "runs.csv: expected a fit runs.csv: line 2, column final_test_mse: expected float (got '1_0.5')"),
    ("table-fifo", "runs.csv: cannot read a fit runs.csv (expected a regular file, got a FIFO)"),
    ("table-directory", "runs.csv: cannot read a fit runs.csv (expected a regular file, got a directory)"),
    ("table-symlink-loop", "runs.csv: cannot read a fit runs.csv (Too many levels of symbolic links)"),
    ("table-dev-zero", "runs.csv: cannot read a fit runs.csv (expected a regular file, got a character device)"),
    ("table-dangling-symlink", "curves.csv: cannot read a fit curves.csv (No such file or directory)"),
    ("env-fifo", "env.json: expected the run's environment as a JSON object (expected a regular file, got a FIFO)"),
    ("config-fifo", "config.yaml: expected the run's config as a YAML mapping (expected a regular file, got a FIFO)"),
    ("env-field-a-string-for-a-list", "env.json: expected the run's environment as a JSON object (its field gpus is not a list of text)"),
    ("env-field-a-number-for-a-mapping", "env.json: expected the run's environment as a JSON object (its field git is not an object or null)"),
]


@pytest.mark.parametrize("case,message", BAD, ids=[case for case, _ in BAD])
def test_bad_input_is_one_line_naming_the_file(fit_copy, case, message):
    import signal

    path = _spoil(case, fit_copy)
    signal.alarm(10)  # a FIFO read would block: fail rather than hang
    try:
        with pytest.raises(UsageError) as raised:
            relukan_bench.load(path)
    finally:
        signal.alarm(0)
    text = str(raised.value)
    assert isinstance(raised.value, BenchError) and "\n" not in text and len(text) < 400
    assert message in text, text


def test_a_huge_bad_cell_is_clipped_in_the_message(fit_copy):
    _replace(fit_copy / "runs.csv", "\nf1,relukan,relukan,loop,adam,0,", "\nf1,relukan,relukan,loop,adam," + "9x" * 50_000 + ",")
    with pytest.raises(UsageError) as raised:
        relukan_bench.load(fit_copy)
    assert "column seed: expected int" in str(raised.value) and len(str(raised.value)) <= 300


def test_a_reproduce_directory_checks_what_it_holds(runs, tmp_path):
    reproduce = tmp_path / "reproduce"
    reproduce.mkdir()
    (reproduce / "env.json").write_text(json.dumps({"experiment": "reproduce"}))
    shutil.copytree(runs["fit"], reproduce / "fit")  # speed and forgetting never started
    run = relukan_bench.load(reproduce)
    assert list(run.experiments) == ["fit"] and set(run.fit.tables) == FILES["fit"]
    shutil.copytree(runs["forgetting"], reproduce / "speed")
    with pytest.raises(UsageError, match=r"speed/env\.json: expected the experiment speed \(got 'forgetting'\)"):
        relukan_bench.load(reproduce)
    shutil.rmtree(reproduce / "speed")
    (reproduce / "env.json").write_text(json.dumps({"experiment": "fit"}))
    with pytest.raises(UsageError, match=r"reproduce/env\.json: expected a reproduce run's environment \(got experiment 'fit'\)"):
        relukan_bench.load(reproduce)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.text(min_size=1, max_size=20), st.text(min_size=1, max_size=20)), min_size=1, max_size=4))
def test_any_name_written_as_a_record_is_the_same_string_by_load_and_by_json(tmp_path, names):
    """`nan`, `1_000`, `1e3`, `inf`, `True`, quotes, line breaks: a name is text, by load() and
    by --json (relukan_bench.outcome_json), whatever it looks like."""
    from relukan_bench.experiments.fit.records import SummaryRecord
    from relukan_bench.outcome_json import dumps, summary_rows
    from relukan_bench.results import write_csv, write_json, write_text

    run = tmp_path / "named"
    run.mkdir(exist_ok=True)
    write_text(run / "config.yaml", "experiment: fit\n")
    write_json(run / "env.json", {"experiment": "fit"})
    rows = [SummaryRecord.blank(function=function, model=model, tuned_model=model, selected=True, n_seeds=3,
                                final_test_mse=0.25) for function, model in names]
    write_csv(run / "summary.csv", SummaryRecord.columns(), rows)
    summary = relukan_bench.load(run).summary
    assert list(zip(summary["function"], summary["model"])) == names
    assert summary["n_seeds"].tolist() == [3] * len(names) and str(summary["n_seeds"].dtype) == "Int64"
    found = json.loads(dumps({"summary": summary_rows(run, "fit")}))["summary"]
    assert [(row["function"], row["model"]) for row in found] == names
    assert all(row["n_seeds"] == 3 and row["final_test_mse"] == 0.25 and row["selected"] is True and row["gain"] is None
               for row in found)


@pytest.mark.parametrize("models,baseline", [(["relukan", "kan"], "kan"), (["a.b-c_d", "paper_x", "x_gain", "k"], "k"),
                                             (["relukan"], None)])
def test_table_csv_columns_as_written_all_match_their_templates(models, baseline):
    from relukan_bench.experiments.fit.paper import table_columns as fit_columns
    from relukan_bench.experiments.speed.paper import table_columns as speed_columns

    for name, columns in {"fit": fit_columns(models, baseline), "speed": speed_columns(models, baseline)}.items():
        types = column_types(experiments()[name].layouts["table"], columns)
        assert list(types) == columns
        assert {c for c, kind in types.items() if kind is str} == ({"function", "paper_note"} if name == "fit" else {"function"})


def _markdown_rows(lines: list[str]) -> list[list[str]]:
    """The cells of the markdown table at the start of `lines` (header and rule left out)."""
    rows = []
    for line in lines:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows[2:]


def test_the_docs_give_the_dtypes_the_code_gives():
    lines = (DOCS / "outputs.md").read_text(encoding="utf-8").splitlines()
    start = lines.index("| type | pandas dtype | an empty cell |")
    documented = {row[0]: row[1].strip("`") for row in _markdown_rows(lines[start:])}
    assert documented == {kind.__name__: dtype for kind, dtype in PANDAS_DTYPES.items()}


def test_the_docs_give_every_layout_template_by_template():
    """`### <experiment>/<file> (columns depend on the models)` and its table, against
    `Experiment.layouts`, both ways."""
    lines = (DOCS / "outputs.md").read_text(encoding="utf-8").splitlines()
    documented = {}
    for number, line in enumerate(lines):
        heading = re.match(r"^### (\w+)/(\w+)\.csv \(columns depend on the models\)$", line)
        if heading:
            start = next(i for i in range(number + 1, len(lines)) if lines[i].startswith("| column | type |"))
            documented[f"{heading[1]}/{heading[2]}"] = [(row[0].strip("`"), row[1]) for row in _markdown_rows(lines[start:])]
    declared = {f"{name}/{stem}": [(column, kind.__name__) for column, kind in layout.items()]
                for name, exp in experiments().items() for stem, layout in exp.layouts.items()}
    assert documented == declared and len(declared) == 2


def test_the_notebook_example_is_five_lines_and_redraws_the_speed_figure(monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    text = (DOCS / "notebook.md").read_text(encoding="utf-8")
    example = re.search(r"```python\n(.*?)```", text, re.S)[1]
    assert len(example.strip().splitlines()) == 5 and "(notebook.md)" in (DOCS / "outputs.md").read_text()
    monkeypatch.chdir(REPO)
    plt.close("all")
    exec(compile(example, "docs/notebook.md", "exec"), {})
    axes, speed = plt.gcf().axes[0], relukan_bench.load(REFERENCE).speed
    models = [model["name"] for model in speed.config["models"]]
    assert len(axes.patches) == len(speed.summary) == speed.summary["function"].nunique() * len(models)
    assert [text.get_text() for text in axes.get_legend().get_texts()] == models and axes.get_yscale() == "log"
    plt.close("all")


def test_importing_the_package_or_loading_a_run_imports_no_torch():
    code = ("import sys, relukan_bench; heavy = [m for m in ('torch', 'pandas') if m in sys.modules]; "
            "run = relukan_bench.load(sys.argv[1]); print(','.join(heavy), 'torch' in sys.modules, len(run.fit.runs))")
    out = subprocess.run([sys.executable, "-c", code, str(REFERENCE)], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "90"], out.stdout
