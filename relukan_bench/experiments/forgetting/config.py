"""The forgetting experiment's config: `ForgettingConfig` and the specs only it uses (the
network every model shares, the segmented target, the phases' training)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from relukan_bench.config import (
    ModelSpec,
    attach_matches,
    check_model_names,
    check_orders,
    no_lbfgs,
    no_pykan_fit,
)
from relukan_bench.schema import (
    MAX_COUNT,
    Domain,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    Seeds,
    Strict,
    Threads,
    Width,
    error_at,
    show,
)


class NetworkSpec(Strict):
    """The shape every model of an experiment shares: layer widths, grid G and order k."""

    width: Width = [1, 1]
    grid: PositiveInt = 25
    k: NonNegativeInt = 1


class ForgettingDataSpec(Strict):
    """`points` evenly spaced inputs over [low, high) cut into `segments` equal segments, one
    Gaussian bump per segment. As the paper's code: each segment's x rescaled to [-1, 1] as
    u, y = exp(-(sigma u)^2 / 2) / (sigma sqrt(2 pi)) / scale."""

    points: PositiveInt = 5000
    segments: Annotated[int, Field(ge=2, le=MAX_COUNT)] = 5
    sigma: PositiveFloat = 5.0
    scale: PositiveFloat = 0.08
    domain: Domain = [0.0, 1.0]

    @model_validator(mode="after")
    def _equal_segments(self) -> "ForgettingDataSpec":
        if self.points % self.segments or self.points // self.segments < 2:
            raise error_at(
                "points", cross_field=True,
                message=f"expected a multiple of segments ({self.segments}) with at least 2 points per segment (got {self.points})",
            )
        return self


class ForgettingTrainSpec(Strict):
    """Phase i trains `steps_per_phase` full-batch steps on segment i only."""

    steps_per_phase: PositiveInt = 250
    optimizer: Literal["adam"] = "adam"
    lr: PositiveFloat = 1e-3
    loss: Literal["mse"] = "mse"
    reset_optimizer: bool = False  # true: a fresh optimizer every phase; false: one for all (the paper)
    log_every: PositiveInt = 5  # curves.csv: every segment's MSE every `log_every` steps
    batch_seeds: bool = True  # train a ReLU-KAN's seeds at once, as one batched model (models/batched.py)


class ForgettingConfig(Strict):
    """`relukan-bench forgetting`: learn the segments one after another, measure what is lost."""

    experiment: Literal["forgetting"] = "forgetting"
    seeds: Seeds = [0, 1, 2]
    threads: Threads = 1
    device: Literal["cpu", "cuda", "auto"] = "cpu"
    data: ForgettingDataSpec = ForgettingDataSpec()
    network: NetworkSpec = NetworkSpec()
    train: ForgettingTrainSpec = ForgettingTrainSpec()
    models: Annotated[list[ModelSpec], Field(min_length=1)]


    @model_validator(mode="after")
    def _check(self) -> "ForgettingConfig":
        width = self.network.width
        if width[0] != 1 or width[-1] != 1:
            raise error_at("network.width", cross_field=True, message=f"expected one input and one output, e.g. [1, 1] (got {show(width)})")
        check_model_names(self.models)
        check_orders(self.models, [self.network])
        attach_matches(self.models, [self.network])
        no_pykan_fit(self.models, "forgetting trains every model by our loop, one optimizer across phases; pykan's fit() cannot")
        no_lbfgs(self.models, "forgetting keeps one Adam across its phases (or resets it), LBFGS's curvature history would span segments (use it in fit)")
        return self
