"""Speed as the runner drives it: the hooks its declaration points at (relukan_bench
.experiments.protocol says what each takes and returns). The timing itself is in `plan` and
`measure`."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from relukan_bench import pykan_envs, resources
from relukan_bench.experiments.protocol import Progress
from relukan_bench.experiments.speed.measure import PROBE_FRACTION
from relukan_bench.experiments.speed.paper import paper_speedups
from relukan_bench.experiments.speed.plan import Unit, iter_speed, samples_of
from relukan_bench.experiments.speed.records import RawRecord
from relukan_bench.kinds import pair
from relukan_bench.limits import Demand
from relukan_bench.results import read_csv

if TYPE_CHECKING:
    from relukan_bench.experiments.speed.config import SpeedConfig, SpeedFunctionSpec


def shapes(config: SpeedConfig) -> list[SpeedFunctionSpec]:
    return list(config.functions)


def domain(config: SpeedConfig) -> tuple[float, float]:
    return pair(config.data.domain)


def reproduce_config() -> tuple[Path | None, str | None]:
    """configs/speed-baselines.yaml when the environments of its pykan versions are
    prepared; else the default config and how to prepare them."""
    from relukan_bench.experiments.speed.config import BASELINES_CONFIG, baseline_versions

    path = resources.configs_dir() / BASELINES_CONFIG
    versions = baseline_versions(path)
    if pykan_envs.missing(versions):
        return None, (f"speed times the installed pykan only; to time it against pykan {', '.join(versions)} too "
                      f"(configs/{BASELINES_CONFIG}), {pykan_envs.install_hint(pykan_envs.missing(versions))}")
    return resources.display_path(path), None


def context(config: SpeedConfig) -> dict[tuple[str, str], float]:
    """The paper's speedups for the functions and devices the run times."""
    return paper_speedups(read_csv(resources.paper_dir() / "speed.csv"), config)


def demand(config: SpeedConfig, devices: Sequence[str]) -> Demand:
    units = len(devices) * len(config.functions) * config.timing.repeats * len(config.models)
    samples = max(samples_of(config, f) for f in config.functions)
    probe = PROBE_FRACTION if config.timing.max_step_seconds is not None else 1
    return Demand(units, "devices x functions x timing.repeats x models",
                  units * (config.timing.warmup_steps + config.train.steps) * samples,
                  "those units x (timing.warmup_steps + train.steps) x samples (the largest batch)",
                  config.data.samples, "data.samples",
                  units, "devices x functions x timing.repeats x models", probe=probe)


def execute(config: SpeedConfig, devices: Sequence[str], units: Sequence[Unit], progress: Progress
            ) -> Iterator[RawRecord]:
    return iter_speed(config, devices, units, lambda unit: progress(unit, 0, math.nan))


def rows(result: RawRecord) -> dict[str, list[RawRecord]]:
    return {"raw": [result]}


def rebuild(loaded: dict[str, list[dict[str, Any]]]) -> list[RawRecord]:
    return [RawRecord.from_row(row) for row in loaded["raw"]]


def failure(result: RawRecord) -> str | None:
    if not result.error:
        return None
    return f"{result.function} {result.model} on {result.device}, repeat {result.repeat + 1}: {result.error}"
