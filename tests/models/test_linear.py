"""The `linear` floor: an nn.Linear over the repeated input, with ReLU-KAN's multiply-adds,
sized as its kind says, seeded, trainable through the common step, and loadable from a config."""

import subprocess
import sys

import pytest
import torch

from relukan_bench.config import load_config
from relukan_bench.errors import ConfigError
from relukan_bench.experiments.forgetting.config import NetworkSpec
from relukan_bench.experiments.speed.config import SpeedConfig
from relukan_bench.kinds import build_model, kind_of, looks
from relukan_bench.kinds.linear import LinearSpec
from relukan_bench.kinds.relukan import ReLUKANSpec
from relukan_bench.kinds.relukan import size as relukan_size
from relukan_bench.models import count_parameters
from relukan_bench.models.linear import LinearFloor, linear_floor_parameter_count
from tests.close import assert_close_scaled
from tests.models.kinds_kit import f4_losses, speed_config
from tests.models.shapes import paper_shapes

SHAPES = [([1, 1], 5, 3), ([2, 5, 1], 5, 3), ([4, 4, 2, 1], 10, 3), ([1, 1], 25, 1), ([3, 2], 4, 0), ([64, 64], 5, 3)]
FLOOR = LinearSpec(name="floor", kind="linear")


def network(width, grid, k):
    return NetworkSpec(width=width, grid=grid, k=k)


@pytest.mark.parametrize("width,copies", [([1, 1], 1), ([2, 5, 1], 8), ([4, 4, 2, 1], 13), ([3, 2], 3)])
def test_output_shape(width, copies):
    model = LinearFloor(width, copies)
    assert model(torch.rand(7, width[0])).shape == (7, width[-1])
    assert [layer.in_features for layer in model.layers] == [n * copies for n in width[:-1]]
    assert [layer.out_features for layer in model.layers] == width[1:]


def test_each_layer_is_its_linear_over_the_repeated_input_and_nothing_between():
    """By hand: a layer's weight is `copies` blocks (out, in), each meeting the whole input, so
    a layer is x @ (sum of the blocks)^T + b, and the stack one affine map (float64)."""
    torch.manual_seed(0)
    model = LinearFloor([3, 4, 2], 5).double()
    x = torch.rand(11, 3, dtype=torch.float64)
    h = x
    for layer in model.layers:
        blocks = layer.weight.detach().reshape(layer.out_features, 5, -1).sum(1)  # (out, in): the copies summed
        h = h @ blocks.T + layer.bias.detach()
    assert_close_scaled(model(x), h, rtol=1e-12, what="by hand")


@pytest.mark.parametrize("width,grid,k", SHAPES)
def test_multiply_adds_equal_relukans_contraction(width, grid, k):
    shape = network(width, grid, k)
    floor = kind_of(FLOOR).size(FLOOR, shape)
    assert floor.macs == relukan_size(ReLUKANSpec(name="r", kind="relukan"), shape).macs
    n = grid + k
    assert floor.macs == sum(i * n * o for i, o in zip(width[:-1], width[1:]))


@pytest.mark.parametrize("width,grid,k,domain", paper_shapes())
def test_multiply_adds_equal_relukans_on_every_paper_shape(width, grid, k, domain):
    shape = network(width, grid, k)
    assert kind_of(FLOOR).size(FLOOR, shape).macs == relukan_size(ReLUKANSpec(name="r", kind="relukan"), shape).macs


@pytest.mark.parametrize("copies", [None, 1, 7])
@pytest.mark.parametrize("width,grid,k", SHAPES)
def test_size_params_are_what_the_model_trains(width, grid, k, copies):
    entry = LinearSpec(name="floor", kind="linear", copies=copies)
    shape = network(width, grid, k)
    model = build_model(entry, shape, (0.0, 1.0), 0)
    assert model.copies == (copies if copies is not None else grid + k)
    size = kind_of(entry).size(entry, shape)
    assert size.params == count_parameters(model) == linear_floor_parameter_count(width, model.copies)


