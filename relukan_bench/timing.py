"""The one place that owns the clock, and the other measurements of a training step.

- the thread count is pinned for a block and restored afterwards (`threads`);
- on a GPU, `torch.cuda.synchronize()` runs before every clock read, so queued kernels are
  inside the measurement (`clock`);
- warm-up steps run before the timed region and are never part of it (`time_steps`):
  some parts of PyTorch initialise lazily (allocator pools, kernels, Adam's state);
- `time.perf_counter`, the highest-resolution monotonic clock.

Where a step's time goes (`time_phases`: forward, backward, optimizer, each clocked on its
own) and the most memory one step holds at once (`peak_memory_mb`) are measured on the step's
eager path, cut into phases by the step itself (`TrainStep.phases`, `FusedStep.phases`).
"""

from __future__ import annotations

import math
import os
import statistics
import sys
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Callable, Iterator, Protocol, Sequence

if TYPE_CHECKING:
    import torch


class Phased(Protocol):
    """A training step cut into phases (`steps.TrainStep`, `fused_step.FusedStep`): each
    phase's name and what runs it, in the order a step runs them."""

    def phases(self) -> Sequence[tuple[str, Callable[[], object]]]: ...

#: The phases `time_phases` reports, in the order a step runs them.
PHASES = ("forward", "backward", "optimizer")

#: Bytes in one MiB: what `peak_memory_mb` counts in.
MIB = 2**20


