"""`kind: relukan`: ReLU-KAN (relukan_bench.models.relukan), the paper's model: the
paper-faithful implementation, or the fast one that computes the same function (`impl: fast`;
docs/performance.md). Its seeds train as one batched model (models/batched.py)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import model_validator

from relukan_bench.kinds import ModelKind, StepOptions
from relukan_bench.schema import ModelEntry, Name, PositiveFloat, error_at


class ReLUKANSpec(ModelEntry):
    """A ReLU-KAN entry."""

    name: Name
    kind: Literal["relukan"]
    train_se: bool = True
    lr: PositiveFloat | None = None  # None: the experiment's train.lr
    impl: Literal["reference", "fast"] = "reference"
    compile: bool = False  # impl fast only: torch.compile the fused step (compile time recorded apart)
    cuda_graph: bool = True  # impl fast only, on CUDA: capture the step in a CUDA graph and replay it

    @model_validator(mode="after")
    def _fast_only(self) -> "ReLUKANSpec":
        if self.compile and self.impl != "fast":
            raise error_at("compile", cross_field=True, message=f"expected impl: fast to compile (got impl: {self.impl})")
        return self


def build(entry: ReLUKANSpec, shape: Any, domain: tuple[float, float], seed: int) -> Any:
    from relukan_bench.models.relukan import ReLUKAN
    from relukan_bench.seeding import seeded

    with seeded(seed):
        return ReLUKAN(shape.width, shape.grid, shape.k, train_se=entry.train_se, input_range=tuple(domain), impl=entry.impl)


def batch(models: list[Any]) -> Any:
    from relukan_bench.models.batched import BatchedReLUKAN

    return BatchedReLUKAN(models)


def step(entry: ReLUKANSpec) -> StepOptions:
    return StepOptions(fused=entry.impl == "fast", compile=entry.compile, cuda_graph=entry.cuda_graph)


KIND = ModelKind("relukan", ReLUKANSpec, build, label="ReLU-KAN", role="relukan", rank=0, batch=batch, step=step)
