"""`kind: rbf`: a Gaussian-RBF KAN, FastKAN's layer (relukan_bench.models.rbf), written from its
definition: a LayerNorm, Gaussians on a fixed uniform grid of G + k centres over [-2, 2], a
linear map over them and a SiLU base branch."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from relukan_bench.kinds import ModelKind, Shape, Size, edges, named, pair
from relukan_bench.schema import LBFGS, Compile, CudaGraph, GridRange, ModelEntry, Name, Optimizer, PositiveFloat
from relukan_bench.seeding import seeded

if TYPE_CHECKING:
    from relukan_bench.models.rbf import RBFKAN


class RBFSpec(ModelEntry):
    """A Gaussian-RBF KAN (FastKAN) entry."""

    name: Name
    kind: Literal["rbf"]
    grid_range: GridRange = [-2.0, 2.0]  # FastKAN's grid_min, grid_max: where the centres lie (after the LayerNorm)
    layernorm: bool = True  # a LayerNorm over each layer's inputs before the RBFs (FastKAN's default)
    use_base_update: bool = True  # the Linear(silu(x)) base branch (FastKAN's default)
    init_scale: PositiveFloat = 0.1  # std of the RBF weights' truncated normal (FastKAN's spline_weight_init_scale)
    lr: PositiveFloat | None = None  # None: the experiment's train.lr
    optimizer: Optimizer = None  # None: the experiment's train.optimizer
    lbfgs: LBFGS = None  # with optimizer: lbfgs only; None: its defaults
    compile: Compile = False
    cuda_graph: CudaGraph = False


def build(entry: RBFSpec, shape: Shape, domain: tuple[float, float], seed: int) -> RBFKAN:
    """G + k centres per input (as many coefficients per edge as a ReLU-KAN's); the grid range
    is the entry's, not the data domain (FastKAN's centres lie where its LayerNorm puts inputs)."""
    from relukan_bench.models.rbf import RBFKAN

    with seeded(seed):
        return RBFKAN(shape.width, shape.grid + shape.k, grid_range=pair(entry.grid_range), layernorm=entry.layernorm,
                      use_base_update=entry.use_base_update, init_scale=entry.init_scale)


def size(entry: RBFSpec, shape: Shape) -> Size:
    """Per layer the RBF weights (in * (G + k) -> out, no bias), the base Linear(in -> out) with
    bias and the LayerNorm's weight and bias (2 in); per sample the two maps' products (the
    Gaussians and the LayerNorm are elementwise, not counted)."""
    n, base, norm = shape.grid + shape.k, int(entry.use_base_update), int(entry.layernorm)
    layers = edges(shape.width)
    return Size(sum(i * n * o + base * (i * o + o) + norm * 2 * i for i, o in layers),
                sum(i * n * o + base * i * o for i, o in layers))


def describe(entry: RBFSpec) -> str:
    parts = ([] if entry.layernorm else ["no LayerNorm"]) + ([] if entry.use_base_update else ["no base"])
    return named("FastKAN", parts, entry)


KIND = ModelKind("rbf", RBFSpec, build, label="Gaussian-RBF KAN (FastKAN)", rank=10, cost=1.5, describe=describe,
                 family="Gaussian-RBF KAN", hue="Reds", size=size,
                 basis="local")
