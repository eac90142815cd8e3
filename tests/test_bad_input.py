"""A catalogue of bad inputs, one row each, across every command.

Every row must end the same way: exit status 2, exactly one line on stderr that starts with
`error: ` and names the file, key or option at fault and what was expected, no traceback,
nothing on stdout, and nothing written: the working directory (a fresh tmp dir) holds the same files, with the same
contents, after the call as before it. Bad input is refused before any training starts, so the
whole catalogue runs in seconds.
"""

from __future__ import annotations

import importlib.util
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from typer.testing import CliRunner

from relukan_bench.cli import app
from relukan_bench.experiments.fit.records import RUN_COLUMNS
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
#: Whether Dask is installed (the optional extra): the rows of `--executor dask` need it.
DASK = importlib.util.find_spec("distributed") is not None

# A fit run as an interruption leaves it (no unit finished yet), for the --resume rows.
FIT_RUN = {"run/config.yaml": TINY_FIT, "run/env.json": '{"experiment": "fit"}',
           "run/runs.csv": ",".join(RUN_COLUMNS) + "\n"}


# Hostile YAML: nine levels of nine-fold aliases (9^9 values once expanded), a key given twice.
ALIAS_BOMB = "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + "".join(
    f"{b}: &{b} [{', '.join(['*' + a] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi")) + "seeds: *i\n"
DUPLICATE_TRAIN = TINY_FIT + "train: {steps: 5}\n"
ENV_OF_ANOTHER_CONFIG = json.dumps({"experiment": "fit", "config_sha256": "0" * 64})


def needs_dask(row):
    """`row`, skipped where Dask (the optional extra) is not installed: the catalogue keeps its
    size either way."""
    return pytest.param(*row.values, id=row.id, marks=pytest.mark.skipif(not DASK, reason="needs relukan-bench[dask]"))


def case(id, argv, fragment, files=None, no_gpu=False):
    """One row: `argv` to the app, extra `files` (path -> text or bytes; None: an empty
    directory; a `Special` file) set up in the working directory first, and the `fragment` the
    error line must contain."""
    return pytest.param(argv, files or {}, fragment, no_gpu, id=id)


@dataclass(frozen=True)
class Special:
    """A file of a row that is not a regular file: a `fifo`, a `device` (a character device,
    as /dev/null is: only root makes one, so its rows are skipped for others), or a `symlink`
    to `target`."""

    kind: str
    target: str = ""

    def make(self, path: Path) -> None:
        if self.kind == "fifo":
            os.mkfifo(path)
        elif self.kind == "device":
            if os.geteuid() != 0:
                pytest.skip("only root makes a device node")
            os.mknod(path, 0o644 | stat.S_IFCHR, os.makedev(1, 3))
        else:
            path.symlink_to(self.target)


