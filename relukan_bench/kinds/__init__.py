"""Model kinds: what a config's `kind:` may name, each declared once, in its own module.

A kind is a `ModelKind`: its config entry schema, its builder `(entry, shape, domain, seed) ->
nn.Module`, and its capabilities (can its seeds train as one batched model, does it have a
fused training step, how it counts spline parameters, its label, its role in the paper's
comparison and its line style in figures). Every module of this package that defines `KIND`
is one; installed packages add more through the `relukan_bench.models` entry-point group,
whose objects are `ModelKind`s. The config's model union, its error messages, the training
step, seed batching, the report and the plots all read this registry: adding a kind is one
new module here (or one entry point), nothing else.

Sizes: a kind states its trainable parameters and multiply-adds per sample by formula
(`ModelKind.size`), and what `match:` varies to reach another model's parameter count
(`ModelKind.resize`, named by `knob`); `resolve` applies an entry's own order `k:` (`reorder`)
and its `match`, `build_model` builds what it resolves to, and `size_row` is what the tables
record of it.

Nothing here imports torch: builders import their model when called.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from dataclasses import dataclass, field, replace
from types import SimpleNamespace
from typing import TYPE_CHECKING, Annotated, Any, Callable, Protocol, Sequence, Union

from relukan_bench.errors import ConfigError

if TYPE_CHECKING:
    from torch import nn

    from relukan_bench.schema import ModelEntry


ENTRY_POINT_GROUP = "relukan_bench.models"


@dataclass(frozen=True)
class StepOptions:
    """How a model entry trains: `fused` picks the autograd-free fused step (the fast ReLU-KAN),
    `compile` torch.compiles it, `cuda_graph` captures it on a GPU; `basis_compile` says that
    the model compiles its own basis (a PyPI peer run as shipped), which the kind builds."""

    fused: bool = False
    compile: bool = False
    cuda_graph: bool = False
    basis_compile: bool = False


@dataclass(frozen=True)
class Size:
    """A model's size by formula: trainable parameters, and multiply-adds per sample of one
    forward pass (the products of its linear maps and edge coefficients; elementwise basis
    work is not counted: docs/models.md, "Sizes")."""

    params: int
    macs: int


class Shape(Protocol):
    """A network shape as kinds build on it: a function spec or a network spec (their width,
    grid and k; a function's `name` too), or a copy of one (`shaped`)."""

    @property
    def width(self) -> Sequence[int]: ...

    @property
    def grid(self) -> int: ...

    @property
    def k(self) -> int: ...


def shaped(shape: Shape, **changes: object) -> Shape:
    """A copy of a network shape (anything with width, grid and k, and the function's `name`
    where it has one) with `changes` applied."""
    fields: dict[str, object] = {"width": list(shape.width), "grid": shape.grid, "k": shape.k}
    name = getattr(shape, "name", None)
    if name is not None:
        fields["name"] = name
    return SimpleNamespace(**{**fields, **changes})


def by_grid(entry: ModelEntry, shape: Shape, n: int) -> tuple[ModelEntry, Shape]:
    """The default `resize`: the entry unchanged on the shape with grid `n`."""
    return entry, shaped(shape, grid=n)


def edges(width: Sequence[int]) -> list[tuple[int, int]]:
    """(inputs, outputs) of each layer of `width`."""
    return list(zip(list(width)[:-1], list(width)[1:]))


@dataclass(frozen=True)
class ModelKind:
    """One model kind. `build(entry, shape, domain, seed)` returns a fresh model of `shape`'s
    width, grid and k (a function or network spec) for inputs in `domain`, seeded with `seed`,
    leaving the caller's random state as it was.

    Capabilities:
    - `batch(models)`: several seeds of one entry as one model with a leading seed axis (None:
      the kind's seeds train one by one);
    - `step(entry)`: the `StepOptions` of an entry (default: autograd and the config's optimizer,
      compiled and captured as the entry's `compile` and `cuda_graph` say); an entry with
      `optimizer: lbfgs` trains through autograd whatever they say (training.step_for);
    - `evaluations(entry)`: the most loss evaluations one training step of the entry makes
      (1; an LBFGS step up to its `max_eval`): what the run's bound on training counts;
    - `pykan(entry)`: for a pykan model, its (version, mode): the version None is the installed
      one, any other runs in a worker process (relukan_bench.pykan_envs); None for other kinds;
    - `spline_params(model)`: its B-spline coefficients, for the kinds that have them;
    - `check(entry, shapes, domain)`: a check before anything is written, raising
      `EntryError` (a plugin's factory builds and has the right output shape);
    - `role`: what the paper's comparison uses it as: "relukan" (the paper's model), "kan" (the
      original KAN), "bspline" (the same B-spline KAN in plain tensor operations, to split the
      speedup), "control" (a plain network), or None;
    - `label` and `line`: how tables name the kind, and how figures draw its curves;
    - `describe(entry)`: how figures name one config entry ("ReLU-KAN (paper code)"; None:
      the entry's name); `family` and `hue`: figures draw every kind of one family in shades of
      the matplotlib colormap `hue` (None: the kind's label is its family);
    - `cost`: about how long a training step takes beside a ReLU-KAN's at the paper's sizes;
      parallel runs start the costliest work first, and nothing else reads it;
    - `size(entry, shape)`: its `Size` by formula, without building it (None: unknown, and
      `match:` cannot aim at it or resize it);
    - `resize(entry, shape, n)`: the (entry, shape) at the value `n` of its size knob, `knob`
      naming it ("grid": the grid G, the default; "hidden": an MLP's hidden width); `match:`
      takes the largest `n` whose parameters do not exceed its target's;
    - `basis`: where each basis function of an edge acts: "local" (on a few grid intervals: a
      ReLU-KAN's bumps, B-splines, Gaussian RBFs), "global" (on the whole domain: Chebyshev
      polynomials, Fourier terms), or None (no per-edge basis: an MLP, the floor, a plugin).
      A local basis is why a KAN is expected to resist catastrophic forgetting: training on
      one region leaves the coefficients of the others alone.
    """

    name: str
    entry: type
    build: Callable[[Any, Shape, tuple[float, float], int], "nn.Module"]
    label: str
    role: str | None = None
    rank: int = 100  # where it is listed: built-in kinds first, in the order the docs give
    batch: Callable[[list["nn.Module"]], "nn.Module"] | None = None
    step: Callable[[Any], StepOptions] = lambda entry: StepOptions(
        compile=bool(getattr(entry, "compile", False)), cuda_graph=bool(getattr(entry, "cuda_graph", False)),
        basis_compile=bool(getattr(entry, "basis_compile", False)))
    pykan: Callable[[Any], tuple[str | None, str] | None] = lambda entry: None
    evaluations: Callable[[Any], int] = lambda entry: evaluations_of(entry)
    spline_params: Callable[["nn.Module"], int | None] = lambda model: None
    check: Callable[[Any, Sequence[Shape], tuple[float, float]], None] | None = None
    line: dict[str, Any] = field(default_factory=lambda: {"linewidth": 1.2})
    cost: float = 1.0
    describe: Callable[[Any], str] | None = None
    family: str | None = None
    hue: str = "Greens"
    size: Callable[[Any, Shape], Size] | None = None
    resize: Callable[[Any, Shape, int], tuple[Any, Shape]] = by_grid
    knob: str = "grid"
    basis: str | None = None

    def __post_init__(self) -> None:
        if self.basis not in BASES:
            raise ValueError(f"kind {self.name}: expected basis to be one of {', '.join(map(str, BASES))} (got {self.basis!r})")


#: what `ModelKind.basis` may say
BASES = ("local", "global", None)


@dataclass(frozen=True)
class Look:
    """How figures show one config entry: its readable `label`, its `family` (one hue each,
    `hue` a matplotlib colormap name), its paper `role` and its kind's `line` style."""

    label: str
    family: str
    hue: str
    role: str | None = None
    line: dict[str, Any] = field(default_factory=lambda: {"linewidth": 1.2})


class EntryError(ValueError):
    """A model entry that cannot be used, under one of its keys (`factory`, ...)."""

    def __init__(self, key: str, message: str):
        super().__init__(message)
        self.key, self.message = key, message


@functools.lru_cache(maxsize=None)
def kinds() -> dict[str, ModelKind]:
    """Every kind by name: this package's modules, then the entry points'."""
    found: list[ModelKind] = []
    for module in pkgutil.iter_modules(__path__):
        declared = getattr(importlib.import_module(f"{__name__}.{module.name}"), "KIND", None)
        if isinstance(declared, ModelKind):
            found.append(declared)
    found += _entry_point_kinds({kind.name for kind in found})
    return {kind.name: kind for kind in sorted(found, key=lambda kind: kind.rank)}


def _entry_point_kinds(taken: set[str]) -> list[ModelKind]:
    from importlib.metadata import entry_points  # tens of ms: imported when the kinds are listed

    found = []
    for point in entry_points(group=ENTRY_POINT_GROUP):
        where = f"entry point {point.name} = {point.value} ({ENTRY_POINT_GROUP})"
        try:
            kind = point.load()
        except Exception as exc:  # noqa: BLE001 - an installed package's bug, reported as one line
            raise ConfigError(f"{where}: cannot load it ({exc.__class__.__name__}: {exc})") from None
        if not isinstance(kind, ModelKind) or kind.name != point.name or kind.name in taken:
            raise ConfigError(f"{where}: expected a relukan_bench.kinds.ModelKind named {point.name!r} "
                              f"that no other kind uses (got {type(kind).__name__})")
        taken.add(kind.name)
        found.append(kind)
    return found


def kind_names() -> list[str]:
    return list(kinds())


def kind_of(entry: Any) -> ModelKind:
    """The kind of a model entry (a validated config entry, or its `kind` name)."""
    return kinds()[entry if isinstance(entry, str) else entry.kind]


def model_union() -> Any:
    """The config's model entry type: any kind's entry, told apart by `kind`."""
    from pydantic import Field  # pydantic is imported when a config is, not with the kinds

    entries = tuple(kind.entry for kind in kinds().values())
    return Annotated[Union[entries], Field(discriminator="kind")]


def build_model(entry: ModelEntry, shape: Shape, domain: Sequence[float], seed: int) -> "nn.Module":
    """A freshly initialised model of `shape`'s width, grid and k for the config entry
    `entry` (at its own order `k` and resized as its `match` asks: `resolve`), seeded with `seed`. The caller's global
    random state is left as it was."""
    entry, shape, _ = resolve(entry, shape)
    return kind_of(entry).build(entry, shape, pair(domain), seed)


def pair(values: Sequence[float]) -> tuple[float, float]:
    """Two numbers (a validated domain or grid range, a list or a tuple) as a tuple."""
    low, high = values
    return low, high


#: the largest knob value `match:` tries: an MLP matched to a KAN of a 1000-wide layer needs a
#: hidden width of about 8000; a million is past any model a run may build (relukan_bench.limits)
MAX_KNOB = 1 << 20


class MatchError(ValueError):
    """No size of a `match:` entry fits under its target's parameter count."""


class OrderError(ValueError):
    """An entry's own `k:` leaves no grid on a shape (G + k of the shape - k of the entry < 1)."""


def reorder(entry: ModelEntry, shape: Shape) -> tuple[Shape, str]:
    """(shape, note): the shape an entry with its own order `k` is built on, order k and the
    grid shifted to keep the shape's G + k basis functions per edge (grid G + shape's k - k);
    `shape` and "" when the entry has no `k` or the shape's. OrderError when no grid is left."""
    k = getattr(entry, "k", None)
    if k is None or k == shape.k:
        return shape, ""
    bases = shape.grid + shape.k
    grid = bases - k
    if grid < 1:
        raise OrderError(f"k {k} leaves grid {grid} to keep the {bases} basis functions per edge of grid {shape.grid}, "
                         f"k {shape.k}; expected k at most {bases - 1}")
    return (shaped(shape, grid=grid, k=k),
            f"k {k}, grid {grid} ({bases} basis functions per edge as the shape's k {shape.k}, grid {shape.grid})")


def resolve(entry: ModelEntry, shape: Shape) -> tuple[ModelEntry, Shape, str]:
    """(entry, shape, note) as `entry` is built on `shape`: unchanged with note "" when it has
    neither its own `k` nor a `match`. Its `k` builds it at that order on the grid that keeps
    the shape's basis functions per edge (`reorder`, the note saying so); its `match` then
    resizes it to the largest knob value whose parameter count does not exceed that of its
    target (the config entry it names, attached by the config as `target`, on `shape`), the
    note saying the choice ("grid 7 (1234 <= 1240 params of relukan)"; after a `k`: "k 3 (the
    shape's 1), grid 7 (...)")."""
    built, order = reorder(entry, shape)
    if getattr(entry, "match", None) is None:
        return entry, built, order
    entry, built, note = _matched(entry, shape, built)
    return entry, built, f"k {built.k} (the shape's {shape.k}), {note}" if order else note


def _matched(entry: ModelEntry, shape: Shape, built: Shape) -> tuple[ModelEntry, Shape, str]:
    """`entry` on `built` (its shape at its own order) resized by its `match` to fit under its
    target's parameters on `shape`: (entry, shape, note). MatchError when it cannot."""
    target = entry.match
    aim = getattr(entry, "target", None)
    if aim is None:
        raise MatchError(f"match: {target}: the config attaches the entry it names; none is attached")
    goal = size_of(aim, shape)
    kind = kind_of(entry)
    if goal is None or kind.size is None:
        raise MatchError(f"match: {target}: the size of {aim.kind if goal is None else kind.name} is not known by formula")
    size = kind.size

    def fits(n: int) -> bool:
        return size(*kind.resize(entry, built, n)).params <= goal.params

    if not fits(1):
        raise MatchError(f"match: {target}: even {kind.knob} 1 has more than the {goal.params} parameters of {target}")
    low, high = 1, 2  # a kind's parameter count grows with its knob: double until too many, then bisect
    while high <= MAX_KNOB and fits(high):
        low, high = high, 2 * high
    high = min(high, MAX_KNOB + 1)  # low fits, high does not (or lies past the bound)
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if fits(middle) else (low, middle)
    entry, built = kind.resize(entry, built, low)
    return entry, built, f"{kind.knob} {low} ({size(entry, built).params} <= {goal.params} params of {target})"


def size_of(entry: ModelEntry, shape: Shape) -> Size | None:
    """An entry's `Size` on `shape` as built (after its `match`), by its kind's formula."""
    return _sized(entry, shape)[0]


def size_row(entry: ModelEntry, shape: Shape) -> dict[str, Any]:
    """What a table records of an entry's size on `shape`: `macs` (None: unknown) and
    `sized`, how its own `k` and its `match` sized it (None when neither does)."""
    size, note = _sized(entry, shape)
    return {"macs": size.macs if size is not None else None, "sized": note or None}


def _sized(entry: ModelEntry, shape: Shape) -> tuple[Size | None, str]:
    """The entry's `Size` on `shape` (None: unknown) and the note of its `k` and `match`, resolved once."""
    kind = kind_of(entry)
    entry, shape, note = resolve(entry, shape)
    return (kind.size(entry, shape) if kind.size is not None else None), note


def looks(entries: Sequence[Any]) -> dict[str, Look]:
    """Each validated config entry's `Look` by name, in config order. A label two entries would
    share gets the entry's name appended, so that every model is told apart."""
    found = {}
    for entry in entries:
        kind = kinds().get(entry.kind)
        if kind is None:  # an unknown kind: only its name is known
            found[entry.name] = Look(entry.name, entry.name, "Greys")
            continue
        label = kind.describe(entry) if kind.describe is not None else entry.name
        found[entry.name] = Look(label, kind.family or kind.label, kind.hue, kind.role, dict(kind.line))
    labels = [look.label for look in found.values()]
    return {name: (look if labels.count(look.label) == 1 else replace(look, label=f"{look.label} [{name}]"))
            for name, look in found.items()}


def evaluations_of(entry: ModelEntry) -> int:
    """The most loss evaluations one step of our loop makes for `entry`: 1, or with
    `optimizer: lbfgs` its settings' `max_eval`."""
    if getattr(entry, "optimizer", None) != "lbfgs":
        return 1
    from relukan_bench.schema import LBFGSSpec  # pydantic: imported when a config is, not with the kinds

    return (getattr(entry, "lbfgs", None) or LBFGSSpec()).evaluations()


def optimizer_of(entry: ModelEntry, default: str) -> str:
    """The optimizer our loop trains a model entry with: its own `optimizer`, else `default`
    (the experiment's `train.optimizer`)."""
    return getattr(entry, "optimizer", None) or default


def named(base: str, parts: Sequence[str], entry: object = None) -> str:
    """A figure label: `base (part, part)`, with the entry's compile, own optimizer and own
    learning rate appended to `parts` when it has them."""
    parts = list(parts)
    if getattr(entry, "compile", False):
        parts.append("compiled")
    if getattr(entry, "optimizer", None) == "lbfgs":
        parts.append("LBFGS")
    lr = getattr(entry, "lr", None)
    if lr is not None:
        parts.append(f"lr {lr:g}")
    return f"{base} ({', '.join(parts)})" if parts else base


def roles(entries: Sequence[Any]) -> dict[str, str | None]:
    """Each entry's role by name, from validated entries or their dumped dicts (a run's
    config.yaml); an unknown kind has none."""
    out = {}
    for entry in entries:
        name, kind = (entry["name"], entry.get("kind")) if isinstance(entry, dict) else (entry.name, entry.kind)
        out[name] = kinds()[kind].role if kind in kinds() else None
    return out
