"""`kind: inkan`: inKAN from PyPI (`inkan` 0.5.2, MIT, depends on torch only), a cubic B-spline
KAN whose basis is a stable piecewise polynomial: a stack of its `KANLayer`s, one per layer of
the function's width, each grid covering the data domain (or the entry's `grid_range`).

Effort: `compile: false` runs it eagerly (`compile_basis=False`), as our other eager rows run;
`basis_compile: true` runs it as shipped, its basis through torch.compile, as a new user would;
`compile: true` compiles the whole training step, as for every kind. Cubic only: a function
with k other than 3 is refused before anything is written (an entry's own `k: 3` builds it at
order 3 on any shape), and so is a config naming the kind
where the package is not installed (`pip install 'relukan-bench[peers]'`).

The helpers the two PyPI kinds share (kinds/flashkan.py: the checks, the stack of layers, the
spline coefficient count) are here. Nothing here imports torch or the package at import time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Literal, Protocol, Sequence, TypeVar

from pydantic import model_validator

from relukan_bench.kinds import EntryError, ModelKind, Shape, Size, edges, named
from relukan_bench.schema import (
    LBFGS,
    Compile,
    CudaGraph,
    GridRange,
    ModelEntry,
    Name,
    Optimizer,
    PositiveFloat,
    error_at,
)
from relukan_bench.seeding import seeded

if TYPE_CHECKING:
    from torch import nn


class PeerEntry(Protocol):
    """What the helpers here read of a PyPI kind's entry (InKANSpec, flashkan's FlashKANSpec)."""

    @property
    def kind(self) -> str: ...

    @property
    def grid_range(self) -> Sequence[float] | None: ...

    @property
    def basis_compile(self) -> bool: ...

    @property
    def compile(self) -> bool: ...


PeerSpec = TypeVar("PeerSpec", bound=PeerEntry)

#: how to install the PyPI kinds' packages (pyproject.toml's `peers` extra: the versions tested)
INSTALL = "pip install 'relukan-bench[peers]'"


class InKANSpec(ModelEntry):
    """An inKAN entry (PyPI `inkan`)."""

    name: Name
    kind: Literal["inkan"]
    grid_range: GridRange | None = None  # None: the data domain
    basis_compile: bool = False  # true: its basis through torch.compile, as shipped (compile_basis=True)
    lr: PositiveFloat | None = None  # None: the experiment's train.lr
    optimizer: Optimizer = None  # None: the experiment's train.optimizer
    lbfgs: LBFGS = None  # with optimizer: lbfgs only; None: its defaults
    compile: Compile = False
    cuda_graph: CudaGraph = False

    @model_validator(mode="after")
    def _one_compile(self) -> "InKANSpec":
        return one_compile(self)


def one_compile(entry: PeerSpec) -> PeerSpec:
    """A PyPI kind's entry with `basis_compile` or `compile`, not both (the step's compile
    covers the basis)."""
    if entry.basis_compile and entry.compile:
        raise error_at("basis_compile", cross_field=True, message="compile: true compiles the whole step, the "
                       "basis in it; remove basis_compile: true, or compile: true to run the package as shipped")
    return entry


def refuse_missing(package: str) -> None:
    """EntryError under `kind` when `package` cannot be imported here (found without importing it)."""
    import importlib.util

    try:
        found = importlib.util.find_spec(package) is not None
    except (ImportError, ValueError):  # a finder that refuses the name, or a broken entry in sys.modules
        found = False
    if not found:
        raise EntryError("kind", f"the package {package} is not installed; install it with: {INSTALL}")


def cubic_problem(kind: str, shapes: Sequence[Shape]) -> str | None:
    """Why `kind`, cubic only, cannot be built on one of `shapes` (functions or a network, as
    the entry builds on them: its own `k` applied); None if it can."""
    for shape in shapes:
        if shape.k != 3:
            name = getattr(shape, "name", None)
            if name is None:
                return (f"{kind} is cubic only: expected network.k: 3 (got network.k: {shape.k}); or set k: 3 on "
                        "this entry, which keeps the network's G + k basis functions per edge")
            return (f"{kind} is cubic only: expected k: 3 on every function (got k: {shape.k} on {name}); or set k: 3 "
                    "on this entry, which keeps each function's G + k basis functions per edge")
    return None


def check_peer(package: str) -> Callable[[PeerEntry, Sequence[Shape], tuple[float, float]], None]:
    """The `check` of a PyPI kind: its package installed, every shape cubic."""

    def check(entry: PeerEntry, shapes: Sequence[Shape], domain: tuple[float, float]) -> None:
        refuse_missing(package)
        problem = cubic_problem(entry.kind, shapes)
        if problem is not None:
            raise EntryError("kind", problem)

    return check


def layers(make: Callable[..., nn.Module], entry: PeerEntry, shape: Shape, domain: tuple[float, float], seed: int,
           **options: object) -> list[nn.Module]:
    """`make(in, out, grid_size=G, spline_order=3, grid_range=..., **options)` for each layer of
    `shape`'s width, seeded with `seed` (the caller's random state left as it was); the grid
    range is the entry's, else the data domain. ValueError when `shape` is not cubic."""
    problem = cubic_problem(entry.kind, [shape])
    if problem is not None:
        raise ValueError(problem)
    grid_range = tuple(entry.grid_range) if entry.grid_range is not None else tuple(domain)
    with seeded(seed):
        return [make(i, o, grid_size=shape.grid, spline_order=3, grid_range=grid_range, **options)
                for i, o in edges(shape.width)]


def spline_params(model: Any) -> int:
    """The B-spline coefficients of a stack of the packages' `KANLayer`s (without the base weights)."""
    return sum(module.spline_weight.numel() for module in model.modules() if type(module).__name__ == "KANLayer")


def build(entry: InKANSpec, shape: Shape, domain: tuple[float, float], seed: int) -> nn.Module:
    from inkan import KANLayer
    from torch import nn

    return nn.Sequential(*layers(KANLayer, entry, shape, domain, seed, compile_basis=entry.basis_compile))


def direct(outputs: int, bases: int) -> bool:
    """Whether inkan 0.5.2's `contraction="auto"` takes its direct path for a 1-D layer."""
    return outputs <= 16 and bases >= 32


def size(entry: InKANSpec, shape: Shape) -> Size:
    """Per layer one packed weight (out, in*(G+3) + in): the spline coefficients and the base
    weights, no bias. Per sample, the contraction its forward takes: dense, one linear map over
    in*(G+3) basis values and in base activations; direct (out <= 16 and G+3 >= 32), the 4
    active coefficients of each input and output, and the base branch's in*out."""
    n = shape.grid + 3
    params = sum(o * (i * n + i) for i, o in edges(shape.width))
    macs = sum(5 * i * o if direct(o, n) else i * (n + 1) * o for i, o in edges(shape.width))
    return Size(params, macs)


def describe(entry: PeerEntry, base: str) -> str:
    """`base (PyPI)`, with "basis compiled" when it runs as shipped."""
    return named(base, ["PyPI"] + (["basis compiled"] if entry.basis_compile else []), entry)


KIND = ModelKind("inkan", InKANSpec, build, label="inKAN (PyPI)", rank=13, check=check_peer("inkan"),
                 spline_params=spline_params, cost=2.5, describe=lambda entry: describe(entry, "inKAN"),
                 family="inKAN", hue="Greys", size=size,
                 basis="local")