FIFO, DEVICE = Special("fifo"), Special("device")
COMPARED = {"fit_a.csv": FIT_A, "fit_b.csv": FIT_B}


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
         "tiny.yaml: models[0].impl: expected 'reference', 'fast' or 'conv' (got 'turbo')"),
    case("pykan-version-not-prepared", ["speed", "-c", "tiny.yaml", "models.kan.pykan=0.0.3", "models.kan.mode=default"],
         "tiny.yaml: models[1].pykan: pykan 0.0.3 has no environment in "),
    case("pykan-version-not-a-version", ["speed", "-c", "tiny.yaml", "models.kan.pykan=latest"],
         "tiny.yaml: models[1].pykan: "),
    case("pykan-speed-mode-before-0.2", ["speed", "-c", "tiny.yaml", "models.kan.pykan=0.1.2"],
         "tiny.yaml: models[1].mode: expected mode: default for pykan 0.1.2 (speed() came with pykan 0.2.0; got mode: speed)"),
    case("pykan-unknown-mode", ["speed", "-c", "tiny.yaml", "models.kan.mode=fast"],
         "tiny.yaml: models[1].mode: expected 'default', 'speed' or 'speed-compile' (got 'fast')"),
    case("pykan-compiled-twice", ["speed", "-c", "tiny.yaml", "models.kan.mode=speed-compile", "models.kan.compile=true"],
         "tiny.yaml: models[1].compile: mode: speed-compile already compiles pykan's forward"),
    case("pykan-version-in-fit", ["fit", "-c", "fit.yaml", "models.kan.pykan=0.0.5", "models.kan.mode=default"],
         "fit.yaml: models[1].pykan: fit runs the installed pykan (0.2.8) only; only speed times other versions (got pykan: 0.0.5)"),
    case("batch-seeds-not-a-bool", ["forgetting", "-c", "forgetting.yaml", "train.batch_seeds=sometimes"],
         "forgetting.yaml: train.batch_seeds: expected true or false"),
    case("bspline-grid-range-reversed", ["speed", "-c", "tiny.yaml", "models.kan.kind=bspline", "models.kan.grid_range=[1, 0]"],
         "tiny.yaml: models[1].grid_range: expected grid_range as [low, high] with low < high (got [1, 0])"),
    case("bspline-has-no-pykan-fit", ["fit", "-c", "fit.yaml", "models.kan.kind=bspline", "models.kan.pykan_fit={opt: Adam}"],
         "fit.yaml: models[1].pykan_fit: unknown key (expected one of: name, kind, grid_range, lr, optimizer, lbfgs, compile, "
         "cuda_graph, k, match)"),
    case("unknown-optimizer", ["fit", "-c", "fit.yaml", "models.relukan.optimizer=sgd"],
         "fit.yaml: models[0].optimizer: expected 'adam' or 'lbfgs' (got 'sgd')"),
    case("lbfgs-compiled", ["fit", "-c", "fit.yaml", "models.relukan.optimizer=lbfgs", "models.relukan.compile=true"],
         "fit.yaml: models[0].compile: optimizer: lbfgs evaluates the loss a varying number of times per step, which a "
         "compiled or captured step cannot; remove compile: true"),
    case("lbfgs-captured", ["fit", "-c", "fit.yaml", "models.kan.optimizer=lbfgs", "models.kan.cuda_graph=true"],
         "fit.yaml: models[1].cuda_graph: optimizer: lbfgs evaluates the loss"),
    case("lbfgs-under-pykan-fit", ["fit", "-c", "fit.yaml", "models.kan-pykan-fit.optimizer=lbfgs"],
         "fit.yaml: models[2].optimizer: pykan's fit() takes its optimizer from pykan_fit.opt; remove optimizer"),
    case("lbfgs-settings-without-lbfgs", ["fit", "-c", "fit.yaml", "models.relukan.lbfgs={history_size: 10}"],
         "fit.yaml: models[0].lbfgs: expected optimizer: lbfgs beside lbfgs settings (got optimizer: null)"),
    case("lbfgs-settings-beside-adam", ["fit", "-c", "fit.yaml", "models.kan.optimizer=adam", "models.kan.lbfgs={}"],
         "fit.yaml: models[1].lbfgs: expected optimizer: lbfgs beside lbfgs settings (got optimizer: 'adam')"),
    case("lbfgs-unknown-line-search", ["fit", "-c", "fit.yaml", "models.relukan.optimizer=lbfgs",
                                       "models.relukan.lbfgs={line_search: armijo}"],
         "fit.yaml: models[0].lbfgs.line_search: expected 'strong_wolfe' or 'none' (got 'armijo')"),
    case("lbfgs-in-speed", ["speed", "-c", "tiny.yaml", "models.kan.optimizer=lbfgs"],
         "tiny.yaml: models[1].optimizer: expected adam (got lbfgs): speed times a step by its phases"),
    case("lbfgs-in-forgetting", ["forgetting", "-c", "forgetting.yaml", "models.mlp.optimizer=lbfgs"],
         "forgetting.yaml: models[2].optimizer: expected adam (got lbfgs): forgetting keeps one Adam across its phases"),
    case("unknown-model-kind", ["speed", "-c", "tiny.yaml", "models.kan.kind=transformer"],
         "tiny.yaml: models[1].kind: expected one of 'relukan', 'kan', 'mlp', 'bspline', 'plugin', 'rbf', 'chebyshev', 'fourier', 'inkan', 'flashkan', 'linear' (got 'transformer')"),
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
    # ------------------------------------------------------------------ execution: a Dask scheduler's address
    *map(needs_dask, [
       case("address-tls-without-certificates", ["fit", "-c", "fit.yaml", "--executor", "dask", "--address",
                                                 "tls://127.0.0.1:8786"],
            "--address tls://127.0.0.1:8786: tls:// needs TLS certificates in Dask's config"),
       case("address-inproc", ["fit", "-c", "fit.yaml", "--executor", "dask", "--address", "inproc://127.0.0.1/1/1"],
            "expected a tcp://, tls://, ws:// or wss:// address of a Dask scheduler (got the scheme 'inproc')"),
       case("address-ucx", ["forgetting", "-c", "forgetting.yaml", "--executor", "dask", "--address", "ucx://127.0.0.1:8786"],
            "--address ucx://127.0.0.1:8786: expected a tcp://, tls://, ws:// or wss:// address"),
       case("address-http", ["fit", "-c", "fit.yaml", "--executor", "dask", "--address", "http://127.0.0.1:8786"],
            "(got the scheme 'http')"),
       case("address-ws-nothing-listens", ["fit", "-c", "fit.yaml", "--executor", "dask", "--address", "ws://127.0.0.1:1"],
            "--address ws://127.0.0.1:1: no Dask scheduler answers there (Connection refused)"),
       case("address-no-host", ["fit", "-c", "fit.yaml", "--executor", "dask", "--address", "tcp://:8786"],
            "--address tcp://:8786: expected a scheduler address such as tcp://10.0.0.5:8786 (no host)")]),
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
    # ------------------------------------------------------------------ files: only regular ones are read or replaced
    case("compare-out-fifo", ["compare", "fit_a.csv", "fit_b.csv", "--out", "cmp.csv"],
         "--out cmp.csv: expected a regular file or a new path (got a FIFO, which is left as it is)",
         files={**COMPARED, "cmp.csv": FIFO}),
    case("compare-out-symlink-to-stdout", ["compare", "fit_a.csv", "fit_b.csv", "--out", "cmp.csv"],
         "--out cmp.csv: expected a regular file or a new path (got a symbolic link", files={**COMPARED, "cmp.csv": Special("symlink", "/proc/self/fd/1")}),
    case("compare-out-device", ["compare", "fit_a.csv", "fit_b.csv", "--out", "fakenull"],
         "--out fakenull: expected a regular file or a new path (got a character device", files={**COMPARED, "fakenull": DEVICE}),
    case("compare-out-directory", ["compare", "fit_a.csv", "fit_b.csv", "--out", "cmp"],
         "--out cmp: expected a regular file or a new path (got a directory", files={**COMPARED, "cmp": None}),
    case("compare-out-is-base", ["compare", "fit_a.csv", "fit_b.csv", "--out", "fit_a.csv"],
         "--out fit_a.csv: is also an input of this command; expected another path", files=COMPARED),
    case("compare-out-is-new-spelled-otherwise", ["compare", "fit_a.csv", "fit_b.csv", "--out", "sub/../fit_b.csv"],
         "--out sub/../fit_b.csv: is also an input of this command (fit_b.csv)", files={**COMPARED, "sub": None}),
    case("compare-out-is-a-file-a-run-directory-holds", ["compare", "a", "fit_b.csv", "--out", "a/env.json"],
         "--out a/env.json: is also an input of this command", files={"a/summary.csv": FIT_A, "a/env.json": "{}", "fit_b.csv": FIT_B}),
    case("compare-base-fifo", ["compare", "pipe.csv", "fit_a.csv"],
         "pipe.csv: cannot read it as CSV (expected a regular file, got a FIFO)", files={"fit_a.csv": FIT_A, "pipe.csv": FIFO}),
    case("compare-summary-dev-zero", ["compare", "a", "fit_a.csv"],
         "a/summary.csv: cannot read it as CSV (expected a regular file, got a character device)",
         files={"fit_a.csv": FIT_A, "a/summary.csv": Special("symlink", "/dev/zero")}),
    case("compare-summary-symlink-loop", ["compare", "a", "fit_a.csv"],
         "a/summary.csv: cannot read it as CSV (Too many levels of symbolic links)",
         files={"fit_a.csv": FIT_A, "a/summary.csv": Special("symlink", "summary.csv")}),
    case("compare-summary-a-directory", ["compare", "a", "fit_a.csv"],
         "a/summary.csv: cannot read it as CSV (expected a regular file, got a directory)", files={"fit_a.csv": FIT_A, "a/summary.csv": None}),
    case("compare-number-with-underscores", ["compare", "fit_a.csv", "u.csv"],
         "u.csv: line 2, column final_test_mse: expected a number (got '1_000')", files={"fit_a.csv": FIT_A, "u.csv": FIT_A.replace("0.001", "1_000")}),
    case("compare-number-in-other-digits", ["compare", "fit_a.csv", "u.csv"],
         "u.csv: line 2, column final_test_mse: expected a number (got '\u0663')", files={"fit_a.csv": FIT_A, "u.csv": FIT_A.replace("0.001", "\u0663")}),
    case("config-fifo", ["fit", "-c", "pipe.yaml"], "pipe.yaml: cannot read config file (NotRegularFile: expected a regular file, got a FIFO)",
         files={"pipe.yaml": FIFO}),
    case("config-copy-binary", ["config", "copy", "./prog", "x.yaml"], "prog: cannot read config file (UnicodeDecodeError",
         files={"prog": b"\x7fELF\x02\x01\xd0\xff"}),
    case("config-copy-not-a-config", ["config", "copy", "./passwd", "pw.yaml"],
         "passwd: expected a mapping of keys at the top level (got 'root:x:0:0:root:/root:/bin/bash')",
         files={"passwd": "root:x:0:0:root:/root:/bin/bash\n"}),
    case("config-copy-a-mapping-of-no-experiment", ["config", "copy", "./notes.yaml", "x.yaml"],
         "notes.yaml: expected a config of one of the experiments", files={"notes.yaml": "colour: red\n"}),
    case("config-copy-invalid-config", ["config", "copy", "./fit-mine.yaml", "x.yaml"],
         "fit-mine.yaml: colour: unknown key", files={"fit-mine.yaml": TINY_FIT + "colour: red\n"}),
    case("config-copy-dest-dangling-symlink", ["config", "copy", "fit", "x.yaml"],
         "x.yaml: expected a regular file or a new path (got a symbolic link", files={"x.yaml": Special("symlink", "nowhere")}),
    case("config-copy-force-fifo", ["config", "copy", "fit", "p.yaml", "--force"],
         "p.yaml: expected a regular file or a new path (got a FIFO", files={"p.yaml": FIFO}),
    case("config-copy-force-device", ["config", "copy", "fit", "fakenull", "--force"],
         "fakenull: expected a regular file or a new path (got a character device", files={"fakenull": DEVICE}),
    case("config-copy-force-onto-itself", ["config", "copy", "fit.yaml", "fit.yaml", "--force"],
         "fit.yaml: is also an input of this command; expected another path"),
    case("config-copy-force-onto-itself-spelled-otherwise", ["config", "copy", "fit.yaml", "sub/../fit.yaml", "--force"],
         "sub/../fit.yaml: is also an input of this command (fit.yaml)", files={"sub": None}),
    case("config-copy-dest-of-600-characters", ["config", "copy", "fit", "d" * 600 + ".yaml"],
         "d" * 77 + "...: cannot write the file (File name too long)"),
    case("resume-env-fifo", ["fit", "--resume", "run"],
         "--resume run: expected a fit run directory (with config.yaml and env.json); env.json: expected a regular "
         "file, got a FIFO", files={**FIT_RUN, "run/env.json": FIFO}),
    case("resume-env-field-of-another-type", ["fit", "--resume", "run"], "--resume run: expected a fit run directory (with config.yaml and env.json); env.json: ",
         files={**FIT_RUN, "run/env.json": '{"experiment": "fit", "gpus": "none"}'}),
    case("resume-log-fifo", ["fit", "--resume", "run"], "--resume run: cannot read the run (expected a regular file, got a FIFO)",
         files={**FIT_RUN, "run/runs.csv": FIFO}),
    case("resume-log-dev-zero", ["fit", "--resume", "run"],
         "--resume run: cannot read the run (expected a regular file, got a character device)",
         files={**FIT_RUN, "run/runs.csv": Special("symlink", "/dev/zero")}),
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


