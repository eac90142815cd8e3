"""`compare` on hand-made tables whose outcome is known, then through the CLI."""

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from relukan_bench import compare
from relukan_bench.cli import app
from relukan_bench.compare_sides import load
from relukan_bench.errors import UsageError
from relukan_bench.experiments.fit import records as fit_records
from relukan_bench.experiments.forgetting import records as forgetting_records
from relukan_bench.experiments.speed import records as speed_records
from relukan_bench.results import read_csv, write_csv

REPO = Path(__file__).resolve().parents[1]
PAPER = REPO / "results" / "paper"

ENV = {"cpu": "AMD EPYC", "gpu": None, "torch": "2.13.0+cpu", "pykan": "0.2.8", "threads": 1}


def fit_run(directory: Path, values: dict, env: dict | None = ENV, config: str | None = None) -> Path:
    """A fit run directory: `values` maps (function, model) to final_test_mse, or to a dict of
    summary columns."""
    directory.mkdir(parents=True)
    rows = []
    for (function, model), value in values.items():
        row = {"function": function, "model": model, "kind": model, "trainer": "loop", "n_seeds": 1, "diverged": 0}
        row.update(value if isinstance(value, dict) else {"final_test_mse": value})
        rows.append(row)
    write_csv(directory / "summary.csv", fit_records.SUMMARY_COLUMNS, rows)
    if env is not None:
        (directory / "env.json").write_text(json.dumps(env))
    if config is not None:
        (directory / "config.yaml").write_text(config)
    return directory


