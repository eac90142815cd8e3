"""One timed unit of the speed experiment, the same code in this process and in a worker.

`measure` builds a fresh model, compiles and captures its step outside the clock (compile
time recorded apart; a model that compiles at its first call, pykan's `speed(compile=True)`,
has its first warm-up step recorded as its compile time), times `warmup` untimed then `steps` timed steps, then, in separate passes
after the timed steps, clocks each phase of a step (forward, backward, optimizer) and the peak
memory of one step, then the forward-only latency and memory (`timing.time_inference`,
compiled when the entry compiles). `measure_unit` is the same with JSON arguments, for a pykan version that
runs in a worker process (relukan_bench.worker): the data travels as lists of floats, which
hold float32 values exactly.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

#: steps of the phase pass (each phase clocked separately; the median is recorded)
PHASE_STEPS = 50


def measure(spec: Any, shape: Any, domain: tuple[float, float], seed: int, x: Any, y: Any, train: Any,
            lr: float, steps: int, warmup: int, device: str, max_step_seconds: float | None = None) -> dict[str, Any]:
    """Time one fresh model of the entry `spec`; a dict of what the speed record holds. A step
    whose loss is not finite after the timed steps is an error (ValueError). With
    `max_step_seconds`, a model whose step is estimated to take longer (`too_slow`) is not
    timed: the dict then says so in `too_slow`."""
    import torch

    from relukan_bench.kinds import build_model, kind_of
    from relukan_bench.models import count_parameters
    from relukan_bench.timing import peak_memory_mb, time_inference, time_phases, time_steps
    from relukan_bench.training import prepare, step_for

    if max_step_seconds is not None:
        slow = too_slow(build_model(spec, shape, domain, seed).to(device), x, y, train, lr, device, max_step_seconds)
        if slow:
            return {"params": None, "too_slow": slow, "threads": torch.get_num_threads()}
    model = build_model(spec, shape, domain, seed).to(device)
    found: dict[str, Any] = {"params": count_parameters(model)}
    step = step_for(spec, model, train, x, y, lr=lr)
    found["compile_seconds"] = prepare(spec, step)  # torch.compile and CUDA-graph capture, outside the clock
    if getattr(model, "compiles_on_first_call", False):  # a model that compiles itself lazily (pykan's speed-compile)
        found["compile_seconds"] = time_steps(step, 1, 0, device)  # its first warm-up step, compiling
        warmup = max(warmup - 1, 0)
    found["seconds"] = time_steps(step, steps, warmup, device)
    found["final_loss"] = float(step.last_loss) if step.last_loss is not None else math.nan
    if not math.isfinite(found["final_loss"]):
        raise NonFiniteLoss(found)
    found.update(time_phases(step, min(steps, PHASE_STEPS), device))
    found["peak_memory_mb"] = peak_memory_mb(step, device)
    found.update(time_inference(model, x, steps, warmup, device, compiled=kind_of(spec).step(spec).compile))
    found["threads"] = torch.get_num_threads()
    return found


#: the probe of `too_slow` runs on this fraction of the batch
PROBE_FRACTION = 10
#: the share of the device's memory one step may be estimated to hold
MEMORY_SHARE = 0.5


def too_slow(model: Any, x: Any, y: Any, train: Any, lr: float, device: str, limit: float) -> str:
    """"" when one training step of `model` on (x, y) is estimated to take at most `limit`
    seconds and to fit in the device's memory; else why it is not timed. The estimate: two
    plain autograd Adam steps on a tenth of the batch, the second clocked, then the peak memory
    of a third, both scaled by the batch (a step's work and activations grow with it), so that a
    model whose full step would not fit in time or in memory is never run at full size."""
    from relukan_bench.limits import device_memory
    from relukan_bench.timing import peak_memory_of, time_steps
    from relukan_bench.training import make_step

    part = max(1, x.shape[0] // PROBE_FRACTION)
    step = make_step(model, train, x[:part], y[:part], lr=lr)
    scale = x.shape[0] / part
    estimate = time_steps(step, 1, 1, device) * scale
    if estimate > limit:
        return f"too slow to time: one step estimated at {estimate:.3g} s (limit {limit:g} s; measured at batch {part})"
    held, have = peak_memory_of(step, device) * scale * 2**20, device_memory(device)
    if have is not None and held > MEMORY_SHARE * have:
        return (f"too large to time: one step estimated to hold {held / 2**30:.3g} GiB, more than "
                f"{MEMORY_SHARE:.0%} of the {have / 2**30:.3g} GiB of {device} (measured at batch {part})")
    return ""


class NonFiniteLoss(ValueError):
    """The loss was not finite after the timed steps; `found` holds what was measured."""

    def __init__(self, found: dict[str, Any]) -> None:
        super().__init__(f"the loss is not finite after the timed steps ({found['final_loss']})")
        self.found = found


def measure_unit(entry: dict[str, Any], shape: dict[str, Any], domain: Sequence[float], seed: int,
                 x: list[list[float]], y: list[list[float]], train: dict[str, Any], lr: float, steps: int,
                 warmup: int, device: str, threads: int, max_step_seconds: float | None = None) -> dict[str, Any]:
    """`measure` with JSON arguments, in a worker: `threads` torch threads like the caller.
    A non-finite loss comes back as the measured values with `error` set."""
    from types import SimpleNamespace

    import torch

    from relukan_bench.config import TrainSpec
    from relukan_bench.kinds import kind_of
    from relukan_bench.pykan_envs import installed

    torch.set_num_threads(threads)
    spec = kind_of(entry["kind"]).entry.model_validate(entry)
    tensors = [torch.tensor(values, dtype=torch.float32, device=device) for values in (x, y)]
    try:
        found = measure(spec, SimpleNamespace(**shape), (domain[0], domain[1]), seed, *tensors,
                        TrainSpec.model_validate(train), lr, steps, warmup, device, max_step_seconds)
    except NonFiniteLoss as exc:
        found = {**exc.found, "error": str(exc)}
    return {**found, "pykan_version": installed()}