CASES += [
    # ------------------------------------------------------------------ YAML that cannot be meant, or is too big
    case("yaml-alias-bomb", ["fit", "-c", "bomb.yaml"],
         "bomb.yaml: invalid YAML: more than 100000 values once aliases are expanded", files={"bomb.yaml": ALIAS_BOMB}),
    case("yaml-alias-bomb-by-override", ["fit", "-c", "fit.yaml",
                                         "models.relukan.grid_range=" + ALIAS_BOMB.replace("\n", ", ").replace("seeds: *i, ", "x: 1")],
         "override 'models.relukan.grid_range="),
    case("yaml-duplicate-key", ["fit", "-c", "dup.yaml"],
         "dup.yaml: invalid YAML at line 13, column 1: the key 'train' is given twice (first at line 5)",
         files={"dup.yaml": DUPLICATE_TRAIN}),
    case("yaml-duplicate-key-in-override", ["fit", "-c", "fit.yaml", "train={steps: 5, steps: 50}"],
         "the value is not valid YAML (the key 'steps' is given twice (first at line 1))"),
    case("yaml-octal-seed", ["fit", "-c", "octal.yaml"],
         "octal.yaml: invalid YAML at line 2, column 9: expected an integer in decimal without leading zeros (got 010;",
         files={"octal.yaml": TINY_FIT.replace("seeds: [0, 1]", "seeds: [010]")}),
    case("yaml-octal-seed-by-override", ["forgetting", "-c", "forgetting.yaml", "seeds=[0, 010]"],
         "override 'seeds=[0, 010]': the value is not valid YAML (expected an integer in decimal without leading zeros"),
    case("yaml-hex-steps", ["speed", "-c", "tiny.yaml", "train.steps=0x10"], "(got 0x10; YAML 1.1 would read it as octal, hex"),
    case("yaml-base-60-steps", ["speed", "-c", "tiny.yaml", "train.steps=1:30"], "(got 1:30; YAML 1.1 would read it as octal"),
    case("yaml-base-60-float", ["speed", "-c", "tiny.yaml", "train.lr=1:30.5"], "(got 1:30.5; YAML 1.1 would read it in base 60)"),
    case("yaml-integer-of-5000-digits-in-file", ["speed", "-c", "digits.yaml"],
         "digits.yaml: invalid YAML at line 5, column 16: an integer of more than 30 digits",
         files={"digits.yaml": TINY.replace("train: {steps: 3}", "train: {steps: " + "9" * 5000 + "}")}),
    case("override-integer-of-5000-digits", ["fit", "-c", "fit.yaml", "train.steps=" + "9" * 5000],
         "...': the value is not valid YAML (an integer of more than 30 digits)"),
    case("yaml-nested-60-deep", ["speed", "-c", "deep.yaml"], "deep.yaml: invalid YAML: nested deeper than 50 levels",
         files={"deep.yaml": TINY + "colour: " + "[" * 60 + "]" * 60 + "\n"}),
    case("yaml-nested-5000-deep", ["speed", "-c", "deeper.yaml"], "deeper.yaml: invalid YAML: nested deeper than 50 levels",
         files={"deeper.yaml": "x: " + "[" * 5000 + "]" * 5000 + "\n"}),
    case("yaml-200000-values", ["speed", "-c", "many.yaml"],
         "many.yaml: invalid YAML: more than 100000 values once aliases are expanded",
         files={"many.yaml": "colour: [" + "1," * 200_000 + "1]\n"}),
    case("config-of-2-megabytes", ["speed", "-c", "huge.yaml"],
         "huge.yaml: invalid YAML: longer than 1024 KiB; a config is a page or two", files={"huge.yaml": "# " + "x" * (2 << 20) + "\n"}),
    # ------------------------------------------------------------------ override keys
    case("override-key-unicode-digit-index", ["speed", "-c", "tiny.yaml", "functions[\u00b2].grid=3"],
         "cannot read the key 'functions[\u00b2].grid'"),
    case("override-key-index-of-20-digits", ["speed", "-c", "tiny.yaml", "functions.99999999999999999999.grid=3"],
         "tiny.yaml: override 'functions.99999999999999999999.grid=3': functions has no item '99999999999999999999'"),
    case("override-key-of-500-characters", ["speed", "-c", "tiny.yaml", "a" * 500 + "=1"], "cannot read the key 'aaaa"),
    case("override-into-a-value", ["speed", "-c", "tiny.yaml", "seed.x=1"], "override 'seed.x=1': seed is a value, not a mapping or list"),
    # ------------------------------------------------------------------ numbers that cannot be meant
    case("lr-infinite", ["fit", "-c", "fit.yaml", "train.lr=.inf"], "fit.yaml: train.lr: expected a finite number (got inf)"),
    case("lr-nan", ["speed", "-c", "tiny.yaml", "train.lr=.nan"], "tiny.yaml: train.lr: expected a finite number (got nan)"),
    case("model-lr-infinite", ["forgetting", "-c", "forgetting.yaml", "models.mlp.lr=.inf"],
         "forgetting.yaml: models[2].lr: expected a finite number (got inf)"),
    case("sigma-infinite", ["forgetting", "-c", "forgetting.yaml", "data.sigma=.inf"], "data.sigma: expected a finite number"),
    case("domain-infinite", ["fit", "-c", "fit.yaml", "data.domain=[0, .inf]"],
         "fit.yaml: data.domain: expected the input domain of finite ends between -1e+09 and 1e+09 (got [0, inf])"),
    case("domain-too-wide", ["speed", "-c", "tiny.yaml", "data.domain=[-1e308, 1e308]"], "data.domain: expected the input domain of finite ends"),
    case("grid-range-nan", ["speed", "-c", "tiny.yaml", "models.kan.kind=bspline", "models.kan.grid_range=[.nan, 1]"],
         "models[1].grid_range: expected grid_range as [low, high] with low < high (got [nan, 1])"),
    case("seeds-octal-option", ["fit", "-c", "fit.yaml", "--seeds", "0,010"],
         "--seeds: expected decimal integers without leading zeros (got '010': write 10 if that is what you mean)"),
    case("seeds-superscript-option", ["fit", "-c", "fit.yaml", "--seeds", "\u00b2"], "--seeds: expected comma-separated integers >= 0"),
    case("seed-beyond-32-bits", ["forgetting", "-c", "forgetting.yaml", "--seeds", "4294967296"],
         "--seeds: expected seeds of at most 4294967295 (got 4294967296)"),
    case("seed-beyond-32-bits-override", ["fit", "-c", "fit.yaml", "seeds=[4294967296]"],
         "fit.yaml: seeds[0]: expected a number <= 4294967295 (got 4294967296)"),
    case("speed-seed-beyond-32-bits", ["speed", "-c", "tiny.yaml", "--seed", "99999999999"],
         "tiny.yaml: seed: expected a number <= 4294967295 (got 99999999999)"),
    case("threads-beyond-the-bound", ["fit", "-c", "fit.yaml", "--threads", "100000"],
         "fit.yaml: threads: expected a number <= 1024 (got 100000) (set by override 'threads=100000')"),
    case("steps-beyond-a-billion", ["speed", "-c", "tiny.yaml", "train.steps=10000000000"],
         "tiny.yaml: train.steps: expected a number <= 1000000000 (got 10000000000)"),
    case("width-of-a-million", ["speed", "-c", "tiny.yaml", "functions.f1.width=[1000000, 1]"],
         "functions[0].width: expected at most 100 layers of at most 100,000 neurons (got [1000000, 1])"),
    case("mlp-hidden-of-a-million", ["forgetting", "-c", "forgetting.yaml", "models.mlp.hidden=[1000000]"],
         "forgetting.yaml: models[2].hidden[0]: expected a number <= 100000 (got 1000000)"),
    case("compare-threshold-nan", ["compare", "fit_a.csv", "fit_b.csv", "--threshold", "nan", "--fail-on-regression"],
         "--threshold: expected a finite ratio above 1, e.g. 1.10 (got nan)", files={"fit_a.csv": FIT_A, "fit_b.csv": FIT_B}),
    case("compare-threshold-inf", ["compare", "fit_a.csv", "fit_b.csv", "--threshold", "inf"],
         "--threshold: expected a finite ratio above 1, e.g. 1.10 (got inf)", files={"fit_a.csv": FIT_A, "fit_b.csv": FIT_B}),
    # ------------------------------------------------------------------ expressions that would crash a parser
    case("expression-998-unary-minuses", ["speed", "-c", "tiny.yaml", "functions.f1.expression=" + "-" * 998 + "x1"],
         "tiny.yaml: functions[0].expression: invalid expression '-----"),
    case("expression-integer-too-large-for-a-float", ["fit", "-c", "fit.yaml", "functions.f1.expression=" + "9" * 400 + "*x1"],
         "an integer too large for a float is not allowed"),
    case("expression-python-warns-of", ["speed", "-c", "tiny.yaml", "functions.f1.expression=1if x1 else 0j"],
         "'1if x1 else 0j': conditional expressions is not allowed"),  # and no SyntaxWarning on stderr
    case("expression-variable-beyond-any-width", ["speed", "-c", "tiny.yaml", "functions.f1.expression=x123456789012"],
         "the variable 'x12345678901' (beyond x100000) is not allowed"),
    # ------------------------------------------------------------------ what a run would ask of the machine
    case("speed-a-billion-repeats", ["speed", "-c", "tiny.yaml", "--functions", "f1", "--models", "relukan", "--repeats", "1000000000"],
         "tiny.yaml: devices x functions x timing.repeats x models make 1,000,000,000 units of work, more than the 100,000"),
    case("fit-rows-of-logs", ["fit", "-c", "fit.yaml", "train.steps=100000000", "train.log_every=1"],
         "rows of logs, more than the 1e+07 one run may write"),
    case("fit-sample-steps", ["fit", "-c", "fit.yaml", "train.steps=1000000000", "train.log_every=1000000000",
                              "data.train_samples=10000"],
         "sample-steps of training, more than the 1e+12 one run may ask for"),
    case("forgetting-a-billion-points", ["forgetting", "-c", "forgetting.yaml", "data.points=999999999",
                                         "train.steps_per_phase=1000", "train.log_every=8"],
         "forgetting.yaml: those units x data.segments x train.steps_per_phase x data.points make"),
    case("speed-memory", ["speed", "-c", "tiny.yaml", "functions.f1.width=[100000, 100000, 1]", "data.samples=100000"],
         "tiny.yaml: data.samples (100,000) through the network of functions[0] (f1) (width [100000, 100000, 1], grid 5, k 3) needs about"),
    case("fit-memory-of-a-grid", ["fit", "-c", "fit.yaml", "functions.f1.grid=1000000000"], "of memory to train, more than the"),
    case("fit-a-billion-validation-samples", ["fit", "-c", "fit.yaml", "data.validation_samples=1000000000", "train.steps=5000"],
         "data.test_samples + data.validation_samples)) make"),
    case("fit-lbfgs-evaluations", ["fit", "-c", "fit.yaml", "data.train_samples=100000", "train.steps=100000",
                                   "models.relukan.optimizer=lbfgs", "models.relukan.lbfgs={max_eval: 100000}"],
         "each model's loss evaluations per step (LBFGS: max_eval)"),
    case("fit-pykan-fit-lbfgs-evaluations", ["fit", "-c", "fit.yaml", "data.train_samples=10000000", "train.steps=10000",
                                             "--models", "kan-pykan-fit", "models.kan-pykan-fit.pykan_fit={opt: LBFGS}"],
         "sample-steps of training, more than the 1e+12"),
    # ------------------------------------------------------------------ tuning candidates, validated before their labels
    case("candidate-lr-a-list", ["config", "show", "fit-tuned", "models.kan.tune[0].lr=[1]"],
         "models[1].tune[0].lr: expected a number (got [1])"),
    case("candidate-lr-text", ["fit", "-c", "fit-tuned", "models.kan.tune[0].lr=abc"],
         "models[1].tune[0].lr: expected a number (got 'abc')"),
    case("candidate-pykan-fit-lr-a-mapping", ["config", "show", "fit-tuned", "models.kan.tune[0]={pykan_fit: {lr: {a: 1}}}"],
         "models[1].tune[0].pykan_fit.lr: expected a number"),
    # ------------------------------------------------------------------ control characters in paths a command creates
    case("out-with-a-newline", ["fit", "-c", "fit.yaml", "--out", "run\nfake"], "run\\x0afake: a path this command creates"),
    case("out-with-an-escape", ["reproduce", "--quick", "--out", "r\x1b[2J"], "r\\x1b[2J: a path this command creates"),
    # ------------------------------------------------------------------ resume
    case("resume-env-nested-100000-deep", ["fit", "--resume", "run"],
         "--resume run: expected a fit run directory (with config.yaml and env.json)",
         files={**FIT_RUN, "run/env.json": "[" * 100_000 + "]" * 100_000}),
    case("resume-config-edited", ["fit", "--resume", "run"], "--resume run: config.yaml was edited after the run started",
         files={**FIT_RUN, "run/env.json": ENV_OF_ANOTHER_CONFIG}),
]


