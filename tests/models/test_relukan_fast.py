"""The fast ReLU-KAN computes what the reference computes: outputs, gradients, training.

Every paper configuration (the speed, fit and forgetting configs' shapes), with trainable and
with fixed s/e. Tolerances are relative to the largest magnitude of the compared tensor, and
leave room for other CPUs' rounding: in float32 each implementation's outputs and gradients
are within ~1.6e-6 of the float64 result (f5 the worst, measured with vectorised and with
scalar kernels), so the two may differ by twice that on any machine; a wrong formula differs
by 1e-2 or more.
Training curves are compared in float64, where the two implementations agree to ~1e-14: in
float32 both drift from the exact result by rounding that Adam amplifies where a gradient is
near zero (up to ~2e-5 in 100 steps on f5), whichever implementation runs.
"""

import pytest
import torch

from relukan_bench.config import TrainSpec
from relukan_bench.fused_step import FusedStep
from relukan_bench.models.relukan import ReLUKAN, ReLUKANLayer
from relukan_bench.models import relukan_fast
from relukan_bench.models.relukan_fast import mse_grads
from relukan_bench.steps import TrainStep
from relukan_bench.training import make_step
from tests.close import assert_close_scaled
from tests.models.shapes import paper_shapes
from tests.on_devices import DEVICES

FLOAT32 = 3e-5  # what the two implementations compute in float32: outputs, gradients


@pytest.fixture(params=["whole", "blocked"])
def layout(request, monkeypatch):
    """Run a test with the whole basis kept (every paper shape does), and again with every
    layer forced into the blocked path that large layers take (blocks of 32 columns)."""
    if request.param == "blocked":
        for prefix in ("", "CUDA_"):
            monkeypatch.setattr(relukan_fast, prefix + "BLOCK_ABOVE", 0)
            monkeypatch.setattr(relukan_fast, prefix + "BLOCK_ELEMENTS", 1)
    return request.param


def pair(width, grid, k, domain, train_se, dtype=torch.float32, seed=0, device="cpu"):
    """A reference model and a fast one holding the same parameters."""
    torch.manual_seed(seed)
    ref = ReLUKAN(width, grid, k, train_se=train_se, input_range=domain).to(device, dtype)
    fast = ReLUKAN(width, grid, k, train_se=train_se, input_range=domain, impl="fast").to(device, dtype)
    fast.load_state_dict(ref.state_dict())
    return ref, fast


def relative(a, b):
    return float((a - b).abs().max() / a.abs().max().clamp_min(1e-30))


def inputs(width, domain, n=777, dtype=torch.float32, device="cpu"):
    """Random inputs over the domain and a little beyond it (hidden layers see both)."""
    lo, hi = domain
    span = hi - lo
    return (lo - 0.2 * span + 1.4 * span * torch.rand(n, width[0], dtype=dtype)).to(device).requires_grad_(True)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("train_se", [True, False], ids=["train_se", "fixed_se"])
@pytest.mark.parametrize("width,grid,k,domain", paper_shapes())
def test_outputs_and_gradients_agree(width, grid, k, domain, train_se, layout, device):
    ref, fast = pair(width, grid, k, domain, train_se, device=device)
    x = inputs(width, domain, device=device)
    target = torch.randn(x.shape[0], width[-1]).to(device)
    grads = []
    for model in (ref, fast):
        out = model(x)
        loss = ((out - target) ** 2).mean()
        trainable = [p for p in model.parameters() if p.requires_grad]
        grads.append((out.detach(), torch.autograd.grad(loss, [x, *trainable])))
    (out_ref, g_ref), (out_fast, g_fast) = grads
    assert relative(out_ref, out_fast) < FLOAT32
    assert len(g_ref) == len(g_fast) == 1 + 2 * (len(width) - 1) * (2 if train_se else 1)
    for a, b in zip(g_ref, g_fast):
        assert a.shape == b.shape
        assert relative(a, b) < FLOAT32


