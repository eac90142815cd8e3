"""`kind: linear`: the floor of a speed table (relukan_bench.models.linear): per layer an
nn.Linear over the input repeated `copies` times, the multiply-adds of ReLU-KAN's contraction
with a basis that costs a copy. A floor for time, not a model to fit (no activation between
its layers). Drawn thin and dotted, in grey-blue (bone)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from relukan_bench.kinds import ModelKind, Shape, Size, edges, named
from relukan_bench.schema import LBFGS, Compile, CudaGraph, ModelEntry, Name, Optimizer, PositiveFloat, PositiveInt
from relukan_bench.seeding import seeded

if TYPE_CHECKING:
    from relukan_bench.models.linear import LinearFloor


class LinearSpec(ModelEntry):
    """A linear floor entry."""

    name: Name
    kind: Literal["linear"]
    copies: PositiveInt | None = None  # None: G + k of the shape, ReLU-KAN's bases per input
    lr: PositiveFloat | None = None  # None: the experiment's train.lr
    optimizer: Optimizer = None  # None: the experiment's train.optimizer
    lbfgs: LBFGS = None  # with optimizer: lbfgs only; None: its defaults
    compile: Compile = False
    cuda_graph: CudaGraph = False


def copies_of(entry: LinearSpec, shape: Shape) -> int:
    """How many times each layer repeats its input: the entry's `copies`, else G + k."""
    return entry.copies if entry.copies is not None else shape.grid + shape.k


def build(entry: LinearSpec, shape: Shape, domain: tuple[float, float], seed: int) -> LinearFloor:
    from relukan_bench.models.linear import LinearFloor

    with seeded(seed):
        return LinearFloor(shape.width, copies_of(entry, shape))


def size(entry: LinearSpec, shape: Shape) -> Size:
    """Per layer a Linear(in * copies -> out) with bias; per sample its in * copies * out
    products, ReLU-KAN's contraction when copies = G + k."""
    n = copies_of(entry, shape)
    layers = edges(shape.width)
    return Size(sum(i * n * o + o for i, o in layers), sum(i * n * o for i, o in layers))


def resize(entry: LinearSpec, shape: Shape, n: int) -> tuple[LinearSpec, Shape]:
    """`match:` varies the copies of the input (whatever the grid)."""
    return entry.model_copy(update={"copies": n}), shape


def describe(entry: LinearSpec) -> str:
    return named("nn.Linear floor", [f"{entry.copies} copies"] if entry.copies is not None else [], entry)


KIND = ModelKind("linear", LinearSpec, build, label="nn.Linear floor", role="control", rank=20, describe=describe,
                 family="floor", hue="bone", line={"linestyle": ":", "linewidth": 0.9}, cost=0.5, size=size,
                 resize=resize, knob="copies")
