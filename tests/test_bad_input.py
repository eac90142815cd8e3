"""A catalogue of bad inputs, one row each, across every command.

Every row must end the same way: exit status 2, exactly one line on stderr that starts with
`error: ` and names the file, key or option at fault and what was expected, no traceback,
nothing on stdout, and nothing written: the working directory (a fresh tmp dir) holds the same files, with the same
contents, after the call as before it. Bad input is refused before any training starts, so the
whole catalogue runs in seconds.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from relukan_bench.cli import app
from relukan_bench.experiments import fit
from tests.tiny import FIT as TINY_FIT, FORGETTING as TINY_FORGETTING, SPEED as TINY




#: written into every case's working directory
BASE_FILES = {"tiny.yaml": TINY, "fit.yaml": TINY_FIT, "forgetting.yaml": TINY_FORGETTING}

# Hand-made tables `compare` reads (the columns relukan_bench/compare.py recognises).
FIT_A = "function,model,kind,trainer,n_seeds,diverged,final_test_mse\nf1,kan,kan,loop,1,0,0.001\nf2,kan,kan,loop,1,0,0.002\n"
FIT_B = "function,model,kind,trainer,n_seeds,diverged,final_test_mse\nf1,kan,kan,loop,1,0,0.003\nf2,kan,kan,loop,1,0,0.002\n"
SPEED = ("function,model,device,n,median_s,ms_per_step,speedup\n"
         "f1,relukan,cpu,1,0.1,1.0,2.0\nf1,kan,cpu,1,0.2,2.0,1.0\n")
FIT_RAGGED = "function,model,n_seeds,final_test_mse\nf1,kan,1,0.001,extra\n"
FIT_SHORT_ROW = "function,model,n_seeds,final_test_mse\nf1,kan,1\n"
FIT_NOT_A_NUMBER = "function,model,n_seeds,final_test_mse\nf1,kan,1,lots\n"
UNKNOWN_HEADER = "colour,size\nred,3\n"

NO_GPU = "needs a machine without CUDA"

# A fit run as an interruption leaves it (no unit finished yet), for the --resume rows.
FIT_RUN = {"run/config.yaml": TINY_FIT, "run/env.json": '{"experiment": "fit"}',
           "run/runs.csv": ",".join(fit.RUN_COLUMNS) + "\n"}


def case(id, argv, fragment, files=None, no_gpu=False):
    """One row: `argv` to the app, extra `files` (path -> text; None: an empty directory) set
    up in the working directory first, and the `fragment` the error line must contain."""
    return pytest.param(argv, files or {}, fragment, no_gpu, id=id)


CASES = [
    # ------------------------------------------------------------------ the config file itself
    case("yaml-syntax-error", ["speed", "-c", "bad.yaml"], "bad.yaml: invalid YAML at line",
         files={"bad.yaml": "train: {steps: 3\nseed: 0\n"}),
    case("yaml-top-level-list", ["speed", "-c", "list.yaml"],
         "list.yaml: expected a mapping of keys at the top level (got ['a', 'b'])", files={"list.yaml": "- a\n- b\n"}),
    case("yaml-empty-file", ["fit", "-c", "empty.yaml"],
         "empty.yaml: expected a mapping of keys at the top level (got null)", files={"empty.yaml": ""}),
    case("config-missing", ["speed", "-c", "missing.yaml"], "missing.yaml: config file not found"),
    case("config-is-a-directory", ["forgetting", "-c", "confdir"], "confdir: expected a config file, got a directory",
         files={"confdir": None}),
    # ------------------------------------------------------------------ unknown keys
    case("unknown-top-level-key", ["speed", "-c", "colour.yaml"],
         "colour.yaml: colour: unknown key (expected one of: experiment,", files={"colour.yaml": TINY + "colour: red\n"}),
    case("unknown-nested-key", ["speed", "-c", "stepz.yaml"],
         "stepz.yaml: train.stepz: unknown key (expected one of: steps, optimizer, lr, loss)",
         files={"stepz.yaml": TINY.replace("train: {steps: 3}", "train: {stepz: 3}")}),
    case("override-unknown-key", ["fit", "-c", "fit.yaml", "train.stepz=5"],
         "fit.yaml: train.stepz: unknown key (expected one of: steps,"),
    case("override-unknown-top-level-key", ["forgetting", "-c", "forgetting.yaml", "colour=red"],
         "forgetting.yaml: colour: unknown key (expected one of: experiment,"),
    # ------------------------------------------------------------------ wrong types
    case("steps-a-string", ["speed", "-c", "tiny.yaml", "train.steps=abc"],
         "tiny.yaml: train.steps: expected an integer (got 'abc')"),
    case("steps-a-float", ["fit", "-c", "fit.yaml", "train.steps=2.5"], "fit.yaml: train.steps: expected an integer (got 2.5)"),
    case("width-not-a-list", ["speed", "-c", "tiny.yaml", "functions.f1.width=5"],
         "tiny.yaml: functions[0].width: expected a list of at least 2 positive integers (got 5)"),
    case("network-width-not-a-list", ["forgetting", "-c", "forgetting.yaml", "network.width=wide"],
         "forgetting.yaml: network.width: expected a list of at least 2 positive integers (got 'wide')"),
    # ------------------------------------------------------------------ out of range
    case("steps-zero", ["speed", "-c", "tiny.yaml", "train.steps=0"], "tiny.yaml: train.steps: expected a number > 0 (got 0)"),
    case("steps-negative", ["fit", "-c", "fit.yaml", "train.steps=-5"], "fit.yaml: train.steps: expected a number > 0 (got -5)"),
    case("steps-zero-default-config", ["fit", "train.steps=0"], "fit.yaml: train.steps: expected a number > 0 (got 0)"),
    case("steps-per-phase-zero", ["forgetting", "-c", "forgetting.yaml", "train.steps_per_phase=0"],
         "forgetting.yaml: train.steps_per_phase: expected a number > 0 (got 0)"),
    case("grid-zero", ["speed", "-c", "tiny.yaml", "functions.f2.grid=0"],
         "tiny.yaml: functions[1].grid: expected a number > 0 (got 0)"),
    case("network-grid-zero", ["forgetting", "-c", "forgetting.yaml", "network.grid=0"],
         "forgetting.yaml: network.grid: expected a number > 0 (got 0)"),
    case("k-negative", ["fit", "-c", "fit.yaml", "functions.f1.k=-1"], "fit.yaml: functions[0].k: expected a number >= 0 (got -1)"),
    case("lr-zero", ["speed", "-c", "tiny.yaml", "train.lr=0"], "tiny.yaml: train.lr: expected a number > 0.0 (got 0)"),
    case("lr-negative", ["forgetting", "-c", "forgetting.yaml", "train.lr=-1e-3"],
         "forgetting.yaml: train.lr: expected a number > 0.0 (got -0.001)"),
    case("model-lr-zero", ["fit", "-c", "fit.yaml", "models.kan.lr=0"], "fit.yaml: models[1].lr: expected a number > 0"),
    case("speed-samples-zero", ["speed", "-c", "tiny.yaml", "data.samples=0"],
         "tiny.yaml: data.samples: expected a number > 0 (got 0)"),
    case("fit-train-samples-zero", ["fit", "-c", "fit.yaml", "data.train_samples=0"],
         "fit.yaml: data.train_samples: expected a number > 0 (got 0)"),
    case("forgetting-points-zero-default-config", ["forgetting", "data.points=0"],
         "forgetting.yaml: data.points: expected a number > 0 (got 0)"),
    case("seeds-empty-list", ["fit", "-c", "fit.yaml", "seeds=[]"], "fit.yaml: seeds: expected at least 1 item(s) (got [])"),
    case("seeds-negative", ["forgetting", "-c", "forgetting.yaml", "seeds=[0, -1]"],
         "forgetting.yaml: seeds[1]: expected a number >= 0 (got -1)"),
    case("functions-empty-list", ["speed", "-c", "tiny.yaml", "functions=[]"],
         "tiny.yaml: functions: expected at least 1 item(s) (got [])"),
    case("models-empty-list", ["forgetting", "-c", "forgetting.yaml", "models=[]"],
         "forgetting.yaml: models: expected at least 1 item(s) (got [])"),
    case("duplicate-function-names", ["speed", "-c", "tiny.yaml", "functions.g.name=f1"],
         "tiny.yaml: functions[2].name: expected a name not used before in functions (got 'f1' again)"),
    case("duplicate-model-names", ["fit", "-c", "fit.yaml", "models.kan.name=relukan"],
         "fit.yaml: models[1].name: expected a name not used before in models (got 'relukan' again)"),
    case("duplicate-model-names-forgetting", ["forgetting", "-c", "forgetting.yaml", "models.mlp.name=kan"],
         "forgetting.yaml: models[2].name: expected a name not used before in models (got 'kan' again)"),
    case("unknown-relukan-impl", ["speed", "-c", "tiny.yaml", "models.relukan.impl=turbo"],
         "tiny.yaml: models[0].impl: expected 'reference' or 'fast' (got 'turbo')"),
    case("compile-without-fast", ["fit", "-c", "fit.yaml", "models.relukan.compile=true"],
         "fit.yaml: models[0].compile: expected impl: fast to compile (got impl: reference)"),
    case("batch-seeds-not-a-bool", ["forgetting", "-c", "forgetting.yaml", "train.batch_seeds=sometimes"],
         "forgetting.yaml: train.batch_seeds: expected true or false"),
    case("bspline-grid-range-reversed", ["speed", "-c", "tiny.yaml", "models.kan.kind=bspline", "models.kan.grid_range=[1, 0]"],
         "tiny.yaml: models[1].grid_range: expected grid_range as [low, high] with low < high (got [1, 0])"),
    case("bspline-has-no-pykan-fit", ["fit", "-c", "fit.yaml", "models.kan.kind=bspline", "models.kan.pykan_fit={opt: Adam}"],
         "fit.yaml: models[1].pykan_fit: unknown key (expected one of: name, kind, grid_range, lr)"),
    case("unknown-model-kind", ["speed", "-c", "tiny.yaml", "models.kan.kind=transformer"],
         "tiny.yaml: models[1].kind: expected one of 'relukan', 'kan', 'mlp', 'bspline', 'plugin' (got 'transformer')"),
    # ------------------------------------------------------------------ expressions
    case("expression-syntax-error", ["speed", "-c", "tiny.yaml", "functions.f1.expression=sin(pi*x1"],
         "tiny.yaml: functions[0].expression: invalid expression 'sin(pi*x1': syntax error"),
    case("expression-import-system", ["speed", "-c", "tiny.yaml", "functions.f1.expression=__import__('os').system('echo hi')"],
         "tiny.yaml: functions[0].expression: \"__import__('os').system('echo hi')\": a call of \"__import__('os').system\" is not allowed (expected numbers"),
    case("expression-dunder-class", ["fit", "-c", "fit.yaml", "functions.f1.expression=x1.__class__"],
         "fit.yaml: functions[0].expression: 'x1.__class__': attribute access is not allowed (expected numbers"),
    case("expression-lambda", ["speed", "-c", "tiny.yaml", 'functions.f1.expression="lambda x1: x1"'],
         "tiny.yaml: functions[0].expression: 'lambda x1: x1': lambda is not allowed (expected numbers"),
    case("expression-attribute", ["speed", "-c", "tiny.yaml", "functions.f1.expression=e.real"],
         "tiny.yaml: functions[0].expression: 'e.real': attribute access is not allowed (expected numbers"),
    case("expression-module-call", ["fit", "-c", "fit.yaml", "functions.f4.expression=torch.sin(x1)"],
         "fit.yaml: functions[1].expression: 'torch.sin(x1)': a call of 'torch.sin' is not allowed (expected numbers"),
    case("expression-unknown-function", ["speed", "-c", "tiny.yaml", "functions.f1.expression=sinh(x1)"],
         "tiny.yaml: functions[0].expression: 'sinh(x1)': a call of 'sinh' is not allowed (expected numbers"),
    case("expression-variable-beyond-width", ["speed", "-c", "tiny.yaml", "functions.f2.expression=x1*x3"],
         "tiny.yaml: functions[1].width: the expression uses x3, so width[0] must be at least 3 (got [2, 1])"),
    case("expression-empty", ["fit", "-c", "fit.yaml", "functions.f1.expression=''"],
         "fit.yaml: functions[0].expression: expected an expression such as 'sin(pi*x1)' (got an empty string)"),
    # ------------------------------------------------------------------ widths
    case("width-last-not-one", ["speed", "-c", "tiny.yaml", "functions.f1.width=[1, 2]"],
         "tiny.yaml: functions[0].width: expected the last width to be 1, the target is one number (got [1, 2])"),
    case("width-too-short", ["fit", "-c", "fit.yaml", "functions.f1.width=[1]"],
         "fit.yaml: functions[0].width: expected a list of at least 2 positive integers (got [1])"),
    case("network-width-too-short", ["forgetting", "-c", "forgetting.yaml", "network.width=[1]"],
         "forgetting.yaml: network.width: expected a list of at least 2 positive integers (got [1])"),
    # ------------------------------------------------------------------ options
    case("functions-unknown", ["speed", "-c", "tiny.yaml", "--functions", "f9"],
         "--functions: unknown name 'f9' (expected some of: f1, f2, g)"),
    case("fit-functions-unknown", ["fit", "-c", "fit.yaml", "--functions", "f1,f9"],
         "--functions: unknown name 'f9' (expected some of: f1, f4)"),
    case("models-unknown", ["speed", "-c", "tiny.yaml", "--models", "nope"],
         "--models: unknown name 'nope' (expected some of: relukan, kan)"),
    case("forgetting-models-unknown", ["forgetting", "-c", "forgetting.yaml", "--models", "nope"],
         "--models: unknown name 'nope' (expected some of: relukan, kan, mlp)"),
    case("seeds-not-integers", ["fit", "-c", "fit.yaml", "--seeds", "a,b"],
         "--seeds: expected comma-separated integers >= 0, e.g. 0,1,2 (got 'a,b')"),
    case("seeds-only-commas", ["forgetting", "-c", "forgetting.yaml", "--seeds", ","],
         "--seeds: expected comma-separated integers >= 0, e.g. 0,1,2 (got ',')"),
    case("threads-zero", ["speed", "-c", "tiny.yaml", "--threads", "0"], "--threads"),
    case("device-cuda-without-gpu", ["speed", "-c", "tiny.yaml", "--device", "cuda"],
         "--device cuda: no CUDA device is available here", no_gpu=True),
    case("fit-device-cuda-without-gpu", ["fit", "-c", "fit.yaml", "--device", "cuda"],
         "--device cuda: no CUDA device is available here", no_gpu=True),
    # ------------------------------------------------------------------ where the results go
    case("out-parent-is-a-file", ["speed", "-c", "tiny.yaml", "--out", "blocker/run"],
         "--out blocker/run: cannot create the directory (Not a directory)", files={"blocker": "x"}),
    case("out-non-empty-directory", ["fit", "-c", "fit.yaml", "--out", "full"],
         "--out full: expected a new or empty directory", files={"full/keep.txt": "x"}),
    case("out-is-a-file", ["forgetting", "-c", "forgetting.yaml", "--out", "blocker"],
         "--out blocker: expected a new or empty directory", files={"blocker": "x"}),
    case("out-under-proc", ["speed", "-c", "tiny.yaml", "--out", "/proc/relukan-run"],
         "--out /proc/relukan-run: cannot create the directory ("),
    case("default-results-is-a-file", ["speed", "-c", "tiny.yaml"],
         "results/speed: cannot create the run directory (Not a directory)", files={"results": "x"}),
    case("fit-default-results-is-a-file", ["fit", "-c", "fit.yaml"],
         "results/fit: cannot create the run directory (Not a directory)", files={"results": "x"}),
    # ------------------------------------------------------------------ compare
    case("compare-missing-path", ["compare", "fit_a.csv", "nowhere.csv"], "nowhere.csv: no such file or directory",
         files={"fit_a.csv": FIT_A}),
    case("compare-empty-csv", ["compare", "fit_a.csv", "empty.csv"],
         "empty.csv: empty file, expected a CSV table with a header row", files={"fit_a.csv": FIT_A, "empty.csv": ""}),
    case("compare-ragged-csv", ["compare", "fit_a.csv", "ragged.csv"],
         "ragged.csv: line 2: expected 4 cells as in the header", files={"fit_a.csv": FIT_A, "ragged.csv": FIT_RAGGED}),
    case("compare-short-row", ["compare", "short.csv", "fit_a.csv"],
         "short.csv: line 2: expected 4 cells as in the header", files={"fit_a.csv": FIT_A, "short.csv": FIT_SHORT_ROW}),
    case("compare-not-a-number", ["compare", "fit_a.csv", "nan.csv"],
         "nan.csv: line 2, column final_test_mse: expected a number (got 'lots')",
         files={"fit_a.csv": FIT_A, "nan.csv": FIT_NOT_A_NUMBER}),
    case("compare-unknown-header", ["compare", "odd.csv", "fit_a.csv"],
         "odd.csv: not a relukan-bench table: expected a results directory", files={"fit_a.csv": FIT_A, "odd.csv": UNKNOWN_HEADER}),
    case("compare-not-a-results-directory", ["compare", "fit_a.csv", "somedir"],
         "somedir: not a results directory: expected summary.csv", files={"fit_a.csv": FIT_A, "somedir/notes.txt": "x"}),
    case("compare-unrelated-experiments", ["compare", "speed.csv", "fit_a.csv"],
         "BASE speed.csv holds speed results, NEW fit_a.csv fit results: no experiment in common; expected results of the same experiment on both sides",
         files={"speed.csv": SPEED, "fit_a.csv": FIT_A}),
    case("compare-threshold-below-one", ["compare", "fit_a.csv", "fit_b.csv", "--threshold", "0.5"],
         "--threshold: expected a finite ratio above 1, e.g. 1.10 (got 0.5)", files={"fit_a.csv": FIT_A, "fit_b.csv": FIT_B}),
    case("compare-out-parent-is-a-file", ["compare", "fit_a.csv", "fit_b.csv", "--out", "blocker/cmp.csv"],
         "--out blocker/cmp.csv: cannot write the file (Not a directory)",
         files={"fit_a.csv": FIT_A, "fit_b.csv": FIT_B, "blocker": "x"}),
    # ------------------------------------------------------------------ reproduce
    case("reproduce-device-cuda-without-gpu", ["reproduce", "--quick", "--device", "cuda", "--out", "rep"],
         "--device cuda: no CUDA device is available here", no_gpu=True),
    case("reproduce-out-non-empty-directory", ["reproduce", "--quick", "--out", "full"],
         "--out full: expected a new or empty directory", files={"full/keep.txt": "x"}),
    case("reproduce-default-results-is-a-file", ["reproduce", "--quick"],
         "results/reproduce: cannot create the run directory (Not a directory)", files={"results": "x"}),
    case("reproduce-threads-zero", ["reproduce", "--threads", "0"], "--threads"),
    case("device-unknown", ["fit", "-c", "fit.yaml", "--device", "gpu"], "relukan-bench fit: Invalid value for '--device'"),
    case("option-unknown", ["forgetting", "--stepz", "3"], "relukan-bench forgetting: No such option: --stepz"),
    # ------------------------------------------------------------------ --resume
    case("resume-missing", ["fit", "--resume", "nowhere"],
         "--resume nowhere: expected a fit run directory (with config.yaml and env.json)"),
    case("resume-another-experiment", ["speed", "--resume", "run"], "--resume run: expected a speed run directory",
         files=FIT_RUN),
    case("resume-config-differs", ["fit", "--resume", "run", "--seeds", "0"],
         "--resume run: the config differs from the one the run recorded (seeds: [0, 1] -> [0])", files=FIT_RUN),
    case("resume-and-out", ["fit", "--resume", "run", "--out", "other"],
         "--out other: a resumed run goes on in its own directory; give --resume or --out", files=FIT_RUN),
    case("resume-another-environment", ["fit", "--resume", "run"],
         "--resume run: the run was recorded in another environment (cpu: None -> ", files=FIT_RUN),
    case("resume-log-with-other-columns", ["fit", "--resume", "run"], "--resume run: cannot read the run (",
         files={**FIT_RUN, "run/env.json": "ENV", "run/runs.csv": "function,model,kind,trainer,seed\n"}),
    case("reproduce-resume-missing", ["reproduce", "--resume", "nowhere"],
         "--resume nowhere: expected a reproduce run directory (with env.json)"),
    case("reproduce-resume-quick-on-a-full-run", ["reproduce", "--resume", "rep", "--quick"],
         "--resume rep: --quick, but the run was a full one; resume without --quick",
         files={"rep/env.json": '{"experiment": "reproduce", "quick": false}'}),
]


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path under `root`, with a file's contents (None for a directory)."""
    return {str(p.relative_to(root)): (None if p.is_dir() else p.read_bytes()) for p in sorted(root.rglob("*"))}


