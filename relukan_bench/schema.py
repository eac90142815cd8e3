"""The building blocks of every config node: strict, frozen pydantic models that refuse
unknown keys by name, the value types they share, and errors reported under a key.

Both the experiment configs (`relukan_bench.config`) and the model kinds
(`relukan_bench.kinds`) build on these; neither imports the other to do so.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"

PositiveInt = Annotated[int, Field(gt=0)]
NonNegativeInt = Annotated[int, Field(ge=0)]
PositiveFloat = Annotated[float, Field(gt=0)]
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
    return value


def _distinct_seeds(value: list[int]) -> list[int]:
    if len(set(value)) != len(value):
        raise ValueError(f"expected distinct seeds (got {show(value)})")
    return value


Width = Annotated[list[int], BeforeValidator(_width)]
Seeds = Annotated[list[NonNegativeInt], Field(min_length=1), AfterValidator(_distinct_seeds)]


class Strict(BaseModel):
    """Base of every config node: strict types, frozen, unknown keys refused by name."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _refuse_unknown_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            allowed = list(cls.model_fields)
            for key in data:
                if key not in allowed:
                    raise error_at(str(key), f"unknown key (expected one of: {', '.join(allowed)})")
        return data


def show(value: Any) -> str:
    """A value as a user wrote it in YAML: [2, 1], 'abc', true, null."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {show(v)}" for k, v in value.items()) + "}"
    return str(value)


class ModelEntry(Strict):
    """Base of a model entry of a config (`models: [...]`). Each model kind declares its own
    entry (relukan_bench.kinds), with at least `name`, `kind: Literal[<its name>]` and `lr`
    (None: the experiment's learning rate), in the order its messages list them."""
