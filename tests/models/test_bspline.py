"""Our vectorised B-spline KAN computes what pykan's KAN computes, and starts where it starts.

Every shape the shipped configs train. Tolerances are relative to the largest magnitude of the
compared tensor (tests/close.py), and leave room for other CPUs' rounding: in float32 each
implementation's outputs are within ~3e-6 of the float64 result, its gradients (sums over 500
samples) within ~7e-6 (f5 the worst, measured with vectorised and with scalar kernels), so two
implementations may differ by twice that on any machine.
"""

import pytest
import torch

from relukan_bench.config import TrainSpec
from relukan_bench.kinds.bspline import BSplineSpec
from relukan_bench.kinds.kan import KANSpec
from relukan_bench.kinds import build_model
from relukan_bench.models import count_parameters
from relukan_bench.models.bspline import BSplineKAN, bspline_basis, copy_from_pykan, uniform_knots
from relukan_bench.models.kan import PyKAN
from relukan_bench.seeding import seeded
from relukan_bench.training import make_step
from tests.close import assert_close_scaled
from tests.models.shapes import paper_shapes
from tests.on_devices import DEVICES

FLOAT32 = 3e-5  # values two float32 implementations compute
GRADIENTS = 1e-4  # their gradients


def perturbed_pykan(width, grid, k, domain, seed=0):
    """A pykan KAN whose trainable parameters are no longer the initial ones."""
    kan = PyKAN(width, grid, k, grid_range=domain, seed=seed)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in kan.parameters():
            if parameter.requires_grad:
                parameter.add_(0.3 * torch.randn(parameter.shape, generator=generator))
    return kan


def inputs(width, domain, samples=500, seed=1):
    """Random inputs over the grid range and 20% beyond it on either side."""
    lo, hi = domain
    generator = torch.Generator().manual_seed(seed)
    return lo - 0.2 * (hi - lo) + 1.4 * (hi - lo) * torch.rand(samples, width[0], generator=generator)


@pytest.mark.parametrize("width,grid,k,domain", paper_shapes())
def test_basis_is_pykans(width, grid, k, domain):
    from kan.spline import B_batch

    x = inputs(width, domain)
    ours = bspline_basis(x, grid, k, tuple(domain))
    theirs = B_batch(x, uniform_knots(grid, k, tuple(domain)).expand(width[0], -1), k=k)
    assert ours.shape == theirs.shape == (len(x), width[0], grid + k)
    assert_close_scaled(ours, theirs, rtol=FLOAT32, what="basis")
    inside = (x >= domain[0]) & (x < domain[1])
    assert torch.allclose(ours.sum(-1)[inside], torch.ones(int(inside.sum())), atol=1e-5)  # a partition of unity


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("width,grid,k,domain", paper_shapes())
def test_outputs_and_gradients_equal_pykans_with_its_parameters(width, grid, k, domain, device):
    kan = perturbed_pykan(width, grid, k, domain)
    ours = copy_from_pykan(BSplineKAN(width, grid, k, grid_range=domain), kan).to(device)
    kan = kan.to(device)
    x = inputs(width, domain).to(device)
    y_ours, y_kan = ours(x), kan(x)
    assert_close_scaled(y_ours, y_kan, rtol=FLOAT32, what="outputs")
    y_ours.square().sum().backward()
    y_kan.square().sum().backward()
    for index, (mine, theirs) in enumerate(zip(ours.layers, kan.kan.act_fun)):
        for name in ("coef", "scale_base", "scale_sp"):
            assert_close_scaled(getattr(mine, name).grad, getattr(theirs, name).grad, rtol=GRADIENTS,
                                what=f"layer {index} {name} gradient")


