"""The Chebyshev KAN (ChebyKAN's layer) computes its published formula, is sized as its kind
says, starts as ChebyKAN starts, trains, and loads from a config.

The reference is ChebyKAN's definition evaluated term by term (Python loops over samples,
outputs, inputs and degrees) on float64 scalars with T_n(t) = cos(n acos t), the trigonometric
definition, where the model uses the recurrence; autograd gives its gradients. Tolerances are
relative to the largest magnitude of the compared tensor (tests/close.py): the model in float64
matches to 1e-10; in float32 its outputs are within a few 1e-7, its gradients (sums over the
samples) within a few 1e-6.
"""

import math

import pytest
import torch

from relukan_bench.config import load_config
from relukan_bench.errors import ConfigError
from relukan_bench.experiments.forgetting.config import NetworkSpec
from relukan_bench.experiments.speed.config import SpeedConfig
from relukan_bench.kinds import build_model, kind_of
from relukan_bench.kinds.chebyshev import ChebyshevSpec
from relukan_bench.models import count_parameters
from relukan_bench.models.chebyshev import ChebyshevKAN, chebyshev_basis
from relukan_bench.seeding import seeded
from tests.close import assert_close_scaled
from tests.models.kinds_kit import f4_losses, speed_config

FLOAT32 = 3e-5  # float32 outputs against the float64 reference
GRADIENTS = 1e-4  # float32 gradients against the float64 reference
FLOAT64 = 1e-10  # the model in float64 against the reference

SHAPES = [([2, 5, 1], 7), ([4, 4, 2, 1], 12), ([3, 2], 4), ([2, 3], 0), ([2, 3], 1)]


def perturbed(width, degree, seed=0):
    """A seeded ChebyshevKAN whose coefficients are no longer the initial ones."""
    with seeded(seed):
        model = ChebyshevKAN(width, degree)
    generator = torch.Generator().manual_seed(seed + 100)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(0.3 * torch.randn(parameter.shape, generator=generator))
    return model


def inputs(n_in, samples=12, seed=1):
    generator = torch.Generator().manual_seed(seed)
    return -1.0 + 3.0 * torch.rand(samples, n_in, generator=generator)


def slow_forward(x, params, width, degree):
    """ChebyKAN's formula term by term on float64 scalars: (samples, in) -> (samples, out)."""
    rows = []
    for s in range(x.shape[0]):
        row = [x[s, i] for i in range(width[0])]
        for layer, (n_in, n_out) in enumerate(zip(width[:-1], width[1:])):
            coef = params[f"layers.{layer}.coef"]
            t = [torch.tanh(v) for v in row]
            out = []
            for o in range(n_out):
                acc = torch.zeros((), dtype=torch.float64)
                for i in range(n_in):
                    for n in range(degree + 1):
                        acc = acc + coef[i, o, n] * torch.cos(n * torch.acos(t[i]))
                out.append(acc)
            row = out
        rows.append(torch.stack(row))
    return torch.stack(rows)


@pytest.mark.parametrize("width,degree", SHAPES, ids=lambda v: str(v))
def test_outputs_and_gradients_are_the_formulas(width, degree):
    model = perturbed(width, degree)
    x = inputs(width[0])
    params = {name: p.detach().double().requires_grad_() for name, p in model.named_parameters()}
    xr = x.double().requires_grad_()
    expected = slow_forward(xr, params, width, degree)
    expected.square().sum().backward()
    for dtype, rtol, grad_rtol in ((torch.float32, FLOAT32, GRADIENTS), (torch.float64, FLOAT64, FLOAT64)):
        model.to(dtype).zero_grad()  # no buffers: float64 of the float32 parameters is exactly the reference's
        xd = x.detach().to(dtype).requires_grad_()
        y = model(xd)
        assert y.dtype == dtype
        assert_close_scaled(y, expected, rtol=rtol, what=f"{dtype} outputs")
        y.square().sum().backward()
        for name, p in model.named_parameters():
            assert_close_scaled(p.grad, params[name].grad, rtol=grad_rtol, what=f"{dtype} {name} gradient")
        x_grad = xd.grad if xd.grad is not None else torch.zeros_like(xd)  # degree 0: the output does not depend on x
        assert_close_scaled(x_grad, xr.grad, rtol=grad_rtol, what=f"{dtype} input gradient")