@pytest.mark.parametrize("argv,files,fragment,no_gpu", CASES)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, monkeypatch, argv, files, fragment, no_gpu):
    if no_gpu:
        torch = pytest.importorskip("torch")
        if torch.cuda.is_available():
            pytest.skip(NO_GPU)
    monkeypatch.chdir(tmp_path)
    for name, text in {**BASE_FILES, **files}.items():
        if text == "ENV":  # this machine's own environment, so that only the columns are wrong
            from relukan_bench.env import environment

            text = json.dumps({"experiment": "fit", **environment(1, ["cpu"])})
        path = tmp_path / name
        if text is None:
            path.mkdir(parents=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    before = snapshot(tmp_path)

    result = CliRunner().invoke(app, argv, terminal_width=120)

    shown = f"exit {result.exit_code}\nstderr: {result.stderr!r}\nstdout: {result.stdout!r}"
    assert result.exit_code == 2, shown
    assert "Traceback" not in result.output, shown
    assert isinstance(result.exception, SystemExit), shown  # no exception escaped the command
    assert result.stderr.startswith("error: "), shown
    assert result.stderr.endswith("\n") and result.stderr.count("\n") == 1, shown
    assert fragment in result.stderr, shown
    assert result.stdout == "", shown  # no table, no "Results in ..."
    assert snapshot(tmp_path) == before, shown
    assert not Path("/proc/relukan-run").exists()
