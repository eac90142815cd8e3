"""`kind: plugin`: a user's own model, benchmarked without editing this package.

    models:
      - {name: mykan, kind: plugin, factory: "package.module:callable", options: {centers: 8}}

The harness seeds the global random state as for every kind, then calls
`callable(width=[...], grid=G, k=k, domain=(lo, hi), **options)`, which must return an
`nn.Module` mapping (B, width[0]) to (B, width[-1]); it trains in the common loop. The module
is imported when the config is validated, and every model is built once and run on two inputs
before anything is written (`check`): a factory that cannot be imported, is not callable,
raises, or returns something of the wrong kind or shape is refused with one line naming the
key. docs/plugins.md has a complete example.
"""

from __future__ import annotations

import importlib
import re
from typing import TYPE_CHECKING, Annotated, Any, Callable, Literal, Sequence

from pydantic import Field, field_validator

from relukan_bench.kinds import EntryError, ModelKind, Shape
from relukan_bench.schema import LBFGS, Compile, CudaGraph, ModelEntry, Name, Optimizer, PositiveFloat
from relukan_bench.seeding import seeded

if TYPE_CHECKING:
    from torch import nn

FACTORY = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*:[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$")


class PluginSpec(ModelEntry):
    """A plugin entry: `factory` as `package.module:callable`, keyword `options` for it."""

    name: Name
    kind: Literal["plugin"]
    factory: Annotated[str, Field(max_length=200)]
    options: dict[str, Any] = {}
    lr: PositiveFloat | None = None  # None: the experiment's train.lr
    optimizer: Optimizer = None  # None: the experiment's train.optimizer
    lbfgs: LBFGS = None  # with optimizer: lbfgs only; None: its defaults
    compile: Compile = False
    cuda_graph: CudaGraph = False

    @field_validator("factory")
    @classmethod
    def _importable(cls, value: str) -> str:
        resolve(value)  # raises ValueError saying why
        return value


def resolve(factory: str) -> Callable[..., object]:
    """The callable `package.module:callable` names; ValueError saying why not."""
    if not FACTORY.match(factory):
        raise ValueError(f"expected 'package.module:callable' (got {factory!r})")
    module_name, _, attribute = factory.partition(":")
    try:
        found: object = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - whatever the user's module raises on import
        raise ValueError(f"cannot import {module_name!r} ({exc.__class__.__name__}: {_first_line(exc)})") from None
    for part in attribute.split("."):
        if not hasattr(found, part):
            raise ValueError(f"{module_name!r} has no attribute {attribute!r}")
        found = getattr(found, part)
    if not callable(found):
        raise ValueError(f"{factory!r} is not callable (got {type(found).__name__})")
    return found


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:200] if lines else ""


def build(entry: PluginSpec, shape: Shape, domain: tuple[float, float], seed: int) -> nn.Module:
    from torch import nn

    factory = resolve(entry.factory)
    with seeded(seed):
        model = factory(width=list(shape.width), grid=shape.grid, k=shape.k, domain=tuple(domain), **entry.options)
    if not isinstance(model, nn.Module):
        raise TypeError(f"{entry.factory} returned {type(model).__name__}, expected a torch.nn.Module")
    return model


def check(entry: PluginSpec, shapes: Sequence[Shape], domain: tuple[float, float]) -> None:
    """Build the model for every shape and run it on two inputs; EntryError unless it maps
    (2, width[0]) to (2, width[-1]) floating-point outputs."""
    import torch

    for shape in shapes:
        where = f"for width {list(shape.width)}, grid {shape.grid}, k {shape.k}"
        try:
            model = build(entry, shape, domain, 0)
            with torch.no_grad():
                out = model(torch.rand(2, shape.width[0]) * (domain[1] - domain[0]) + domain[0])
        except Exception as exc:  # noqa: BLE001 - the user's code: any failure is reported
            raise EntryError("factory", f"{entry.factory} {where}: {exc.__class__.__name__}: {_first_line(exc)}") from None
        expected = (2, shape.width[-1])
        if not isinstance(out, torch.Tensor) or tuple(out.shape) != expected or not out.is_floating_point():
            got = f"a {tuple(out.shape)} {out.dtype} tensor" if isinstance(out, torch.Tensor) else type(out).__name__
            raise EntryError("factory", f"{entry.factory} {where}: expected the model to map (2, {shape.width[0]}) "
                                        f"inputs to a (2, {shape.width[-1]}) float tensor (got {got})")


KIND = ModelKind("plugin", PluginSpec, build, label="plugin", rank=4, check=check, family="plugin", hue="Greens")
