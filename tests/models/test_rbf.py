"""The Gaussian-RBF KAN (FastKAN's layer) computes its published formula, is sized as its kind
says, starts as FastKAN starts, trains, and loads from a config.

The reference is FastKAN's definition evaluated term by term (Python loops over samples,
outputs, inputs and centres) on float64 scalars, autograd giving its gradients. Tolerances are
relative to the largest magnitude of the compared tensor (tests/close.py). The model in float64
must match the reference to 1e-10: that is what proves the formula. In float32, without a
LayerNorm, outputs are within a few 1e-7 of float64 and gradients (sums over the samples) within
a few 1e-6; a LayerNorm over few inputs amplifies float32 rounding where they are close (over two
inputs it is about (a - b) / |a - b|): on [4, 4, 2, 1] outputs then differ by up to 5e-5 and
gradients by up to 2.5e-3 (measured over six seeds), hence the looser float32 tolerances with it.
"""

import math

import pytest
import torch

from relukan_bench.config import load_config
from relukan_bench.errors import ConfigError
from relukan_bench.experiments.forgetting.config import NetworkSpec
from relukan_bench.experiments.speed.config import SpeedConfig
from relukan_bench.kinds import build_model, kind_of
from relukan_bench.kinds.rbf import RBFSpec
from relukan_bench.models import count_parameters
from relukan_bench.models.rbf import RBFKAN
from relukan_bench.seeding import seeded
from tests.close import assert_close_scaled
from tests.models.kinds_kit import f4_losses, speed_config

FLOAT32 = 3e-5  # float32 outputs against the float64 reference
GRADIENTS = 1e-4  # float32 gradients against the float64 reference
FLOAT64 = 1e-10  # the model in float64 against the reference: the same sums in another order
LAYERNORM_FLOAT32 = 3e-4  # float32 outputs with a LayerNorm (module docstring)
LAYERNORM_GRADIENTS = 1e-2  # float32 gradients with a LayerNorm

SHAPES = [([2, 5, 1], 8), ([4, 4, 2, 1], 13), ([3, 2], 5)]
VARIANTS = [dict(), dict(layernorm=False), dict(use_base_update=False), dict(grid_range=(-1.0, 3.0))]


def perturbed(width, num_grids, seed=0, **options):
    """A seeded RBFKAN whose trainable parameters (LayerNorm's too) are no longer the initial ones."""
    with seeded(seed):
        model = RBFKAN(width, num_grids, **options)
    generator = torch.Generator().manual_seed(seed + 100)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(0.3 * torch.randn(parameter.shape, generator=generator))
    return model


def inputs(n_in, samples=12, seed=1, dtype=torch.float32):
    generator = torch.Generator().manual_seed(seed)
    return (-1.0 + 3.0 * torch.rand(samples, n_in, generator=generator, dtype=torch.float64)).to(dtype)


def slow_forward(x, params, width, num_grids, grid_range=(-2.0, 2.0), layernorm=True, use_base_update=True, eps=1e-5):
    """FastKAN's formula term by term on float64 scalars: (samples, in) -> (samples, out)."""
    lo, hi = grid_range
    h = (hi - lo) / (num_grids - 1)
    rows = []
    for s in range(x.shape[0]):
        row = [x[s, i] for i in range(width[0])]
        for layer, (n_in, n_out) in enumerate(zip(width[:-1], width[1:])):
            p = {name.split(".", 2)[2]: value for name, value in params.items() if name.startswith(f"layers.{layer}.")}
            z = row
            if layernorm:
                mean = sum(row) / n_in
                var = sum((v - mean) ** 2 for v in row) / n_in
                scale = torch.sqrt(var + eps)
                z = [(row[i] - mean) / scale * p["layernorm.weight"][i] + p["layernorm.bias"][i] for i in range(n_in)]
            out = []
            for o in range(n_out):
                acc = torch.zeros((), dtype=torch.float64)
                for i in range(n_in):
                    for j in range(num_grids):
                        acc = acc + p["spline_weight"][o, i * num_grids + j] * torch.exp(-(((z[i] - (lo + j * h)) / h) ** 2))
                    if use_base_update:
                        acc = acc + p["base.weight"][o, i] * row[i] / (1 + torch.exp(-row[i]))
                out.append(acc + p["base.bias"][o] if use_base_update else acc)
            row = out
        rows.append(torch.stack(row))
    return torch.stack(rows)


