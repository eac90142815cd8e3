"""`kind: bspline`: our vectorised B-spline KAN (relukan_bench.models.bspline): pykan's
function and initialisation in a few tensor operations per layer, to separate the basis from
the implementation. Drawn dotted: its curves lie on pykan's."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, cast

from relukan_bench.kinds import ModelKind, Shape, Size, edges, named, pair
from relukan_bench.schema import LBFGS, Compile, CudaGraph, GridRange, ModelEntry, Name, Optimizer, PositiveFloat
from relukan_bench.seeding import seeded

if TYPE_CHECKING:
    from torch import nn

    from relukan_bench.models.bspline import BSplineKAN


class BSplineSpec(ModelEntry):
    """A B-spline KAN entry."""

    name: Name
    kind: Literal["bspline"]
    grid_range: GridRange | None = None  # None: the data domain
    lr: PositiveFloat | None = None  # None: the experiment's train.lr
    optimizer: Optimizer = None  # None: the experiment's train.optimizer
    lbfgs: LBFGS = None  # with optimizer: lbfgs only; None: its defaults
    compile: Compile = False
    cuda_graph: CudaGraph = False


def build(entry: BSplineSpec, shape: Shape, domain: tuple[float, float], seed: int) -> BSplineKAN:
    from relukan_bench.models.bspline import BSplineKAN

    grid_range = pair(entry.grid_range) if entry.grid_range is not None else pair(domain)
    with seeded(seed):  # pykan's seeding: the same seed gives pykan's initial parameters
        return BSplineKAN(shape.width, shape.grid, shape.k, grid_range=grid_range)


def size(entry: BSplineSpec, shape: Shape) -> Size:
    """Per edge G + k coefficients, scale_base and scale_sp; per sample and edge the spline's
    G + k products (scale_sp folded into the coefficients) and the base branch's one."""
    n = shape.grid + shape.k
    return Size(sum(i * o * (n + 2) for i, o in edges(shape.width)), sum(i * o * (n + 1) for i, o in edges(shape.width)))


def spline_params(model: nn.Module) -> int:
    """The B-spline coefficients of the `BSplineKAN` this kind builds."""
    return cast("BSplineKAN", model).spline_parameter_count()


KIND = ModelKind("bspline", BSplineSpec, build, label="B-spline KAN (ours)", role="bspline", rank=3,
                 spline_params=spline_params,
                 line={"linestyle": ":", "linewidth": 1.8}, cost=2.5,
                 describe=lambda entry: named("B-spline KAN", ["ours"], entry), family="B-spline KAN", hue="Oranges", size=size,
                 basis="local")
