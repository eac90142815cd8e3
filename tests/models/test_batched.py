"""Several seeds as one batched model give what separate runs give."""

import pytest
import torch

from relukan_bench.config import TrainSpec
from relukan_bench.models.batched import BatchedReLUKAN
from relukan_bench.models.relukan import ReLUKAN
from relukan_bench.training import make_step, train_logged, train_logged_batched

from tests.close import assert_close_scaled
from tests.models.shapes import paper_shapes
from tests.models.test_relukan_fast import layout  # noqa: F401 - a fixture
from tests.on_devices import DEVICES

SEEDS = 3
#: Float32 losses of the same 100 training steps through different kernels, relative to the
#: largest loss compared (tests/close.py): the rounding differs with the kernels and the CPU
#: (AVX2 or AVX-512, FMA), and training carries it from step to step. Each float32 run of
#: test_float32_batched_fast_training_matches_separate_runs stays within ~1.4e-7 of the
#: float64 run; a learning rate 1% off moves the losses by ~4e-3.
TRAINED = 1e-5


def members(width, grid, k, domain, impl, train_se=True, dtype=torch.float64, device="cpu"):
    models = []
    for seed in range(SEEDS):
        torch.manual_seed(seed)
        models.append(ReLUKAN(width, grid, k, train_se=train_se, input_range=domain, impl=impl).to(device, dtype))
    return models


def data(width, seed, n=400, dtype=torch.float64, device="cpu"):
    generator = torch.Generator().manual_seed(seed)
    x = torch.rand(n, width[0], generator=generator, dtype=dtype).to(device)
    return x, torch.sin(3 * x.sum(1, keepdim=True)) + 0.1 * seed


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("impl", ["reference", "fast"])
@pytest.mark.parametrize("width,grid,k,domain", paper_shapes())
def test_batched_training_equals_separate_runs_after_100_steps(width, grid, k, domain, impl, layout, device):
    """On a GPU the batched fast step is captured in a CUDA graph, as the experiments take it."""
    if impl == "reference" and layout == "blocked":
        pytest.skip("blocking is the fast implementation's")
    models = members(width, grid, k, domain, impl, device=device)
    batched = BatchedReLUKAN(models)  # copies: the members stay untouched
    datasets = [data(width, seed, device=device) for seed in range(SEEDS)]
    separate = []
    for model, (x, y) in zip(models, datasets):
        step = make_step(model, TrainSpec(), x, y, fused=impl == "fast")
        separate.append(torch.stack([step() for _ in range(100)]))
    x = torch.stack([d[0] for d in datasets])
    y = torch.stack([d[1] for d in datasets])
    step = make_step(batched, TrainSpec(), x, y, fused=impl == "fast", cuda_graph=True)
    together = torch.stack([step().clone() for _ in range(100)])  # (100, S); a replayed graph reuses its output
    assert together.shape == (100, SEEDS)
    for seed in range(SEEDS):
        assert float(((together[:, seed] - separate[seed]).abs() / separate[seed]).max()) < 1e-5
    for model, back in zip(models, batched.unbatch()):  # the trained members, as plain models
        for a, b in zip(model.parameters(), back.parameters()):
            assert float((a - b).detach().abs().max() / a.detach().abs().max()) < 1e-5


def test_float32_batched_fast_training_matches_separate_runs():
    """The precision fit runs in, on f4's shape."""
    models = members([2, 5, 1], 5, 3, (0.0, 1.0), "fast", dtype=torch.float32)
    datasets = [data([2, 5, 1], seed, dtype=torch.float32) for seed in range(SEEDS)]
    batched = BatchedReLUKAN(models)
    x_test = torch.stack([d[0] for d in datasets])
    y_test = torch.stack([d[1] for d in datasets])
    curves = train_logged_batched(make_step(batched, TrainSpec(), x_test, y_test, fused=True), x_test, y_test, 100)
    for model, (x, y), curve in zip(models, datasets, curves):
        alone = train_logged(make_step(model, TrainSpec(), x, y, fused=True), x, y, 100)
        assert curve.losses.shape == alone.losses.shape == (100, 2)
        # float32 through other kernels (a batched matmul), carried over 100 steps of training
        assert_close_scaled(curve.losses, alone.losses, rtol=TRAINED, what="batched vs separate losses")


def test_one_diverging_seed_leaves_the_others_alone():
    models = members([2, 1], 5, 3, (0.0, 1.0), "fast", dtype=torch.float32)
    x = torch.rand(SEEDS, 200, 2)
    y = torch.rand(SEEDS, 200, 1)
    y[1, 0, 0] = float("nan")  # seed 1's data poisons seed 1 only
    clean = BatchedReLUKAN([models[0], models[2]])
    curves = train_logged_batched(make_step(BatchedReLUKAN(models), TrainSpec(), x, y, fused=True), x, y, 150)
    reference = train_logged_batched(make_step(clean, TrainSpec(), x[[0, 2]], y[[0, 2]], fused=True), x[[0, 2]], y[[0, 2]], 150)
    assert curves[1].diverged and curves[1].steps_done == 1
    assert not curves[0].diverged and curves[0].steps_done == 150
    # three seeds against two: the same code on other shapes, which another CPU's kernels may
    # round differently; a NaN that leaked would be a NaN here, a shared update 1e-2 or more
    assert_close_scaled(curves[0].losses, reference[0].losses, rtol=TRAINED, what="seed 0")
    assert_close_scaled(curves[2].losses, reference[1].losses, rtol=TRAINED, what="seed 2")


def test_members_must_share_a_shape():
    with pytest.raises(ValueError, match="differ in shape"):
        BatchedReLUKAN([ReLUKAN([2, 1], 5, 3), ReLUKAN([2, 1], 6, 3)])
    with pytest.raises(ValueError, match="differ in shape"):
        BatchedReLUKAN([ReLUKAN([2, 1], 5, 3), ReLUKAN([2, 1], 5, 3, impl="fast")])