def in_float64(model, width, num_grids, **options):
    """The same model built in float64 (its centres computed in float64), with `model`'s parameters."""
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        again = RBFKAN(width, num_grids, **options)
    finally:
        torch.set_default_dtype(before)
    again.load_state_dict(dict(model.named_parameters()), strict=False)
    assert again.layers[0].centres.dtype == torch.float64
    return again


def reference_and_grads(model, x, width, num_grids, **options):
    """The reference's outputs, and the gradients of sum(y^2) by every parameter and the input."""
    params = {name: p.detach().double().requires_grad_() for name, p in model.named_parameters()}
    xr = x.detach().double().requires_grad_()
    y = slow_forward(xr, params, width, num_grids, **options)
    y.square().sum().backward()
    return y, {name: p.grad for name, p in params.items()}, xr.grad


@pytest.mark.parametrize("options", VARIANTS, ids=["defaults", "no-layernorm", "no-base", "grid-range"])
@pytest.mark.parametrize("width,num_grids", SHAPES, ids=lambda v: str(v))
def test_outputs_and_gradients_are_the_formulas(width, num_grids, options):
    model = perturbed(width, num_grids, **options)
    x = inputs(width[0]).requires_grad_()
    expected, grads, x_grad = reference_and_grads(model, x, width, num_grids, **options)
    loose = options.get("layernorm", True)
    float32 = (LAYERNORM_FLOAT32, LAYERNORM_GRADIENTS) if loose else (FLOAT32, GRADIENTS)
    for dtype, rtol, grad_rtol in ((torch.float32, *float32), (torch.float64, FLOAT64, FLOAT64)):
        model = model if dtype == torch.float32 else in_float64(model, width, num_grids, **options)
        xd = x.detach().to(dtype).requires_grad_()
        y = model(xd)
        assert y.dtype == dtype
        assert_close_scaled(y, expected, rtol=rtol, what=f"{dtype} outputs")
        y.square().sum().backward()
        for name, p in model.named_parameters():
            assert_close_scaled(p.grad, grads[name], rtol=grad_rtol, what=f"{dtype} {name} gradient")
        assert_close_scaled(xd.grad, x_grad, rtol=grad_rtol, what=f"{dtype} input gradient")


def test_a_single_input_makes_the_layernormed_rbf_branch_constant():
    """FastKAN's definition on width [1, ...]: LayerNorm of one value is its bias."""
    model = perturbed([1, 3], 8)
    x = inputs(1, samples=50)
    base = model.layers[0].base(torch.nn.functional.silu(x))
    rbf_branch = model(x) - base
    assert_close_scaled(rbf_branch, rbf_branch[:1].expand_as(rbf_branch), rtol=1e-6, what="RBF branch")
    assert not torch.allclose(perturbed([1, 3], 8, layernorm=False)(x)[0], perturbed([1, 3], 8, layernorm=False)(x)[1])


def test_basis_is_fastkans_grid():
    layer = RBFKAN([2, 1], 5).layers[0]
    assert torch.equal(layer.centres, torch.tensor([-2.0, -1.0, 0.0, 1.0, 2.0])) and layer.h == 1.0
    assert RBFKAN([2, 1], 1, grid_range=(0.0, 3.0)).layers[0].h == 3.0  # our choice where FastKAN divides by zero


@pytest.mark.parametrize("options", [dict(), dict(layernorm=False), dict(use_base_update=False)], ids=str)
@pytest.mark.parametrize("width,grid,k", [([1, 1], 5, 3), ([2, 5, 1], 5, 3), ([4, 4, 2, 1], 10, 3), ([3, 7, 2], 2, 0)])
def test_size_formula_is_what_the_model_has(width, grid, k, options):
    entry, shape = RBFSpec(name="r", kind="rbf", **options), NetworkSpec(width=width, grid=grid, k=k)
    assert kind_of(entry).size(entry, shape).params == count_parameters(build_model(entry, shape, (0.0, 1.0), 0))


