"""The forgetting experiment: the target, the metric on hand-made matrices, small real runs."""

import math

import pytest
import torch

from relukan_bench.experiments.forgetting.config import ForgettingConfig, ForgettingDataSpec
from relukan_bench.experiments.forgetting.plan import Unit, iter_forgetting, run_one
from relukan_bench.experiments.forgetting.records import (
    RUN_COLUMNS,
    SUMMARY_COLUMNS,
    CurveRecord,
    MatrixRecord,
    RunRecord,
    SummaryRecord,
)
from relukan_bench.experiments.forgetting.summary import (
    curve_medians,
    median_matrix,
    representative_seed,
    scores,
    summarize,
)
from relukan_bench.experiments.forgetting.target import target, zero_mse
from tests.close import assert_close_scaled

#: Float32 MSEs after the same training steps through different kernels (the seeds as one
#: batched model against one model per seed), relative to the magnitude of the compared
#: numbers: the rounding differs with the kernels and with the CPU (AVX2 or AVX-512, FMA), and
#: training carries it from step to step; measured up to 2e-6 (with vectorised and with scalar
#: kernels). A learning rate 1% off moves the matrix by 4e-2 or more.
TRAINED = 1e-4


# ----------------------------------------------------------------------------- the target
def test_target_is_the_papers_five_peaks():
    x, y = target(ForgettingDataSpec())
    assert x.shape == y.shape == (5000, 1) and x.dtype == y.dtype == torch.float32
    assert float(x[0]) == 0.0 and float(x[-1]) == pytest.approx(4999 / 5000)
    peaks = y.view(5, -1).argmax(dim=1) + torch.arange(5) * 1000
    # the segment's middle is halfway between its first and last point, (i*1000 + 499.5) / 5000
    assert [float(x[p]) for p in peaks] == pytest.approx([0.0998, 0.2998, 0.4998, 0.6998, 0.8998], abs=1e-6)
    # 0.997 at u = 0; the nearest points sit at u = -+1/999
    assert float(y.max()) == pytest.approx(1 / (5 * math.sqrt(2 * math.pi)) / 0.08 * math.exp(-((5 / 999) ** 2) / 2), rel=1e-6)
    segment = y[:1000, 0].double()
    xs = x[:1000, 0].double()
    mean = float((segment * xs).sum() / segment.sum())
    sd = math.sqrt(float((segment * (xs - mean) ** 2).sum() / segment.sum()))
    assert sd == pytest.approx(0.02, rel=0.01)  # the half-width 0.0999 / sigma 5
    assert torch.equal(y.view(5, -1)[0], y.view(5, -1)[4])  # every segment is the same bump


def test_target_follows_the_config():
    x, y = target(ForgettingDataSpec(points=60, segments=3, sigma=2.0, scale=1.0, domain=[-1.0, 2.0]))
    assert x.shape == (60, 1) and float(x[0]) == -1.0 and float(x[20]) == pytest.approx(0.0)
    assert float(y.max()) < 1 / (2 * math.sqrt(2 * math.pi)) + 1e-6
    assert float(y[0]) == pytest.approx(math.exp(-2) / (2 * math.sqrt(2 * math.pi)), rel=1e-6)  # u = -1 at a segment's start


def test_zero_mse_is_the_mean_square_of_a_bump():
    data = ForgettingDataSpec()
    _, y = target(data)
    assert zero_mse(data) == pytest.approx(float((y[:1000].double() ** 2).mean()))
    assert zero_mse(data) == pytest.approx(0.176, abs=1e-3)


# ----------------------------------------------------------------------------- the metric
def test_scores_on_a_hand_made_matrix():
    matrix = [
        [0.5, 0.5, 0.5],  # before training
        [0.1, 0.4, 0.5],  # phase 1 learned segment 1
        [0.2, 0.1, 0.6],  # phase 2: segment 1 worse by 0.1
        [0.4, 0.1, 0.2],  # phase 3: segment 1 worse by 0.3 in all, segment 2 kept
    ]
    got = scores(matrix)
    assert got.learned_mse == pytest.approx((0.1 + 0.1 + 0.2) / 3)
    assert got.final_mse == pytest.approx((0.4 + 0.1 + 0.2) / 3)
    assert got.forgetting == pytest.approx((0.3 + 0.0) / 2)  # segments 1 and 2 only
    assert got.max_forgetting == pytest.approx(0.3)
    # gains: segment 1 0.5 -> 0.1 (0.4), segment 2 0.4 -> 0.1 (0.3); lost 0.3 + 0.0
    assert got.forgotten_fraction == pytest.approx(0.3 / 0.7)


