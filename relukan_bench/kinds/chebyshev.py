"""`kind: chebyshev`: a Chebyshev KAN, ChebyKAN's layer (relukan_bench.models.chebyshev), written
from its definition: Chebyshev polynomials of tanh(x) up to degree G + k - 1 on every edge."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from relukan_bench.kinds import ModelKind, Shape, Size, edges, named
from relukan_bench.schema import LBFGS, Compile, CudaGraph, ModelEntry, Name, Optimizer, PositiveFloat
from relukan_bench.seeding import seeded

if TYPE_CHECKING:
    from relukan_bench.models.chebyshev import ChebyshevKAN


class ChebyshevSpec(ModelEntry):
    """A Chebyshev KAN (ChebyKAN) entry."""

    name: Name
    kind: Literal["chebyshev"]
    lr: PositiveFloat | None = None  # None: the experiment's train.lr
    optimizer: Optimizer = None  # None: the experiment's train.optimizer
    lbfgs: LBFGS = None  # with optimizer: lbfgs only; None: its defaults
    compile: Compile = False
    cuda_graph: CudaGraph = False


def build(entry: ChebyshevSpec, shape: Shape, domain: tuple[float, float], seed: int) -> ChebyshevKAN:
    """Degree G + k - 1: G + k coefficients per edge, as a ReLU-KAN's. tanh squashes any
    domain into [-1, 1]: the domain is not used."""
    from relukan_bench.models.chebyshev import ChebyshevKAN

    with seeded(seed):
        return ChebyshevKAN(shape.width, shape.grid + shape.k - 1)


def size(entry: ChebyshevSpec, shape: Shape) -> Size:
    """Per edge G + k coefficients; per sample and edge their G + k products (tanh and the
    polynomials are elementwise, not counted)."""
    n = shape.grid + shape.k
    return Size(sum(i * o * n for i, o in edges(shape.width)), sum(i * o * n for i, o in edges(shape.width)))


KIND = ModelKind("chebyshev", ChebyshevSpec, build, label="Chebyshev KAN (ChebyKAN)", rank=11, cost=1.5,
                 describe=lambda entry: named("ChebyKAN", [], entry), family="Chebyshev KAN", hue="cool", size=size,
                 basis="global")
