"""The building blocks of every config node: strict, frozen pydantic models that refuse
unknown keys by name, the value types they share, and errors reported under a key.

Both the experiment configs (`relukan_bench.config`) and the model kinds
(`relukan_bench.kinds`) build on these; neither imports the other to do so.
"""

from __future__ import annotations

from typing import Annotated, Any, Iterator, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, model_validator
from pydantic_core import PydanticCustomError

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"

# Every number of a config is bounded here, so that no value is too large to compute with;
# what they multiply to (units, training, memory) is bounded in relukan_bench.limits.
MAX_COUNT = 10**9  # steps, samples, repeats, grid sizes, ...
MAX_WIDTH = 100_000  # neurons of one layer
MAX_LAYERS = 100
MAX_SEED = 2**32 - 1  # numpy's seeds are 32-bit
MAX_THREADS = 1024
MAX_MAGNITUDE = 1e9  # of a domain's or grid range's ends

PositiveInt = Annotated[int, Field(gt=0, le=MAX_COUNT)]
NonNegativeInt = Annotated[int, Field(ge=0, le=MAX_COUNT)]
PositiveFloat = Annotated[float, Field(gt=0, allow_inf_nan=False)]  # finite: .inf and .nan cannot be meant
Seed = Annotated[int, Field(ge=0, le=MAX_SEED)]
Threads = Annotated[int, Field(gt=0, le=MAX_THREADS)]
Name = Annotated[str, Field(pattern=NAME_PATTERN, max_length=64)]


def error_at(key: str, message: str, cross_field: bool = False) -> PydanticCustomError:
    """A validation error reported under `key` of the model that raises it. A cross-field
    error (the expression does not fit the width) may be caused by any key beside `key`."""
    return PydanticCustomError("cross_field" if cross_field else "at_key", "{message}", {"key": key, "message": message})


def _range(value: Any, what: str) -> list[float]:
    """[low, high] as floats, or ValueError saying what was expected."""
    ok = (
        isinstance(value, (list, tuple))
        and len(value) == 2
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
        and value[0] < value[1]
    )
    if not ok:
        raise ValueError(f"expected {what} as [low, high] with low < high (got {show(value)})")
    if not all(abs(v) <= MAX_MAGNITUDE for v in value):
        raise ValueError(f"expected {what} of finite ends between -{MAX_MAGNITUDE:.0e} and {MAX_MAGNITUDE:.0e} (got {show(value)})")
    return [float(value[0]), float(value[1])]


Domain = Annotated[list[float], BeforeValidator(lambda value: _range(value, "the input domain"))]
GridRange = Annotated[list[float], BeforeValidator(lambda value: _range(value, "grid_range"))]


def _width(value: Any) -> Any:
    ok = (
        isinstance(value, list)
        and len(value) >= 2
        and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)
    )
    if not ok:
        raise ValueError(f"expected a list of at least 2 positive integers (got {show(value)})")
    if len(value) > MAX_LAYERS + 1 or max(value) > MAX_WIDTH:
        raise ValueError(f"expected at most {MAX_LAYERS} layers of at most {MAX_WIDTH:,} neurons (got {show(value)})")
    return value


def _distinct_seeds(value: list[int]) -> list[int]:
    if len(set(value)) != len(value):
        raise ValueError(f"expected distinct seeds (got {show(value)})")
    return value


Width = Annotated[list[int], BeforeValidator(_width)]
Seeds = Annotated[list[Seed], Field(min_length=1, max_length=10_000), AfterValidator(_distinct_seeds)]


#: keys every model entry shares (ModelEntry), listed after an entry's own in messages
LISTED_LAST = ("k", "match")