def snapshot(root: Path) -> dict[str, bytes | str | None]:
    """Every path under `root`, with a regular file's contents, a symbolic link's target, what
    any other file is (`prw-r--r--`: a FIFO, never opened), None for a directory."""
    found: dict[str, bytes | str | None] = {}
    for path in sorted(root.rglob("*")):
        mode = path.lstat().st_mode
        found[str(path.relative_to(root))] = (path.read_bytes() if stat.S_ISREG(mode) else None if stat.S_ISDIR(mode)
                                              else f"-> {os.readlink(path)}" if stat.S_ISLNK(mode) else stat.filemode(mode))
    return found


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
            if isinstance(text, Special):
                text.make(path)
            elif isinstance(text, bytes):
                path.write_bytes(text)
            else:
                path.write_text(text)
    before = snapshot(tmp_path)

    result = CliRunner().invoke(app, argv, terminal_width=120)
    assert_refused(result, fragment)
    assert snapshot(tmp_path) == before
    assert not Path("/proc/relukan-run").exists()


def assert_refused(result, fragment: str) -> None:
    """Exit 2, one line on stderr starting `error: ` with `fragment` in it, no traceback, no stdout."""
    shown = f"exit {result.exit_code}\nstderr: {result.stderr!r}\nstdout: {result.stdout!r}"
    assert result.exit_code == 2, shown
    assert "Traceback" not in result.output, shown
    assert isinstance(result.exception, SystemExit), shown  # no exception escaped the command
    assert result.stderr.startswith("error: "), shown
    assert result.stderr.endswith("\n") and result.stderr.count("\n") == 1, shown
    assert fragment in result.stderr, shown
    assert result.stdout == "", shown  # no table, no "Results in ..."