def test_recurrence_is_finite_where_acos_is_not():
    """tanh(x) rounds to 1 in float32 for x above about 9: the recurrence's gradient stays finite
    (there T_n'(1) = n^2 times tanh's derivative, 0), where cos(n acos t) gives NaN."""
    x = torch.tensor([[-20.0, 0.3], [10.0, 20.0]], requires_grad=True)
    model = perturbed([2, 1], 6)
    model(x).sum().backward()
    assert torch.isfinite(x.grad).all()
    t = torch.tensor([1.0, -1.0, 0.5], dtype=torch.float64)
    assert_close_scaled(chebyshev_basis(t, 6), [[1.0] * 7, [(-1.0) ** n for n in range(7)],
                                                [math.cos(n * math.acos(0.5)) for n in range(7)]], rtol=1e-14)


@pytest.mark.parametrize("width,grid,k", [([1, 1], 5, 3), ([2, 5, 1], 5, 3), ([4, 4, 2, 1], 10, 3), ([3, 7, 2], 1, 0)])
def test_size_formula_is_what_the_model_has(width, grid, k):
    entry, shape = ChebyshevSpec(name="c", kind="chebyshev"), NetworkSpec(width=width, grid=grid, k=k)
    model = build_model(entry, shape, (0.0, 1.0), 0)
    assert model.degree == grid + k - 1
    assert kind_of(entry).size(entry, shape).params == count_parameters(model)


def test_size_by_hand():
    size = kind_of("chebyshev").size
    entry = ChebyshevSpec(name="c", kind="chebyshev")
    # per edge G + k coefficients (degree G + k - 1), one product each per sample
    small = size(entry, NetworkSpec(width=[2, 5, 1], grid=5, k=3))
    assert small.params == small.macs == 2 * 5 * 8 + 5 * 1 * 8 == 120
    large = size(entry, NetworkSpec(width=[4, 4, 2, 1], grid=10, k=3))
    assert large.params == large.macs == 4 * 4 * 13 + 4 * 2 * 13 + 2 * 1 * 13 == 338


def test_seeded_builds_are_reproducible():
    entry, shape = ChebyshevSpec(name="c", kind="chebyshev"), NetworkSpec(width=[4, 4, 2, 1], grid=10, k=3)
    before = torch.get_rng_state()
    a, b, c = (build_model(entry, shape, (0.0, 1.0), seed) for seed in (7, 7, 8))
    assert torch.equal(torch.get_rng_state(), before)
    for pa, pb, pc in zip(a.parameters(), b.parameters(), c.parameters()):
        assert torch.equal(pa, pb) and not torch.equal(pa, pc)


def test_initialisation_is_chebykans():
    with seeded(0):
        coef = ChebyshevKAN([100, 200], 7).layers[0].coef.detach()  # 160,000 normals with std 1 / (100 * 8)
    assert coef.shape == (100, 200, 8)
    assert abs(float(coef.mean())) < 0.01 / 800 and abs(float(coef.std()) * 800 - 1) < 0.01


def test_trains_through_the_common_step():
    losses = f4_losses(ChebyshevSpec(name="c", kind="chebyshev"), steps=50)
    assert torch.isfinite(losses).all() and losses[-1] < losses[0] / 10


def test_a_config_with_the_kind_loads(tmp_path):
    config = load_config(speed_config(tmp_path, {"name": "cheby", "kind": "chebyshev", "lr": 0.01}), [], SpeedConfig)
    entry = config.models[1]
    assert (entry.kind, entry.lr) == ("chebyshev", 0.01)
    assert build_model(entry, config.functions[0], (0.0, 1.0), 0).degree == 7


def test_a_bad_option_is_refused_by_name(tmp_path):
    with pytest.raises(ConfigError, match="degree"):  # the degree follows G and k: no option of its own
        load_config(speed_config(tmp_path, {"name": "c", "kind": "chebyshev", "degree": 4}), [], SpeedConfig)


def test_refuses_bad_arguments():
    with pytest.raises(ValueError, match="width"):
        ChebyshevKAN([3], 4)
    with pytest.raises(ValueError, match="degree"):
        ChebyshevKAN([2, 1], -1)
