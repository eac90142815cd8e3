"""`impl="conv"`: the reference code's Conv2d computes what the reference computes, and really
is a Conv2d: outputs, gradients, state dicts, training, the batched seeds, the kind's entry.

Every paper shape (the speed, fit and forgetting configs'), with parameters moved away from
their initial values. Tolerances are relative to the largest magnitude of the compared tensor
(tests/close.py) and leave room for other CPUs' rounding: in float32 a convolution and a
matmul sum in different orders, and the two differ by up to ~3e-6 in outputs and ~9e-6 in
gradients (f5 the worst, its gradients sums over 777 samples); in float64 by ~4e-15. A wrong
reshape (the basis permuted, the kernel transposed) differs by 1e-2 or more.
"""

import pytest
import torch
from torch import nn

from relukan_bench.config import TrainSpec
from relukan_bench.experiments.forgetting.config import NetworkSpec
from relukan_bench.kinds import build_model, kind_of
from relukan_bench.kinds.relukan import ReLUKANSpec, size
from relukan_bench.models.batched import BatchedReLUKAN
from relukan_bench.models.relukan import ReLUKAN, ReLUKANLayer
from relukan_bench.steps import TrainStep
from relukan_bench.training import make_step, step_for
from tests.close import assert_close_scaled
from tests.models.shapes import paper_shapes
from tests.models.test_relukan import ReferenceConvLayer
from tests.on_devices import DEVICES

#: float32: outputs, and gradients (sums over the batch); float64: both
FLOAT32, GRADIENTS, FLOAT64 = 3e-5, 1e-4, 1e-12
#: float64 losses and parameters after training steps (see test_training_follows_the_reference_curve)
TRAINED = 1e-7
F4 = NetworkSpec(width=[2, 5, 1], grid=5, k=3)


