"""The MLP control and the rule that sizes it against ReLU-KAN."""

import pytest
import torch

from relukan_bench.config import FunctionSpec
from relukan_bench.experiments.forgetting.config import NetworkSpec
from relukan_bench.kinds.mlp import MLPSpec
from relukan_bench.kinds import build_model
from relukan_bench.kinds.mlp import mlp_sizes
from relukan_bench.models import count_parameters
from relukan_bench.models.mlp import MLP, matched_hidden, mlp_parameter_count
from relukan_bench.models.relukan import ReLUKAN, relukan_parameter_count

PAPER_SHAPES = [([1, 1], 25, 1), ([1, 1], 5, 3), ([2, 1], 5, 3), ([2, 1, 1], 5, 3), ([2, 5, 1], 5, 3), ([4, 4, 2, 1], 10, 3)]


@pytest.mark.parametrize("width,grid,k", PAPER_SHAPES)
@pytest.mark.parametrize("train_se", [True, False])
def test_relukan_parameter_count_is_what_the_model_has(width, grid, k, train_se):
    assert relukan_parameter_count(width, grid, k, train_se) == count_parameters(ReLUKAN(width, grid, k, train_se=train_se))


def test_mlp_parameter_count_is_what_the_model_has():
    for sizes in ([1, 26, 1], [2, 59, 1], [4, 7, 7, 1]):
        assert mlp_parameter_count(sizes) == count_parameters(MLP(sizes))


def test_forgetting_shape_matches_exactly():
    assert relukan_parameter_count([1, 1], 25, 1) == 79  # 26 weights + 1 bias + 2 x 26 for s and e
    assert matched_hidden([1, 1], 79) == [26]  # 3 * 26 + 1 = 79


@pytest.mark.parametrize("width,grid,k", PAPER_SHAPES)
def test_matched_hidden_is_the_closest_count(width, grid, k):
    target = relukan_parameter_count(width, grid, k)
    hidden = matched_hidden(width, target)
    assert len(hidden) == max(1, len(width) - 2) and len(set(hidden)) == 1
    count = lambda h: mlp_parameter_count([width[0], *[h] * len(hidden), width[-1]])  # noqa: E731
    best = min(range(1, 2000), key=lambda h: (abs(count(h) - target), h))
    assert hidden[0] == best


def test_matched_hidden_breaks_ties_towards_the_smaller_width():
    # [2, h, 1] has 4h + 1 parameters: 11 lies halfway between h = 2 (9) and h = 3 (13)
    assert matched_hidden([2, 1], 11) == [2]
    assert matched_hidden([2, 1], 12) == [3] and matched_hidden([2, 1], 10) == [2]
    assert matched_hidden([1, 1], 1) == [1]  # never below one unit


def test_build_model_mlp_matched_or_given_and_seeded():
    network = NetworkSpec(width=[1, 1], grid=25, k=1)
    spec = MLPSpec(name="mlp", kind="mlp")
    assert mlp_sizes(spec, network) == [1, 26, 1]
    a, b = build_model(spec, network, (0.0, 1.0), 3), build_model(spec, network, (0.0, 1.0), 3)
    x = torch.rand(16, 1)
    assert torch.equal(a(x), b(x)) and not torch.equal(a(x), build_model(spec, network, (0.0, 1.0), 4)(x))
    assert count_parameters(a) == 79
    f4 = FunctionSpec(name="f4", expression="sin(pi*x1 + pi*x2)", width=[2, 5, 1], grid=5, k=3)
    given = build_model(MLPSpec(name="m", kind="mlp", hidden=[8, 4], activation="tanh"), f4, (0.0, 1.0), 0)
    assert given.sizes == [2, 8, 4, 1] and isinstance(given.net[1], torch.nn.Tanh)
    assert given(torch.rand(5, 2)).shape == (5, 1)


def test_mlp_refuses_bad_arguments():
    with pytest.raises(ValueError):
        MLP([1])
    with pytest.raises(ValueError):
        MLP([1, 4, 1], activation="gelu")
