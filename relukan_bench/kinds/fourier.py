"""`kind: fourier`: a Fourier KAN, the layer of GistNoesis's FourierKAN
(relukan_bench.models.fourier), written from its definition: cos(m x) and sin(m x) for
m = 1 .. (G + k) // 2 on every edge, one bias per output."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from relukan_bench.kinds import ModelKind, Shape, Size, edges, named
from relukan_bench.schema import LBFGS, Compile, CudaGraph, ModelEntry, Name, Optimizer, PositiveFloat
from relukan_bench.seeding import seeded

if TYPE_CHECKING:
    from relukan_bench.models.fourier import FourierKAN


class FourierSpec(ModelEntry):
    """A Fourier KAN entry."""

    name: Name
    kind: Literal["fourier"]
    bias: bool = True  # one bias per output (the original's addbias)
    smooth_initialization: bool = False  # start the coefficients divided by m^2 instead of sqrt(M) (the original's option)
    lr: PositiveFloat | None = None  # None: the experiment's train.lr
    optimizer: Optimizer = None  # None: the experiment's train.optimizer
    lbfgs: LBFGS = None  # with optimizer: lbfgs only; None: its defaults
    compile: Compile = False
    cuda_graph: CudaGraph = False


def frequencies(shape: Shape) -> int:
    """M = max(1, (G + k) // 2): 2M <= G + k coefficients per edge (G + k + 1 with G + k = 1)."""
    return max(1, (shape.grid + shape.k) // 2)


def build(entry: FourierSpec, shape: Shape, domain: tuple[float, float], seed: int) -> FourierKAN:
    """M frequencies (`frequencies`); the series is periodic, the domain is not used."""
    from relukan_bench.models.fourier import FourierKAN

    with seeded(seed):
        return FourierKAN(shape.width, frequencies(shape), bias=entry.bias, smooth_initialization=entry.smooth_initialization)


def size(entry: FourierSpec, shape: Shape) -> Size:
    """Per edge 2M coefficients, per layer out biases; per sample and edge the 2M products
    (the cosines and sines are elementwise, not counted; the bias is an addition)."""
    m, bias = frequencies(shape), int(entry.bias)
    layers = edges(shape.width)
    return Size(sum(2 * m * i * o + bias * o for i, o in layers), sum(2 * m * i * o for i, o in layers))


def describe(entry: FourierSpec) -> str:
    parts = (["smooth init"] if entry.smooth_initialization else []) + ([] if entry.bias else ["no bias"])
    return named("Fourier KAN", parts, entry)


KIND = ModelKind("fourier", FourierSpec, build, label="Fourier KAN", rank=12, cost=2.0, describe=describe,
                 family="Fourier KAN", hue="RdPu", size=size,
                 basis="global")
