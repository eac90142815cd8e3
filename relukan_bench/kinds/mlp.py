"""`kind: mlp`: a plain MLP (relukan_bench.models.mlp), the control. Without `hidden` its
widths are matched to the parameter count of the paper's ReLU-KAN of the same shape."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from relukan_bench.kinds import ModelKind, Shape, Size, edges, named
from relukan_bench.schema import (
    LBFGS,
    MAX_LAYERS,
    MAX_WIDTH,
    Compile,
    CudaGraph,
    ModelEntry,
    Name,
    Optimizer,
    PositiveFloat,
)
from relukan_bench.seeding import seeded

if TYPE_CHECKING:
    from relukan_bench.models.mlp import MLP


class MLPSpec(ModelEntry):
    """An MLP entry."""

    name: Name
    kind: Literal["mlp"]
    hidden: Annotated[list[Annotated[int, Field(gt=0, le=MAX_WIDTH)]], Field(min_length=1, max_length=MAX_LAYERS)] | None = None  # None: matched to the ReLU-KAN's parameter count
    activation: Literal["relu", "silu", "tanh"] = "relu"
    lr: PositiveFloat | None = None  # None: the experiment's train.lr
    optimizer: Optimizer = None  # None: the experiment's train.optimizer
    lbfgs: LBFGS = None  # with optimizer: lbfgs only; None: its defaults
    compile: Compile = False
    cuda_graph: CudaGraph = False


def mlp_sizes(entry: MLPSpec, shape: Shape) -> list[int]:
    """The layer sizes of an `mlp` entry: its `hidden` widths, or when it gives none, widths
    matched to the parameter count of the paper's ReLU-KAN on `shape` (models/mlp.py)."""
    from relukan_bench.models.mlp import matched_hidden
    from relukan_bench.models.relukan import relukan_parameter_count

    width = list(shape.width)
    hidden = list(entry.hidden) if entry.hidden is not None else matched_hidden(width, relukan_parameter_count(width, shape.grid, shape.k))
    return [width[0], *hidden, width[-1]]


def build(entry: MLPSpec, shape: Shape, domain: tuple[float, float], seed: int) -> MLP:
    from relukan_bench.models.mlp import MLP

    with seeded(seed):
        return MLP(mlp_sizes(entry, shape), activation=entry.activation)


def size(entry: MLPSpec, shape: Shape) -> Size:
    """Per layer a Linear(in -> out) with bias; per sample its in x out products."""
    layers = edges(mlp_sizes(entry, shape))
    return Size(sum(i * o + o for i, o in layers), sum(i * o for i, o in layers))


def resize(entry: MLPSpec, shape: Shape, n: int) -> tuple[MLPSpec, Shape]:
    """`match:` varies the hidden width: max(1, len(width) - 2) hidden layers of `n`."""
    return entry.model_copy(update={"hidden": [n] * max(1, len(shape.width) - 2)}), shape


def describe(entry: MLPSpec) -> str:
    parts = ([f"hidden {'-'.join(map(str, entry.hidden))}"] if entry.hidden else []) + (
        [entry.activation] if entry.activation != "relu" else [])
    return named("MLP", parts, entry)


KIND = ModelKind("mlp", MLPSpec, build, label="MLP", role="control", rank=2, describe=describe, family="MLP", hue="Purples",
                 size=size, resize=resize, knob="hidden")
