"""build_model: config entries to seeded, fresh models."""

import pytest
import torch

from relukan_bench.config import FunctionSpec
from relukan_bench.kinds.bspline import BSplineSpec
from relukan_bench.kinds.chebyshev import ChebyshevSpec
from relukan_bench.kinds.flashkan import FlashKANSpec
from relukan_bench.kinds.fourier import FourierSpec
from relukan_bench.kinds.inkan import InKANSpec
from relukan_bench.kinds.linear import LinearSpec
from relukan_bench.kinds.rbf import RBFSpec
from relukan_bench.kinds.kan import KANSpec
from relukan_bench.kinds.mlp import MLPSpec
from relukan_bench.kinds.relukan import ReLUKANSpec
from relukan_bench.kinds import build_model, kinds
from relukan_bench.models import count_parameters
from tests.close import assert_close_scaled

F4 = FunctionSpec(name="f4", expression="exp(sin(pi*x1) + x2**2)", width=[2, 5, 1], grid=5, k=3)


def test_same_seed_same_model_and_global_state_untouched():
    torch.manual_seed(5)
    before = torch.get_rng_state()
    spec = ReLUKANSpec(name="relukan", kind="relukan")
    a, b = build_model(spec, F4, (0.0, 1.0), 3), build_model(spec, F4, (0.0, 1.0), 3)
    c = build_model(spec, F4, (0.0, 1.0), 4)
    assert torch.equal(torch.get_rng_state(), before)
    x = torch.rand(8, 2)
    assert torch.equal(a(x), b(x)) and not torch.equal(a(x), c(x))


def test_options_reach_the_models():
    fixed = build_model(ReLUKANSpec(name="r", kind="relukan", train_se=False), F4, (0.0, 1.0), 0)
    assert not fixed.layers[0].s.requires_grad
    assert count_parameters(fixed) == (2 * 8 + 1) * 5 + (5 * 8 + 1)
    kan = build_model(KANSpec(name="kan", kind="kan"), F4, (-1.0, 1.0), 0)
    assert kan.grid_range == (-1.0, 1.0)  # default: the data domain
    kan = build_model(KANSpec(name="kan", kind="kan", grid_range=[0.0, 2.0]), F4, (-1.0, 1.0), 0)
    assert kan.grid_range == (0.0, 2.0)


@pytest.fixture
def float64_default():
    """torch's default dtype float64 for one test, restored whatever happens."""
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(before)


# One entry per built-in kind (relukan twice: both implementations). The plugin kind is left
# out: it builds whatever a user's factory builds. pykan's KAN ("kan") does support float64.
FLOAT64_ENTRIES = [
    ReLUKANSpec(name="relukan", kind="relukan"),
    ReLUKANSpec(name="relukan-fast", kind="relukan", impl="fast"),
    KANSpec(name="kan", kind="kan"),
    MLPSpec(name="mlp", kind="mlp"),
    BSplineSpec(name="bspline", kind="bspline"),
    ReLUKANSpec(name="relukan-conv", kind="relukan", impl="conv"),
    RBFSpec(name="rbf", kind="rbf"),
    ChebyshevSpec(name="chebyshev", kind="chebyshev"),
    FourierSpec(name="fourier", kind="fourier"),
    InKANSpec(name="inkan", kind="inkan"),
    FlashKANSpec(name="flashkan", kind="flashkan"),
    LinearSpec(name="linear", kind="linear"),
]


def test_every_built_in_kind_is_checked_under_float64():
    built_in = {name for name, kind in kinds().items() if kind.build.__module__.startswith("relukan_bench.kinds.")}
    assert {entry.kind for entry in FLOAT64_ENTRIES} == built_in - {"plugin"}


@pytest.mark.parametrize("entry", FLOAT64_ENTRIES, ids=lambda entry: entry.name)
def test_every_kind_builds_and_trains_in_the_default_dtype_float64(entry, float64_default):
    model = build_model(entry, F4, (0.0, 1.0), 0)
    tensors = dict(model.named_parameters()) | dict(model.named_buffers())
    floating = {name: t.dtype for name, t in tensors.items() if t.is_floating_point()}
    assert floating and set(floating.values()) == {torch.float64}, floating  # nothing made in float32
    x = torch.rand(16, 2)
    y = model(x)
    assert y.dtype == torch.float64 and y.shape == (16, 1) and torch.isfinite(y).all()
    y.square().mean().backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert grads and all(g is not None and g.dtype == torch.float64 and torch.isfinite(g).all() for g in grads)


def test_batched_relukan_keeps_float64(float64_default):
    from relukan_bench.models.batched import BatchedReLUKAN

    for impl in ("reference", "fast"):
        spec = ReLUKANSpec(name="r", kind="relukan", impl=impl)
        batched = BatchedReLUKAN([build_model(spec, F4, (0.0, 1.0), seed) for seed in (0, 1)])
        y = batched(torch.rand(2, 16, 2))
        assert y.dtype == torch.float64 and y.shape == (2, 16, 1) and torch.isfinite(y).all()
        y.square().mean().backward()
        assert all(p.grad.dtype == torch.float64 and torch.isfinite(p.grad).all() for p in batched.parameters())
        assert all(p.dtype == torch.float64 for m in batched.unbatch() for p in m.parameters())


def test_float64_bspline_starts_where_float64_pykan_starts(float64_default):
    """Under float64 both draw the same random numbers and fit them on the same knots: the
    float32 test's rounding difference (tests/models/test_bspline.py) is gone."""
    ours = build_model(BSplineSpec(name="b", kind="bspline"), F4, (0.0, 1.0), 11)
    kan = build_model(KANSpec(name="k", kind="kan"), F4, (0.0, 1.0), 11)
    for mine, theirs in zip(ours.layers, kan.kan.act_fun):
        assert torch.equal(mine.scale_base, theirs.scale_base)
        assert_close_scaled(mine.coef, theirs.coef, rtol=1e-10, what="coef")
    x = torch.rand(32, 2)
    assert_close_scaled(ours(x), kan(x), rtol=1e-10, what="outputs")