def test_scores_of_a_model_that_keeps_everything_or_learns_nothing():
    keeps = [[1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]
    assert scores(keeps).forgetting == 0 and scores(keeps).forgotten_fraction == 0
    nothing = [[1.0, 1.0]] * 3
    assert scores(nothing).forgetting == 0 and math.isnan(scores(nothing).forgotten_fraction)
    improves = [[1.0, 1.0], [0.5, 0.5], [0.2, 0.0]]  # learning segment 2 also helped segment 1
    assert scores(improves).forgetting == pytest.approx(-0.3) and scores(improves).forgotten_fraction == pytest.approx(-0.6)


def test_scores_refuses_a_matrix_of_the_wrong_shape():
    with pytest.raises(ValueError):
        scores([[1.0], [0.5]])  # one segment: nothing to forget
    with pytest.raises(ValueError):
        scores([[1.0, 1.0], [0.5, 0.5]])  # phase 2 missing


def _run(model, seed, forgetting_, diverged=False, **extra) -> RunRecord:
    row = {"model": model, "kind": "relukan", "seed": seed, "diverged": diverged, "params": 79, "seconds": 1.0,
           "learned_mse": 0.01, "final_mse": forgetting_ + 0.01, "forgetting": forgetting_, "max_forgetting": 2 * forgetting_,
           "forgotten_fraction": forgetting_ * 10}
    if diverged:
        row.update({k: math.nan for k in ("learned_mse", "final_mse", "forgetting", "max_forgetting", "forgotten_fraction")})
    row.update(extra)
    return RunRecord.blank(**row)


def test_summary_medians_and_spread_over_seeds():
    runs = [_run("a", 0, 0.3), _run("a", 1, 0.1), _run("a", 2, 0.2), _run("b", 0, 0.5), _run("b", 1, 0.0, diverged=True)]
    summary = summarize(runs)
    assert all(isinstance(r, SummaryRecord) for r in summary)
    rows = {r.model: r for r in summary}
    a = rows["a"]
    assert (a.n_seeds, a.diverged, a.forgetting, a.forgetting_min, a.forgetting_max) == (3, 0, 0.2, 0.1, 0.3)
    assert a.max_forgetting == pytest.approx(0.4) and a.forgotten_fraction == pytest.approx(2.0)
    assert a.final_mse == pytest.approx(0.21) and a.learned_mse == 0.01
    b = rows["b"]  # a diverged run counts as unbounded
    assert b.diverged == 1 and b.forgetting == math.inf and b.forgetting_min == 0.5
    assert list(rows["a"].row()) == SUMMARY_COLUMNS


def test_representative_seed_is_the_median_forgetting():
    runs = [_run("a", 0, 0.3), _run("a", 1, 0.1), _run("a", 2, 0.2)]
    assert representative_seed(runs, "a") == 2
    runs = [_run("a", 0, 0.3), _run("a", 1, 0.1, diverged=True), _run("a", 2, 0.2)]
    assert representative_seed(runs, "a") == 0  # the diverged seed ranks last
    assert representative_seed([_run("a", 0, 0.1, diverged=True)], "a") is None


def test_median_matrix_and_curves():
    rows = [
        MatrixRecord(model="a", seed=s, phase=p, segment=j, mse=10 * p + j + s)
        for s in (0, 1, 2) for p in (0, 1, 2) for j in (1, 2)
    ]
    assert median_matrix(rows, "a") == [[2, 3], [12, 13], [22, 23]]
    curves = [CurveRecord(model="a", seed=s, step=t, phase=1, segment=j, mse=t + s)
              for s in (0, 1, 2) for t in (1, 2) for j in (1, 2)]
    assert curve_medians(curves, "a") == {1: ([1, 2], [2, 3]), 2: ([1, 2], [2, 3])}


# ----------------------------------------------------------------------------- real runs
SMALL = {
    "seeds": [0],
    "data": {"points": 200, "segments": 4},
    "network": {"width": [1, 1], "grid": 10, "k": 1},
    "train": {"steps_per_phase": 30, "lr": 0.01, "log_every": 10},
    "models": [{"name": "relukan", "kind": "relukan"}, {"name": "kan", "kind": "kan"}, {"name": "mlp", "kind": "mlp"},
               {"name": "bspline", "kind": "bspline"}],
}


def _config(**changes) -> ForgettingConfig:
    data = {**SMALL, **changes}
    return ForgettingConfig.model_validate(data)


def _one(config, model="relukan", seed=0):
    x, y = target(config.data)
    spec = next(m for m in config.models if m.name == model)
    return run_one(config, Unit(seed, model), spec, x, y, "cpu")


@pytest.mark.parametrize("model", ["relukan", "kan", "mlp", "bspline"])
def test_a_real_run_fills_the_matrix_predictions_and_curves(model):
    config = _config()
    result = _one(config, model)
    run = result.run
    assert isinstance(run, RunRecord) and list(run.row()) == RUN_COLUMNS
    assert (run.phases, run.phases_done, run.diverged, run.steps_per_phase) == (4, 4, False, 30)
    matrix = [[None] * 4 for _ in range(5)]
    for row in result.matrix:
        matrix[row.phase][row.segment - 1] = row.mse
    assert len(result.matrix) == 5 * 4 and all(v is not None and v >= 0 for r in matrix for v in r)
    expected = scores(matrix)
    assert run.forgetting == pytest.approx(expected.forgetting) and run.learned_mse == pytest.approx(expected.learned_mse)
    assert run.learned_mse < sum(matrix[0]) / 4  # training on each segment helped it
    assert len(result.predictions) == 4 * 200 and {p.phase for p in result.predictions} == {1, 2, 3, 4}
    # the matrix is the predictions' error, segment by segment
    last = [p for p in result.predictions if p.phase == 4]
    seg2 = [(p.y_pred - p.y_true) ** 2 for p in last[50:100]]
    assert sum(seg2) / 50 == pytest.approx(matrix[4][1], rel=1e-5)
    steps = sorted({c.step for c in result.curves})
    assert steps == list(range(10, 121, 10))  # every 10 steps over 4 phases of 30
    at_end = {c.segment: c.mse for c in result.curves if c.step == 120}
    assert [at_end[j] for j in (1, 2, 3, 4)] == pytest.approx(matrix[4], rel=1e-5)


def test_the_same_seed_gives_the_same_relukan_run_and_another_seed_does_not():
    config = _config()
    a, b, c = _one(config), _one(config), _one(config, seed=1)
    assert [r.mse for r in a.matrix] == [r.mse for r in b.matrix]
    assert [r.mse for r in a.matrix] != [r.mse for r in c.matrix]


def test_resetting_the_optimizer_changes_the_run_from_phase_2_on():
    shared = _one(_config())
    reset = _one(_config(train={**SMALL["train"], "reset_optimizer": True}))
    by_phase = lambda result, p: [r.mse for r in result.matrix if r.phase == p]  # noqa: E731
    assert by_phase(shared, 1) == by_phase(reset, 1) and by_phase(shared, 2) != by_phase(reset, 2)


def test_divergence_stops_the_run_and_is_recorded():
    config = _config(models=[{"name": "mlp", "kind": "mlp", "lr": 1e12}])
    result = _one(config, "mlp")
    run = result.run
    assert run.diverged and run.diverged_phase >= 1 and run.phases_done == run.diverged_phase - 1
    assert math.isnan(run.forgetting) and {r.phase for r in result.matrix} == set(range(run.phases_done + 1))


def test_iter_forgetting_runs_the_plan_in_order():
    config = _config(seeds=[0, 1], models=SMALL["models"][:1] + SMALL["models"][2:3], train={**SMALL["train"], "steps_per_phase": 3})
    seen = []
    results = list(iter_forgetting(config, "cpu", lambda unit, done, loss: seen.append((unit.seed, unit.model, done))))
    assert [(r.run.seed, r.run.model) for r in results] == [(0, "relukan"), (1, "relukan"), (0, "mlp"), (1, "mlp")]
    assert [r.run.batched for r in results] == [2, 2, 1, 1]  # the ReLU-KAN's two seeds train at once
    assert seen[:4] == [(0, "relukan", 3), (0, "relukan", 6), (0, "relukan", 9), (0, "relukan", 12)]


@pytest.mark.parametrize("reset", [False, True])
def test_batched_seeds_match_separate_runs(reset):
    models = [{"name": "relukan", "kind": "relukan"}, {"name": "fast", "kind": "relukan", "impl": "fast"}]
    train = {**SMALL["train"], "steps_per_phase": 20, "reset_optimizer": reset}
    together = list(iter_forgetting(_config(seeds=[0, 1, 2], models=models, train=train), "cpu"))
    alone = list(iter_forgetting(_config(seeds=[0, 1, 2], models=models, train={**train, "batch_seeds": False}), "cpu"))
    assert [r.run.batched for r in together] == [3] * 6 and [r.run.batched for r in alone] == [1] * 6
    for a, b in zip(together, alone):
        assert (a.run.seed, a.run.model, a.run.init_seed) == (b.run.seed, b.run.model, b.run.init_seed)
        what = f"{a.run.model} seed {a.run.seed}"
        matrix = [m.mse for m in b.matrix]
        assert_close_scaled([m.mse for m in a.matrix], matrix, rtol=TRAINED, what=f"{what}: matrix")
        assert_close_scaled([c.mse for c in a.curves], [c.mse for c in b.curves], rtol=TRAINED, what=f"{what}: curves")
        # the run's numbers are means and differences of its matrix's MSEs (forgetting can be ~0):
        # each within twice the matrix's tolerance of the other's
        scale = max(abs(v) for v in matrix)
        for key in ("learned_mse", "final_mse", "forgetting"):
            mine, theirs = getattr(a.run, key), getattr(b.run, key)
            assert abs(mine - theirs) <= 2 * TRAINED * scale, (what, key, mine, theirs)
        # and the batched run's numbers are its own matrix's (so forgotten_fraction follows too)
        got = scores([[m.mse for m in a.matrix if m.phase == phase] for phase in range(5)])
        for key in ("learned_mse", "final_mse", "forgetting", "forgotten_fraction"):
            assert getattr(a.run, key) == pytest.approx(getattr(got, key), rel=1e-12, abs=1e-15), (what, key)
