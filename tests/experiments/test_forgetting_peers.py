"""The forgetting experiment among the field's KANs: the reproduce part (forgetting-peers/), the
report's "Among the field's KANs" from small real runs, and the "forgets least" rule on
hand-made summaries."""

import importlib.util
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from relukan_bench.cli import app
from relukan_bench.experiments.forgetting import peers
from relukan_bench.experiments.forgetting import report as forgetting_report
from relukan_bench.experiments.forgetting.config import ForgettingDataSpec
from relukan_bench.experiments.forgetting.target import zero_mse
from relukan_bench.experiments.protocol import reproduce_parts
from relukan_bench.report import FAILS, HOLDS, PARTLY, UNTESTED, LoadedRun, load_all
from relukan_bench.results import read_csv
from tests.no_figures import figures_skipped

SMALL = {
    "experiment": "forgetting",
    "seeds": [0, 1],
    "data": {"points": 200, "segments": 4},
    "network": {"width": [1, 1], "grid": 10, "k": 1},
    "train": {"steps_per_phase": 30, "lr": 0.01, "log_every": 10},
}
PEERS = [{"name": "relukan", "kind": "relukan", "train_se": True}, {"name": "bspline", "kind": "bspline"},
         {"name": "rbf", "kind": "rbf", "layernorm": False, "grid_range": [0.0, 1.0]},
         {"name": "chebyshev", "kind": "chebyshev"}, {"name": "mlp", "kind": "mlp", "match": "relukan"}]
if importlib.util.find_spec("inkan") is not None:  # the peers extra (the Makefile installs it)
    PEERS.insert(4, {"name": "inkan", "kind": "inkan", "k": 3})


def test_the_peers_part_runs_with_reproduce_peers_only():
    parts = reproduce_parts(peers=True)
    assert "forgetting-peers" in parts and "forgetting-peers" not in reproduce_parts(tuned=True)
    part = parts["forgetting-peers"]
    assert (part.experiment, part.config, part.needs) == ("forgetting", "forgetting-peers", ("peers",))
    assert list(parts).index("forgetting-peers") == list(parts).index("forgetting") + 1


def test_the_shipped_config_builds_the_cubic_peers_at_k_3_on_grid_23():
    from relukan_bench.config import load_config
    from relukan_bench.experiments.forgetting.config import ForgettingConfig
    from relukan_bench.kinds import kind_of, size_row
    from relukan_bench.resources import find_config

    config = load_config(find_config("forgetting-peers"), [], ForgettingConfig)
    assert [m.name for m in config.models] == ["relukan", "kan", "bspline", "rbf", "chebyshev", "fourier", "inkan",
                                               "flashkan", "mlp"]
    assert (config.network.grid, config.network.k, config.train.steps_per_phase, config.seeds) == (25, 1, 250, [0, 1, 2])
    notes = {m.name: size_row(m, config.network)["sized"] for m in config.models}
    assert notes["inkan"] == notes["flashkan"] == "k 3, grid 23 (26 basis functions per edge as the shape's k 1, grid 25)"
    assert notes["mlp"].startswith("hidden ") and notes["relukan"] is None
    rbf = config.models[3]
    assert rbf.layernorm is False and rbf.grid_range == [0.0, 1.0]
    assert {kind_of(m).basis for m in config.models} == {"local", "global", None}


def _write(path: Path, models: list) -> Path:
    path.write_text(yaml.safe_dump({**SMALL, "models": models}))
    return path


@pytest.fixture(scope="module")
def reproduced(tmp_path_factory) -> Path:
    """A reproduce-like directory: forgetting/ and forgetting-peers/ from small real runs."""
    root = tmp_path_factory.mktemp("reproduce")
    for name, models in (("forgetting", PEERS[:1] + PEERS[-1:]), ("forgetting-peers", PEERS)):
        config = _write(root.parent / f"{root.name}-{name}.yaml", models)
        with figures_skipped():  # the report's text is the subject here
            result = CliRunner().invoke(app, ["forgetting", "--config", str(config), "--out", str(root / name)])
        assert result.exit_code == 0, result.output
    return root


