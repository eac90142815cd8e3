"""How much one run may ask for, checked before anything is written or allocated.

Every value of a config is bounded by its schema (relukan_bench.schema); these bounds are on
what the values multiply to. Each experiment states its `Demand` (how many units, how much
training, the largest batch) arithmetically, without building its plan, and `check_demand`
refuses a run that asks for more than

- `MAX_UNITS` units of work (a run directory is meant to be read by people);
- `MAX_ROWS` rows of logs (curves every `log_every` steps add up: a gigabyte of CSV);
- `MAX_SAMPLE_STEPS` sample-steps (one sample through one training step: at a generous 1 ns
  each, a run at the limit trains for a quarter of an hour, at pykan's 1 us for 12 days);
- the memory of the device: the activations of one forward and backward pass over the
  largest batch, plus the parameters and their optimizer state, estimated from the widths,
  grid and order of every network shape, against the machine's RAM (or the GPU's memory);
  with parallel workers, that times the workers that train at once, and each worker
  process's own resident memory (Python, torch and this package, measured as this process's
  once torch is imported, at least `WORKER_FLOOR`) against the machine's RAM.

Every quantity a config can grow enters: every data set a step or a log evaluates (training,
test and validation samples), every loss evaluation an optimizer makes per step (LBFGS's
`max_eval`, pykan's `fit()` with LBFGS), the seeds a batched model trains at once (only for
kinds that batch their seeds).

The refusal is one line naming the config file, the keys that multiply up, and the limit.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from relukan_bench.errors import ConfigError
from relukan_bench.kinds import Shape

MAX_UNITS = 100_000
MAX_ROWS = 10**7
MAX_SAMPLE_STEPS = 10**12
BYTES = 4  # float32
ACTIVATION_COPIES = 8  # tensors autograd and the basis computations keep per activation, generously
PARAMETER_COPIES = 4  # the parameter, its gradient and Adam's two moments
#: the least a spawned worker process holds before it trains anything (Python, torch, numpy,
#: this package): about 400 MB measured on Linux with torch 2.13's CPU build
WORKER_FLOOR = 400 * 2**20


@dataclass(frozen=True)
class Demand:
    """What a config asks of the machine. Each number comes with the keys it multiplies
    (`units_from`, ...), which the refusal names."""

    units: int
    units_from: str
    sample_steps: int
    sample_steps_from: str
    batch: int  # the most samples one forward pass sees (seeds trained at once included)
    batch_from: str
    rows: int = 0  # rows the per-unit logs will hold
    rows_from: str = ""
    # every unit first probes its model at batch / probe and runs no larger step that would not
    # fit (speed with timing.max_step_seconds: measure.too_slow); 1: every unit runs at full size
    probe: int = 1


def network_bytes(shape: Shape, batch: int) -> int:
    """About how much memory training one network of `shape` (width, grid, k) on `batch`
    samples takes: every layer's activations and basis values, and the parameters with
    their gradients and optimizer state."""
    width, basis = list(shape.width), shape.grid + shape.k + 1
    activations = sum(batch * inputs * (outputs + basis) for inputs, outputs in zip(width, width[1:]))
    parameters = sum(inputs * outputs * basis for inputs, outputs in zip(width, width[1:]))
    return BYTES * (ACTIVATION_COPIES * activations + PARAMETER_COPIES * parameters)


def device_memory(device: str) -> int | None:
    """The device's memory in bytes: the machine's RAM for the CPU, the GPU's own for CUDA;
    None where it cannot be read."""
    if device.startswith("cuda"):
        import torch

        return int(torch.cuda.get_device_properties(torch.device(device)).total_memory)
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def check_demand(demand: Demand, shapes: Sequence[Shape], devices: Sequence[str], path: Path, workers: int = 1) -> None:
    """ConfigError (one line, naming `path` and the keys) when `demand` exceeds a limit;
    `workers` units train at once, each with its own network in memory."""
    if demand.units > MAX_UNITS:
        raise ConfigError(f"{path}: {demand.units_from} make {demand.units:,} units of work, more than the "
                          f"{MAX_UNITS:,} one run may hold; ask for fewer, or split the run")
    if demand.rows > MAX_ROWS:
        raise ConfigError(f"{path}: {demand.rows_from} make {demand.rows:.2e} rows of logs, more than the "
                          f"{MAX_ROWS:.0e} one run may write; log less often or ask for fewer")
    if demand.sample_steps > MAX_SAMPLE_STEPS:
        raise ConfigError(f"{path}: {demand.sample_steps_from} make {demand.sample_steps:.2e} sample-steps of "
                          f"training, more than the {MAX_SAMPLE_STEPS:.0e} one run may ask for; ask for fewer")
    started = max(1, min(workers, demand.units))  # no more workers start than there are units
    each = worker_bytes() if started > 1 else 0  # a worker process's own memory; none in this process
    _check_workers(started, each, path, f"--workers {workers}" + (f" ({started} start: one per unit)"
                                                                  if started != workers else ""))
    for index, shape in enumerate(shapes):
        _check_memory(demand, index, shape, devices, path, started, each)


def _check_workers(workers: int, each: int, path: Path, asked: str) -> None:
    """ConfigError when `workers` processes of `each` bytes alone, before any training, need
    more RAM than the machine has."""
    have = device_memory("cpu")
    if have is not None and workers * each > have:
        raise ConfigError(f"{path}: {asked}: the worker processes alone need about {_gib(workers * each)} of memory "
                          f"({_gib(each)} each before any training), more than the {_gib(have)} of this machine; "
                          "ask for fewer workers")


def _check_memory(demand: Demand, index: int, shape: Shape, devices: Sequence[str], path: Path, workers: int,
                  process: int) -> None:
    """ConfigError when `workers` networks of `shape` training at once (on the CPU also their
    processes, `process` bytes each) need more memory than a device has."""
    own = getattr(shape, "samples", None)  # a shape's own batch first
    batch = max(1, (own or demand.batch) // demand.probe)
    batch_from = (f"functions[{index}].samples" if own else demand.batch_from) + (
        f" / {demand.probe} (the probe's batch)" if demand.probe > 1 else "")
    one = network_bytes(shape, batch)
    fewer = ", a smaller network or fewer workers" if workers > 1 else " or a smaller network"
    for device in devices:
        processes = workers * process if device == "cpu" else 0
        need, have = one * workers + processes, device_memory(device)
        each = (f" ({workers} workers at once, {_gib(one)} each" + (" and their processes" if processes else "") + ")"
                if workers > 1 else "")
        if have is not None and need > have:
            raise ConfigError(
                f"{path}: {batch_from} ({batch:,}) through {_where(shape, index)} "
                f"(width {list(shape.width)}, grid {shape.grid}, k {shape.k}) needs about {_gib(need)} of memory "
                f"to train{each}, more than the {_gib(have)} of {device}; ask for fewer samples{fewer}")


def worker_bytes() -> int:
    """About what one worker process holds before it trains: this process's resident size once
    torch is imported (a spawned worker imports the same), at least `WORKER_FLOOR`."""
    import torch  # noqa: F401 - a worker imports it: so must the measure

    try:
        with open("/proc/self/statm", "rb") as handle:
            resident = int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        resident = 0
    return max(WORKER_FLOOR, resident)


def _where(shape: Shape, index: int) -> str:
    name = getattr(shape, "name", None)
    return f"the network of functions[{index}] ({name})" if name else "the network"


def _gib(size: int) -> str:
    return f"{size / 2**30:.1f} GiB" if size < 2**40 * 1000 else f"{size / 2**40:.2e} TiB"
