"""`kind: flashkan`: FlashKAN from PyPI (`flashkan` 0.2.0, MIT; it declares torch as its only
dependency and imports numpy too, which this project has), a cubic B-spline KAN whose basis is
the truncated power closed form: a stack of its `KANLayer`s, one per layer of the function's
width, each grid covering the data domain (or the entry's `grid_range`).

The package compiles its basis at module level (`bspline_basis = torch.compile(...)`), with no
switch. `compile: false` runs it eagerly all the same, the effort of our other eager rows: the
stack runs its layers under `torch.compiler.set_stance("force_eager")` (`ForceEager`; torch 2.6
and later), which makes torch ignore that compile directive; the package is not touched.
`basis_compile: true` runs it as shipped, as a new user would; `compile: true` compiles the
whole training step, as for every kind. Cubic only, and refused in one line where the package
is not installed, as inkan is (the shared helpers are in kinds/inkan.py). Nothing here imports
torch or the package at import time.
"""

from __future__ import annotations

import functools
import re
from importlib.metadata import version
from typing import TYPE_CHECKING, Literal, Sequence

from pydantic import model_validator

from relukan_bench.kinds import EntryError, ModelKind, Shape, Size, edges
from relukan_bench.kinds.inkan import check_peer, describe, layers, one_compile, spline_params
from relukan_bench.schema import LBFGS, Compile, CudaGraph, GridRange, ModelEntry, Name, Optimizer, PositiveFloat

if TYPE_CHECKING:
    from torch import nn


class FlashKANSpec(ModelEntry):
    """A FlashKAN entry (PyPI `flashkan`)."""

    name: Name
    kind: Literal["flashkan"]
    grid_range: GridRange | None = None  # None: the data domain
    basis_compile: bool = False  # true: its basis through torch.compile, as shipped
    lr: PositiveFloat | None = None  # None: the experiment's train.lr
    optimizer: Optimizer = None  # None: the experiment's train.optimizer
    lbfgs: LBFGS = None  # with optimizer: lbfgs only; None: its defaults
    compile: Compile = False
    cuda_graph: CudaGraph = False

    @model_validator(mode="after")
    def _one_compile(self) -> "FlashKANSpec":
        return one_compile(self)


@functools.cache
def force_eager() -> type:
    """`ForceEager`, an `nn.Sequential` that runs its layers with every torch.compile directive
    ignored; made on first use, so that this module does not import torch."""
    import torch
    from torch import nn

    class ForceEager(nn.Sequential):
        """Layers run eagerly: torch.compile'd functions they call run as plain Python. Traced
        inside a compiled step (`compile: true`), it is a plain `nn.Sequential`: that step's
        compile covers them (set_stance may not be called while torch.compile traces)."""

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if torch.compiler.is_compiling():
                return super().forward(x)
            with torch.compiler.set_stance("force_eager"):
                return super().forward(x)

    ForceEager.__qualname__ = "ForceEager"  # found as this module's attribute (`__getattr__`): it pickles
    return ForceEager


def __getattr__(name: str) -> type:
    """`ForceEager`, made on first use (PEP 562)."""
    if name == "ForceEager":
        return force_eager()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def torch_version() -> tuple[int, int]:
    """The installed torch's (major, minor), read without importing it."""
    found = re.match(r"(\d+)\.(\d+)", version("torch"))
    return (int(found.group(1)), int(found.group(2))) if found else (0, 0)


def check(entry: FlashKANSpec, shapes: Sequence[Shape], domain: tuple[float, float]) -> None:
    """The package installed, every shape cubic, and, to run it eagerly, torch.compiler.set_stance
    (torch 2.6 and later; the project allows torch 2.1)."""
    check_peer("flashkan")(entry, shapes, domain)
    if not entry.basis_compile and torch_version() < (2, 6):
        raise EntryError("basis_compile", "flashkan runs eagerly through torch.compiler.set_stance, which came with "
                         f"torch 2.6 (got torch {'.'.join(map(str, torch_version()))}); upgrade torch, or set "
                         "basis_compile: true to run its basis compiled, as shipped")


def build(entry: FlashKANSpec, shape: Shape, domain: tuple[float, float], seed: int) -> nn.Module:
    import torch
    from flashkan import KANLayer
    from torch import nn

    stack = layers(KANLayer, entry, shape, domain, seed)
    for layer in stack:  # flashkan makes its knots in float32 whatever the default dtype: make them in it
        layer.grid_starts = layer.grid_starts.to(torch.get_default_dtype())
    return (nn.Sequential if entry.basis_compile else force_eager())(*stack)


def size(entry: FlashKANSpec, shape: Shape) -> Size:
    """Per layer the spline coefficients (out, in, G+3) and the base weights (out, in), no
    bias. Per sample, its two contractions: every basis value with its coefficient,
    in*(G+3)*out, and the base branch's in*out."""
    n = shape.grid + 3
    pairs = edges(shape.width)
    return Size(sum(o * (i * n + i) for i, o in pairs), sum(i * n * o + i * o for i, o in pairs))


KIND = ModelKind("flashkan", FlashKANSpec, build, label="FlashKAN (PyPI)", rank=14, check=check,
                 spline_params=spline_params, cost=2.5, describe=lambda entry: describe(entry, "FlashKAN"),
                 family="FlashKAN", hue="BuGn", size=size,
                 basis="local")