class Strict(BaseModel):
    """Base of every config node: strict types, frozen, unknown keys refused by name."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _refuse_unknown_keys(cls, data: object) -> object:
        if isinstance(data, dict):
            allowed = [k for k in cls.model_fields if k not in LISTED_LAST] + [k for k in LISTED_LAST if k in cls.model_fields]
            for key in data:
                if key not in allowed:
                    raise error_at(repr(key)[1:-1][:60] if isinstance(key, str) else str(key)[:60], f"unknown key (expected one of: {', '.join(allowed)})")
        return data


def show(value: object, limit: int = 80) -> str:
    """A value as a user wrote it in YAML: [2, 1], 'abc', true, null; cut to `limit`
    characters with "...". The text is produced piece by piece and stops at the limit, so a
    huge value (an alias bomb) costs no more to show than a short one."""
    shown, size = [], 0
    for piece in _pieces(value, 0):
        shown.append(piece)
        size += len(piece)
        if size > limit:
            return "".join(shown)[: limit - 3] + "..."
    return "".join(shown)


def _pieces(value: object, depth: int) -> Iterator[str]:
    if depth > 20:
        yield "..."
    elif isinstance(value, dict):
        yield "{"
        for index, (key, inner) in enumerate(value.items()):
            yield f"{', ' if index else ''}{key if isinstance(key, str) else _scalar(key)}: "
            yield from _pieces(inner, depth + 1)
        yield "}"
    elif isinstance(value, (list, tuple)):
        yield "["
        for index, inner in enumerate(value):
            yield ", " if index else ""
            yield from _pieces(inner, depth + 1)
        yield "]"
    else:
        yield _scalar(value)


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return repr(value[:200])
    if isinstance(value, int) and abs(value) >= 10**30:
        return "an integer of more than 30 digits"
    return str(value)


class ModelEntry(Strict):
    """Base of a model entry of a config (`models: [...]`). Each model kind declares its own
    entry (relukan_bench.kinds), with at least `name`, `kind: Literal[<its name>]` and `lr`
    (None: the experiment's learning rate), in the order its messages list them; right after
    `lr`, `optimizer: Optimizer = None` and `lbfgs: LBFGS = None`; and, for the same effort on
    every basis, `compile: Compile = False` and `cuda_graph: CudaGraph = False` (what
    relukan_bench.kinds.ModelKind.step reads by default). The checks of those shared keys
    against each other are here, once for every kind.

    Every entry may say `k: <order>`: it is then built at that order, its grid shifted so that
    each edge keeps the shape's G + k basis functions (grid G + k of the shape - its k, at
    least 1; relukan_bench.kinds.reorder): a cubic-only kind runs on a k = 1 network this way.

    Every entry may say `match: <model name>`: it is then sized to the largest grid (or
    degree, or hidden width) whose parameter count does not exceed the named model's
    (relukan_bench.kinds.resolve); the config attaches that entry as `target`."""

    k: NonNegativeInt | None = None  # None: the shape's order (and grid)
    match: Name | None = None
    _target: Any = PrivateAttr(default=None)

    @property
    def target(self) -> Any:
        """The entry `match` names, attached by the config (None before, or without match)."""
        return self._target

    @model_validator(mode="after")
    def _optimizer_fits(self) -> "ModelEntry":
        optimizer = getattr(self, "optimizer", None)
        if getattr(self, "lbfgs", None) is not None and optimizer != "lbfgs":
            raise error_at("lbfgs", cross_field=True,
                           message=f"expected optimizer: lbfgs beside lbfgs settings (got optimizer: {show(optimizer)})")
        if optimizer == "lbfgs":
            for key in ("compile", "cuda_graph"):
                if getattr(self, key, None):
                    raise error_at(key, cross_field=True, message=f"optimizer: lbfgs evaluates the loss a varying number "
                                   f"of times per step, which a compiled or captured step cannot; remove {key}: true")
        return self


class LBFGSSpec(Strict):
    """`lbfgs:` of an entry with `optimizer: lbfgs`: how torch.optim.LBFGS runs. One training
    step is one `LBFGS.step(closure)`: `max_iter` iterations, each a direction from the last
    `history_size` steps and, with `line_search: strong_wolfe`, a search along it that
    evaluates the loss several times (at most `max_eval` evaluations in all; None: 26 per
    iteration, the first plus torch's 25 tries of the search). The tolerances are torch's."""

    history_size: Annotated[int, Field(gt=0, le=10_000)] = 100
    line_search: Literal["strong_wolfe", "none"] = "strong_wolfe"
    max_iter: Annotated[int, Field(gt=0, le=1000)] = 1
    max_eval: Annotated[int, Field(gt=0, le=100_000)] | None = None
    tolerance_grad: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 1e-7
    tolerance_change: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 1e-9

    def evaluations(self) -> int:
        """The most loss evaluations one step may make (torch's `max_eval`)."""
        return self.max_eval if self.max_eval is not None else 26 * self.max_iter


#: `compile: true`: the whole training step through torch.compile (compile time recorded apart)
Compile = bool
#: `cuda_graph: true`: on CUDA, the whole training step captured once in a CUDA graph and replayed
CudaGraph = bool
#: `optimizer: adam | lbfgs`: the entry's own optimizer (None: the experiment's `train.optimizer`)
Optimizer = Literal["adam", "lbfgs"] | None
#: `lbfgs: {...}`: LBFGS's settings, with `optimizer: lbfgs` only (None: LBFGSSpec's defaults)
LBFGS = LBFGSSpec | None
