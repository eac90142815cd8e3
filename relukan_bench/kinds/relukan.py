"""`kind: relukan`: ReLU-KAN (relukan_bench.models.relukan), the paper's model: the
paper-faithful implementation, the fast one that computes the same function (`impl: fast`;
docs/performance.md), or the reference code's Conv2d over the basis plane, to time that
(`impl: conv`). Its seeds train as one batched model (models/batched.py) that keeps the
implementation: a conv entry's batch runs a grouped Conv2d."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, cast

from relukan_bench.kinds import ModelKind, Shape, Size, StepOptions, edges, named, pair
from relukan_bench.schema import LBFGS, Compile, CudaGraph, ModelEntry, Name, Optimizer, PositiveFloat
from relukan_bench.seeding import seeded

if TYPE_CHECKING:
    from torch import nn

    from relukan_bench.models.batched import BatchedReLUKAN
    from relukan_bench.models.relukan import ReLUKAN


class ReLUKANSpec(ModelEntry):
    """A ReLU-KAN entry."""

    name: Name
    kind: Literal["relukan"]
    train_se: bool = True
    lr: PositiveFloat | None = None  # None: the experiment's train.lr
    optimizer: Optimizer = None  # None: the experiment's train.optimizer
    lbfgs: LBFGS = None  # with optimizer: lbfgs only; None: its defaults
    impl: Literal["reference", "fast", "conv"] = "reference"  # conv: the reference code's Conv2d
    compile: Compile = False  # the training step through torch.compile (compile time recorded apart)
    cuda_graph: CudaGraph | None = None  # on CUDA: capture the step in a CUDA graph; None: impl fast only


def build(entry: ReLUKANSpec, shape: Shape, domain: tuple[float, float], seed: int) -> ReLUKAN:
    from relukan_bench.models.relukan import ReLUKAN

    with seeded(seed):
        return ReLUKAN(shape.width, shape.grid, shape.k, train_se=entry.train_se, input_range=pair(domain), impl=entry.impl)


def batch(models: list[nn.Module]) -> BatchedReLUKAN:
    from relukan_bench.models.batched import BatchedReLUKAN

    return BatchedReLUKAN(cast("list[ReLUKAN]", models))  # what `build` made


def step(entry: ReLUKANSpec) -> StepOptions:
    graph = entry.impl == "fast" if entry.cuda_graph is None else entry.cuda_graph
    return StepOptions(fused=entry.impl == "fast", compile=entry.compile, cuda_graph=graph)


def size(entry: ReLUKANSpec, shape: Shape) -> Size:
    """Per layer a Linear(in*(G+k) -> out), and s and e (in, G+k) when they train."""
    from relukan_bench.models.relukan import relukan_parameter_count

    n = shape.grid + shape.k
    return Size(relukan_parameter_count(shape.width, shape.grid, shape.k, entry.train_se),
                sum(i * n * o for i, o in edges(shape.width)))


#: how figures name each implementation
IMPL_LABELS = {"reference": "paper code", "fast": "fast", "conv": "reference code's Conv2d"}


def describe(entry: ReLUKANSpec) -> str:
    parts = [IMPL_LABELS[entry.impl]] + ([] if entry.train_se else ["s and e fixed"])
    return named("ReLU-KAN", parts, entry)


KIND = ModelKind("relukan", ReLUKANSpec, build, label="ReLU-KAN", role="relukan", rank=0, batch=batch, step=step,
                 describe=describe, family="ReLU-KAN", hue="Blues", size=size,
                 basis="local")
