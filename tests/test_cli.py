"""The command line, driven for real: tiny real runs, every file and column checked."""

import csv
import re
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from relukan_bench import __version__
from relukan_bench.cli import app
from relukan_bench.experiments.speed.records import RAW_COLUMNS, SUMMARY_COLUMNS
from relukan_bench.results import read_csv
from tests.on_devices import needs_cuda
from tests.tiny import FIT as TINY_FIT, FORGETTING as TINY_FORGETTING, SPEED as TINY

REPO = Path(__file__).resolve().parents[1]



def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args], terminal_width=120)


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tiny.yaml").write_text(TINY)
    return tmp_path


def test_help_and_version():
    assert invoke("--version").stdout.strip() == f"relukan-bench {__version__}"
    result = invoke("--help")
    assert result.exit_code == 0 and "speed" in result.stdout
    result = invoke("speed", "--help")
    assert result.exit_code == 0 and "--repeats" in result.stdout and "--quick" in result.stdout


def test_help_imports_nothing_heavy():
    """None of the libraries the package imports only where needed (benchmarks/architecture.py's
    HEAVY, docs/development.md), nor the worker pools' or the Dask check's machinery."""
    code = (
        "import sys; from relukan_bench.cli import app; "
        "heavy = [m for m in ('torch', 'kan', 'pandas', 'matplotlib', 'numpy', 'scipy', 'pydantic', 'yaml', 'dask', "
        "'distributed', 'psutil', 'asyncio', 'concurrent.futures', 'multiprocessing') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_python_dash_m():
    out = subprocess.run([sys.executable, "-m", "relukan_bench", "--version"], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0 and out.stdout.strip() == f"relukan-bench {__version__}"


def test_speed_tiny_run_writes_every_file(workdir):
    result = invoke("speed", "--config", "tiny.yaml", "--out", "run", "--threads", "1", "timing.repeats=2")
    assert result.exit_code == 0, result.output
    run = workdir / "run"
    assert sorted(p.name for p in run.iterdir()) == ["config.yaml", "env.json", "raw.csv", "speed.png", "summary.csv", "table.csv"]

    raw = read_csv(run / "raw.csv")
    assert list(raw[0]) == RAW_COLUMNS
    assert len(raw) == 3 * 2 * 2  # functions x models x repeats
    assert {(r["function"], r["model"]) for r in raw} == {(f, m) for f in ("f1", "f2", "g") for m in ("relukan", "kan")}
    for r in raw:
        assert r["device"] == "cpu" and r["steps"] == "3" and r["threads"] == "1"
        assert float(r["seconds"]) > 0
        assert float(r["ms_per_step"]) == pytest.approx(1000 * float(r["seconds"]) / 3)
        assert float(r["final_loss"]) >= 0
    # same initialisation seed for both models inside a repeat, a new one per repeat
    seeds = {(r["function"], r["repeat"]): set() for r in raw}
    for r in raw:
        seeds[(r["function"], r["repeat"])].add(r["seed"])
    assert all(len(s) == 1 for s in seeds.values())

    summary = read_csv(run / "summary.csv")
    assert list(summary[0]) == SUMMARY_COLUMNS and len(summary) == 6
    for row in summary:
        mine = sorted(float(r["seconds"]) for r in raw if (r["function"], r["model"]) == (row["function"], row["model"]))
        assert int(row["n"]) == 2
        assert float(row["median_s"]) == pytest.approx(sum(mine) / 2)
        assert float(row["min_s"]) == pytest.approx(mine[0]) and float(row["max_s"]) == pytest.approx(mine[1])
        if row["model"] == "kan":
            assert float(row["speedup"]) == 1.0
        else:
            kan = next(s for s in summary if s["function"] == row["function"] and s["model"] == "kan")
            assert float(row["speedup"]) == pytest.approx(float(kan["median_s"]) / float(row["median_s"]))

    table = read_csv(run / "table.csv")
    assert list(table[0]) == [
        "function", "relukan_cpu_s", "relukan_gpu_s", "kan_cpu_s", "kan_gpu_s",
        "relukan_speedup_cpu", "relukan_speedup_gpu", "paper_speedup_cpu", "paper_speedup_gpu",
    ]
    by_function = {row["function"]: row for row in table}
    assert by_function["f1"]["relukan_gpu_s"] == "" and float(by_function["f1"]["kan_cpu_s"]) > 0
    # the paper's own f1 and f2: its speedups (2.80/0.56 = 5.0 on the CPU, 6.01/0.72 on the GPU)
    assert float(by_function["f1"]["paper_speedup_cpu"]) == pytest.approx(5.0)
    assert float(by_function["f2"]["paper_speedup_gpu"]) == pytest.approx(7.23 / 0.75)
    # not a paper function: no paper numbers beside it
    assert by_function["g"]["paper_speedup_cpu"] == ""

    env = json.loads((run / "env.json").read_text())
    for key in ("python", "torch", "pykan", "cpu", "threads", "git", "command", "start_time", "end_time"):
        assert key in env
    assert env["threads"] == 1 and env["pykan"] == "0.2.8" and env["devices"] == ["cpu"] and env["end_time"]
    config = yaml.safe_load((run / "config.yaml").read_text())
    assert config["timing"]["repeats"] == 2 and config["train"]["steps"] == 3 and config["threads"] == 1
    assert (run / "speed.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "paper" in result.stdout and "f1" in result.stdout
    assert not (workdir / "model").exists()


def test_speed_selects_functions_and_models(workdir):
    result = invoke("speed", "-c", "tiny.yaml", "--out", "run", "--functions", "f2", "--models", "relukan", "--repeats", "1")
    assert result.exit_code == 0, result.output
    raw = read_csv(workdir / "run" / "raw.csv")
    assert [(r["function"], r["model"]) for r in raw] == [("f2", "relukan")]
    summary = read_csv(workdir / "run" / "summary.csv")
    assert summary[0]["speedup"] == ""  # the baseline did not run


def test_default_results_directory(workdir):
    result = invoke("speed", "-c", "tiny.yaml", "--functions", "g", "--repeats", "1")
    assert result.exit_code == 0, result.output
    runs = list((workdir / "results" / "speed").iterdir())
    assert len(runs) == 1 and (runs[0] / "summary.csv").exists()


BAD = [
    (["functions[2].width=[2]"], "tiny.yaml: functions[2].width: expected a list of at least 2 positive integers (got [2])"),
    (["train.steps=0"], "tiny.yaml: train.steps: expected a number > 0 (got 0)"),
    (["train.stepz=3"], "tiny.yaml: train.stepz: unknown key"),
    (["functions.f1.expression=__import__('os')"], "tiny.yaml: functions[0].expression:"),
]


@pytest.mark.parametrize("overrides,message", BAD)
def test_bad_config_is_one_line_exit_2_and_creates_nothing(workdir, overrides, message):
    result = invoke("speed", "-c", "tiny.yaml", *overrides)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: " + message)
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output
    assert not (workdir / "results").exists()


def test_bad_config_file(workdir):
    bad = workdir / "bad.yaml"
    bad.write_text(TINY.replace("width: [2, 1], grid: 5", "width: [2], grid: 5"))
    result = invoke("speed", "-c", bad)
    assert result.exit_code == 2
    assert result.stderr == f"error: {bad}: functions[1].width: expected a list of at least 2 positive integers (got [2])\n"
    assert not (workdir / "results").exists()


@pytest.mark.parametrize(
    "args,fragment",
    [
        (["--functions", "f9"], "--functions: unknown name 'f9'"),
        (["--models", "mlp"], "--models: unknown name 'mlp'"),
        (["-c", "missing.yaml"], "missing.yaml: config file not found"),
    ],
)
def test_bad_options(workdir, args, fragment):
    result = invoke("speed", *(["-c", "tiny.yaml"] if "-c" not in args else []), *args)
    assert result.exit_code == 2 and fragment in result.stderr and "Traceback" not in result.output
    assert not (workdir / "results").exists()


def test_out_must_be_new_or_empty(workdir):
    (workdir / "full").mkdir()
    (workdir / "full" / "keep.txt").write_text("x")
    result = invoke("speed", "-c", "tiny.yaml", "--out", "full")
    assert result.exit_code == 2 and "--out full" in result.stderr
    assert (workdir / "full" / "keep.txt").read_text() == "x"


def test_cuda_without_a_gpu(workdir):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    result = invoke("speed", "-c", "tiny.yaml", "--device", "cuda")
    assert result.exit_code == 2 and "--device cuda" in result.stderr and "no CUDA device" in result.stderr
    assert not (workdir / "results").exists()


def test_quick_runs_the_default_config(workdir):
    result = invoke("speed", "--quick", "--out", "quick")
    assert result.exit_code == 0, result.output
    raw = read_csv(workdir / "quick" / "raw.csv")
    assert {r["function"] for r in raw} == {"f1", "f2", "f3", "f4", "f5"}
    assert {r["model"] for r in raw} == {"relukan", "kan", "relukan-fast", "bspline", "mlp"} and len(raw) == 25
    assert {r["steps"] for r in raw} == {"5"}
    table = read_csv(workdir / "quick" / "table.csv")
    assert all(row["paper_speedup_cpu"] for row in table)  # the default config is the paper's
    split = read_csv(workdir / "quick" / "decomposition.csv")  # pykan / bspline / ReLU-KAN, per function
    assert [(r["function"], r["relukan"]) for r in split] == [(f, m) for f in ("f1", "f2", "f3", "f4", "f5")
                                                              for m in ("relukan", "relukan-fast")]
    summary = {(r["function"], r["model"]): float(r["median_s"]) for r in read_csv(workdir / "quick" / "summary.csv")}
    for row in split:
        kan, bspline, relukan = (summary[(row["function"], m)] for m in ("kan", "bspline", row["relukan"]))
        assert float(row["implementation"]) == pytest.approx(kan / bspline)
        assert float(row["basis"]) == pytest.approx(bspline / relukan)
        assert float(row["total"]) == pytest.approx(float(row["implementation"]) * float(row["basis"]))
    assert "where the speedup comes from" in result.output


# Ctrl-C and SIGKILL of a real process, and resuming it, are the runner's bookkeeping: tested on a
# fast fake experiment in test_runner_fake.py. Here: that fit and forgetting keep whole units.
def _ctrl_c_after_two_rows(args, cwd, log):
    """Run `relukan-bench ARGS` in a real subprocess, press Ctrl-C once `log` has two rows;
    check the exit: status 130, one message, no traceback."""
    import signal
    import time

    process = subprocess.Popen(
        [sys.executable, "-m", "relukan_bench", *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (not log.exists() or len(log.read_text().splitlines()) < 3):
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert f"to finish the run: relukan-bench {args[0]} --resume {args[args.index('--out') + 1]}" in err.splitlines()[-1]
    return err


# ----------------------------------------------------------------------------- fit
FIT_FILES = [
    "config.yaml", "curves.csv", "curves_f1.png", "curves_f4.png", "env.json", "fit_f1.png", "fit_f4.png",
    "overview.png", "predictions.csv", "runs.csv", "seeds.png", "summary.csv", "table.csv",
]


@pytest.fixture
def fitdir(workdir):
    (workdir / "fit.yaml").write_text(TINY_FIT)
    return workdir


def test_fit_tiny_run_writes_every_file_and_column(fitdir):
    from relukan_bench.experiments.fit.records import CURVE_COLUMNS, PREDICTION_COLUMNS, RUN_COLUMNS, SUMMARY_COLUMNS

    result = invoke("fit", "-c", "fit.yaml", "--out", "run", "--threads", "1", "--seeds", "0,1,2")
    assert result.exit_code == 0, result.output
    run = fitdir / "run"
    assert sorted(p.name for p in run.iterdir()) == FIT_FILES
    for png in run.glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000

    config = yaml.safe_load((run / "config.yaml").read_text())
    assert config["seeds"] == [0, 1, 2] and config["threads"] == 1 and config["train"]["steps"] == 12
    env = json.loads((run / "env.json").read_text())
    assert env["threads"] == 1 and env["devices"] == ["cpu"] and env["interrupted"] is False

    runs = read_csv(run / "runs.csv")
    assert list(runs[0]) == RUN_COLUMNS and len(runs) == 2 * 3 * 3  # functions x models x seeds
    assert {(r["function"], r["model"], r["seed"]) for r in runs} == {
        (f, m, s) for f in ("f1", "f4") for m in ("relukan", "kan", "kan-pykan-fit") for s in "012"
    }
    assert {r["trainer"] for r in runs if r["model"] == "kan-pykan-fit"} == {"pykan-fit"}
    assert all(r["diverged"] == "False" and r["steps_done"] == "12" and r["threads"] == "1" for r in runs)

    curves = read_csv(run / "curves.csv")
    assert list(curves[0]) == CURVE_COLUMNS
    assert len(curves) == 18 * 3  # steps 5, 10 and the last, 12
    assert sorted({int(c["step"]) for c in curves}) == [5, 10, 12]
    last = {(c["function"], c["model"], c["seed"]): float(c["test_mse"]) for c in curves if c["step"] == "12"}
    for r in runs:
        assert float(r["final_test_mse"]) == pytest.approx(last[(r["function"], r["model"], r["seed"])], rel=1e-4)

    predictions = read_csv(run / "predictions.csv")
    assert list(predictions[0]) == PREDICTION_COLUMNS
    assert len(predictions) == 9 * 201 + 9 * 16  # a curve for f1, the test set for f4
    assert all(p["x1"] == "" for p in predictions if p["function"] == "f4")

    summary = read_csv(run / "summary.csv")
    assert list(summary[0]) == SUMMARY_COLUMNS and len(summary) == 6
    row = next(s for s in summary if (s["function"], s["model"]) == ("f4", "kan"))
    assert row["n_seeds"] == "3" and row["diverged"] == "0" and row["gain"] == "1.0"
    assert int(row["spline_params"]) < int(row["params"])  # pykan's splines and its scales
    finals = sorted(float(r["final_test_mse"]) for r in runs if (r["function"], r["model"]) == ("f4", "kan"))
    assert float(row["final_test_mse"]) == finals[1]
    assert (float(row["final_test_mse_min"]), float(row["final_test_mse_max"])) == (finals[0], finals[2])
    assert next(s for s in summary if s["model"] == "relukan")["spline_params"] == ""

    table = read_csv(run / "table.csv")
    assert list(table[0]) == [
        "function", "relukan_test_mse", "kan_test_mse", "kan-pykan-fit_test_mse", "relukan_gain", "kan-pykan-fit_gain",
        "paper_kan_test_mse", "paper_relukan_test_mse", "paper_gain", "paper_gain_as_plotted", "paper_note",
    ]
    f4 = next(t for t in table if t["function"] == "f4")  # the paper's own f4: its numbers beside ours
    assert float(f4["paper_kan_test_mse"]) == 1.701e-01 and float(f4["paper_relukan_test_mse"]) == 2.454e-05
    assert float(f4["relukan_gain"]) == pytest.approx(float(f4["kan_test_mse"]) / float(f4["relukan_test_mse"]))

    assert "Final test MSE after 12 steps" in result.stdout and "kan-pykan-fit" in result.stdout
    assert "RMSE" not in result.stdout.replace("KAN RMSE", "")  # the only RMSE shown says so


def test_fit_divergence_is_recorded_and_the_run_goes_on(fitdir):
    result = invoke("fit", "-c", "fit.yaml", "--out", "run", "--functions", "f1", "--seeds", "0",
                    "models.kan.lr=1e12", "train.steps=150")
    assert result.exit_code == 1, result.output  # a unit failed
    runs = {r["model"]: r for r in read_csv(fitdir / "run" / "runs.csv")}
    assert runs["kan"]["diverged"] == "True" and int(runs["kan"]["diverged_step"]) < 150
    assert runs["kan"]["error"] == f"the loss is not finite at step {runs['kan']['diverged_step']}"
    assert runs["relukan"]["diverged"] == "False" and runs["relukan"]["steps_done"] == "150" and runs["relukan"]["error"] == ""
    assert result.stderr.splitlines()[-2:] == [
        f"failed: f1 kan seed 0: {runs['kan']['error']}",
        "1 of 3 training runs failed (recorded in the results with their error)",
    ]
    summary = {s["model"]: s for s in read_csv(fitdir / "run" / "summary.csv")}
    assert summary["kan"]["diverged"] == "1" and summary["kan"]["final_test_mse"] == "inf"
    assert "diverged" in result.stdout


@pytest.mark.parametrize(
    "args,fragment",
    [
        (["--seeds", "0,x"], "--seeds: expected comma-separated integers >= 0, e.g. 0,1,2 (got '0,x')"),
        (["--seeds", "1,1"], "fit.yaml: seeds: expected distinct seeds (got [1, 1])"),
        (["--models", "kan-lr1"], "--models: unknown name 'kan-lr1'"),
        (["models.kan.pykan_fit.opt=SGD"], "fit.yaml: models[1].pykan_fit.opt: expected 'Adam' or 'LBFGS' (got 'SGD')"),
    ],
)
def test_fit_bad_input_is_one_line_exit_2(fitdir, args, fragment):
    result = invoke("fit", "-c", "fit.yaml", *args)
    assert result.exit_code == 2 and fragment in result.stderr, result.output
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output
    assert not (fitdir / "results").exists()


def test_fit_quick_runs_the_default_config_with_the_papers_numbers(workdir):
    result = invoke("fit", "--quick", "--out", "quick", "--functions", "f1,f3,f6")
    assert result.exit_code == 0, result.output
    runs = read_csv(workdir / "quick" / "runs.csv")
    assert {(r["function"], r["model"], r["seed"], r["steps"]) for r in runs} == {
        (f, m, "0", "20") for f in ("f1", "f3", "f6") for m in ("relukan", "kan", "relukan-fast", "bspline", "mlp")
    }
    table = {t["function"]: t for t in read_csv(workdir / "quick" / "table.csv")}
    assert float(table["f1"]["paper_gain"]) == pytest.approx(2.843e-05 / 5.792e-06)
    assert table["f3"]["paper_relukan_test_mse"] == "" and "x1**2 + x1 + 1" in table["f3"]["paper_note"]


def test_json_prints_one_object_instead_of_the_tables(workdir):
    (workdir / "fit.yaml").write_text(TINY_FIT)
    result = invoke("fit", "-c", "fit.yaml", "--functions", "f1", "--seeds", "0,1", "train.steps=3", "--out", "j", "--json")
    assert result.exit_code == 0, result.output
    assert result.stdout.count("\n") == 1  # one line: the object
    outcome = json.loads(result.stdout)
    assert outcome["experiment"] == "fit" and outcome["run_dir"] == "j" and outcome["status"] == "complete"
    assert outcome["quick"] is False and outcome["units"]["finished"] == outcome["units"]["planned"] > 0
    assert outcome["failed"] == [] and outcome["warnings"] == []
    written = read_csv(workdir / "j" / "summary.csv")
    assert [(r["function"], r["model"]) for r in outcome["summary"]] == [(r["function"], r["model"]) for r in written]
    first = outcome["summary"][0]
    assert first["n_seeds"] == 2 and first["final_test_mse"] == pytest.approx(float(written[0]["final_test_mse"]))


def test_a_config_by_its_shipped_name_and_compare_with_the_shipped_paper(workdir):
    result = invoke("fit", "--config", "fit-paper-kan", "--quick", "--functions", "f1", "--out", "named")
    assert result.exit_code == 0, result.output
    assert yaml.safe_load((workdir / "named" / "config.yaml").read_text())["baseline"] == "kan-pykan-fit"
    for args in (["paper", "named"], ["named", "paper"]):
        compared = invoke("compare", *args)
        assert compared.exit_code == 0, compared.output
        assert "BASE paper" in " ".join(compared.stdout.split()) or "NEW paper" in " ".join(compared.stdout.split())
    missing = invoke("fit", "--config", "fit-paper", "--quick")
    assert missing.exit_code == 2 and missing.stdout == ""
    assert missing.stderr.startswith("error: fit-paper: config file not found (nor a shipped config: fit, fit-as-run,")


def test_config_commands(workdir):
    listed = invoke("config", "list")
    assert listed.exit_code == 0 and "fit-paper-kan" in listed.stdout and "speed-baselines" in listed.stdout
    shown = invoke("config", "show", "speed", "timing.repeats=2")
    assert shown.exit_code == 0 and yaml.safe_load(shown.stdout)["timing"]["repeats"] == 2
    copied = invoke("config", "copy", "speed", "mine.yaml")
    assert copied.exit_code == 0 and copied.stdout == "mine.yaml\n" and (workdir / "mine.yaml").is_file()
    again = invoke("config", "copy", "speed", "mine.yaml")
    assert again.exit_code == 2 and again.stderr == "error: mine.yaml: already exists (pass --force to replace it)\n"
    bad = invoke("config", "show", "nope")
    assert bad.exit_code == 2 and "neither a config file nor a shipped config" in bad.stderr


def test_help_reads_naturally():
    top = invoke("--help").stdout
    assert "<bool>" not in top and "key=value" in top and "Examples" in top and "--install-completion" in top
    fit = invoke("fit", "--help").stdout
    assert "<bool>" not in fit and "<list[str]>" not in fit
    assert "Usage: root [OPTIONS] [KEY=VALUE]..." in fit or "[OPTIONS] [KEY=VALUE]..." in fit
    assert "[[" not in fit


def test_fit_help_lists_its_options():
    result = invoke("fit", "--help")
    assert result.exit_code == 0
    for option in ("--config", "--device", "--threads", "--functions", "--models", "--out", "--quick", "--seeds"):
        assert option in result.stdout


def test_fit_ctrl_c_keeps_and_summarises_finished_runs(fitdir):
    """A real subprocess interrupted mid-run: exit 130, finished training runs kept whole."""
    runs = fitdir / "run" / "runs.csv"
    seeds = ",".join(map(str, range(40)))
    _ctrl_c_after_two_rows(["fit", "-c", "fit.yaml", "--out", "run", "--models", "relukan", "--seeds", seeds, "train.steps=300"], fitdir, runs)
    finished = read_csv(runs)
    assert 2 <= len(finished) < 80
    curves = read_csv(fitdir / "run" / "curves.csv")
    assert len(curves) == len(finished) * 60  # log_every 5: whole curves of finished runs only
    summary = read_csv(fitdir / "run" / "summary.csv")
    assert sum(int(row["n_seeds"]) for row in summary) == len(finished)
    assert (fitdir / "run" / "overview.png").exists()
    assert json.loads((fitdir / "run" / "env.json").read_text())["interrupted"] is True


# ----------------------------------------------------------------------------- forgetting
FORGETTING_FILES = [
    "config.yaml", "curves.csv", "curves.png", "env.json", "heatmap.png", "matrix.csv", "panels_kan.png",
    "panels_mlp.png", "panels_relukan.png", "predictions.csv", "runs.csv", "summary.csv",
]


@pytest.fixture
def forgetdir(workdir):
    (workdir / "forgetting.yaml").write_text(TINY_FORGETTING)
    return workdir


def test_forgetting_tiny_run_writes_every_file_and_column(forgetdir):
    from relukan_bench.experiments.forgetting.records import CURVE_COLUMNS, MATRIX_COLUMNS, PREDICTION_COLUMNS, RUN_COLUMNS, SUMMARY_COLUMNS
    from relukan_bench.experiments.forgetting.summary import scores

    result = invoke("forgetting", "-c", "forgetting.yaml", "--out", "run", "--threads", "1", "--seeds", "0,1,2")
    assert result.exit_code == 0, result.output
    run = forgetdir / "run"
    assert sorted(p.name for p in run.iterdir()) == FORGETTING_FILES
    for png in run.glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000

    config = yaml.safe_load((run / "config.yaml").read_text())
    assert config["seeds"] == [0, 1, 2] and config["train"]["steps_per_phase"] == 8 and config["experiment"] == "forgetting"
    env = json.loads((run / "env.json").read_text())
    assert env["threads"] == 1 and env["devices"] == ["cpu"] and env["interrupted"] is False

    runs = read_csv(run / "runs.csv")
    assert list(runs[0]) == RUN_COLUMNS and len(runs) == 3 * 3
    assert {(r["model"], r["seed"]) for r in runs} == {(m, s) for m in ("relukan", "kan", "mlp") for s in "012"}
    assert all(r["diverged"] == "False" and r["phases_done"] == "3" and r["threads"] == "1" for r in runs)

    matrix = read_csv(run / "matrix.csv")
    assert list(matrix[0]) == MATRIX_COLUMNS and len(matrix) == 9 * 4 * 3  # runs x (before + 3 phases) x segments
    for r in runs:  # every run's numbers are its matrix's
        cells = [[0.0] * 3 for _ in range(4)]
        for m in matrix:
            if (m["model"], m["seed"]) == (r["model"], r["seed"]):
                cells[int(m["phase"])][int(m["segment"]) - 1] = float(m["mse"])
        assert float(r["forgetting"]) == pytest.approx(scores(cells).forgetting, rel=1e-6, abs=1e-12)
        assert float(r["final_mse"]) == pytest.approx(scores(cells).final_mse, rel=1e-6)

    predictions = read_csv(run / "predictions.csv")
    assert list(predictions[0]) == PREDICTION_COLUMNS and len(predictions) == 9 * 3 * 300
    curves = read_csv(run / "curves.csv")
    assert list(curves[0]) == CURVE_COLUMNS and len(curves) == 9 * 6 * 3  # 24 steps logged every 4, 3 segments

    summary = read_csv(run / "summary.csv")
    assert list(summary[0]) == SUMMARY_COLUMNS and [s["model"] for s in summary] == ["relukan", "kan", "mlp"]
    for row in summary:
        values = sorted(float(r["forgetting"]) for r in runs if r["model"] == row["model"])
        assert float(row["forgetting"]) == values[1] and row["n_seeds"] == "3"
        assert (float(row["forgetting_min"]), float(row["forgetting_max"])) == (values[0], values[2])
    params = {s["model"]: int(s["params"]) for s in summary}
    assert params["relukan"] == params["mlp"] == 3 * 13 + 1  # (G + k) weights, a bias, s and e; the MLP matched

    assert "forgetting" in result.stdout and "Predicting 0 on a segment gives MSE" in result.stdout


def test_forgetting_quick_runs_the_default_config(workdir):
    result = invoke("forgetting", "--quick", "--out", "quick", "--models", "relukan,mlp")
    assert result.exit_code == 0, result.output
    runs = read_csv(workdir / "quick" / "runs.csv")
    assert [(r["model"], r["seed"], r["steps_per_phase"], r["phases"], r["params"]) for r in runs] == [
        ("relukan", "0", "10", "5", "79"), ("mlp", "0", "10", "5", "79"),
    ]
    assert len(read_csv(workdir / "quick" / "predictions.csv")) == 2 * 5 * 5000


@pytest.mark.parametrize(
    "args,fragment",
    [
        (["--seeds", "a"], "--seeds: expected comma-separated integers >= 0"),
        (["--models", "transformer"], "--models: unknown name 'transformer' (expected some of: relukan, kan, mlp)"),
        (["network.width=[2,1]"], "forgetting.yaml: network.width: expected one input and one output, e.g. [1, 1] (got [2, 1])"),
        (["data.points=301"], "forgetting.yaml: data.points: expected a multiple of segments (3)"),
        (["--device", "tpu"], "'tpu' is not one of"),
    ],
)
def test_forgetting_bad_input_is_one_line_exit_2(forgetdir, args, fragment):
    result = invoke("forgetting", "-c", "forgetting.yaml", *args)
    assert result.exit_code == 2 and fragment in result.stderr, result.output
    assert "Traceback" not in result.output
    assert not (forgetdir / "results").exists()


def test_forgetting_help_lists_its_options():
    result = invoke("forgetting", "--help")
    assert result.exit_code == 0
    for option in ("--config", "--device", "--threads", "--models", "--out", "--quick", "--seeds"):
        assert option in result.stdout


def test_forgetting_ctrl_c_keeps_and_summarises_finished_runs(forgetdir):
    """A real subprocess interrupted mid-run: exit 130, finished runs kept whole."""
    runs = forgetdir / "run" / "runs.csv"
    seeds = ",".join(map(str, range(40)))
    _ctrl_c_after_two_rows(["forgetting", "-c", "forgetting.yaml", "--out", "run", "--models", "relukan", "--seeds", seeds,
                            "train.steps_per_phase=200"], forgetdir, runs)
    finished = read_csv(runs)
    assert 2 <= len(finished) < 40
    assert len(read_csv(forgetdir / "run" / "matrix.csv")) == len(finished) * 4 * 3
    assert len(read_csv(forgetdir / "run" / "predictions.csv")) == len(finished) * 3 * 300
    summary = read_csv(forgetdir / "run" / "summary.csv")
    assert int(summary[0]["n_seeds"]) == len(finished)
    assert (forgetdir / "run" / "heatmap.png").exists()
    assert json.loads((forgetdir / "run" / "env.json").read_text())["interrupted"] is True


# ----------------------------------------------------------------------------- reproduce
TINY_TUNED = TINY_FIT.replace("""  - {name: relukan, kind: relukan}
  - {name: kan, kind: kan}
""", """  - {name: relukan, kind: relukan, tune: [{lr: 1.0e-3}, {lr: 3.0e-2}, {optimizer: lbfgs, lr: 0.5}]}
  - {name: kan, kind: kan, tune: [{lr: 1.0e-2}, {label: paper, pykan_fit: {opt: Adam, lr: 1.0}}]}
""")


@pytest.fixture
def tiny_shipped(workdir, monkeypatch):
    """The shipped configs replaced by tiny ones (what `reproduce` reads), fit-tuned.yaml included."""
    from relukan_bench import resources

    shipped = workdir / "shipped"
    shipped.mkdir()
    tiny = {"speed": TINY, "speed-baselines": TINY, "fit": TINY_FIT, "fit-tuned": TINY_TUNED, "forgetting": TINY_FORGETTING}
    for name, text in tiny.items():
        (shipped / f"{name}.yaml").write_text(text)
    monkeypatch.setattr(resources, "configs_dir", lambda: shipped)
    return shipped


def test_reproduce_quick_tuned_states_the_accuracy_claim_both_ways_and_resumes(workdir, tiny_shipped):
    """`reproduce --quick --tuned`: fit-tuned/ after fit/ (the shipped fit-tuned.yaml, every candidate), both
    accuracy rows in the report, the part in --json; a resume keeps it tuned. Tiny configs stand in for the
    shipped ones."""
    result = invoke("reproduce", "--quick", "--tuned", "--out", "rep", "--json")
    assert result.exit_code == 0, result.output
    run = workdir / "rep"
    assert sorted(p.name for p in run.iterdir()) == ["REPORT.md", "env.json", "fit", "fit-tuned", "forgetting", "speed"]
    env = json.loads((run / "env.json").read_text())
    assert env["quick"] is True and env["tuned"] is True
    config = yaml.safe_load((run / "fit-tuned" / "config.yaml").read_text())
    assert config["train"]["steps"] == 20 and config["seeds"] == [0] and len(config["tuned"]) == 3 + 2
    summary = read_csv(run / "fit-tuned" / "summary.csv")
    assert len(summary) == 2 * 6 and sum(r["selected"] == "True" for r in summary) == 2 * 3
    assert (run / "fit-tuned" / "overview.png").is_file() and (run / "fit-tuned" / "tuning.png").is_file()
    outcome = json.loads(result.stdout)
    assert list(outcome["experiments"]) == ["speed", "fit", "fit-tuned", "forgetting"]
    assert outcome["experiments"]["fit-tuned"]["experiment"] == "fit"
    assert len(outcome["experiments"]["fit-tuned"]["summary"]) == len(summary)
    assert [v["experiment"] for v in outcome["verdicts"]] == ["speed", "fit", "fit-tuned", "forgetting"]
    text = (run / "REPORT.md").read_text()
    claim = "ReLU-KAN is two orders of magnitude more accurate than KAN"
    rows = [line for line in text.splitlines() if line.startswith(f"| {claim}")]
    assert [row.split(" | ")[0] for row in rows] == [f"| {claim} (shared protocol: Adam lr 0.01)",
                                                     f"| {claim} (each model at its best, chosen on validation)"]
    assert all("smoke run, not a result (" in row for row in rows) and "untested" not in text
    assert "### The same claim with each model at its best, chosen on validation" in text
    assert "| function | relukan | kan | kan-pykan-fit |" in text  # the settings kept
    links = re.findall(r"\]\(([^)]+)\)", text)
    assert "fit-tuned/tuning.png" in links and all((run / link).exists() for link in links)
    # resumed (nothing left to do): still tuned, its tables shown under the part's name
    result = invoke("reproduce", "--resume", "rep")
    assert result.exit_code == 0, result.output
    assert "(--quick): fit-tuned: Final test MSE after 20 steps" in " ".join(result.stdout.split())
    assert len([line for line in result.stdout.splitlines() if line.startswith(claim)]) == 2
    assert (run / "REPORT.md").read_text().count(f"| {claim} (") == 2


TINY_PEERS = """\
experiment: speed
baseline: relukan
data: {samples: 64}
train: {steps: 3}
timing: {repeats: 2, warmup_steps: 1, max_step_seconds: 10}
models:
  - {name: relukan, kind: relukan}
  - {name: relukan-conv, kind: relukan, impl: conv}
  - {name: relukan-fast, kind: relukan, impl: fast}
  - {name: bspline, kind: bspline}
  - {name: bspline-matched, kind: bspline, match: relukan}
  - {name: mlp, kind: mlp, match: relukan}
  - {name: linear-floor, kind: linear}
functions:
  - {name: f4, expression: exp(sin(pi*x1) + x2**2), width: [2, 5, 1], grid: 5, k: 3}
  - {name: N12-b100, expression: random, width: [12, 12, 1], grid: 5, k: 3, samples: 100}
"""


def test_reproduce_quick_peers_answers_which_kan_is_fastest(workdir, tiny_shipped, monkeypatch):
    """`reproduce --quick --peers`: speed-peers/ and speed-scale/ after speed/, the report's
    "Among the field's KANs" (an overview and a table per shape, the KAN-benchmarking sentence at
    its shape, here a small stand-in named so: [1000, 1000, 1] takes a minute to build and time
    for seven models) and the "fastest KAN" verdict."""
    from relukan_bench.experiments.speed import peers

    monkeypatch.setattr(peers, "HARNESS", ([40, 40, 1], 100))
    (tiny_shipped / "speed-peers.yaml").write_text(TINY_PEERS)
    (tiny_shipped / "speed-scale.yaml").write_text(TINY_PEERS.replace("[12, 12, 1]", "[40, 40, 1]").replace(
        "N12-b100", "N1000-b100").replace("f4, expression: exp(sin(pi*x1) + x2**2), width: [2, 5, 1]",
                                          "L8-b100, expression: random, width: [8, 8]"))
    (tiny_shipped / "speed-fit-peers.yaml").write_text(TINY_STEP_TIMES)
    (tiny_shipped / "fit-peers.yaml").write_text(TINY_FIT + "step_times: speed-fit-peers\n")
    (tiny_shipped / "forgetting-peers.yaml").write_text(TINY_FORGETTING_PEERS)
    result = invoke("reproduce", "--quick", "--peers", "--out", "rep", "--json")
    assert result.exit_code == 0, result.output
    run = workdir / "rep"
    assert sorted(p.name for p in run.iterdir()) == ["REPORT.md", "env.json", "fit", "fit-peers", "forgetting",
                                                     "forgetting-peers", "speed", "speed-fit-peers", "speed-peers",
                                                     "speed-scale"]
    sources = {r["model"]: r["step_source"] for r in read_csv(run / "fit-peers" / "summary.csv")}
    assert sources == {"relukan": "speed run", "kan": "speed run", "kan-pykan-fit": "this run"}  # the sibling's step times
    assert json.loads((run / "env.json").read_text())["peers"] is True
    outcome = json.loads(result.stdout)
    assert [v["experiment"] for v in outcome["verdicts"]] == ["speed", "speed-peers", "fit", "fit-peers", "forgetting",
                                                              "forgetting-peers"]
    text = (run / "REPORT.md").read_text()
    assert "### Among the field's KANs" in text and "#### `speed-scale/`" in text and "#### `speed-peers/`" in text
    assert "| ReLU-KAN is the fastest KAN to train | not claimed" in text
    assert "KAN-benchmarking timed ReLU-KAN slowest of all at [40, 40, 1], batch 100 (N1000-b100 here" in text
    assert "as the reference code computes it (Conv2d, `relukan-conv`) it is" in text
    summary = read_csv(run / "speed-scale" / "summary.csv")
    assert {r["model"] for r in summary if r["sized"]} == {"bspline-matched", "mlp"}
    assert all(int(r["macs"]) > 0 and r["effort"] for r in summary)
    assert "Incomplete" not in text
    forgetting = text[text.index("## Catastrophic forgetting"):]
    assert "### Among the field's KANs" in forgetting and "| ReLU-KAN forgets least among the field's KANs |" in text
    assert "`chebyshev` | global |" in forgetting and "The KAN that forgets least is `" in forgetting


#: speed on TINY_FIT's shapes and batch, with its Adam entries: the step times of fit-peers/
TINY_STEP_TIMES = TINY.replace("  - {name: f2, expression: sin(pi*x1 + pi*x2), width: [2, 1], grid: 5, k: 3}\n"
                               "  - {name: g, expression: x1*x2, width: [2, 1], grid: 3, k: 2}\n",
                               "  - {name: f4, expression: sin(pi*x1 + pi*x2), width: [2, 5, 1], grid: 5, k: 3}\n")

TINY_FORGETTING_PEERS = TINY_FORGETTING.replace("  - {name: kan, kind: kan}\n  - {name: mlp, kind: mlp}\n", """\
  - {name: bspline, kind: bspline}
  - {name: chebyshev, kind: chebyshev}
  - {name: mlp, kind: mlp, match: relukan}
""")


def test_reproduce_resume_with_tuned_of_an_untuned_run_is_refused(workdir):
    (workdir / "rep").mkdir()
    (workdir / "rep" / "env.json").write_text(json.dumps({"experiment": "reproduce", "quick": True}))
    result = invoke("reproduce", "--resume", "rep", "--tuned")
    assert result.exit_code == 2 and "--tuned, but the run was started without it" in result.stderr
    assert sorted(p.name for p in (workdir / "rep").iterdir()) == ["env.json"]


def test_a_tuned_reproduce_part_never_started_starts_with_its_own_config(tmp_path):
    """Resumed before fit-tuned/ was created, the part runs configs/fit-tuned.yaml, not fit's default."""
    from relukan_bench.experiments.protocol import reproduce_parts
    from relukan_bench.runner import Request, _part

    parts = reproduce_parts(tuned=True)
    assert list(parts) == ["speed", "fit", "fit-tuned", "forgetting"] and list(reproduce_parts()) == ["speed", "fit", "forgetting"]
    assert list(reproduce_parts(peers=True)) == ["speed", "speed-peers", "speed-scale", "speed-fit-peers", "fit",
                                                 "fit-peers", "forgetting", "forgetting-peers"]
    assert {p.config for p in reproduce_parts(peers=True).values() if p.flag == "peers"} == {
        "speed-peers", "speed-scale", "speed-fit-peers", "fit-peers", "forgetting-peers"}
    both = reproduce_parts(tuned=True, peers=True)  # a part needing both flags runs only with both
    assert list(both)[4:8] == ["fit", "fit-tuned", "fit-peers", "fit-peers-tuned"] and both["fit-peers-tuned"].needs == ("peers", "tuned")
    assert "fit-peers-tuned" not in parts and "fit-peers-tuned" not in reproduce_parts(peers=True)
    fresh = _part(Request(quick=True), parts["fit-tuned"], True)
    assert fresh.config.name == "fit-tuned.yaml" and fresh.quick
    resumed = _part(Request(resume=tmp_path), parts["fit-tuned"], True)
    assert resumed.config.name == "fit-tuned.yaml" and resumed.out == tmp_path / "fit-tuned" and resumed.resume is None
    (tmp_path / "fit-tuned").mkdir()
    (tmp_path / "fit-tuned" / "config.yaml").write_text("experiment: fit\n")
    assert _part(Request(resume=tmp_path), parts["fit-tuned"], True).resume == tmp_path / "fit-tuned"


def test_reproduce_cuda_without_a_gpu_creates_nothing(workdir):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    result = invoke("reproduce", "--quick", "--device", "cuda", "--out", "rep")
    assert result.exit_code == 2 and "--device cuda" in result.stderr and result.stderr.count("\n") == 1
    assert not (workdir / "rep").exists() and not (workdir / "results").exists()


@needs_cuda
def test_every_command_runs_on_cuda(workdir):
    """`--device auto` on a GPU machine: speed on the CPU and the GPU, fit and forgetting on
    the GPU, with several seeds batched (the fast step captured in a CUDA graph)."""
    result = invoke("reproduce", "--quick", "--device", "auto", "--out", "rep")
    assert result.exit_code == 0, result.output
    raw = read_csv(workdir / "rep" / "speed" / "raw.csv")
    assert {r["device"] for r in raw} == {"cpu", "cuda"} and not any(r["error"] for r in raw)
    assert {r["device"] for r in read_csv(workdir / "rep" / "speed" / "decomposition.csv")} == {"cpu", "cuda"}
    for name in ("fit", "forgetting"):
        runs = read_csv(workdir / "rep" / name / "runs.csv")
        assert {r["device"] for r in runs} == {"cuda"} and not any(r["error"] for r in runs), name
    env = json.loads((workdir / "rep" / "speed" / "env.json").read_text())
    assert env["gpu"] and env["float32"].startswith("ieee")
    result = invoke("fit", "--quick", "--device", "cuda", "--functions", "f4", "--seeds", "0,1,2", "--out", "seeds")
    assert result.exit_code == 0, result.output
    runs = read_csv(workdir / "seeds" / "runs.csv")
    fast = [r for r in runs if r["model"] == "relukan-fast"]
    assert [r["batched"] for r in fast] == ["3"] * 3 and all(float(r["final_test_mse"]) < 10 for r in fast)


def test_reproduce_ctrl_c_still_writes_the_report_and_resume_completes_it(workdir):
    """The shipped configs' `reproduce --quick`, stopped by Ctrl-C in speed and resumed: the
    report says what is missing, then the resumed run is whole (every section, working links)."""
    err = _ctrl_c_after_two_rows(["reproduce", "--quick", "--out", "rep"], workdir, workdir / "rep" / "speed" / "raw.csv")
    # no pykan environment prepared: the default speed config, and how to time the others
    assert "note: speed times the installed pykan only" in err and "relukan-bench pykan install 0.1.2 0.0.5" in err
    text = (workdir / "rep" / "REPORT.md").read_text()
    assert "**Incomplete**: interrupted or not run: speed, fit, forgetting" in text
    assert text.count("Not run.") == 2 and "## Speed" in text
    assert not (workdir / "rep" / "fit").exists()
    kept = (workdir / "rep" / "speed" / "raw.csv").read_text().splitlines()
    result = invoke("reproduce", "--resume", "rep")  # --quick comes from the run
    assert result.exit_code == 0, result.output
    text = (workdir / "rep" / "REPORT.md").read_text()
    assert "Incomplete" not in text and "Not run." not in text and "**Smoke run (`--quick`)**" in text
    raw = (workdir / "rep" / "speed" / "raw.csv").read_text().splitlines()
    assert raw[: len(kept)] == kept and len(raw) == 1 + 25  # 5 functions x 5 models
    assert len(read_csv(workdir / "rep" / "fit" / "runs.csv")) == 30  # 6 functions x 5 models, 1 seed
    assert len(json.loads((workdir / "rep" / "env.json").read_text())["resumed"]) == 1
    _a_whole_quick_report(workdir / "rep", text, result)


def _a_whole_quick_report(run, text, result):
    """A finished `reproduce --quick` of the shipped configs: its files, REPORT.md (every section,
    working links, "smoke run" wherever a verdict is) and what the command printed."""
    import re

    for name in ("speed", "fit", "forgetting"):
        assert (run / name / "summary.csv").is_file() and (run / name / "config.yaml").is_file()
    assert json.loads((run / "env.json").read_text())["quick"] is True
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings == ["## Verdicts", "## Environment", "## Speed", "## Fitting accuracy", "## Catastrophic forgetting"]
    assert text.count("smoke run, not a result (") == 6 and "untested" not in text  # the head table, the verdicts
    links = re.findall(r"\]\(([^)]+)\)", text)
    images = re.findall(r"!\[[^]]*\]\(([^)]+)\)", text)
    assert {"speed/speed.png", "fit/overview.png", "forgetting/panels_relukan.png", "forgetting/heatmap.png"} <= set(images)
    assert len(links) > 20 and all((run / link).exists() for link in links), [l for l in links if not (run / l).exists()]
    assert "| f5 | cpu |" in text and "| relukan | ReLU-KAN | 79 |" in text
    assert "Verdicts" in result.stdout and "Report: rep/REPORT.md" in result.stdout
    assert result.stdout.endswith("\nrep\n")  # the run directory alone on stdout's last line
    # a smoke run says so wherever its tables and verdicts are printed
    titles = [line for line in result.stdout.splitlines() if "SMOKE RUN, NOT A RESULT (--quick)" in line]
    assert len(titles) >= 4, result.stdout  # speed (2 tables), fit, forgetting
    verdicts = [line for line in result.stdout.splitlines() if ": smoke run, not a result (" in line]
    assert len(verdicts) == 3, result.stdout
    assert "holds." not in result.stdout.replace("holds).", "")  # no bare verdict anywhere
    # stderr is no terminal here: progress comes as plain lines, one experiment after another
    for name in ("speed", "fit", "forgetting"):
        assert re.search(rf"^{name}: \d+/\d+ units, \d+s elapsed.*done$", result.stderr, re.M), result.stderr
    # no pykan environment prepared: the default speed config
    assert yaml.safe_load((run / "speed" / "config.yaml").read_text())["models"][-1]["name"] == "mlp"
    assert "### Against which KAN?" in text and "Only one pykan version was timed" in text


def test_a_failing_model_is_recorded_the_others_go_on_and_the_exit_status_is_1(workdir, monkeypatch):
    """An exception inside pykan (injected into its forward pass) in every command."""
    from kan.MultKAN import MultKAN

    def broken_forward(self, *args, **kwargs):
        raise RuntimeError("injected failure")

    monkeypatch.setattr(MultKAN, "forward", broken_forward)
    (workdir / "fit.yaml").write_text(TINY_FIT)
    (workdir / "forgetting.yaml").write_text(TINY_FORGETTING)
    for command, log, units in (("speed", "raw.csv", 12), ("fit", "runs.csv", 12), ("forgetting", "runs.csv", 6)):
        result = invoke(command, "-c", f"{command if command != 'speed' else 'tiny'}.yaml", "--out", command)
        assert result.exit_code == 1, result.output
        rows = read_csv(workdir / command / log)
        assert len(rows) == units  # every unit ran
        failed = [r for r in rows if r["error"]]
        assert failed and all(r["kind"] == "kan" for r in failed)
        assert all(r["error"] in ("RuntimeError: injected failure", "pykan fit() failed: RuntimeError: injected failure") for r in failed)
        assert all(not r["error"] for r in rows if r["kind"] != "kan")
        assert result.stderr.splitlines()[-1] == f"{len(failed)} of {units} {'timed' if command == 'speed' else 'training'} runs failed (recorded in the results with their error)"
        assert sum(line.startswith("failed: ") for line in result.stderr.splitlines()) == len(failed)
        assert "Traceback" not in result.output


def test_a_run_that_leaves_out_its_baseline_resumes(workdir):
    """What a run writes loads again: a subset without the baseline records `baseline: null`."""
    (workdir / "fit.yaml").write_text(TINY_FIT)
    result = invoke("fit", "-c", "fit.yaml", "--functions", "f1", "--models", "relukan", "--seeds", "0", "--out", "r")
    assert result.exit_code == 0, result.output
    assert yaml.safe_load((workdir / "r" / "config.yaml").read_text())["baseline"] is None
    result = invoke("fit", "--resume", "r")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("out", ["run[/b]", "runs/[exp1]", "[bold red]x[/bold red]"])
def test_nothing_a_user_typed_is_read_as_markup(workdir, out):
    (workdir / "fit.yaml").write_text(TINY_FIT)
    result = invoke("fit", "-c", "fit.yaml", "--functions", "f1", "--models", "relukan,kan", "--seeds", "0",
                    "train.steps=2", "--out", out)
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith(f"\n{out}\n")  # the run directory alone on the last line
    result = invoke("compare", Path(out) / "summary.csv", Path(out) / "summary.csv")
    assert result.exit_code == 0, result.output
    assert f"BASE {Path(out) / 'summary.csv'}" in " ".join(result.stdout.split())


@pytest.mark.parametrize("command,config,args", [
    ("fit", TINY_FIT, ["--functions", "f1,f4", "--seeds", "0", "train.steps=3", "functions.f1.expression=1/(x1-x1)",
                       "functions.f4.expression=log(x1-x1)*x2"]),
    ("forgetting", TINY_FORGETTING, ["--seeds", "0", "train.lr=1e30", "train.steps_per_phase=3"]),
])
def test_a_run_whose_numbers_are_all_infinite_or_missing_finishes_and_resumes(workdir, command, config, args):
    """Every unit fails or diverges: the summaries, tables and figures are still written, the
    run is closed, and resuming it again is no traceback either."""
    (workdir / "c.yaml").write_text(config)
    result = invoke(command, "-c", "c.yaml", *args, "--out", "r")
    assert result.exit_code in (0, 1) and "Traceback" not in result.output, result.output
    assert "warning:" not in result.stderr, result.stderr  # every figure drawn
    assert json.loads((workdir / "r" / "env.json").read_text())["end_time"] is not None
    assert list((workdir / "r").glob("*.png")) and (workdir / "r" / "summary.csv").is_file()
    again = invoke(command, "--resume", "r")
    assert again.exit_code == result.exit_code and "Traceback" not in again.output, again.output


def test_pykan_install_and_list(tmp_path, monkeypatch):
    """`pykan install` prepares an environment (pip, from the index), `pykan list` shows it;
    what is not a version is refused in one line, exit 2, nothing created."""
    monkeypatch.setenv("RELUKAN_BENCH_PYKAN_HOME", str(tmp_path / "home"))
    for bad in ("latest", "../0.0.5", "0.0.5\n"):
        result = invoke("pykan", "install", bad)
        assert result.exit_code == 2 and result.stderr.startswith("error: VERSION ") and result.stderr.count("\n") == 1
    assert not (tmp_path / "home").exists()
    result = invoke("pykan", "install", "0.0.5")
    if result.exit_code == 1 and "pip could not install" in result.stderr:
        pytest.skip(f"no package index here: {result.stderr.strip()}")
    assert result.exit_code == 0, result.output
    listed = invoke("pykan", "list").stdout.splitlines()
    assert listed == ["installed: 0.2.8 (this process)", f"0.0.5: {tmp_path / 'home' / '0.0.5'}"]
    result = invoke("pykan", "install", "999.0.0")  # a release the index lacks: a usage error
    assert result.exit_code == 2 and result.stderr.startswith("error: VERSION 999.0.0: no such pykan release")
    assert sorted(p.name for p in (tmp_path / "home").iterdir()) == ["0.0.5"]  # nothing half-installed


def _into_a_closed_pipe(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """The command with stdout a pipe whose reader has already gone (`... | true`)."""
    import os

    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run([sys.executable, "-m", "relukan_bench", *args], cwd=cwd, stdout=write,
                              stderr=subprocess.PIPE, text=True, timeout=600)
    finally:
        os.close(write)


@pytest.mark.parametrize("args", [["--help"], ["fit", "--help"], ["config", "show", "fit"], ["config", "list"]])
def test_output_into_a_closed_pipe_ends_quietly_with_sigpipes_status(tmp_path, args):
    done = _into_a_closed_pipe(args, tmp_path)
    assert (done.returncode, done.stderr) == (141, "")


def test_a_run_whose_reader_is_gone_finishes_and_ends_quietly(tmp_path):
    """`relukan-bench fit ... | true`: the run is complete on disk; no message; status 141."""
    (tmp_path / "fit.yaml").write_text(TINY_FIT)
    done = _into_a_closed_pipe(["fit", "-c", "fit.yaml", "--out", "run", "--workers", "1"], tmp_path)
    assert done.returncode == 141 and "error" not in done.stderr and "Traceback" not in done.stderr, done.stderr
    env = json.loads((tmp_path / "run" / "env.json").read_text())
    assert env["end_time"] is not None and env["interrupted"] is False
    assert (tmp_path / "run" / "summary.csv").is_file()
