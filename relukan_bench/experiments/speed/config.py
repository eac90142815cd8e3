"""The speed experiment's config: `SpeedConfig` and the specs only it uses (its functions,
which may be bare network shapes; its data; its timing), and the config that `reproduce` runs
against every pykan version when their environments are prepared.

    config = load_config(Path("configs/speed.yaml"), ["train.steps=50"], SpeedConfig)
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from relukan_bench.config import (
    FunctionSpec,
    ModelSpec,
    TrainSpec,
    attach_matches,
    check_known_baseline,
    check_model_names,
    check_orders,
    check_unique_names,
    no_lbfgs,
    no_pykan_fit,
)
from relukan_bench.expressions import parse
from relukan_bench.schema import Domain, Name, NonNegativeInt, PositiveFloat, PositiveInt, Seed, Strict, Threads
from relukan_bench.yamlio import YamlError, loads, read_text

#: a speed function's `expression` that times a bare network shape on random targets
RANDOM = "random"


class SpeedFunctionSpec(FunctionSpec):
    """A speed function: a FunctionSpec, or, with `expression: random`, a bare network shape
    (any last width) timed on standard-normal targets; `samples` its own batch size (None: the
    config's data.samples)."""

    samples: PositiveInt | None = None

    @field_validator("expression", mode="before")
    @classmethod
    def _parse_expression(cls, value: Any) -> Any:
        if value != RANDOM:
            parse(value)
        return value

    @model_validator(mode="after")
    def _expression_fits_width(self) -> "SpeedFunctionSpec":
        # pydantic types a validator as its decorator's proxy; the class holds the plain function
        return self if self.bare else FunctionSpec._expression_fits_width(self)  # type: ignore[operator]

    @property
    def bare(self) -> bool:
        return self.expression == RANDOM


class DataSpec(Strict):
    """Inputs drawn uniformly from [low, high)^n, n = width[0]."""

    samples: PositiveInt = 1000
    domain: Domain = [0.0, 1.0]


class TimingSpec(Strict):
    """How each (function, model, device) is timed: `repeats` fresh models, each trained
    `warmup_steps` untimed steps and then `train.steps` timed ones."""

    repeats: PositiveInt = 5
    warmup_steps: NonNegativeInt = 10
    # a unit whose first step, measured at a tenth of the batch and scaled up, would take longer
    # is recorded as too slow to time, not run (None: every unit is timed)
    max_step_seconds: PositiveFloat | None = None


class SpeedConfig(Strict):
    """`relukan-bench speed`: train every model on every function and time it."""

    experiment: Literal["speed"] = "speed"
    seed: Seed = 0
    threads: Threads = 1
    device: Literal["cpu", "cuda", "auto"] = "cpu"
    baseline: Name | None = None  # speedup = baseline median / model median
    data: DataSpec = DataSpec()
    train: TrainSpec = TrainSpec()
    timing: TimingSpec = TimingSpec()
    models: Annotated[list[ModelSpec], Field(min_length=1)]
    functions: Annotated[list[SpeedFunctionSpec], Field(min_length=1)]

    @model_validator(mode="after")
    def _check_names(self) -> "SpeedConfig":
        check_model_names(self.models)
        check_orders(self.models, self.functions)
        check_unique_names(self.functions, "functions")
        attach_matches(self.models, self.functions)
        check_known_baseline(self.baseline, self.models)
        no_pykan_fit(self.models, "speed times our training loop only; pykan's fit() also evaluates, logs and updates grids (use it in fit)")
        no_lbfgs(self.models, "speed times a step by its phases, and an LBFGS step has none: it evaluates the loss a varying number of times (use it in fit)")
        return self


BASELINES_CONFIG = "speed-baselines.yaml"  # speed against every pykan version and mode (reproduce runs it when it can)


def baseline_versions(path: Path) -> list[str]:
    """The pykan versions a speed config's models name, in order (none when it cannot be read)."""
    try:
        config = loads(read_text(path))
    except (OSError, ValueError, YamlError):
        return []
    models = config.get("models", []) if isinstance(config, dict) else []
    return list(dict.fromkeys(str(m["pykan"]) for m in models if isinstance(m, dict) and m.get("pykan") is not None))