@contextmanager
def threads(n: int) -> Iterator[None]:
    """Run the block with `torch.set_num_threads(n)`; restore the previous count afterwards."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def synchronize(device: str) -> None:
    """Wait for every kernel queued on `device` (a no-op on the CPU)."""
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize(device)


def clock(device: str) -> float:
    """Seconds on a monotonic clock, read after the device has finished its queued work."""
    synchronize(device)
    return time.perf_counter()


def time_steps(step: Callable[[], object], steps: int, warmup: int, device: str) -> float:
    """Run `warmup` untimed calls of `step`, then time `steps` calls; return the seconds."""
    for _ in range(warmup):
        step()
    start = clock(device)
    for _ in range(steps):
        step()
    return clock(device) - start


def time_phases(step: Phased, steps: int, device: str) -> dict[str, float]:
    """Where one step's time goes: {"forward_ms", "backward_ms", "optimizer_ms"}, each the
    median over `steps` steps of that phase's milliseconds, the clock read (`clock`) right
    before and right after the phase, so every phase is measured, none is estimated by
    subtraction.

    The phases are the step's (`step.phases()`), run in order as whole training steps:
    - `TrainStep`: forward = zero_grad, forward and loss; backward = the autograd backward;
      optimizer = the optimizer's step;
    - `FusedStep`: no autograd, the loss and its gradients in one pass (`mse_grads`):
      backward = that pass, optimizer = the FusedAdam step, forward = NaN (there is none).
    A step captured in a CUDA graph cannot be cut: its phases run its eager path (compiled
    when the step is) on the same parameters, optimizer and data, so they can add up to more
    than a replay costs. On a GPU every phase boundary synchronises, which also adds up to more
    than an unsynchronised step.

    These are real steps: they train the model further, so call this after the timed steps
    (which also warm up what initialises lazily)."""
    phases = step.phases()
    times: dict[str, list[float]] = {name: [] for name, _ in phases}
    for _ in range(steps):
        before = clock(device)
        for name, run in phases:
            run()
            after = clock(device)
            times[name].append(1000.0 * (after - before))
            before = after
    return {f"{name}_ms": statistics.median(times[name]) if times.get(name) else math.nan for name in PHASES}


def peak_memory_mb(step: Phased, device: str) -> float:
    """The most memory one training step's own tensors hold at once, above what was allocated
    before it (model, data, optimizer state, the previous step's gradients), in MiB (2**20
    bytes; the column is named peak_memory_mb all the same).

    One step runs: the step's phases in order (`step.phases()`: the eager path, the same as a
    call of a step that is not captured; a replayed CUDA graph allocates nothing, its memory is
    reserved at capture). Run it after a first step (the experiments: after the timed steps),
    or Adam's state, built at the first step, counts too. It trains the model one step further.

    On CUDA: the allocator's peak since `reset_peak_memory_stats`, less what was allocated
    before. On the CPU: torch's profiler records every allocation and free (`profile_memory`);
    their sizes summed in time order give what the step holds at each moment, the peak is the
    largest sum (`_cpu_peak_bytes`)."""
    phases = step.phases()

    def one_step() -> None:
        for _, run in phases:
            run()

    return peak_memory_of(one_step, device)


def peak_memory_of(run: Callable[[], object], device: str) -> float:
    """The most memory `run()`'s own tensors hold at once, above what was allocated before
    it, in MiB: on CUDA the allocator's peak, on the CPU the profiler's allocations summed in
    time order (`peak_memory_mb` says how)."""
    import torch

    if device.startswith("cuda"):
        synchronize(device)
        before = torch.cuda.memory_allocated(device)
        torch.cuda.reset_peak_memory_stats(device)
        run()
        synchronize(device)
        return (torch.cuda.max_memory_allocated(device) - before) / MIB
    return _cpu_peak_bytes(run) / MIB


def time_inference(model: torch.nn.Module, x: torch.Tensor, calls: int, warmup: int, device: str, compiled: bool) -> dict[str, float]:
    """Forward-only latency and memory of `model` on `x` under `torch.inference_mode()`, the
    same method as the training step's: `max(warmup, 1)` untimed calls (a compiled forward
    compiles at the first, outside the clock), then `calls` timed ones. `infer_ms`: ms per call;
    `infer_memory_mb`: the peak of one call above what was held before it (`peak_memory_of`)."""
    import torch

    forward = torch.compile(model) if compiled else model
    with torch.inference_mode():
        seconds = time_steps(lambda: forward(x), calls, max(warmup, 1), device)
        memory = peak_memory_of(lambda: forward(x), device)
    return {"infer_ms": 1000.0 * seconds / calls, "infer_memory_mb": memory}


def _cpu_peak_bytes(run: Callable[[], object]) -> int:
    """The largest running sum, in time order, of the CPU allocations (+bytes) and frees
    (-bytes) torch's profiler records while `run()` runs; 0 if it only frees.

    The profiler attributes an allocation made inside an operator to that operator (its
    `cpu_memory_usage`), losing when it happened; its event tree keeps each allocation as an
    event of its own, with a timestamp (`experimental_event_tree`). A block allocated while no
    profiler recorded memory is not in its size table: freeing it is recorded as nothing, so the
    step's new gradients may count without the old ones they replace (a few KiB here).
    Its C++ side prints to the file descriptor directly (kineto's "profiler_start" lines, and a
    warning about that unknown block): `_quiet_stderr` keeps it silent."""
    from torch._C._profiler import _EventType
    from torch.profiler import ProfilerActivity, profile

    with _quiet_stderr(), profile(activities=[ProfilerActivity.CPU], profile_memory=True) as profiler:
        run()
    events: list[tuple[int, int]] = []
    stack = list(reversed(profiler.profiler.kineto_results.experimental_event_tree()))
    while stack:  # depth first, in the tree's order: what sorting keeps for equal timestamps
        node = stack.pop()
        if node.tag == _EventType.Allocation and node.extra_fields.device.type == "cpu":
            events.append((node.start_time_ns, node.extra_fields.alloc_size))
        stack.extend(reversed(node.children))
    held = peak = 0
    for _, size in sorted(events, key=lambda event: event[0]):
        held += size
        peak = max(peak, held)
    return peak


@contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Send file descriptor 2 to the null device for the block (what C++ code writes there
    too, which Python's `sys.stderr` cannot catch), and restore it afterwards."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
