"""The Fourier KAN (GistNoesis's FourierKAN layer) computes its published formula, is sized as
its kind says, starts as FourierKAN starts, trains, and loads from a config.

The reference is FourierKAN's definition evaluated term by term (Python loops over samples,
outputs, inputs and frequencies) on float64 scalars, autograd giving its gradients. Tolerances
are relative to the largest magnitude of the compared tensor (tests/close.py): the model in
float64 matches to 1e-10; in float32 its outputs are within a few 1e-7, its gradients (sums over
the samples) within a few 1e-6.
"""

import math

import pytest
import torch

from relukan_bench.config import load_config
from relukan_bench.errors import ConfigError
from relukan_bench.experiments.forgetting.config import NetworkSpec
from relukan_bench.experiments.speed.config import SpeedConfig
from relukan_bench.kinds import build_model, kind_of
from relukan_bench.kinds.fourier import FourierSpec
from relukan_bench.models import count_parameters
from relukan_bench.models.fourier import FourierKAN
from relukan_bench.seeding import seeded
from tests.close import assert_close_scaled
from tests.models.kinds_kit import f4_losses, speed_config

FLOAT32 = 3e-5  # float32 outputs against the float64 reference
GRADIENTS = 1e-4  # float32 gradients against the float64 reference
FLOAT64 = 1e-10  # the model in float64 against the reference

SHAPES = [([2, 5, 1], 4), ([4, 4, 2, 1], 6), ([3, 2], 1)]


def perturbed(width, frequencies, seed=0, **options):
    """A seeded FourierKAN whose parameters (biases too) are no longer the initial ones."""
    with seeded(seed):
        model = FourierKAN(width, frequencies, **options)
    generator = torch.Generator().manual_seed(seed + 100)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(0.3 * torch.randn(parameter.shape, generator=generator))
    return model


def inputs(n_in, samples=12, seed=1):
    generator = torch.Generator().manual_seed(seed)
    return -1.0 + 3.0 * torch.rand(samples, n_in, generator=generator)


def slow_forward(x, params, width, frequencies, bias=True):
    """FourierKAN's formula term by term on float64 scalars: (samples, in) -> (samples, out)."""
    rows = []
    for s in range(x.shape[0]):
        row = [x[s, i] for i in range(width[0])]
        for layer, (n_in, n_out) in enumerate(zip(width[:-1], width[1:])):
            coef = params[f"layers.{layer}.coef"]  # coef[0] = a, coef[1] = b, each (out, in, M)
            out = []
            for o in range(n_out):
                acc = params[f"layers.{layer}.bias"][o] if bias else torch.zeros((), dtype=torch.float64)
                for i in range(n_in):
                    for m in range(1, frequencies + 1):
                        acc = acc + coef[0, o, i, m - 1] * torch.cos(m * row[i]) + coef[1, o, i, m - 1] * torch.sin(m * row[i])
                out.append(acc)
            row = out
        rows.append(torch.stack(row))
    return torch.stack(rows)


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
@pytest.mark.parametrize("width,frequencies", SHAPES, ids=lambda v: str(v))
def test_outputs_and_gradients_are_the_formulas(width, frequencies, bias):
    model = perturbed(width, frequencies, bias=bias)
    x = inputs(width[0])
    params = {name: p.detach().double().requires_grad_() for name, p in model.named_parameters()}
    xr = x.double().requires_grad_()
    expected = slow_forward(xr, params, width, frequencies, bias=bias)
    expected.square().sum().backward()
    for dtype, rtol, grad_rtol in ((torch.float32, FLOAT32, GRADIENTS), (torch.float64, FLOAT64, FLOAT64)):
        model.to(dtype).zero_grad()  # the frequencies buffer holds small integers: exact in either dtype
        xd = x.detach().to(dtype).requires_grad_()
        y = model(xd)
        assert y.dtype == dtype
        assert_close_scaled(y, expected, rtol=rtol, what=f"{dtype} outputs")
        y.square().sum().backward()
        for name, p in model.named_parameters():
            assert_close_scaled(p.grad, params[name].grad, rtol=grad_rtol, what=f"{dtype} {name} gradient")
        assert_close_scaled(xd.grad, xr.grad, rtol=grad_rtol, what=f"{dtype} input gradient")