def speed_run(directory: Path, ms: dict, env: dict | None = ENV, speedups: dict | None = None) -> Path:
    """A speed run directory with raw repeats: `ms` maps (function, model) to the list of ms per
    step of its repeats."""
    directory.mkdir(parents=True)
    raw, summary = [], []
    for (function, model), repeats in ms.items():
        for index, value in enumerate(repeats):
            raw.append({"function": function, "model": model, "kind": model, "device": "cpu", "repeat": index,
                        "seed": 0, "steps": 100, "warmup_steps": 1, "seconds": value / 10, "ms_per_step": value})
        ordered = sorted(repeats)
        summary.append({"function": function, "model": model, "device": "cpu", "n": len(repeats),
                        "median_s": ordered[len(ordered) // 2] / 10, "ms_per_step": ordered[len(ordered) // 2],
                        "speedup": (speedups or {}).get((function, model), 1.0 if model == "kan" else math.nan)})
    write_csv(directory / "raw.csv", speed_records.RAW_COLUMNS, raw)
    write_csv(directory / "summary.csv", speed_records.SUMMARY_COLUMNS, summary)
    if env is not None:
        (directory / "env.json").write_text(json.dumps(env))
    return directory


def run(base: Path, new: Path, threshold: float = 1.10) -> list:
    return compare.compare(load(base), load(new), threshold)


def marks(comparison) -> dict:
    return {row.keys: row.mark for row in comparison.rows}


# ----------------------------------------------------------------------------- fit
def test_fit_better_worse_within_and_missing(tmp_path):
    base = fit_run(tmp_path / "a", {("f1", "relukan"): 1e-3, ("f2", "relukan"): 1e-3, ("f3", "relukan"): 1e-3,
                                    ("f4", "relukan"): 1e-3})
    new = fit_run(tmp_path / "b", {("f1", "relukan"): 2e-3, ("f2", "relukan"): 5e-4, ("f3", "relukan"): 1.05e-3,
                                   ("f5", "relukan"): 1e-3})
    [result] = run(base, new)
    assert result.experiment == "fit" and result.warnings == []
    assert marks(result) == {("f1", "relukan"): "+", ("f2", "relukan"): "-", ("f3", "relukan"): "~",
                             ("f4", "relukan"): "x", ("f5", "relukan"): "x"}
    by_key = {row.keys: row for row in result.rows}
    assert by_key[("f1", "relukan")].ratio == pytest.approx(2.0)
    assert by_key[("f4", "relukan")].note == "only in BASE" and by_key[("f5", "relukan")].note == "only in NEW"
    [geomean] = result.summary  # over the three rows both sides have: (2 * 0.5 * 1.05) ** (1/3)
    assert geomean.keys == ("geomean", "relukan") and geomean.ratio == pytest.approx(1.05 ** (1 / 3))
    assert geomean.mark == "~"


def test_fit_threshold_is_respected(tmp_path):
    base = fit_run(tmp_path / "a", {("f1", "relukan"): 1e-3})
    new = fit_run(tmp_path / "b", {("f1", "relukan"): 1.3e-3})
    assert marks(run(base, new)[0]) == {("f1", "relukan"): "+"}
    assert marks(run(base, new, threshold=1.5)[0]) == {("f1", "relukan"): "~"}
    with pytest.raises(UsageError, match="--threshold"):
        run(base, new, threshold=1.0)


def test_fit_seed_ranges_that_overlap_are_not_a_change(tmp_path):
    ranged = lambda value, low, high: {"final_test_mse": value, "final_test_mse_min": low,  # noqa: E731
                                       "final_test_mse_max": high, "n_seeds": 3}
    base = fit_run(tmp_path / "a", {("f1", "kan"): ranged(1e-3, 1e-4, 1e-2), ("f2", "kan"): ranged(1e-3, 9e-4, 1.1e-3)})
    new = fit_run(tmp_path / "b", {("f1", "kan"): ranged(3e-3, 5e-4, 5e-2), ("f2", "kan"): ranged(3e-3, 2e-3, 4e-3)})
    [result] = run(base, new)
    by_key = {row.keys: row for row in result.rows}
    assert by_key[("f1", "kan")].mark == "~" and by_key[("f1", "kan")].note == "within the seeds' range"
    assert by_key[("f2", "kan")].mark == "+"


def test_a_diverged_row_on_one_side_is_marked(tmp_path):
    base = fit_run(tmp_path / "a", {("f1", "kan"): 1e-3, ("f2", "kan"): 1e-3, ("f3", "kan"): math.inf})
    new = fit_run(tmp_path / "b", {("f1", "kan"): {"final_test_mse": 1e-3, "diverged": 1},
                                   ("f2", "kan"): math.inf, ("f3", "kan"): math.inf})
    [result] = run(base, new)
    by_key = {row.keys: row for row in result.rows}
    assert by_key[("f1", "kan")].mark == "!" and "NEW" in by_key[("f1", "kan")].note
    assert by_key[("f2", "kan")].mark == "!"
    assert by_key[("f3", "kan")].mark == "~" and by_key[("f3", "kan")].note == "failed on both sides"
    assert result.summary == []  # no row both sides could divide


def test_different_environments_are_named(tmp_path):
    base = fit_run(tmp_path / "a", {("f1", "kan"): 1e-3})
    new = fit_run(tmp_path / "b", {("f1", "kan"): 1e-3}, env={**ENV, "threads": 2, "torch": "2.5.1"})
    [result] = run(base, new)
    [warning] = result.warnings
    assert "torch 2.13.0+cpu vs 2.5.1" in warning and "threads 1 vs 2" in warning
    assert "AMD EPYC" not in warning  # the CPU is the same
    bare = fit_run(tmp_path / "c", {("f1", "kan"): 1e-3}, env=None)
    assert "no env.json" in run(base, bare)[0].warnings[0]


def test_smoke_runs_and_config_differences_are_named(tmp_path):
    from relukan_bench.config import dump_config, load_config
    from relukan_bench.experiments.fit.config import FitConfig

    shipped = REPO / "configs" / "fit.yaml"
    full = dump_config(load_config(shipped, [], FitConfig))
    smoke = dump_config(load_config(shipped, ["train.steps=20", "seeds=[0]"], FitConfig))
    base = fit_run(tmp_path / "a", {("f1", "kan"): 1e-3}, config=full)
    new = fit_run(tmp_path / "b", {("f1", "kan"): 1e-3}, env={**ENV, "quick": True}, config=smoke)
    [result] = run(base, new)
    assert result.warnings == [
        f"{new / 'summary.csv'} is a smoke run (--quick): its numbers are not results",
        "the runs' configs differ, so their rows may measure different things: seeds: [0, 1, 2] -> [0]; "
        "train.steps: 5000 -> 20",
    ]
    same = fit_run(tmp_path / "c", {("f1", "kan"): 1e-3}, config=full)
    assert run(base, same)[0].warnings == []
    broken = fit_run(tmp_path / "d", {("f1", "kan"): 1e-3}, config="train: {steps: -1}\n")
    assert run(base, broken)[0].warnings[0].startswith("the configs were not compared (")


# ----------------------------------------------------------------------------- speed
def test_speed_difference_needs_a_significant_test(tmp_path):
    steady = [10.0, 10.1, 9.9, 10.05, 9.95, 10.02, 9.98]
    base = speed_run(tmp_path / "a", {("f1", "relukan"): steady, ("f2", "relukan"): steady,
                                      ("f3", "relukan"): steady, ("f4", "relukan"): steady[:3]})
    noisy = [6.0, 30.0, 7.0, 25.0, 12.0, 40.0, 9.0]  # median 12: 20% slower, but it overlaps the base
    new = speed_run(tmp_path / "b", {("f1", "relukan"): [2 * v for v in steady], ("f2", "relukan"): [v / 2 for v in steady],
                                     ("f3", "relukan"): noisy, ("f4", "relukan"): [2 * v for v in steady[:3]]})
    [result] = run(base, new)
    by_key = {row.keys: row for row in result.rows}
    slower, faster, noise, few = (by_key[(f, "relukan", "cpu")] for f in ("f1", "f2", "f3", "f4"))
    assert slower.metric == "ms_per_step" and slower.mark == "+" and slower.p < 0.01 and slower.ratio == pytest.approx(2.0)
    assert faster.mark == "-" and faster.p < 0.01
    assert noise.ratio > 1.10 and noise.mark == "~" and noise.p >= 0.01 and "not significant" in noise.note
    assert few.mark == "+" and few.p is None and "ratio alone" in few.note
    assert result.tested


def test_speed_summary_alone_is_decided_by_the_ratio(tmp_path):
    base = speed_run(tmp_path / "a", {("f1", "relukan"): [10.0] * 7})
    new = speed_run(tmp_path / "b", {("f1", "relukan"): [12.0] * 7})
    [result] = run(base / "summary.csv", new / "summary.csv")
    [row] = result.rows
    assert row.mark == "+" and row.p is None and not result.tested


def test_speed_against_the_paper_compares_speedups(tmp_path):
    config = (REPO / "configs" / "speed.yaml").read_text()
    ours = speed_run(tmp_path / "run", {("f1", "relukan"): [1.0], ("f1", "kan"): [5.0], ("f2", "relukan"): [1.0],
                                        ("f2", "kan"): [2.0]},
                     speedups={("f1", "relukan"): 5.0, ("f2", "relukan"): 2.0})
    (ours / "config.yaml").write_text(config)
    [result] = run(PAPER, ours)
    assert all(row.metric == "speedup" for row in result.rows)
    by_key = {row.keys: row for row in result.rows}
    assert by_key[("f1", "relukan", "cpu")].base == pytest.approx(2.80 / 0.56)
    assert by_key[("f1", "relukan", "cpu")].mark == "~"  # 5.0x against the paper's 5.0x
    assert by_key[("f2", "relukan", "cpu")].mark == "+"  # 2x against 3.9x: slower than the paper says
    assert by_key[("f1", "relukan", "cuda")].mark == "x"  # the paper's GPU rows: not run here
    assert ("f1", "kan", "cpu") not in by_key  # the baseline has no speedup of its own
    assert "paper does not state its hardware" in result.warnings[0]


def test_a_function_that_is_not_the_papers_is_not_compared_with_it(tmp_path):
    config = (REPO / "configs" / "speed.yaml").read_text().replace("expression: sin(pi*x1)\n", "expression: cos(x1)\n", 1)
    assert "cos(x1)" in config
    ours = speed_run(tmp_path / "run", {("f1", "relukan"): [1.0], ("f1", "kan"): [5.0]}, speedups={("f1", "relukan"): 5.0})
    (ours / "config.yaml").write_text(config)
    [result] = run(PAPER, ours)
    row = {row.keys: row for row in result.rows}[("f1", "relukan", "cpu")]
    assert row.base is None and row.mark == "x" and row.note == "the paper ran a different function"


# ----------------------------------------------------------------------------- fit against the paper
def test_fit_against_the_paper_skips_the_functions_its_relukan_did_not_run(tmp_path):
    ours = fit_run(tmp_path / "run", {("f3", "relukan"): 1e-4, ("f3", "kan"): 1e-5, ("f1", "relukan"): 5.8e-6},
                   config=(REPO / "configs" / "fit.yaml").read_text())
    [result] = run(PAPER / "fit.csv", ours)
    by_key = {row.keys: row for row in result.rows}
    assert by_key[("f3", "relukan")].mark == "x" and by_key[("f3", "relukan")].note == "the paper ran a different function"
    assert by_key[("f3", "kan")].base == pytest.approx(2.258e-05) and by_key[("f3", "kan")].mark == "-"
    assert by_key[("f1", "relukan")].mark == "~"
    bare = fit_run(tmp_path / "bare", {("f1", "relukan"): 5.8e-6})
    assert "matched to the paper's by name only" in run(PAPER, bare)[0].warnings[-1]


# ----------------------------------------------------------------------------- forgetting
def test_forgetting_compares_three_measures_and_floors_negative_forgetting(tmp_path):
    def summary(directory, rows):
        directory.mkdir()
        full = [{"kind": "relukan", "n_seeds": 1, "diverged": 0, "params": 79, **row} for row in rows]
        write_csv(directory / "summary.csv", forgetting_records.SUMMARY_COLUMNS, full)
        return directory

    base = summary(tmp_path / "a", [{"model": "relukan", "learned_mse": 4e-3, "final_mse": 5e-3, "forgetting": 2.6e-3},
                                    {"model": "kan", "learned_mse": 2e-2, "final_mse": 3e-2, "forgetting": -5e-3}])
    new = summary(tmp_path / "b", [{"model": "relukan", "learned_mse": 4e-3, "final_mse": 5e-2, "forgetting": 4.6e-2},
                                   {"model": "kan", "learned_mse": 2e-2, "final_mse": 3e-2, "forgetting": -1e-3}])
    [result] = run(base, new)
    rows = {(row.keys, row.metric): row for row in result.rows}
    assert rows[(("relukan",), "learned_mse")].mark == "~"
    assert rows[(("relukan",), "final_mse")].mark == "+" and rows[(("relukan",), "forgetting")].mark == "+"
    assert rows[(("kan",), "forgetting")].mark == "~" and rows[(("kan",), "forgetting")].ratio == 1.0  # both floored
    assert {row.metric for row in result.summary} == {"learned_mse", "final_mse", "forgetting"}
    with pytest.raises(UsageError, match="no numbers for forgetting"):
        run(PAPER, base)


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("content, message", [
    ("", "empty file"),
    ("a,b\n1,2\n", "not a relukan-bench table"),
    ("function,model,kind,trainer,n_seeds,diverged,final_test_mse\nf1,kan,kan,loop,1,0,abc\n",
     "line 2, column final_test_mse: expected a number (got 'abc')"),
    ("function,model,kind,trainer,n_seeds,diverged,final_test_mse\nf1,kan,kan,loop,1,0\n", "line 2: expected 7 cells"),
    ("function,model,kind,trainer,n_seeds,diverged,final_test_mse\n,kan,kan,loop,1,0,1e-3\n",
     "line 2, column function: expected a name"),
    ("function,model,kind,trainer,n_seeds,diverged,final_test_mse\nf1,kan,kan,loop,1,0,1_000\n",
     "line 2, column final_test_mse: expected a number (got '1_000')"),
    ("function,model,kind,trainer,n_seeds,diverged,final_test_mse\nf1,kan,kan,loop,\u0663,0,1e-3\n",
     "line 2, column n_seeds: expected a number (got '\u0663')"),
    ("function,model,kind,trainer,n_seeds,diverged,final_test_mse\nf1,kan,kan,loop,1,0,1e999\n",
     "line 2, column final_test_mse: expected a number (got '1e999')"),
])
def test_malformed_csvs_are_refused(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(UsageError) as caught:
        load(path)
    assert str(caught.value).startswith(f"{path}: ") and message in str(caught.value)


def test_unrelated_and_missing_inputs_are_refused(tmp_path):
    with pytest.raises(UsageError, match="no such file"):
        load(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match="not a results directory"):
        load(tmp_path / "empty")
    fits = fit_run(tmp_path / "fit", {("f1", "kan"): 1e-3})
    speeds = speed_run(tmp_path / "speed", {("f1", "kan"): [1.0]})
    with pytest.raises(UsageError, match="no experiment in common"):
        run(fits, speeds)


# ----------------------------------------------------------------------------- the CLI
def invoke(*args):
    return CliRunner().invoke(app, ["compare", *[str(a) for a in args]], terminal_width=160)


def test_cli_writes_the_table_and_fails_on_regression_only_when_asked(tmp_path):
    base = fit_run(tmp_path / "a", {("f1", "kan"): 1e-3, ("f2", "kan"): 1e-3})
    new = fit_run(tmp_path / "b", {("f1", "kan"): 2e-3, ("f2", "kan"): 1e-3})
    out = tmp_path / "compare.csv"
    result = invoke(base, new, "--out", out)
    assert result.exit_code == 0, result.output
    assert "geomean" in result.stdout and "+" in result.stdout
    rows = read_csv(out)
    assert list(rows[0]) == ["function", "model", "base", "new", "ratio", "mark", "metric", "p", "note"]
    assert [(r["function"], r["model"], r["mark"]) for r in rows] == [("f1", "kan", "+"), ("f2", "kan", "~"),
                                                                      ("geomean", "kan", "+")]  # sqrt(2 * 1)
    assert float(rows[0]["ratio"]) == pytest.approx(2.0)
    failing = invoke(base, new, "--fail-on-regression")
    assert failing.exit_code == 1 and "1 row(s) worse" in failing.stderr
    assert invoke(new, base, "--fail-on-regression").exit_code == 0  # better is not a regression


def test_cli_bad_input_is_one_line_and_exit_2(tmp_path):
    base = fit_run(tmp_path / "a", {("f1", "kan"): 1e-3})
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y\n1,2\n")
    for args in [(base, bad), (base, tmp_path / "missing"), (base, base, "--threshold", "0.9")]:
        result = invoke(*args)
        assert result.exit_code == 2
        assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
        assert "Traceback" not in result.output
    out = tmp_path / "out.csv"
    assert invoke(base, bad, "--out", out).exit_code == 2 and not out.exists()


def test_cli_compares_every_experiment_of_two_reproduce_runs(tmp_path):
    for name in ("a", "b"):
        fit_run(tmp_path / name / "fit", {("f1", "kan"): 1e-3})
        speed_run(tmp_path / name / "speed", {("f1", "kan"): [1.0] * 7})
    out = tmp_path / "both.csv"
    result = invoke(tmp_path / "a", tmp_path / "b", "--out", out)
    assert result.exit_code == 0, result.output
    rows = read_csv(out)
    assert list(rows[0])[:4] == ["experiment", "function", "model", "device"]
    assert {r["experiment"] for r in rows} == {"speed", "fit"}


def test_a_tuned_model_is_compared_by_its_selected_candidate(tmp_path):
    """Against an untuned run, a tuned run's model is its kept candidate; the others never count."""
    base = fit_run(tmp_path / "a", {("f1", "relukan"): 1e-3, ("f1", "kan"): 1e-2})
    tuned = {
        ("f1", "relukan.lr0.01"): {"tuned_model": "relukan", "candidate": "lr0.01", "selected": True, "final_test_mse": 5e-4},
        ("f1", "relukan.lr0.1"): {"tuned_model": "relukan", "candidate": "lr0.1", "selected": False, "final_test_mse": 1e-9},
        ("f1", "kan.lbfgs"): {"tuned_model": "kan", "candidate": "lbfgs", "selected": True, "final_test_mse": 1e-2},
    }
    [result] = run(base, fit_run(tmp_path / "b", tuned))
    assert marks(result) == {("f1", "relukan"): "-", ("f1", "kan"): "~"}
    by_key = {row.keys: row for row in result.rows}
    assert by_key[("f1", "relukan")].ratio == pytest.approx(0.5)  # the kept candidate, not the unkept 1e-9


# ----------------------------------------------------------------------------- files: what is read, what is written
def test_names_that_look_like_numbers_are_compared_as_names(tmp_path):
    names = {("nan", "1e3"): 1e-3, ("inf", "True"): 2e-3, ("1_000", "null"): 3e-3}
    [result] = run(fit_run(tmp_path / "a", names), fit_run(tmp_path / "b", names))
    assert set(marks(result)) == set(names) and set(marks(result).values()) == {"~"}


@pytest.mark.parametrize("spoil", ["fifo", "directory", "loop", "dev-zero"])
def test_a_table_that_is_not_a_regular_file_is_refused_at_once(tmp_path, spoil):
    import os

    base = speed_run(tmp_path / "a", {("f1", "kan"): [1.0] * 7})
    (base / "raw.csv").unlink()
    {"fifo": lambda p: os.mkfifo(p), "directory": lambda p: p.mkdir(), "loop": lambda p: p.symlink_to(p.name),
     "dev-zero": lambda p: p.symlink_to("/dev/zero")}[spoil](base / "raw.csv")
    with pytest.raises(UsageError, match=r"a/raw\.csv: cannot read it as CSV \((expected a regular file|Too many levels)"):
        load(base)


@pytest.mark.parametrize("env", ["fifo", '{"cpu": ["AMD"], "threads": "1"}', '{"git": 3}'])
def test_an_env_json_that_cannot_be_read_counts_as_absent(tmp_path, env):
    import os

    base = fit_run(tmp_path / "a", {("f1", "kan"): 1e-3}, env=None)
    if env == "fifo":
        os.mkfifo(base / "env.json")
    else:
        (base / "env.json").write_text(env)
    [result] = run(base, fit_run(tmp_path / "b", {("f1", "kan"): 1e-3}))
    assert any(warning.startswith(f"no env.json beside {base / 'summary.csv'}") for warning in result.warnings)


def test_the_out_table_is_never_written_over_a_file_the_comparison_read(tmp_path):
    a = speed_run(tmp_path / "a", {("f1", "kan"): [1.0] * 7})
    b = speed_run(tmp_path / "b", {("f1", "kan"): [1.0] * 7})
    (a / "config.yaml").write_text("experiment: speed\n")
    for target in (a / "raw.csv", a / "summary.csv", a / "env.json", a / "config.yaml", tmp_path / "b" / ".." / "b" / "raw.csv"):
        before = target.read_bytes()
        result = invoke(a, b, "--out", target)
        assert result.exit_code == 2 and "is also an input of this command" in result.stderr, result.output
        assert result.stdout == "" and target.read_bytes() == before


def test_the_out_table_replaces_a_regular_file_and_nothing_else(tmp_path):
    import os

    base = fit_run(tmp_path / "a", {("f1", "kan"): 1e-3})
    new = fit_run(tmp_path / "b", {("f1", "kan"): 1e-3})
    out = tmp_path / "cmp.csv"
    out.write_text("old\n")
    assert invoke(base, new, "--out", out).exit_code == 0 and read_csv(out)[0]["mark"] == "~"  # its rule: replaced
    os.mkfifo(tmp_path / "pipe.csv")
    (tmp_path / "stdout.csv").symlink_to("/proc/self/fd/1")
    (tmp_path / "dir").mkdir()
    for target, what in (("pipe.csv", "a FIFO"), ("stdout.csv", "a symbolic link"), ("dir", "a directory")):
        result = invoke(base, new, "--out", tmp_path / target)
        assert result.exit_code == 2 and f"expected a regular file or a new path (got {what}" in result.stderr
    assert (tmp_path / "stdout.csv").is_symlink() and (tmp_path / "dir").is_dir() and not (tmp_path / "pipe.csv").is_file()


@pytest.mark.parametrize("state", ["interrupted", "killed", "being written"])
def test_a_run_that_is_not_finished_is_named_with_how_to_finish_it(tmp_path, state):
    """Medians over the units that had finished may be over fewer seeds: compare says so."""
    from relukan_bench.session import RunLock

    base = fit_run(tmp_path / "a", {("f1", "kan"): 1e-3}, env={**ENV, "end_time": "2026-12-07T00:00:00Z"})
    env = {**ENV, "end_time": None} if state != "interrupted" else {**ENV, "end_time": "x", "interrupted": True}
    new = fit_run(tmp_path / "b", {("f1", "kan"): 1e-3}, env=env)
    lock = RunLock(new) if state == "being written" else None
    try:
        [result] = run(base, new)
    finally:
        if lock is not None:
            lock.release()
    [warning] = result.warnings
    why = "another process is writing it now" if state == "being written" else "it was interrupted or killed"
    assert warning.startswith(f"{new} is unfinished ({why})") and warning.endswith(f"relukan-bench fit --resume {new}")
    assert run(base, base)[0].warnings == []
