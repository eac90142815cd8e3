"""The command line, driven for real: tiny real runs, every file and column checked."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from relukan_bench import __version__
from relukan_bench.cli import app
from relukan_bench.experiments.speed import RAW_COLUMNS, SUMMARY_COLUMNS
from relukan_bench.results import read_csv

REPO = Path(__file__).resolve().parents[1]

TINY = """\
experiment: speed
seed: 0
baseline: kan
data: {samples: 64}
train: {steps: 3}
timing: {repeats: 2, warmup_steps: 1}
models:
  - {name: relukan, kind: relukan}
  - {name: kan, kind: kan}
functions:
  - {name: f1, expression: sin(pi*x1), width: [1, 1], grid: 5, k: 3}
  - {name: f2, expression: sin(pi*x1 + pi*x2), width: [2, 1], grid: 5, k: 3}
  - {name: g, expression: x1*x2, width: [2, 1], grid: 3, k: 2}
"""


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
    code = (
        "import sys; from relukan_bench.cli import app; "
        "heavy = [m for m in ('torch', 'kan', 'pandas', 'matplotlib', 'numpy') if m in sys.modules]; "
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
    assert {r["model"] for r in raw} == {"relukan", "kan"} and len(raw) == 10
    assert {r["steps"] for r in raw} == {"5"}
    table = read_csv(workdir / "quick" / "table.csv")
    assert all(row["paper_speedup_cpu"] for row in table)  # the default config is the paper's


def test_ctrl_c_keeps_and_summarises_finished_work(workdir):
    """A real subprocess interrupted mid-run: exit 130, finished repeats summarised."""
    import signal
    import time

    (workdir / "slow.yaml").write_text(TINY.replace("steps: 3", "steps: 400").replace("repeats: 2", "repeats: 50"))
    process = subprocess.Popen(
        [sys.executable, "-m", "relukan_bench", "speed", "-c", "slow.yaml", "--out", "run"],
        cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    raw = workdir / "run" / "raw.csv"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (not raw.exists() or len(raw.read_text().splitlines()) < 3):
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    finished = read_csv(raw)
    summary = read_csv(workdir / "run" / "summary.csv")
    assert len(finished) >= 2 and len(summary) >= 1
    assert sum(int(row["n"]) for row in summary) == len(finished)
    assert json.loads((workdir / "run" / "env.json").read_text())["interrupted"] is True
