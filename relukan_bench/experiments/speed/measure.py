"""One timed unit of the speed experiment, the same code in this process and in a worker.

`measure` builds a fresh model, compiles and captures its step outside the clock (compile
time recorded apart; a model that compiles at its first call, pykan's `speed(compile=True)`,
has its first warm-up step recorded as its compile time), times `warmup` untimed then `steps` timed steps, then, in separate passes
after the timed steps, clocks each phase of a step (forward, backward, optimizer) and the peak
memory of one step. `measure_unit` is the same with JSON arguments, for a pykan version that
runs in a worker process (relukan_bench.worker): the data travels as lists of floats, which
hold float32 values exactly.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

#: steps of the phase pass (each phase clocked separately; the median is recorded)
PHASE_STEPS = 50


def measure(spec: Any, shape: Any, domain: tuple[float, float], seed: int, x: Any, y: Any, train: Any,
            lr: float, steps: int, warmup: int, device: str) -> dict[str, Any]:
    """Time one fresh model of the entry `spec`; a dict of what the speed record holds. A step
    whose loss is not finite after the timed steps is an error (ValueError)."""
    import torch

    from relukan_bench.kinds import build_model
    from relukan_bench.models import count_parameters
    from relukan_bench.timing import peak_memory_mb, time_phases, time_steps
    from relukan_bench.training import prepare, step_for

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
    found["threads"] = torch.get_num_threads()
    return found


class NonFiniteLoss(ValueError):
    """The loss was not finite after the timed steps; `found` holds what was measured."""

    def __init__(self, found: dict[str, Any]) -> None:
        super().__init__(f"the loss is not finite after the timed steps ({found['final_loss']})")
        self.found = found


def measure_unit(entry: dict[str, Any], shape: dict[str, Any], domain: Sequence[float], seed: int,
                 x: list[list[float]], y: list[list[float]], train: dict[str, Any], lr: float, steps: int,
                 warmup: int, device: str, threads: int) -> dict[str, Any]:
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
                        TrainSpec.model_validate(train), lr, steps, warmup, device)
    except NonFiniteLoss as exc:
        found = {**exc.found, "error": str(exc)}
    return {**found, "pykan_version": installed()}
