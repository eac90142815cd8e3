"""The speed experiment's units and their execution: `Unit`, `key`, `plan`, and `iter_speed`,
which times each unit here or in the worker of its pykan version and yields its raw record.

    for record in iter_speed(config, ["cpu"]): ...     # one RawRecord per finished unit
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping, Sequence, TypedDict

from relukan_bench.errors import ExecutionError, failure
from relukan_bench.experiments.speed.measure import NonFiniteLoss, measure
from relukan_bench.experiments.speed.records import RawRecord
from relukan_bench.kinds import kind_of, resolve, size_row
from relukan_bench.pykan_envs import installed, needs_environment
from relukan_bench.seeding import derive_seed
from relukan_bench.worker import Workers

if TYPE_CHECKING:
    import torch

    from relukan_bench.experiments.speed.config import SpeedConfig, SpeedFunctionSpec
    from relukan_bench.schema import ModelEntry


@dataclass(frozen=True)
class Unit:
    """One measurement: a fresh model of `model` trained on `function` on `device`."""

    device: str
    function: str
    repeat: int
    model: str


def key(record: Mapping[str, Any]) -> Unit:
    """The unit a raw record belongs to."""
    return Unit(record["device"], record["function"], int(record["repeat"]), record["model"])


def plan(config: SpeedConfig, devices: Sequence[str]) -> list[Unit]:
    """Every unit of work, in the order it runs."""
    return [
        Unit(device, function.name, repeat, model.name)
        for device in devices
        for function in config.functions
        for repeat in range(config.timing.repeats)
        for model in config.models
    ]


def iter_speed(config: SpeedConfig, devices: Sequence[str], units: Sequence[Unit] | None = None,
               on_unit: Callable[[Unit], None] | None = None) -> Iterator[RawRecord]:
    """Run `units` (default: the whole plan); yield one raw record (`RawRecord`) as each
    finishes, after `on_unit(unit)` before each starts. A unit that raises, or whose loss is
    not finite after its timed steps, is a failed unit: its record says why in `error`, and
    the others go on. A pykan version other than the installed one is timed in its worker
    (relukan_bench.worker), started on first use and closed when this generator ends."""
    from relukan_bench.data import make_dataset

    functions = {f.name: f for f in config.functions}
    models = {m.name: m for m in config.models}
    datasets: dict[tuple[str, str], tuple[torch.Tensor, torch.Tensor]] = {}
    with Workers() as workers:
        for unit in plan(config, devices) if units is None else units:
            if on_unit is not None:
                on_unit(unit)
            function = functions[unit.function]
            if (unit.device, unit.function) not in datasets:
                datasets.clear()  # one function's data alive at a time
                low, high = config.data.domain
                x, y = make_dataset(function, samples_of(config, function), (low, high),
                                    derive_seed(config.seed, "data", function.name))
                datasets[(unit.device, unit.function)] = (x.to(unit.device), y.to(unit.device))
            yield _run_unit(config, unit, function, models[unit.model], datasets[(unit.device, unit.function)], workers)


def samples_of(config: SpeedConfig, function: SpeedFunctionSpec) -> int:
    """A function's batch: its own `samples`, else the config's data.samples."""
    return getattr(function, "samples", None) or config.data.samples


def effort_of(spec: ModelEntry, device: str) -> str:
    """What a model entry's step is given on `device`: eager, compiled, fused (a hand-written
    step), and captured in a CUDA graph (CUDA only); rows of one effort met on equal terms."""
    options = kind_of(spec).step(spec)
    parts = [name for name, on in (("fused", options.fused), ("compiled", options.compile),
                                   ("basis compiled", options.basis_compile)) if on] or ["eager"]
    return "+".join(parts + (["graph"] if options.cuda_graph and device.startswith("cuda") else []))


class _Arguments(TypedDict):
    """The arguments `measure` and `measure_unit` share, as `_run_unit` passes them."""

    domain: tuple[float, float]
    seed: int
    lr: float
    steps: int
    warmup: int
    device: str
    max_step_seconds: float | None


def _run_unit(config: SpeedConfig, unit: Unit, function: SpeedFunctionSpec, spec: ModelEntry,
              data: tuple[torch.Tensor, torch.Tensor], workers: Workers) -> RawRecord:
    """One unit's raw record, measured here or in the worker of its pykan version (which
    answers the measured values as JSON: the record is built from them here)."""
    import torch

    seed = derive_seed(config.seed, "init", function.name, unit.repeat)
    version, mode = kind_of(spec).pykan(spec) or (None, None)
    found: dict[str, Any] = {"pykan_version": (version or installed()) if mode is not None else None,
                             "threads": torch.get_num_threads(), **size_row(spec, function)}
    low, high = config.data.domain
    arguments = _Arguments(domain=(low, high), seed=seed, lr=config.train.lr, steps=config.train.steps,
                           warmup=config.timing.warmup_steps, device=unit.device,
                           max_step_seconds=config.timing.max_step_seconds)
    try:
        if version is not None and needs_environment(version):
            entry, shape, _ = resolve(spec, function)  # the worker builds the resolved entry as it is
            found.update(workers.call(
                version, "relukan_bench.experiments.speed.measure:measure_unit",
                entry={**entry.model_dump(mode="json"), "match": None, "k": None},
                shape={"width": list(shape.width), "grid": shape.grid, "k": shape.k},
                x=data[0].tolist(), y=data[1].tolist(), train=config.train.model_dump(mode="json"),
                threads=torch.get_num_threads(), **arguments))
        else:
            found.update(measure(spec, function, x=data[0], y=data[1], train=config.train, **arguments))
    except NonFiniteLoss as exc:
        found.update(exc.found, error=str(exc))
    except ExecutionError:  # the worker was lost, not the unit: unfinished, and --resume runs it again
        raise
    except Exception as exc:  # noqa: BLE001 - any failure of one unit is recorded, the run goes on
        found["error"] = failure(exc)
    return _raw_record(config, unit, spec, seed, mode, found, samples_of(config, function))


def _raw_record(config: SpeedConfig, unit: Unit, spec: ModelEntry, seed: int, mode: str | None, found: dict[str, Any],
                samples: int) -> RawRecord:
    seconds = found.get("seconds", math.nan)
    return RawRecord(
        function=unit.function, model=unit.model, kind=kind_of(spec).name,
        pykan_version=found.get("pykan_version"), pykan_mode=mode,
        device=unit.device, repeat=unit.repeat, seed=seed,
        steps=config.train.steps, warmup_steps=config.timing.warmup_steps,
        seconds=seconds, ms_per_step=1000.0 * seconds / config.train.steps,
        final_loss=found.get("final_loss", math.nan), params=found.get("params"), threads=found["threads"],
        compile_seconds=found.get("compile_seconds", math.nan),
        forward_ms=found.get("forward_ms", math.nan), backward_ms=found.get("backward_ms", math.nan),
        optimizer_ms=found.get("optimizer_ms", math.nan), peak_memory_mb=found.get("peak_memory_mb", math.nan),
        error=found.get("error"), samples=samples, macs=found.get("macs"), sized=found.get("sized") or None,
        effort=effort_of(spec, unit.device), infer_ms=found.get("infer_ms", math.nan),
        infer_memory_mb=found.get("infer_memory_mb", math.nan), too_slow=found.get("too_slow") or None,
    )


def seconds_label(unit: Unit) -> str:
    return f"{unit.function} {unit.model} on {unit.device}, repeat {unit.repeat + 1}"
