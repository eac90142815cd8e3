"""The shared training step, on a real model."""

import torch

from relukan_bench.config import FunctionSpec, TrainSpec
from relukan_bench.data import make_dataset
from relukan_bench.models.relukan import ReLUKAN
from relukan_bench.training import TrainStep, make_optimizer


def test_a_real_short_fit_reduces_the_loss():
    f1 = FunctionSpec(name="f1", expression="sin(pi*x1)", width=[1, 1], grid=5, k=3)
    x, y = make_dataset(f1, 256, (0.0, 1.0), seed=0)
    torch.testing.assert_close(y, torch.sin(torch.pi * x))
    torch.manual_seed(0)
    model = ReLUKAN([1, 1], 5, 3)
    step = TrainStep(model, make_optimizer(model, TrainSpec(lr=1e-2)), x, y)
    first = step().item()
    for _ in range(300):
        step()
    assert step.last_loss.item() < first / 100


def test_dataset_is_seeded_and_in_the_domain():
    f = FunctionSpec(name="f", expression="x1 + x2", width=[2, 1], grid=5, k=3)
    x, y = make_dataset(f, 100, (-2.0, 3.0), seed=1)
    x2, _ = make_dataset(f, 100, (-2.0, 3.0), seed=1)
    x3, _ = make_dataset(f, 100, (-2.0, 3.0), seed=2)
    assert torch.equal(x, x2) and not torch.equal(x, x3)
    assert x.shape == (100, 2) and y.shape == (100, 1) and x.dtype == y.dtype == torch.float32
    assert x.min() >= -2.0 and x.max() < 3.0
    torch.testing.assert_close(y, x.sum(dim=1, keepdim=True))