def test_size_by_hand():
    size = kind_of("rbf").size
    entry = RBFSpec(name="r", kind="rbf")
    # per layer: RBF weights in*(G+k)*out, base Linear in*out + out, LayerNorm 2*in; macs: the two maps' products
    small = size(entry, NetworkSpec(width=[2, 5, 1], grid=5, k=3))
    assert small.params == (2 * 8 * 5 + 2 * 5 + 5 + 2 * 2) + (5 * 8 * 1 + 5 * 1 + 1 + 2 * 5) == 155
    assert small.macs == (2 * 8 * 5 + 2 * 5) + (5 * 8 * 1 + 5 * 1) == 135
    large = size(entry, NetworkSpec(width=[4, 4, 2, 1], grid=10, k=3))
    assert large.params == ((4 * 13 * 4 + 4 * 4 + 4 + 2 * 4) + (4 * 13 * 2 + 4 * 2 + 2 + 2 * 4)
                            + (2 * 13 * 1 + 2 * 1 + 1 + 2 * 2)) == 391
    assert large.macs == (4 * 13 * 4 + 4 * 4) + (4 * 13 * 2 + 4 * 2) + (2 * 13 * 1 + 2 * 1) == 364
    bare = size(RBFSpec(name="r", kind="rbf", layernorm=False, use_base_update=False), NetworkSpec(width=[2, 5, 1], grid=5, k=3))
    assert (bare.params, bare.macs) == (2 * 8 * 5 + 5 * 8 * 1, 2 * 8 * 5 + 5 * 8 * 1)


def test_seeded_builds_are_reproducible():
    entry, shape = RBFSpec(name="r", kind="rbf"), NetworkSpec(width=[4, 4, 2, 1], grid=10, k=3)
    before = torch.get_rng_state()
    a, b, c = (build_model(entry, shape, (0.0, 1.0), seed) for seed in (7, 7, 8))
    assert torch.equal(torch.get_rng_state(), before)  # the caller's random state is left alone
    for (name, pa), pb, pc in zip(a.named_parameters(), b.parameters(), c.parameters()):
        assert torch.equal(pa, pb), name
        if "layernorm" not in name:
            assert not torch.equal(pa, pc), name


def test_initialisation_is_fastkans():
    with seeded(0):
        layer = RBFKAN([200, 100], 8).layers[0]
    w = layer.spline_weight.detach()  # 160,000 draws of a truncated normal with std 0.1, cut at +-2 (in effect untruncated)
    assert abs(float(w.mean())) < 0.002 and abs(float(w.std()) - 0.1) < 0.002 and float(w.abs().max()) <= 2.0
    bound = 1 / math.sqrt(200)  # the base Linear: PyTorch's default, uniform in +-1/sqrt(in), weight and bias
    for p in (layer.base.weight.detach(), layer.base.bias.detach()):
        assert float(p.abs().max()) <= bound and float(p.abs().max()) > 0.9 * bound
    assert torch.equal(layer.layernorm.weight, torch.ones(200)) and torch.equal(layer.layernorm.bias, torch.zeros(200))
    with seeded(0):
        scaled = RBFKAN([200, 100], 8, init_scale=0.5).layers[0].spline_weight.detach()
    assert abs(float(scaled.std()) - 0.5) < 0.01


def test_trains_through_the_common_step():
    losses = f4_losses(RBFSpec(name="r", kind="rbf"), steps=50)
    assert torch.isfinite(losses).all() and losses[-1] < losses[0] / 4


def test_a_config_with_the_kind_loads(tmp_path):
    config = load_config(speed_config(tmp_path, {"name": "fastkan", "kind": "rbf"},
                                 {"name": "rbf-bare", "kind": "rbf", "layernorm": False, "use_base_update": False,
                                  "grid_range": [-1, 1], "init_scale": 0.2, "lr": 0.01}), [], SpeedConfig)
    default, bare = config.models[1:]
    assert (default.layernorm, default.use_base_update, default.grid_range, default.init_scale) == (True, True, [-2.0, 2.0], 0.1)
    assert (bare.layernorm, bare.use_base_update, bare.grid_range, bare.init_scale) == (False, False, [-1.0, 1.0], 0.2)
    assert bare.lr == 0.01
    model = build_model(bare, config.functions[0], (0.0, 1.0), 0)
    assert model.layers[0].layernorm is None and model.layers[0].base is None and model.layers[0].num_grids == 8


def test_a_bad_option_is_refused_by_name(tmp_path):
    with pytest.raises(ConfigError, match="layer_norm"):
        load_config(speed_config(tmp_path, {"name": "r", "kind": "rbf", "layer_norm": False}), [], SpeedConfig)
    with pytest.raises(ConfigError, match="init_scale"):
        load_config(speed_config(tmp_path, {"name": "r", "kind": "rbf", "init_scale": -1.0}), [], SpeedConfig)


def test_refuses_bad_arguments():
    with pytest.raises(ValueError, match="width"):
        RBFKAN([3], 8)
    with pytest.raises(ValueError, match="grid_range"):
        RBFKAN([2, 1], 8, grid_range=(1.0, 0.0))
    with pytest.raises(ValueError, match="num_grids"):
        RBFKAN([2, 1], 0)
