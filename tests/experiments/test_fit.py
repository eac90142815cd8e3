"""The fit experiment: small real runs, model variants, divergence, and the statistics by hand."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from relukan_bench.config import load_config
from relukan_bench.experiments.fit.config import FitConfig
from relukan_bench.experiments.fit.paper import paper_curves, paper_fits, paper_table, table_columns
from relukan_bench.experiments.fit.plan import CURVE_POINTS, iter_fit, plan, together
from relukan_bench.experiments.fit.records import RUN_COLUMNS, SUMMARY_COLUMNS, RunRecord, RunResult, SummaryRecord
from relukan_bench.experiments.fit.summary import curve_bands, representative_seed, summarize
from relukan_bench.results import read_csv
from tests.close import assert_close_scaled

REPO = Path(__file__).resolve().parents[2]
PAPER = REPO / "results" / "paper"
#: Float32 results of the same 25 training steps through different kernels (a batched matmul
#: against one per seed; another implementation of the same model), relative to the magnitude
#: of the compared list: the rounding differs with the kernels and with the CPU (AVX2 or
#: AVX-512, FMA), and training carries it from step to step; measured up to 2e-6 (with
#: vectorised and with scalar kernels). One training step more moves the predictions by ~2e-2,
#: a learning rate 10% off the test MSEs by 4e-2 or more.
TRAINED = 1e-4


def _config(**changes):
    data = {
        "seeds": [0, 1],
        "baseline": "kan",
        "data": {"train_samples": 64, "test_samples": 16},
        "train": {"steps": 25, "lr": 1e-2, "log_every": 10},
        "models": [
            {"name": "relukan", "kind": "relukan"},
            {"name": "kan", "kind": "kan"},
            {"name": "kan-pykan-fit", "kind": "kan", "pykan_fit": {"opt": "Adam", "lr": 0.1}},
            {"name": "bspline", "kind": "bspline"},
        ],
        "functions": [
            {"name": "f1", "expression": "sin(pi*x1)", "width": [1, 1], "grid": 5, "k": 3},
            {"name": "g", "expression": "x1*x2", "width": [2, 2, 1], "grid": 3, "k": 2},
        ],
    }
    data.update(changes)
    return FitConfig.model_validate(data)


@pytest.fixture(scope="module")
def tiny():
    config = _config()
    return config, list(iter_fit(config, "cpu"))


def test_plan_runs_every_seed_of_a_model_together():
    config = _config()
    assert [(u.function, u.seed, u.model) for u in plan(config)][:4] == [
        ("f1", 0, "relukan"), ("f1", 1, "relukan"), ("f1", 0, "kan"), ("f1", 1, "kan"),
    ]
    assert len(plan(config)) == 2 * 2 * 4


def test_a_tiny_real_fit_records_curves_and_final_errors(tiny):
    config, results = tiny
    assert len(results) == 16
    for result in results:
        run = result.run
        assert list(run.row()) == RUN_COLUMNS
        assert run.steps_done == 25 and not run.diverged and run.error is None
        assert result.steps == [10, 20, 25]  # every log_every steps, and the last
        assert run.final_test_mse == pytest.approx(result.test_mse[-1], rel=1e-4)
        assert run.final_test_rmse == pytest.approx(math.sqrt(run.final_test_mse))
        assert run.best_test_mse <= run.final_test_mse and 1 <= run.best_step <= 25
        assert run.seconds > 0 and run.params > 0
        assert run.trainer == ("pykan-fit" if run.model == "kan-pykan-fit" else "loop")
        assert run.optimizer == "adam"  # the config's, and the pykan_fit's opt
        assert (run.spline_params is None) == (run.kind == "relukan")
    by = {(r.run.function, r.run.model, r.run.seed): r for r in results}
    # variants of one kind are distinct runs under their own names, trained differently
    assert by[("f1", "kan", 0)].test_mse != by[("f1", "kan-pykan-fit", 0)].test_mse
    assert by[("f1", "kan", 0)].run.params == by[("f1", "kan-pykan-fit", 0)].run.params
    # our B-spline KAN starts from pykan's parameters and trains the same way: the same curve
    for key in [("f1", 0), ("g", 1)]:
        ours, pykan = by[(key[0], "bspline", key[1])], by[(key[0], "kan", key[1])]
        assert ours.run.params == pykan.run.params and ours.run.spline_params == pykan.run.spline_params
        assert_close_scaled(ours.test_mse, pykan.test_mse, rtol=1e-3, what=f"bspline vs kan test MSE {key}")


def test_predictions_curve_for_1d_and_test_set_for_nd(tiny):
    _, results = tiny
    by = {(r.run.function, r.run.model, r.run.seed): r.predictions for r in results}
    line = by[("f1", "relukan", 0)]
    assert len(line) == CURVE_POINTS and line[0].x1 == 0.0 and line[-1].x1 == 1.0
    assert line[-1].y_true == pytest.approx(0.0, abs=1e-6)  # sin(pi)
    scatter = by[("g", "kan", 1)]
    assert len(scatter) == 16 and all(p.x1 is None for p in scatter)
    # inside a seed every model sees the same test set; another seed draws another one
    assert [p.y_true for p in scatter] == [p.y_true for p in by[("g", "relukan", 1)]]
    assert [p.y_true for p in scatter] != [p.y_true for p in by[("g", "relukan", 0)]]


def test_relukan_runs_are_reproducible():
    config = _config(models=[{"name": "relukan", "kind": "relukan"}], seeds=[4], baseline=None)
    first, second = (list(iter_fit(config, "cpu")) for _ in range(2))
    assert [r.test_mse for r in first] == [r.test_mse for r in second]


def test_a_diverging_run_is_stopped_and_the_others_go_on():
    config = _config(
        seeds=[0],
        train={"steps": 300, "lr": 1e-2, "log_every": 50},
        models=[
            {"name": "relukan", "kind": "relukan"},
            {"name": "kan-absurd", "kind": "kan", "lr": 1e12},
            {"name": "pykan-absurd", "kind": "kan", "pykan_fit": {"opt": "Adam", "lr": 1e12}},
        ],
        baseline="relukan",
    )
    results = {r.run.model: r for r in iter_fit(config, "cpu") if r.run.function == "f1"}
    assert not results["relukan"].run.diverged and results["relukan"].run.steps_done == 300
    for name in ("kan-absurd", "pykan-absurd"):
        result = results[name]
        run = result.run
        assert run.diverged and run.diverged_step == run.steps_done < 300
        assert result.steps[-1] == run.diverged_step  # the step it diverged at is kept
        assert not (math.isfinite(result.train_mse[-1]) and math.isfinite(result.test_mse[-1]))
        assert math.isnan(run.final_test_mse) and result.predictions == []
    summary = {row.model: row for row in summarize([r.run for r in results.values()], "relukan")}
    assert summary["kan-absurd"].diverged == 1 and math.isinf(summary["kan-absurd"].final_test_mse)
    assert summary["kan-absurd"].gain == 0.0  # relukan's finite MSE / infinite
    assert summary["relukan"].diverged == 0


def _run(function, model, seed, final, diverged=False, seconds=1.0, best=None):
    return RunRecord.blank(
        function=function, model=model, kind="kan" if model.startswith("kan") else "relukan",
        trainer="loop", seed=seed, diverged=diverged,
        final_train_mse=final / 2, final_test_mse=math.nan if diverged else final,
        final_test_rmse=math.nan if diverged else math.sqrt(final), final_val_mse=math.nan if diverged else 3 * final,
        best_test_mse=best if best is not None else final, seconds=seconds, params=10, spline_params=None,
    )


def test_summary_by_hand():
    runs = [
        _run("f", "kan", 0, 4e-2, seconds=3.0), _run("f", "kan", 1, 1e-2, seconds=1.0), _run("f", "kan", 2, 9e-2, seconds=2.0),
        _run("f", "relukan", 0, 1e-4), _run("f", "relukan", 1, 4e-4), _run("f", "relukan", 2, 0.0, diverged=True, best=5e-3),
    ]
    rows = {row.model: row for row in summarize(runs, "kan")}
    kan, relukan = rows["kan"], rows["relukan"]
    assert list(kan.row()) == SUMMARY_COLUMNS
    assert kan.n_seeds == 3 and kan.diverged == 0
    assert kan.final_test_mse == 4e-2 and kan.final_test_mse_min == 1e-2 and kan.final_test_mse_max == 9e-2
    assert kan.final_train_mse == 2e-2 and kan.final_test_rmse == pytest.approx(0.2) and kan.seconds == 2.0
    assert kan.final_val_mse == pytest.approx(12e-2) and kan.selected is True and kan.tuned_model == "kan"
    assert kan.gain == 1.0  # the baseline against itself
    assert relukan.diverged == 1
    assert relukan.final_test_mse == 4e-4  # median of 1e-4, 4e-4 and a diverged (infinite) run
    assert math.isinf(relukan.final_test_mse_max)
    assert relukan.best_test_mse == pytest.approx(4e-4)  # median of 1e-4, 4e-4, 5e-3
    assert relukan.gain == pytest.approx(4e-2 / 4e-4)


def test_representative_seed_is_the_median_run():
    runs = [_run("f", "kan", 0, 4e-2), _run("f", "kan", 1, 1e-2), _run("f", "kan", 2, 9e-2)]
    assert representative_seed(runs, "f", "kan") == 0
    runs = [_run("f", "m", 0, 1.0, diverged=True), _run("f", "m", 1, 3.0), _run("f", "m", 2, 2.0)]
    assert representative_seed(runs, "f", "m") == 1  # the diverged run ranks last
    assert representative_seed([_run("f", "m", 0, 1.0, diverged=True)], "f", "m") is None


def test_curve_bands_by_hand():
    a = RunResult(RunRecord.blank(function="f", model="m", seed=0), [1, 2, 3], [4.0, 2.0, 1.0], [5.0, 3.0, 2.0])
    b = RunResult(RunRecord.blank(function="f", model="m", seed=1), [1, 2], [2.0, math.nan], [1.0, 7.0])  # diverged at 2
    c = RunResult(RunRecord.blank(function="f", model="m", seed=2), [1, 2, 3], [6.0, 4.0, 3.0], [3.0, 1.0, 4.0])
    band = curve_bands([a, b, c])[("f", "m")]
    assert band["step"] == [1, 2, 3]
    assert band["train_median"] == [4.0, 3.0, 2.0] and band["train_min"] == [2.0, 2.0, 1.0] and band["train_max"] == [6.0, 4.0, 3.0]
    assert band["test_median"] == [3.0, 3.0, 3.0] and band["test_max"] == [5.0, 7.0, 4.0]


def _paper(config_name):
    config = load_config(REPO / "configs" / config_name, [], FitConfig)
    return config, paper_fits(read_csv(PAPER / "fit.csv"), config)


def test_paper_numbers_in_mse_for_the_side_that_ran_our_function():
    _, paper = _paper("fit.yaml")
    assert set(paper) == {"f1", "f2", "f3", "f4", "f5", "f6"}
    f4 = paper["f4"]
    assert f4.kan_test_mse == 1.701e-01 and f4.relukan_test_mse == 2.454e-05
    assert f4.gain == pytest.approx(1.701e-01 / 2.454e-05) and round(f4.gain) == 6932
    assert f4.gain_as_plotted == pytest.approx(4.124e-01 / 2.454e-05)  # KAN RMSE over ReLU-KAN MSE
    assert f4.note == ""
    # f3 and f6: the paper's ReLU-KAN ran something else; only KAN's number is comparable
    for name in ("f3", "f6"):
        assert paper[name].kan_test_mse is not None and paper[name].relukan_test_mse is None
        assert "paper's ReLU-KAN ran" in paper[name].note
    _, as_run = _paper("fit-as-run.yaml")
    assert as_run["f3"].relukan_test_mse == 3.772e-05 and as_run["f3"].kan_test_mse is None
    assert as_run["f6"].relukan_test_mse == 1.701e-02 and as_run["f6"].kan_test_mse is None
    assert as_run["f1"] == paper["f1"]


def test_paper_curves_are_mse_for_both_models():
    _, paper = _paper("fit.yaml")
    curves = paper_curves(read_csv(PAPER / "loss_curves.csv"), paper)
    assert ("f3", "kan") in curves and ("f3", "relukan") not in curves
    kan = curves[("f1", "kan")]
    assert len(kan["step"]) == 5000 and kan["step"][0] == 1
    assert kan["train"][0] == pytest.approx(0.489504**2) and kan["test"][0] == pytest.approx(2.13081**2)  # RMSE squared
    assert curves[("f1", "relukan")]["test"][0] == pytest.approx(0.0312119)  # already MSE


def test_paper_table_layout():
    config, paper = _paper("fit.yaml")
    summary = [
        SummaryRecord.blank(function="f4", model="relukan", final_test_mse=1e-4, gain=50.0),
        SummaryRecord.blank(function="f4", model="kan", final_test_mse=5e-3, gain=math.nan),
    ]
    columns = table_columns(["relukan", "kan"], "kan")
    assert columns == [
        "function", "relukan_test_mse", "kan_test_mse", "relukan_gain",
        "paper_kan_test_mse", "paper_relukan_test_mse", "paper_gain", "paper_gain_as_plotted", "paper_note",
    ]
    table = paper_table(summary, ["f4", "f9"], ["relukan", "kan"], "kan", paper)
    assert table[0]["relukan_test_mse"] == 1e-4 and table[0]["relukan_gain"] == 50.0
    assert table[0]["paper_gain"] == paper["f4"].gain
    assert table[1] == {"function": "f9", "relukan_test_mse": None, "kan_test_mse": None, "relukan_gain": None}


def test_a_run_whose_pykan_fit_raises_is_recorded_as_diverged(monkeypatch):
    """pykan's fit() has no NaN guard and can fail inside its grid update (lstsq): that run is
    recorded with the error, the experiment goes on."""
    import torch

    from relukan_bench.models.kan import PyKAN

    def failing_fit(self, *args, **kwargs):
        self.steps_seen = 7
        with torch.no_grad():
            self.kan.act_fun[0].coef.fill_(math.nan)  # what a diverging fit() leaves
        raise RuntimeError("linalg.lstsq: the algorithm failed to converge\nsecond line")

    monkeypatch.setattr(PyKAN, "pykan_fit", failing_fit)
    config = _config(seeds=[0], functions=[_config().functions[0].model_dump()])
    results = {r.run.model: r for r in iter_fit(config, "cpu")}
    run = results["kan-pykan-fit"].run
    assert run.diverged and run.diverged_step == 7 and run.steps_done == 7
    assert run.error == "pykan fit() failed: RuntimeError: linalg.lstsq: the algorithm failed to converge"
    assert not results["kan"].run.diverged and results["kan"].run.error is None


def test_a_run_that_raises_is_recorded_as_failed_and_left_out_of_the_numbers(monkeypatch):
    """An exception inside pykan (here injected into its forward pass) fails that model's runs:
    each is recorded with its error, not as a divergence, and the other models go on."""
    from kan.MultKAN import MultKAN

    def broken_forward(self, x, singularity_avoiding=False, y_th=10.0):
        raise RuntimeError("injected failure\nwith a second line")

    monkeypatch.setattr(MultKAN, "forward", broken_forward)
    config = _config(seeds=[0, 1], functions=[_config().functions[0].model_dump()])
    results = list(iter_fit(config, "cpu"))
    assert [r.run.model for r in results] == [m for m in ("relukan", "kan", "kan-pykan-fit", "bspline") for _ in (0, 1)]  # nothing skipped
    for result in results:
        run = result.run
        if run.kind == "kan":
            assert run.error == "RuntimeError: injected failure" and not run.diverged
            assert math.isnan(run.final_test_mse) and result.steps == [] and result.predictions == []
            assert (run.function, run.seed, run.steps) == ("f1", result.run.seed, 25)
        else:
            assert run.error is None and run.steps_done == 25
    summary = {row.model: row for row in summarize([r.run for r in results], "kan")}
    assert summary["relukan"].failed == 0 and summary["relukan"].n_seeds == 2
    assert summary["kan"].failed == 2 and summary["kan"].n_seeds == 0 and summary["kan"].diverged == 0
    assert math.isnan(summary["kan"].final_test_mse) and math.isnan(summary["relukan"].gain)


def test_the_same_config_and_seed_give_the_same_results():
    """ReLU-KAN bit for bit; pykan within 1e-5 (in fact bit for bit too, now that its lstsq
    calls are deterministic), with the widest paper network, where pykan used to differ."""
    f6 = {"name": "f6", "expression": "exp(sin(pi*x1**2 + pi*x2**2) + sin(pi*x3**2 + pi*x4**2))",
          "width": [4, 4, 2, 1], "grid": 10, "k": 3}
    config = _config(seeds=[0], functions=[f6], train={"steps": 40, "lr": 1e-2, "log_every": 1})
    first, second = list(iter_fit(config, "cpu")), list(iter_fit(config, "cpu"))
    for a, b in zip(first, second):
        assert a.run.model == b.run.model
        if a.run.kind == "relukan":
            assert a.test_mse == b.test_mse and a.train_mse == b.train_mse and a.predictions == b.predictions
        else:
            assert_close_scaled(a.test_mse, b.test_mse, rtol=1e-5, what=f"{a.run.model} test MSE")
            assert_close_scaled([p.y_pred for p in a.predictions], [p.y_pred for p in b.predictions], rtol=1e-5,
                                what=f"{a.run.model} predictions")


def test_a_relukans_seeds_train_batched_and_match_separate_runs():
    models = [{"name": "relukan", "kind": "relukan"}, {"name": "fast", "kind": "relukan", "impl": "fast"}]
    batched = list(iter_fit(_config(models=models, seeds=[0, 1, 2], baseline=None), "cpu"))
    alone = list(iter_fit(_config(models=models, seeds=[0, 1, 2], baseline=None, train={"steps": 25, "lr": 1e-2, "log_every": 10,
                                                                            "batch_seeds": False}), "cpu"))
    assert [r.run.batched for r in batched] == [3] * 12 and [r.run.batched for r in alone] == [1] * 12
    for a, b in zip(batched, alone):
        assert (a.run.function, a.run.model, a.run.seed, a.run.init_seed) == (
            b.run.function, b.run.model, b.run.seed, b.run.init_seed)
        what = f"{a.run.function} {a.run.model} seed {a.run.seed}"
        keys = ("final_train_mse", "final_test_mse", "best_test_mse")
        assert_close_scaled([getattr(a.run, k) for k in keys], [getattr(b.run, k) for k in keys], rtol=TRAINED, what=f"{what}: {keys}")
        assert_close_scaled(a.train_mse, b.train_mse, rtol=TRAINED, what=f"{what}: train MSE")
        assert_close_scaled(a.test_mse, b.test_mse, rtol=TRAINED, what=f"{what}: test MSE")
        assert_close_scaled([p.y_pred for p in a.predictions], [p.y_pred for p in b.predictions], rtol=TRAINED,
                            what=f"{what}: predictions")
        assert a.run.seconds > 0 and math.isnan(a.run.compile_seconds)


def test_a_kans_seeds_still_train_one_by_one():
    results = list(iter_fit(_config(models=[{"name": "kan", "kind": "kan"}], baseline=None, functions=[
        {"name": "f1", "expression": "sin(pi*x1)", "width": [1, 1], "grid": 5, "k": 3}]), "cpu"))
    assert [r.run.batched for r in results] == [1, 1]


F1 = {"name": "f1", "expression": "sin(pi*x1)", "width": [1, 1], "grid": 5, "k": 3}
#: an `optimizer: lbfgs` entry of every built-in kind, at LBFGS's usual first step length
LBFGS_MODELS = [{"name": name, "kind": kind, **extra, "lr": 1.0, "optimizer": "lbfgs"} for name, kind, extra in [
    ("relukan", "relukan", {}), ("relukan-fast", "relukan", {"impl": "fast"}), ("bspline", "bspline", {}),
    ("kan", "kan", {}), ("mlp", "mlp", {"lbfgs": {"history_size": 10, "max_iter": 2}}),
]]


def test_an_lbfgs_run_of_every_kind_trains_in_the_loop_seed_by_seed_and_says_so():
    models = [*LBFGS_MODELS, {"name": "adam", "kind": "relukan"}, {"name": "pykan-lbfgs", "kind": "kan",
                                                                   "pykan_fit": {"opt": "LBFGS", "update_grid": False}}]
    config = _config(models=models, functions=[F1], baseline=None, train={"steps": 15, "lr": 1e-2, "log_every": 5})
    runs = {(r.run.model, r.run.seed): r.run for r in iter_fit(config, "cpu")}
    assert len(runs) == 2 * len(models)
    for (model, seed), run in runs.items():
        lbfgs = model in {m["name"] for m in LBFGS_MODELS}
        assert run.optimizer == ("adam" if model == "adam" else "lbfgs")
        assert run.trainer == ("pykan-fit" if model == "pykan-lbfgs" else "loop")
        assert run.batched == (2 if model == "adam" else 1)  # an LBFGS entry's seeds train one by one
        assert run.steps_done == 15 and not run.diverged and run.error is None, (model, seed)
        assert all(math.isfinite(getattr(run, k)) for k in ("final_train_mse", "final_test_mse", "best_test_mse"))
        if lbfgs and model != "mlp":  # at lr 1, 15 LBFGS steps reach a tenth of 15 Adam steps' error at 1e-2
            assert run.final_test_mse < runs[("adam", seed)].final_test_mse / 10, (model, seed)


def test_an_lbfgs_entrys_seeds_are_not_batchable():
    from relukan_bench.experiments.seed_groups import batchable, groups

    config = _config(models=[{"name": "adam", "kind": "relukan"}, {**LBFGS_MODELS[0], "name": "lbfgs"}], functions=[F1],
                     baseline=None)
    models = {m.name: m for m in config.models}
    assert batchable(config, models["adam"]) and not batchable(config, models["lbfgs"])
    grouped = groups(plan(config), config, models, together)
    assert [[(u.model, u.seed) for u in group] for group in grouped] == [
        [("adam", 0), ("adam", 1)], [("lbfgs", 0)], [("lbfgs", 1)]]


def test_lbfgs_runs_are_bit_identical_run_twice():
    config = _config(models=LBFGS_MODELS[:2], seeds=[4], functions=[F1], baseline=None)
    first, second = (list(iter_fit(config, "cpu")) for _ in range(2))
    for a, b in zip(first, second):
        assert a.train_mse == b.train_mse and a.test_mse == b.test_mse and a.predictions == b.predictions
        assert a.run.final_test_mse == b.run.final_test_mse and a.run.optimizer == "lbfgs"


def test_a_diverging_lbfgs_run_is_recorded_as_diverged():
    absurd = {"name": "absurd", "kind": "relukan", "optimizer": "lbfgs", "lr": 1e3, "lbfgs": {"line_search": "none"}}
    config = _config(models=[absurd, LBFGS_MODELS[0]], seeds=[0], functions=[F1], baseline=None,
                     train={"steps": 30, "lr": 1e-2, "log_every": 10})
    results = {r.run.model: r for r in iter_fit(config, "cpu")}
    run = results["absurd"].run
    assert run.diverged and run.diverged_step == run.steps_done < 30
    assert run.error == f"the loss is not finite at step {run.steps_done}" and math.isnan(run.final_test_mse)
    assert not results["relukan"].run.diverged and results["relukan"].run.steps_done == 30


def test_thirty_seeds_of_every_kind_run_on_two_workers_and_the_summary_uses_them_all(tmp_path):
    """Seeds are the scaling axis: 30 seeds of every model, the median and range over all of
    them, every seed a dot in seeds.png."""
    import statistics

    from relukan_bench.runner import Request, run
    from relukan_bench.yamlio import dumps

    config = {"experiment": "fit", "seeds": list(range(30)), "baseline": "kan",
              "data": {"train_samples": 32, "test_samples": 8}, "train": {"steps": 5, "lr": 1e-2, "log_every": 5},
              "models": [{"name": "relukan", "kind": "relukan"}, {"name": "kan", "kind": "kan"},
                         {"name": "bspline", "kind": "bspline"}, {"name": "mlp", "kind": "mlp"}],
              "functions": [{"name": "f1", "expression": "sin(pi*x1)", "width": [1, 1], "grid": 5, "k": 3}]}
    (tmp_path / "fit.yaml").write_text(dumps(config))
    result = run("fit", Request(config=tmp_path / "fit.yaml", out=tmp_path / "run", workers=2))
    assert result.units == (120, 120) and not result.failed
    runs = read_csv(tmp_path / "run" / "runs.csv")
    for row in read_csv(tmp_path / "run" / "summary.csv"):
        finals = [float(r["final_test_mse"]) for r in runs if r["model"] == row["model"]]
        assert int(row["n_seeds"]) == 30 and len(finals) == 30
        assert float(row["final_test_mse"]) == pytest.approx(statistics.median(finals), rel=1e-6)
        assert (float(row["final_test_mse_min"]), float(row["final_test_mse_max"])) == pytest.approx((min(finals), max(finals)), rel=1e-6)
    assert (tmp_path / "run" / "seeds.png").stat().st_size > 0
