"""REPORT.md's "Among the field's KANs" for accuracy (experiments/fit/peers.py), on small real
fit runs laid out as `reproduce --peers --tuned` lays them out."""

from __future__ import annotations

import json
import math

import pytest

from relukan_bench import report
from relukan_bench.experiments.fit import peers
from relukan_bench.report import FAILS, HOLDS, PARTLY
from relukan_bench.runner import Request, run
from tests.no_figures import figures_skipped
from tests.tiny import FIT

PEERS = """\
experiment: fit
seeds: [0, 1]
baseline: relukan
data: {train_samples: 64, test_samples: 16, validation_samples: 16}
train: {steps: 30, lr: 0.01, log_every: 5, batch_seeds: false}
models:
  - {name: relukan, kind: relukan}
  - {name: chebyshev, kind: chebyshev}
  - {name: mlp, kind: mlp, match: relukan}
  - {name: chebyshev-matched, kind: chebyshev, match: relukan}
  - {name: fourier-matched, kind: fourier, match: relukan}
functions:
  - {name: f1, expression: sin(pi*x1), width: [1, 1], grid: 5, k: 3}
  - {name: f4, expression: sin(pi*x1 + pi*x2), width: [2, 5, 1], grid: 5, k: 3}
"""

#: the reproduce run's own fit/, which the peers' runs are read beside (small: it is not what is tested)
BASE = FIT.replace("seeds: [0, 1]", "seeds: [0]").replace("  - {name: kan-pykan-fit, kind: kan, pykan_fit: {opt: Adam, lr: 0.1}}\n", "")

TUNED = PEERS.replace("  - {name: relukan, kind: relukan}\n", "  - {name: relukan, kind: relukan, tune: [{lr: 0.01}, {lr: 0.03}]}\n") \
    .replace("  - {name: chebyshev, kind: chebyshev}\n", "").replace("seeds: [0, 1]\n", "seeds: [0, 1]\ntune_seeds: [0]\n")


@pytest.fixture(scope="module")
def reproduced(tmp_path_factory):
    """A reproduce run directory with fit/, fit-peers/ and fit-peers-tuned/ from real runs."""
    root = tmp_path_factory.mktemp("rep")
    for name, text in (("fit", BASE), ("fit-peers", PEERS), ("fit-peers-tuned", TUNED)):
        (root / f"{name}.yaml").write_text(text)
        with figures_skipped():  # the report's text is the subject here
            run("fit", Request(config=root / f"{name}.yaml", out=root / "run" / name))
    (root / "run" / "env.json").write_text(json.dumps({"experiment": "reproduce", "start_time": "2026-12-06T00:00:00+00:00",
                                                       "end_time": "2026-12-06T00:10:00+00:00", "peers": True}))
    return root / "run"


def test_the_section_answers_which_kan_is_most_accurate_and_first_to_1e_4(reproduced):
    found = report.load_all(reproduced)
    exp = found["fit"]
    assert set(exp.variants) == {"fit-peers", "fit-peers-tuned"}
    shared = exp.variants["fit-peers"]
    assert peers._matched(shared) == ["relukan", "mlp", "chebyshev-matched", "fourier-matched"]
    assert peers._same_grid(shared) == ["relukan", "chebyshev"]
    for function in ("f1", "f4"):  # the most accurate KAN is the lowest median test MSE, the MLP never ranked
        rows = {r["model"]: r["final_test_mse"] for r in shared.summary if r["function"] == function}
        kans = {m: rows[m] for m in ("relukan", "chebyshev-matched", "fourier-matched")}
        assert peers.most_accurate(shared, function, peers._matched(shared)) == min(kans, key=kans.get)
        times = {r["model"]: r["time_e2"] for r in shared.summary if r["function"] == function and r["model"] != "mlp"}
        reached = {m: t for m, t in times.items() if not math.isinf(t)}
        assert peers.first_to(shared, function, shared.model_names(), "e2") == (min(reached, key=reached.get) if reached else None)
    text = report.build_report(reproduced)
    section = text.split("### Among the field's KANs")[1]
    assert "- Most accurate KAN at equal size, shared protocol: f1 `" in section
    assert "- Most accurate KAN at equal size, each at its best: f1 `" in section
    assert "- First KAN to validation MSE 1e-4 in wall time (shared protocol" in section
    assert "#### `fit-peers/`: one shared protocol" in section and "#### `fit-peers-tuned/`" in section
    assert "(lr0.01)" in section or "(lr0.03)" in section  # the candidate each kept
    assert "Every candidate trained on seed 0, which chose it by final validation MSE" in section
    assert "(from this run)" in section and "not reached (0/2 seeds)" in section


def test_the_verdict_counts_the_functions_relukan_wins_at_equal_size(reproduced):
    exp = report.load_all(reproduced)["fit"]
    found = peers.verdict(exp)
    tuned = exp.variants["fit-peers-tuned"]  # read at each one's best when the run tuned
    won = sum(peers.most_accurate(tuned, f, peers._matched(tuned)) == "relukan" for f in ("f1", "f4"))
    assert found.experiment == "fit-peers-tuned" and found.claim == peers.CLAIM
    assert found.outcome == {2: HOLDS, 1: PARTLY, 0: FAILS}[won]
    assert found.ours == f"ReLU-KAN most accurate on {won} of 2 functions"
    assert found.finding.startswith("First KAN to validation MSE 1e-4 in wall time (`fit-peers/`, every model trained alike): f1 ")
    assert found in report.write_report(reproduced)