def perturb(model, seed=1, scale=0.1):
    """Move every parameter off its initial value (s and e too: they train in the paper)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(scale * torch.randn(parameter.shape, generator=generator).to(parameter))
    return model


def pair(width, grid, k, domain, train_se=True, dtype=torch.float32, device="cpu", seed=0):
    """A perturbed reference model and a conv one holding the same parameters."""
    torch.manual_seed(seed)
    ref = perturb(ReLUKAN(width, grid, k, train_se=train_se, input_range=domain)).to(device, dtype)
    conv = ReLUKAN(width, grid, k, train_se=train_se, input_range=domain, impl="conv").to(device, dtype)
    conv.load_state_dict(ref.state_dict())
    return ref, conv


def inputs(width, domain, n=777, dtype=torch.float32, device="cpu", seed=2):
    """Random inputs over the domain and 20% beyond it on either side."""
    lo, hi = domain
    generator = torch.Generator().manual_seed(seed)
    x = lo - 0.2 * (hi - lo) + 1.4 * (hi - lo) * torch.rand(n, width[0], generator=generator, dtype=dtype)
    return x.to(device)


def op_names(model, x):
    """The aten ops one forward and backward of `model` on x run (torch's profiler)."""
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as profile:
        model(x).square().sum().backward()
    return {event.name for event in profile.events()}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("train_se", [True, False], ids=["train_se", "fixed_se"])
@pytest.mark.parametrize("width,grid,k,domain", paper_shapes())
def test_outputs_and_gradients_equal_the_reference(width, grid, k, domain, train_se, dtype, device):
    ref, conv = pair(width, grid, k, domain, train_se, dtype=dtype, device=device)
    x = inputs(width, domain, dtype=dtype, device=device).requires_grad_(True)
    target = torch.randn(x.shape[0], width[-1], generator=torch.Generator().manual_seed(3)).to(device, dtype)
    found = []
    for model in (ref, conv):
        out = model(x)
        trainable = [p for p in model.parameters() if p.requires_grad]
        found.append((out, torch.autograd.grad(((out - target) ** 2).mean(), [x, *trainable])))
    (out_ref, g_ref), (out_conv, g_conv) = found
    values, gradients = (FLOAT32, GRADIENTS) if dtype == torch.float32 else (FLOAT64, FLOAT64)
    assert_close_scaled(out_conv, out_ref, rtol=values, what="outputs")
    assert len(g_ref) == len(g_conv) == 1 + 2 * (len(width) - 1) * (2 if train_se else 1)
    for index, (a, b) in enumerate(zip(g_conv, g_ref)):
        assert_close_scaled(a, b, rtol=gradients, what=f"gradient {index} (0: the input)")


@pytest.mark.parametrize("width,grid", [([1, 1], 5), ([2, 5, 1], 5), ([4, 4, 2, 1], 10)])
def test_equals_the_reference_codes_own_layers(width, grid):
    """The reference code's module (tests/models/test_relukan.py), its Conv2d's weight loaded
    into our Linear: the same operation, so float64 leaves only the basis's rounding."""
    torch.manual_seed(0)
    theirs = nn.ModuleList(ReferenceConvLayer(a, b, grid, 3) for a, b in zip(width[:-1], width[1:])).double()
    ours = ReLUKAN(width, grid, 3, impl="conv").double()
    with torch.no_grad():
        for ref, layer in zip(theirs, ours.layers):
            layer.linear.weight.copy_(ref.conv.weight.reshape(layer.out_features, -1))
            layer.linear.bias.copy_(ref.conv.bias)
            layer.s.copy_(ref.low)
            layer.e.copy_(ref.high)
    x = inputs(width, (0.0, 1.0), n=256, dtype=torch.float64)
    h = x[:, :, None]
    for ref in theirs:
        h = ref(h)
    assert_close_scaled(ours(x), h[:, :, 0], rtol=FLOAT64, what="ours vs the reference code")


def test_state_dicts_are_interchangeable():
    ref, conv = pair([4, 4, 2, 1], 10, 3, (0.0, 1.0))
    assert {k: v.shape for k, v in ref.state_dict().items()} == {k: v.shape for k, v in conv.state_dict().items()}
    fast = ReLUKAN([4, 4, 2, 1], 10, 3, impl="fast")
    fast.load_state_dict(conv.state_dict())
    back = ReLUKAN([4, 4, 2, 1], 10, 3)
    back.load_state_dict(fast.state_dict())  # conv -> fast -> reference: nothing lost on the way
    for name, tensor in ref.state_dict().items():
        assert torch.equal(back.state_dict()[name], tensor), name
    x = inputs([4], (0.0, 1.0))
    assert_close_scaled(fast(x), conv(x), rtol=FLOAT32, what="fast vs conv")


@pytest.mark.parametrize("width,grid,k,domain", paper_shapes())
def test_training_follows_the_reference_curve(width, grid, k, domain):
    """100 Adam steps of the experiments' own training step, float64 (so that float32
    rounding hides nothing): the curves agree to ~3e-16 on every shape but f5, ~7e-10 there,
    where Adam's normalised step turns the rounding of a gradient near zero into a step of
    the learning rate's size; a wrong gradient anywhere moves the curves by 1e-3 or more."""
    ref, conv = pair(width, grid, k, domain, dtype=torch.float64)
    x = inputs(width, domain, n=500, dtype=torch.float64)
    y = torch.sin(3 * x.sum(1, keepdim=True))
    steps = [make_step(model, TrainSpec(), x, y) for model in (ref, conv)]
    assert all(isinstance(step, TrainStep) for step in steps)
    ref_curve, conv_curve = (torch.stack([step() for _ in range(100)]) for step in steps)
    assert conv_curve[-1] < conv_curve[0]  # it trained
    assert_close_scaled(conv_curve, ref_curve, rtol=TRAINED, what="float64 losses")
    for a, b in zip(conv.parameters(), ref.parameters()):
        assert_close_scaled(a, b, rtol=TRAINED, what="trained parameters")


def test_float32_training_tracks_the_reference():
    """The shipped precision, f4's shape: 100 steps within 1e-5 of the reference's losses,
    relative to the largest (as the fast implementation's, tests/models/test_relukan_fast.py)."""
    ref, conv = pair([2, 5, 1], 5, 3, (0.0, 1.0))
    x = torch.rand(1000, 2, generator=torch.Generator().manual_seed(0))
    y = torch.exp(torch.sin(torch.pi * x[:, :1]) + x[:, 1:] ** 2)
    a, b = make_step(ref, TrainSpec(), x, y), make_step(conv, TrainSpec(), x, y)
    assert_close_scaled(torch.stack([b() for _ in range(100)]), torch.stack([a() for _ in range(100)]),
                        rtol=1e-5, what="conv vs reference float32 losses")


def test_the_conv_path_runs_a_convolution_and_the_reference_does_not():
    ref, conv = pair([2, 5, 1], 5, 3, (0.0, 1.0))
    x = inputs([2], (0.0, 1.0), n=64)
    names = op_names(conv, x)
    assert {"aten::conv2d", "aten::convolution", "aten::convolution_backward"} <= names
    assert not {"aten::linear", "aten::addmm", "aten::mm"} & names  # no matmul beside it
    assert not {"aten::conv2d", "aten::convolution"} & op_names(ref, x)


def test_every_layer_calls_conv2d_once(monkeypatch):
    calls = []
    original = torch.nn.functional.conv2d

    def counting(*args, **kwargs):
        calls.append(tuple(args[1].shape))  # the kernel
        return original(*args, **kwargs)

    monkeypatch.setattr(torch.nn.functional, "conv2d", counting)
    model = ReLUKAN([4, 4, 2, 1], 10, 3, impl="conv")
    model(torch.rand(8, 4))
    assert calls == [(4, 1, 13, 4), (2, 1, 13, 4), (1, 1, 13, 2)]  # (out, 1, G+k, in): the whole plane


def test_a_layer_alone_names_its_impl_and_unknown_ones_are_refused():
    layer = ReLUKANLayer(3, 2, 5, 3, impl="conv")
    assert "impl='conv'" in repr(layer)
    assert layer(torch.rand(7, 3)).shape == (7, 2)
    with pytest.raises(ValueError, match="'reference', 'fast', 'conv'"):
        ReLUKANLayer(3, 2, 5, 3, impl="conv2d")


@pytest.mark.parametrize("width,grid,k,domain", paper_shapes())
def test_batched_seeds_run_a_grouped_conv_and_train_as_separate_runs(width, grid, k, domain):
    """A conv entry's seeds batch (kind.batch) into one grouped Conv2d per layer: the same
    curves as each seed alone (float64, 50 steps), and the batch's time is a Conv2d's."""
    seeds = 3
    members = []
    for seed in range(seeds):
        torch.manual_seed(seed)
        members.append(perturb(ReLUKAN(width, grid, k, input_range=domain, impl="conv"), seed).double())
    batched = BatchedReLUKAN(members)
    assert batched.impl == "conv"
    data = [inputs(width, domain, n=300, dtype=torch.float64, seed=seed) for seed in range(seeds)]
    targets = [torch.sin(3 * x.sum(1, keepdim=True)) + 0.1 * seed for seed, x in enumerate(data)]
    x, y = torch.stack(data), torch.stack(targets)
    assert {"aten::convolution", "aten::convolution_backward"} <= op_names(batched, x)
    batched.zero_grad(set_to_none=True)
    step = make_step(batched, TrainSpec(), x, y)
    together = torch.stack([step() for _ in range(50)])  # (50, S)
    for seed, model in enumerate(members):
        alone = make_step(model, TrainSpec(), data[seed], targets[seed])
        assert_close_scaled(together[:, seed], torch.stack([alone() for _ in range(50)]), rtol=TRAINED,
                            what=f"seed {seed} losses")
    for model, back in zip(members, batched.unbatch()):
        assert back.impl == "conv"
        for a, b in zip(back.parameters(), model.parameters()):
            assert_close_scaled(a, b, rtol=TRAINED, what="trained parameters")


def test_the_entry_builds_a_conv_model_that_trains_through_autograd():
    entry = ReLUKANSpec(name="relukan-conv", kind="relukan", impl="conv")
    kind = kind_of(entry)
    model = build_model(entry, F4, (0.0, 1.0), 3)
    assert model.impl == "conv" and all(layer.impl == "conv" for layer in model.layers)
    reference = build_model(ReLUKANSpec(name="r", kind="relukan"), F4, (0.0, 1.0), 3)
    for a, b in zip(model.parameters(), reference.parameters()):
        assert torch.equal(a, b)  # the same seed, the same initial parameters as the reference
    options = kind.step(entry)
    assert not options.fused and not options.cuda_graph and not options.compile
    x = torch.rand(32, 2)
    assert isinstance(step_for(entry, model, TrainSpec(), x, x[:, :1]), TrainStep)
    assert size(entry, F4) == size(ReLUKANSpec(name="r", kind="relukan"), F4)
    assert kind.describe(entry) == "ReLU-KAN (reference code's Conv2d)"
    assert kind.batch([model, build_model(entry, F4, (0.0, 1.0), 4)]).impl == "conv"


def test_the_conv_model_keeps_float64():
    model = ReLUKAN([2, 5, 1], 5, 3, impl="conv").double()
    y = model(torch.rand(16, 2, dtype=torch.float64))
    assert y.dtype == torch.float64 and y.shape == (16, 1)
    y.square().mean().backward()
    assert all(p.grad.dtype == torch.float64 and torch.isfinite(p.grad).all() for p in model.parameters())