def test_the_report_answers_which_kan_forgets_least(reproduced):
    exp = load_all(reproduced)["forgetting"]
    assert list(exp.variants) == ["forgetting-peers"]
    summary = {r["model"]: r for r in read_csv(reproduced / "forgetting-peers" / "summary.csv")}
    text = forgetting_report.section(exp, reproduced)
    among = text[text.index("### Among the field's KANs"):]
    assert "Bases, as each kind declares them: local (" in among and "; global (" in among
    assert among.index("ReLU bumps (`relukan`), B-splines (`bspline`") < among.index("; global (") < among.index(
        "Chebyshev polynomials (`chebyshev`)")
    assert peers.RULE[1:] in among
    # per model its basis, its parameters and what it lost, the seeds' range beside the median
    zero = zero_mse(ForgettingDataSpec.model_validate(SMALL["data"]))
    lost = {m: float(row["forgotten_fraction"]) for m, row in summary.items()
            if m != "mlp" and float(row["learned_mse"]) < zero}  # the KANs that learned their segments
    for model, row in summary.items():
        line = next(line for line in among.splitlines() if line.startswith(f"| `{model}`"))
        basis = "none (control)" if model == "mlp" else "global" if model == "chebyshev" else "local"
        assert f" | {basis} | {int(row['params'])} | " in line
        assert f"{float(row['forgotten_fraction']):.0%} [" in line.replace("+", "")
    best = min(lost, key=lost.get)
    assert f"The KAN that forgets least is `{best}`" in among
    if "inkan" in summary:
        assert "`inkan` at k 3, grid 8 (11 basis functions per edge as the shape's k 1, grid 10)" in among
    # the verdict follows the rule on the same numbers
    found = forgetting_report.verdicts(exp)
    assert [v.experiment for v in found] == ["forgetting", "forgetting-peers"]
    expected = HOLDS if best == "relukan" else FAILS if best == "chebyshev" else PARTLY
    assert found[1].outcome == expected and found[1].claim == peers.CLAIM
    assert forgetting_report.verdicts(load_all(reproduced.parent / "nothing-here")["forgetting"]) == [
        forgetting_report.verdict(None)]


def _summary(fractions: dict, learned: dict | None = None) -> LoadedRun:
    kinds = {"relukan": "relukan", "bspline": "bspline", "chebyshev": "chebyshev", "fourier": "fourier", "mlp": "mlp"}
    rows = [{"model": m, "kind": kinds[m], "n_seeds": 3.0, "params": 27.0, "learned_mse": (learned or {}).get(m, 1e-2),
             "forgetting": 1e-3,
             "forgetting_min": 0.0, "forgetting_max": 2e-3, "forgotten_fraction": f, "forgotten_fraction_min": f / 2,
             "forgotten_fraction_max": 2 * f, "failed": 0.0, "diverged": 0.0} for m, f in fractions.items()]
    config = {"train": {"steps_per_phase": 250, "lr": 1e-3}, "models": [{"name": m, "kind": kinds[m]} for m in fractions]}
    variant = LoadedRun("forgetting", Path("forgetting-peers"), config, {}, rows, [])
    return LoadedRun("forgetting", Path("forgetting"), config, {}, rows, [], variants={"forgetting-peers": variant})


@pytest.mark.parametrize("fractions,learned,outcome", [
    ({"relukan": 0.02, "bspline": 0.05, "chebyshev": 0.4, "mlp": 0.001}, {}, HOLDS),  # the control does not count
    ({"relukan": 0.05, "bspline": 0.05, "chebyshev": 0.4}, {}, HOLDS),  # a tie with the least
    ({"relukan": 0.08, "bspline": 0.05, "chebyshev": 0.4}, {}, PARTLY),  # another local basis forgets least
    ({"relukan": 0.08, "bspline": 0.5, "fourier": 0.01}, {}, FAILS),  # a global basis forgets least
    ({"relukan": 0.08, "bspline": 0.5, "fourier": 0.01}, {"fourier": 0.2}, HOLDS),  # ... but learned nothing
    ({"relukan": 0.08, "bspline": 0.5}, {"relukan": 0.3}, UNTESTED),  # ReLU-KAN learned nothing
    ({"bspline": 0.5, "fourier": 0.01}, {}, UNTESTED),  # no ReLU-KAN
])
def test_the_forgets_least_rule(fractions, learned, outcome):
    found = peers.verdict(_summary(fractions, learned))
    assert found.outcome == outcome and found.experiment == "forgetting-peers"
    if outcome == PARTLY:
        assert found.sentence == ("The KAN that forgets least is `bspline` (local basis): it loses 5% [2% to 10%] of "
                                  "what its phases gained; ReLU-KAN (`relukan`) is number 2 of 3, losing 8% (3 KANs ranked).")
    if learned.get("fourier"):  # 0.2 is above the 0.176 of predicting 0 on the paper's bumps
        assert found.sentence.endswith("Not ranked, their learned MSE not below the 0.176 of predicting 0: `fourier`.")


def test_without_the_peers_run_there_is_no_section_and_no_verdict():
    exp = _summary({"relukan": 0.02, "bspline": 0.05})
    exp.variants.clear()
    assert peers.section(exp) == "" and peers.verdict(exp) is None and peers.verdict(None) is None
