"""Where a step's time and memory go: its phases (`time_phases`) and its peak memory
(`peak_memory_mb`), on real models and real training steps."""

import copy
import math

import pytest
import torch

from relukan_bench.config import TrainSpec
from relukan_bench.fused_step import FusedStep
from relukan_bench.models.relukan import ReLUKAN
from relukan_bench.steps import TrainStep
from relukan_bench.timing import MIB, peak_memory_mb, time_phases, time_steps
from relukan_bench.training import make_step
from tests.on_devices import DEVICES

F5 = ([4, 4, 2, 1], 10, 3)  # speed's f5: width, grid, k


def _twins(impl: str, samples: int = 200, device: str = "cpu") -> tuple:
    """Two steps of one ReLU-KAN (the same parameters and data), fused for impl fast."""
    torch.manual_seed(0)
    model = ReLUKAN(*F5, impl=impl).to(device)
    x, y = torch.rand(samples, 4, device=device), torch.rand(samples, 1, device=device)
    return tuple(make_step(copy.deepcopy(model), TrainSpec(), x, y, fused=impl == "fast") for _ in range(2))


@pytest.mark.parametrize("impl", ["reference", "fast"])
def test_the_phases_run_in_order_are_one_training_step(impl):
    """phases() is the step cut, not another step: the same losses and parameters bit for
    bit, and last_loss kept."""
    called, phased = _twins(impl)
    names = [name for name, _ in phased.phases()]
    assert names == (["forward", "backward", "optimizer"] if impl == "reference" else ["backward", "optimizer"])
    for _ in range(3):
        loss = called().clone()
        for _, run in phased.phases():
            run()
        assert torch.equal(phased.last_loss, loss)
    for a, b in zip(called.model.parameters(), phased.model.parameters()):
        assert torch.equal(a, b)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("impl", ["reference", "fast"])
def test_time_phases_measures_each_phase(impl, device):
    step, _ = _twins(impl, device=device)
    steps = 20
    whole_ms = 1000.0 * time_steps(step, steps, warmup=3, device=device) / steps
    phases = time_phases(step, steps, device)
    assert list(phases) == ["forward_ms", "backward_ms", "optimizer_ms"]
    if impl == "fast":  # no autograd: the loss comes with its gradients, in "backward"
        assert isinstance(step, FusedStep) and math.isnan(phases.pop("forward_ms"))
    assert all(math.isfinite(ms) and ms >= 0 for ms in phases.values()), phases
    assert 0.2 * whole_ms < sum(phases.values()) < 5 * whole_ms, (phases, whole_ms)


def test_peak_memory_counts_a_known_allocation():
    """A Linear(4, 1024) on 1000 samples: its (1000, 1024) output is alive while the MSE's
    gradient of the same shape is computed, so the step holds at least twice that; far less
    than everything it allocates added up without the frees."""
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 1024)
    step = make_step(model, TrainSpec(), torch.rand(1000, 4), torch.rand(1000, 1024))
    step()  # Adam's state exists: what a step allocates from now on is its own
    output = 1000 * 1024 * 4 / MIB
    assert 2 * output <= peak_memory_mb(step, "cpu") < 6 * output


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("impl", ["reference", "fast"])
def test_peak_memory_grows_with_the_batch(impl, device):
    peaks = []
    for samples in (250, 1000):
        step, _ = _twins(impl, samples=samples, device=device)
        step()
        peaks.append(peak_memory_mb(step, device))
    assert 0 < peaks[0] and 2 * peaks[0] < peaks[1], peaks


def test_peak_memory_on_the_cpu_is_silent_and_leaves_no_profiler_on(capfd):
    """torch's profiler prints from C++ (kineto's start and stop lines): nothing may come out."""
    step, _ = _twins("reference")
    step()
    capfd.readouterr()
    assert peak_memory_mb(step, "cpu") > 0
    assert capfd.readouterr() == ("", "")
    assert not torch._C._autograd._profiler_enabled()
    assert isinstance(step, TrainStep) and step.last_loss is not None