#: an existing empty directory that even root cannot write into (sysfs), where there is one
SYSFS_EMPTY = next((Path(d) for d in ("/sys/kernel/iommu_groups", "/sys/kernel/software_nodes")
                    if Path(d).is_dir() and not any(Path(d).iterdir())), None)


@pytest.mark.parametrize("command", [["speed", "-c", "tiny.yaml"], ["fit", "-c", "fit.yaml"], ["reproduce", "--quick"]])
@pytest.mark.parametrize("how", ["no-write-permission", "sysfs"])
def test_an_unwritable_out_directory_is_refused_and_left_as_it_was(tmp_path, monkeypatch, command, how):
    import os

    monkeypatch.chdir(tmp_path)
    for name, text in BASE_FILES.items():
        (tmp_path / name).write_text(text)
    if how == "sysfs":
        if SYSFS_EMPTY is None:
            pytest.skip("no empty sysfs directory here")
        out = SYSFS_EMPTY
    else:
        if os.geteuid() == 0:
            pytest.skip("root writes into any directory")
        out = tmp_path / "locked"
        out.mkdir(mode=0o555)
    fragment = f"--out {out}: cannot write into the run directory (Permission denied)"
    before = snapshot(tmp_path)
    result = CliRunner().invoke(app, [*command, "--out", str(out)], terminal_width=120)
    assert_refused(result, fragment)
    assert snapshot(tmp_path) == before and not any(out.iterdir())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), min_size=1, max_size=12))