def test_sizes_counted_by_hand():
    size = kind_of(FLOOR).size
    # f4 [2, 5, 1], G 5, k 3: copies 8; Linear(16 -> 5) and Linear(40 -> 1)
    f4 = size(FLOOR, network([2, 5, 1], 5, 3))
    assert (f4.params, f4.macs) == ((16 * 5 + 5) + (40 * 1 + 1), 80 + 40) == (126, 120)
    # f5 [4, 4, 2, 1], G 10, k 3: copies 13; Linear(52 -> 4), Linear(52 -> 2), Linear(26 -> 1)
    f5 = size(FLOOR, network([4, 4, 2, 1], 10, 3))
    assert (f5.params, f5.macs) == ((208 + 4) + (104 + 2) + (26 + 1), 208 + 104 + 26) == (345, 338)
    # copies given: [3, 2] with 4 copies, Linear(12 -> 2), whatever the grid
    given = LinearSpec(name="floor", kind="linear", copies=4)
    assert size(given, network([3, 2], 25, 1)) == size(given, network([3, 2], 5, 3))
    assert (size(given, network([3, 2], 25, 1)).params, size(given, network([3, 2], 25, 1)).macs) == (26, 24)


def test_seeded_builds_are_reproducible_and_leave_the_global_state():
    shape = network([4, 4, 2, 1], 10, 3)
    before = torch.get_rng_state()
    a, b, c = (build_model(FLOOR, shape, (0.0, 1.0), seed) for seed in (7, 7, 8))
    assert torch.equal(torch.get_rng_state(), before)
    x = torch.rand(5, 4)
    assert torch.equal(a(x), b(x)) and not torch.equal(a(x), c(x))


def test_trains_through_the_common_step():
    losses = f4_losses(FLOOR, steps=30)
    assert torch.isfinite(losses).all() and losses[-1] < losses[0] / 4


def test_trains_in_float64():
    model = LinearFloor([2, 5, 1], 8).double()
    y = model(torch.rand(16, 2, dtype=torch.float64))
    assert y.dtype == torch.float64
    y.square().mean().backward()
    assert all(p.grad.dtype == torch.float64 and torch.isfinite(p.grad).all() for p in model.parameters())


def test_the_kind_is_a_control_drawn_as_a_floor():
    kind = kind_of("linear")
    assert (kind.role, kind.label, kind.family, kind.batch, kind.knob) == ("control", "nn.Linear floor", "floor", None, "copies")
    assert not kind.step(FLOOR).fused
    look = looks([FLOOR, LinearSpec(name="floor-4", kind="linear", copies=4, lr=0.01)])
    assert look["floor"].label == "nn.Linear floor" and look["floor"].hue == "bone"
    assert look["floor-4"].label == "nn.Linear floor (4 copies, lr 0.01)"
    assert look["floor"].line["linestyle"] == ":"


def test_the_kind_module_imports_no_torch():
    code = "import sys, relukan_bench.kinds.linear; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_config_with_the_kind_loads(tmp_path):
    config = load_config(speed_config(tmp_path, {"name": "floor", "kind": "linear"},
                                 {"name": "floor-4", "kind": "linear", "copies": 4, "lr": 0.01, "compile": True}),
                         [], SpeedConfig)
    default, four = config.models[1:]
    assert (default.copies, default.lr, default.compile) == (None, None, False)
    assert (four.copies, four.lr, four.compile) == (4, 0.01, True)
    assert build_model(default, config.functions[0], (0.0, 1.0), 0).copies == 8
    assert build_model(four, config.functions[0], (0.0, 1.0), 0).copies == 4


def test_a_bad_option_is_refused_by_name(tmp_path):
    with pytest.raises(ConfigError, match="copies"):
        load_config(speed_config(tmp_path, {"name": "floor", "kind": "linear", "copies": 0}), [], SpeedConfig)
    with pytest.raises(ConfigError, match="repeats"):
        load_config(speed_config(tmp_path, {"name": "floor", "kind": "linear", "repeats": 3}), [], SpeedConfig)


def test_refuses_bad_arguments():
    with pytest.raises(ValueError, match="width"):
        LinearFloor([3], 4)
    with pytest.raises(ValueError, match="copies"):
        LinearFloor([3, 1], 0)