@pytest.mark.parametrize("width,grid,k,domain", paper_shapes())
def test_same_seed_same_initial_parameters_as_pykan(width, grid, k, domain):
    ours = build_model(BSplineSpec(name="b", kind="bspline"), _function(width, grid, k), tuple(domain), 11)
    kan = build_model(KANSpec(name="k", kind="kan"), _function(width, grid, k), tuple(domain), 11)
    assert count_parameters(ours) == count_parameters(kan)
    assert ours.spline_parameter_count() == kan.spline_parameter_count()
    for mine, theirs in zip(ours.layers, kan.kan.act_fun):
        assert torch.equal(mine.scale_base, theirs.scale_base) and torch.equal(mine.scale_sp, theirs.scale_sp)
        assert_close_scaled(mine.coef, theirs.coef, rtol=FLOAT32, what="coef")  # least squares on knots rounded differently
    x = inputs(width, domain)
    assert_close_scaled(ours(x), kan(x), rtol=FLOAT32, what="outputs")
    other = build_model(BSplineSpec(name="b", kind="bspline"), _function(width, grid, k), tuple(domain), 12)
    assert not torch.equal(other.layers[0].coef, ours.layers[0].coef)


def test_trains_like_pykan_from_the_same_start():
    """Same seed, same data, same Adam: the two implementations follow one training curve
    (float64, so that float32 rounding does not hide a difference in what they compute; what
    is left, ~2e-8, is pykan's knots, rounded to float32 when its grid was made)."""
    width, grid, k = [2, 5, 1], 5, 3
    kan = PyKAN(width, grid, k, seed=3).double()
    with seeded(3):
        ours = BSplineKAN(width, grid, k).double()
    copy_from_pykan(ours, kan)  # the float64 model rounds its own init differently: start exactly equal
    x = torch.rand(300, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    y = torch.exp(torch.sin(torch.pi * x[:, :1]) + x[:, 1:] ** 2)
    curves = []
    for model in (ours, kan):
        step = make_step(model, TrainSpec(lr=1e-2), x, y)  # the experiments' own training step
        curves.append(torch.stack([step() for _ in range(100)]))
    assert curves[0][-1] < curves[0][0] / 10  # it really trains
    assert_close_scaled(curves[0], curves[1], rtol=1e-6, what="float64 losses")


def test_grid_range_other_than_the_unit_interval():
    kan = perturbed_pykan([2, 3, 1], 7, 2, (-1.0, 2.0))
    ours = copy_from_pykan(BSplineKAN([2, 3, 1], 7, 2, grid_range=(-1.0, 2.0)), kan)
    x = inputs([2], (-1.0, 2.0))
    assert_close_scaled(ours(x), kan(x), rtol=FLOAT32, what="outputs")


def test_copy_refuses_what_it_cannot_represent():
    kan = PyKAN([2, 5, 1], 5, 3)
    with pytest.raises(ValueError, match="layers"):
        copy_from_pykan(BSplineKAN([2, 1], 5, 3), kan)
    with pytest.raises(ValueError, match="grid, k"):
        copy_from_pykan(BSplineKAN([2, 5, 1], 6, 3), kan)
    with pytest.raises(ValueError, match="uniform grid"):
        copy_from_pykan(BSplineKAN([2, 5, 1], 5, 3, grid_range=(0.0, 2.0)), kan)
    with torch.no_grad():
        kan.kan.node_bias[0].add_(1.0)
    with pytest.raises(ValueError, match="node_bias"):
        copy_from_pykan(BSplineKAN([2, 5, 1], 5, 3), kan)


def test_masks_are_folded_into_the_scales():
    kan = perturbed_pykan([2, 5, 1], 5, 3, (0.0, 1.0))
    with torch.no_grad():
        kan.kan.act_fun[0].mask[1, 2] = 0.0  # pykan's pruning: the edge computes zero
    ours = copy_from_pykan(BSplineKAN([2, 5, 1], 5, 3), kan)
    x = inputs([2], (0.0, 1.0))
    assert_close_scaled(ours(x), kan(x), rtol=FLOAT32, what="outputs")


def test_refuses_bad_arguments():
    with pytest.raises(ValueError, match="width"):
        BSplineKAN([3], 5, 3)
    with pytest.raises(ValueError, match="grid_range"):
        BSplineKAN([1, 1], 5, 3, grid_range=(1.0, 0.0))
    with pytest.raises(ValueError, match="grid"):
        BSplineKAN([1, 1], 0, 3)


def _function(width, grid, k):
    from relukan_bench.experiments.forgetting.config import NetworkSpec

    return NetworkSpec(width=width, grid=grid, k=k)