def test_workers_from_the_environment_are_a_decimal_1_to_256_or_refused_naming_the_variable(tmp_path, monkeypatch, text):
    """RELUKAN_BENCH_WORKERS is read by the same rule whatever it holds; an error names the
    variable only when the value came from it (`--workers 0` typed blames the option)."""
    import re

    if not text.strip() or (re.fullmatch(r"[0-9]{1,9}", text.strip()) and 1 <= int(text.strip()) <= 256):
        return
    monkeypatch.chdir(tmp_path)
    (tmp_path / "fit.yaml").write_text(TINY_FIT)
    result = CliRunner().invoke(app, ["fit", "-c", "fit.yaml", "--out", "run"], env={"RELUKAN_BENCH_WORKERS": text})
    assert_refused(result, "error: RELUKAN_BENCH_WORKERS=")
    typed = CliRunner().invoke(app, ["fit", "-c", "fit.yaml", "--workers", "0", "--out", "run"], env={"RELUKAN_BENCH_WORKERS": text})
    assert_refused(typed, "'--workers'")
    assert "RELUKAN_BENCH_WORKERS" not in typed.stderr
    assert list(tmp_path.iterdir()) == [tmp_path / "fit.yaml"]


CONTROLS = st.sampled_from(["\x1b", "\x07", "\r", "\n", "\t", "\x00", "\x7f", "\x9b", "\u202e", "\u2028", "\u200b", "\x08"])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.lists(st.one_of(CONTROLS, st.text(st.characters(blacklist_categories=("Cs",)), max_size=4)),
                     min_size=1, max_size=8).map("".join).filter(lambda t: any(c in t for c in "\x1b\x07\r\n\t\x00\x7f\x9b\u202e\u2028\u200b\x08")),
       where=st.sampled_from(["compare", "config", "out", "override", "resume"]))
def test_control_characters_a_user_typed_are_escaped_in_the_message_and_refused_in_paths_created(tmp_path, monkeypatch, text, where):
    """Whatever a user types, the error line is one line of printable text: no escape sequence
    reaches the terminal, and no path with a control character is created."""
    import unicodedata

    if "\x00" in text and where != "override":
        text = text.replace("\x00", "")  # argv cannot hold NUL
    monkeypatch.chdir(tmp_path)
    (tmp_path / "fit.yaml").write_text(TINY_FIT)
    argv = {"compare": ["compare", text, "paper"], "config": ["fit", "-c", text], "out": ["fit", "-c", "fit.yaml", "--out", text],
            "override": ["fit", "-c", "fit.yaml", f"train.steps={text}"], "resume": ["fit", "--resume", text]}[where]
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 2, result.output
    line = result.stderr[:-1]
    assert result.stderr.endswith("\n") and line.startswith("error: "), result.stderr
    assert not [c for c in line if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")], repr(line)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fit.yaml"]
