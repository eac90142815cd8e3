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
from types import SimpleNamespace
from typing import TYPE_CHECKING, Sequence

from relukan_bench import limits  # limits.device_memory looked up at each call: a test replaces it
from relukan_bench.kinds import build_model, kind_of
from relukan_bench.models import count_parameters
from relukan_bench.pykan_envs import installed
from relukan_bench.timing import peak_memory_mb, peak_memory_of, time_inference, time_phases, time_steps

if TYPE_CHECKING:
    import torch

    from relukan_bench.config import TrainSpec
    from relukan_bench.kinds import Shape
    from relukan_bench.schema import ModelEntry

#: steps of the phase pass (each phase clocked separately; the median is recorded)
PHASE_STEPS = 50


def measure(spec: ModelEntry, shape: Shape, domain: tuple[float, float], seed: int, x: torch.Tensor, y: torch.Tensor,
            train: TrainSpec, lr: float, steps: int, warmup: int, device: str,
            max_step_seconds: float | None = None) -> dict[str, float | str | None]:
    """Time one fresh model of the entry `spec`; a dict of what the speed record holds. A step
    whose loss is not finite after the timed steps is an error (ValueError). With
    `max_step_seconds`, a model whose step is estimated to take longer (`too_slow`) is not
    timed: the dict then says so in `too_slow`."""
    import torch

    from relukan_bench.steps import LBFGSStep
    from relukan_bench.training import prepare, step_for

    if max_step_seconds is not None:
        slow = too_slow(build_model(spec, shape, domain, seed).to(device), x, y, train, lr, device, max_step_seconds)
        if slow:
            return {"params": None, "too_slow": slow, "threads": torch.get_num_threads()}
    model = build_model(spec, shape, domain, seed).to(device)
    found: dict[str, float | str | None] = {"params": count_parameters(model)}
    step = step_for(spec, model, train, x, y, lr=lr)
    assert not isinstance(step, LBFGSStep)  # speed refuses LBFGS (SpeedConfig: no_lbfgs), whose step has no phases
    found["compile_seconds"] = prepare(spec, step)  # torch.compile and CUDA-graph capture, outside the clock
    if getattr(model, "compiles_on_first_call", False):  # a model that compiles itself lazily (pykan's speed-compile)
        found["compile_seconds"] = time_steps(step, 1, 0, device)  # its first warm-up step, compiling
        warmup = max(warmup - 1, 0)
    found["seconds"] = time_steps(step, steps, warmup, device)
    found["final_loss"] = final_loss = float(step.last_loss) if step.last_loss is not None else math.nan
    if not math.isfinite(final_loss):
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


def too_slow(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, train: TrainSpec, lr: float, device: str,
             limit: float) -> str:
    """"" when one training step of `model` on (x, y) is estimated to take at most `limit`
    seconds and to fit in the device's memory; else why it is not timed. The estimate: two
    plain autograd Adam steps on a tenth of the batch, the second clocked, then the peak memory
    of a third, both scaled by the batch (a step's work and activations grow with it), so that a
    model whose full step would not fit in time or in memory is never run at full size."""
    from relukan_bench.training import make_step

    part = max(1, x.shape[0] // PROBE_FRACTION)
    step = make_step(model, train, x[:part], y[:part], lr=lr)
    scale = x.shape[0] / part
    estimate = time_steps(step, 1, 1, device) * scale
    if estimate > limit:
        return f"too slow to time: one step estimated at {estimate:.3g} s (limit {limit:g} s; measured at batch {part})"
    held, have = peak_memory_of(step, device) * scale * 2**20, limits.device_memory(device)
    if have is not None and held > MEMORY_SHARE * have:
        return (f"too large to time: one step estimated to hold {held / 2**30:.3g} GiB, more than "
                f"{MEMORY_SHARE:.0%} of the {have / 2**30:.3g} GiB of {device} (measured at batch {part})")
    return ""


class NonFiniteLoss(ValueError):
    """The loss was not finite after the timed steps; `found` holds what was measured."""

    def __init__(self, found: dict[str, float | str | None]) -> None:
        super().__init__(f"the loss is not finite after the timed steps ({found['final_loss']})")
        self.found = found


def measure_unit(entry: dict[str, object], shape: dict[str, object], domain: Sequence[float], seed: int,
                 x: list[list[float]], y: list[list[float]], train: dict[str, object], lr: float, steps: int,
                 warmup: int, device: str, threads: int,
                 max_step_seconds: float | None = None) -> dict[str, float | str | None]:
    """`measure` with JSON arguments, in a worker: `threads` torch threads like the caller.
    A non-finite loss comes back as the measured values with `error` set."""
    import torch

    # both load pydantic, which the CLI starts without
    from relukan_bench.config import TrainSpec
    from relukan_bench.schema import ModelEntry

    torch.set_num_threads(threads)
    entry_type = kind_of(entry["kind"]).entry
    assert issubclass(entry_type, ModelEntry)  # every kind's entry is one (relukan_bench.kinds)
    spec = entry_type.model_validate(entry)
    x_tensor, y_tensor = (torch.tensor(values, dtype=torch.float32, device=device) for values in (x, y))
    try:
        found = measure(spec, SimpleNamespace(**shape), (domain[0], domain[1]), seed, x_tensor, y_tensor,
                        TrainSpec.model_validate(train), lr, steps, warmup, device, max_step_seconds)
    except NonFiniteLoss as exc:
        found = {**exc.found, "error": str(exc)}
    return {**found, "pykan_version": installed()}