@pytest.mark.parametrize("options", [dict(), dict(bias=False)], ids=str)
@pytest.mark.parametrize("width,grid,k", [([1, 1], 5, 3), ([2, 5, 1], 5, 3), ([4, 4, 2, 1], 10, 3), ([3, 7, 2], 1, 0)])
def test_size_formula_is_what_the_model_has(width, grid, k, options):
    entry, shape = FourierSpec(name="f", kind="fourier", **options), NetworkSpec(width=width, grid=grid, k=k)
    model = build_model(entry, shape, (0.0, 1.0), 0)
    assert model.layers[0].frequencies == max(1, (grid + k) // 2)
    assert kind_of(entry).size(entry, shape).params == count_parameters(model)


def test_size_by_hand():
    size = kind_of("fourier").size
    entry = FourierSpec(name="f", kind="fourier")
    # M = (G + k) // 2 frequencies: 2M coefficients per edge, one bias per output; 2M products per edge and sample
    small = size(entry, NetworkSpec(width=[2, 5, 1], grid=5, k=3))  # M = 4
    assert small.params == (2 * 4 * 2 * 5 + 5) + (2 * 4 * 5 * 1 + 1) == 126
    assert small.macs == 2 * 4 * 2 * 5 + 2 * 4 * 5 * 1 == 120
    large = size(entry, NetworkSpec(width=[4, 4, 2, 1], grid=10, k=3))  # M = 6
    assert large.params == (2 * 6 * 4 * 4 + 4) + (2 * 6 * 4 * 2 + 2) + (2 * 6 * 2 * 1 + 1) == 319
    assert large.macs == 2 * 6 * 4 * 4 + 2 * 6 * 4 * 2 + 2 * 6 * 2 * 1 == 312


def test_seeded_builds_are_reproducible():
    entry, shape = FourierSpec(name="f", kind="fourier"), NetworkSpec(width=[4, 4, 2, 1], grid=10, k=3)
    before = torch.get_rng_state()
    a, b, c = (build_model(entry, shape, (0.0, 1.0), seed) for seed in (7, 7, 8))
    assert torch.equal(torch.get_rng_state(), before)
    for (name, pa), pb, pc in zip(a.named_parameters(), b.parameters(), c.parameters()):
        assert torch.equal(pa, pb), name
        assert torch.equal(pa, torch.zeros_like(pa)) if name.endswith("bias") else not torch.equal(pa, pc), name


def test_initialisation_is_fourierkans():
    with seeded(0):
        coef = FourierKAN([100, 200], 4).layers[0].coef.detach()  # 160,000 normals over sqrt(100) sqrt(4) = 20
    assert coef.shape == (2, 200, 100, 4)
    assert abs(float(coef.mean())) < 0.01 / 20 and abs(float(coef.std()) * 20 - 1) < 0.01
    with seeded(0):
        smooth = FourierKAN([100, 200], 4, smooth_initialization=True).layers[0].coef.detach()
    for m in range(1, 5):  # divided by sqrt(100) m^2
        assert abs(float(smooth[..., m - 1].std()) * 10 * m**2 - 1) < 0.02
    # the same draws, scaled otherwise
    assert_close_scaled(smooth * 10 * torch.arange(1, 5) ** 2, coef * 20, rtol=1e-6, what="draws")


def test_trains_through_the_common_step():
    losses = f4_losses(FourierSpec(name="f", kind="fourier"), steps=50)
    assert torch.isfinite(losses).all() and losses[-1] < losses[0] / 10


def test_a_config_with_the_kind_loads(tmp_path):
    config = load_config(speed_config(tmp_path, {"name": "fourier", "kind": "fourier"},
                                 {"name": "fourier-smooth", "kind": "fourier", "bias": False, "smooth_initialization": True}),
                         [], SpeedConfig)
    default, smooth = config.models[1:]
    assert (default.bias, default.smooth_initialization, smooth.bias, smooth.smooth_initialization) == (True, False, False, True)
    model = build_model(smooth, config.functions[0], (0.0, 1.0), 0)
    assert model.layers[0].bias is None and model.layers[0].frequencies == 4


def test_a_bad_option_is_refused_by_name(tmp_path):
    with pytest.raises(ConfigError, match="gridsize"):
        load_config(speed_config(tmp_path, {"name": "f", "kind": "fourier", "gridsize": 4}), [], SpeedConfig)
    with pytest.raises(ConfigError, match="bias"):
        load_config(speed_config(tmp_path, {"name": "f", "kind": "fourier", "bias": "yes"}), [], SpeedConfig)


def test_refuses_bad_arguments():
    with pytest.raises(ValueError, match="width"):
        FourierKAN([3], 4)
    with pytest.raises(ValueError, match="frequencies"):
        FourierKAN([2, 1], 0)
    assert math.isclose(float(FourierKAN([2, 1], 3).layers[0].freqs.sum()), 6.0)