@pytest.mark.parametrize("train_se", [True, False], ids=["train_se", "fixed_se"])
@pytest.mark.parametrize("width,grid,k,domain", paper_shapes())
def test_the_autograd_free_gradients_agree_with_autograd(width, grid, k, domain, train_se, layout):
    ref, fast = pair(width, grid, k, domain, train_se)
    x = inputs(width, domain).detach()
    y = torch.randn(x.shape[0], width[-1])
    loss = torch.nn.functional.mse_loss(ref(x), y)
    loss.backward()
    r2s, params = fast.fast_state()
    needs = tuple(p.requires_grad for p in params)
    with torch.no_grad():
        mine, grads = mse_grads(x.t().contiguous(), y.t().contiguous(), r2s, params, needs)
    assert abs(float(mine) - float(loss.detach())) <= 1e-5 * float(loss.detach())  # a mean of 777 squares: > 0
    _, ref_params = ref.fast_state()
    for p, g, need in zip(ref_params, grads, needs):
        if need:
            assert relative(p.grad, g) < FLOAT32
        else:
            assert g is None and p.grad is None


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("train_se", [True, False], ids=["train_se", "fixed_se"])
@pytest.mark.parametrize("width,grid,k,domain", paper_shapes())
def test_training_curves_agree_for_100_steps(width, grid, k, domain, train_se, layout, device):
    """On a GPU the fast step is the one the experiments take there: captured in a CUDA graph."""
    ref, fast = pair(width, grid, k, domain, train_se, dtype=torch.float64, device=device)
    x = inputs(width, domain, n=500, dtype=torch.float64, device=device).detach()
    y = torch.sin(3 * x.sum(1, keepdim=True))
    ref_step = make_step(ref, TrainSpec(), x, y)
    fast_step = make_step(fast, TrainSpec(), x, y, fused=True, cuda_graph=True)
    assert isinstance(ref_step, TrainStep) and isinstance(fast_step, FusedStep)
    fast_step.prepare()
    assert (fast_step._graph is not None) == (device == "cuda")
    ref_curve = torch.stack([ref_step() for _ in range(100)])
    fast_curve = torch.stack([fast_step().clone() for _ in range(100)])  # a replayed graph reuses its output
    assert float(((ref_curve - fast_curve).abs() / ref_curve.abs()).max()) < 1e-5
    assert ref_curve[-1] < ref_curve[0]  # it trained
    for a, b in zip(ref.parameters(), fast.parameters()):
        assert relative(a.detach(), b.detach()) < 1e-5


def test_fast_float32_training_tracks_the_reference():
    """The shipped precision: f4's 100 float32 steps stay within 1e-5 of the reference, relative
    to the largest loss (each is within ~4e-7 of the float64 curve; elementwise, the last
    losses, ten times smaller, drift further, and by how much depends on the CPU)."""
    ref, fast = pair([2, 5, 1], 5, 3, (0.0, 1.0), True)
    x = torch.rand(1000, 2)
    y = torch.exp(torch.sin(torch.pi * x[:, :1]) + x[:, 1:] ** 2)
    a, b = make_step(ref, TrainSpec(), x, y), make_step(fast, TrainSpec(), x, y, fused=True)
    la, lb = torch.stack([a() for _ in range(100)]), torch.stack([b() for _ in range(100)])
    assert_close_scaled(lb, la, rtol=1e-5, what="fast vs reference float32 losses")


def test_a_large_layer_runs_blocked_and_matches():
    """256 inputs x 8 bases x 600 samples is above BLOCK_ABOVE: the default blocked path."""
    ref, fast = pair([256, 3], 5, 3, (0.0, 1.0), True)
    x = torch.rand(600, 256, requires_grad=True)
    assert relukan_fast._block_width(x.t(), fast.layers[0].s) > 0
    grads = []
    for model in (ref, fast):
        out = model(x)
        grads.append(torch.autograd.grad((out ** 2).mean(), [x, *model.parameters()]))
    for a, b in zip(*grads):
        assert relative(a, b) < FLOAT32


@pytest.mark.parametrize("device", DEVICES)
def test_blocks_are_sized_for_the_device(device):
    """The CPU blocks a 256x256 layer on 4096 samples to stay in its caches; a GPU keeps it
    whole (blocks there only bound memory, and each costs a dozen kernel launches)."""
    x = torch.rand(256, 4096, device=device)
    s = torch.rand(256, 8, device=device)
    width = relukan_fast._block_width(x, s)
    if device == "cpu":
        assert width == relukan_fast.BLOCK_ELEMENTS // (256 * 8)
    else:
        assert width == 0
        huge = torch.empty(256, 1 << 17, device=device)  # 2^28 basis elements: above CUDA_BLOCK_ABOVE
        assert relukan_fast._block_width(huge, s) == relukan_fast.CUDA_BLOCK_ELEMENTS // (256 * 8)


def test_a_fast_layer_alone_matches_and_keeps_the_reference_parameters():
    torch.manual_seed(1)
    ref = ReLUKANLayer(3, 2, 5, 3)
    fast = ReLUKANLayer(3, 2, 5, 3, impl="fast")
    fast.load_state_dict(ref.state_dict())  # same parameter names and shapes
    x = torch.rand(64, 3)
    assert relative(ref(x), fast(x)) < FLOAT32
    assert "impl='fast'" in repr(fast)


def test_unknown_impl_is_refused():
    with pytest.raises(ValueError, match="impl must be one of"):
        ReLUKAN([1, 1], 5, 3, impl="turbo")
