"""Experiment configs: a tree of validated models with defaults in code, and one loader.

    config = load_config(Path("configs/speed.yaml"), ["train.steps=50"], SpeedConfig)

Resolution happens here and only here: the YAML file (read by `relukan_bench.yamlio`: safe and bounded), then the
`key=value` overrides, then pydantic validation of the whole. Unknown keys are refused at every
level. Any problem raises `ConfigError` with one line naming the file, the key and what was
expected, e.g.

    configs/speed.yaml: functions[2].width: expected a list of at least 2 positive integers (got [2])
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, Sequence, TypeVar

from pydantic import ValidationError, field_validator, model_validator

from relukan_bench.config_errors import format_validation_error
from relukan_bench.errors import ConfigError, UsageError, clip
from relukan_bench.expressions import Expression, parse
from relukan_bench.kinds import MatchError, OrderError, model_union, reorder, resolve, size_of
from relukan_bench.overrides import apply_override
from relukan_bench.resources import shipped_configs
from relukan_bench.schema import (
    ModelEntry,
    Name,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    Strict,
    Width,
    error_at,
    show,
)

if TYPE_CHECKING:
    from relukan_bench.kinds import Shape


# --------------------------------------------------------------------------- building blocks
class FunctionSpec(Strict):
    """One target function and the network shape both models use for it."""

    name: Name
    expression: str
    width: Width
    grid: PositiveInt
    k: NonNegativeInt

    @field_validator("expression", mode="before")
    @classmethod
    def _parse_expression(cls, value: Any) -> Any:
        parse(value)  # raises ExpressionError (a ValueError) with the reason
        return value


    @model_validator(mode="after")
    def _expression_fits_width(self) -> "FunctionSpec":
        n_inputs = self.target().n_inputs
        if n_inputs > self.width[0]:
            raise error_at(
                "width",
                cross_field=True,
                message=f"the expression uses x{n_inputs}, so width[0] must be at least {n_inputs} "
                f"(got {show(self.width)})",
            )
        if self.width[-1] != 1:
            raise error_at("width", cross_field=True, message=f"expected the last width to be 1, the target is one number (got {show(self.width)})")
        return self

    def target(self) -> Expression:
        return parse(self.expression)

    @property
    def bare(self) -> bool:
        """Whether this is a bare network shape with random targets (speed: `expression: random`)."""
        return False


class TrainSpec(Strict):
    """Full-batch training: every step is zero_grad, forward, loss, backward, optimizer step."""

    steps: PositiveInt = 500
    optimizer: Literal["adam"] = "adam"
    lr: PositiveFloat = 1e-3
    loss: Literal["mse"] = "mse"


ModelSpec = model_union()


class RunConfig(Protocol):
    """What every experiment's config has beside its own keys: the threads and the device it runs on."""

    @property
    def threads(self) -> int: ...

    @property
    def device(self) -> str: ...


class Named(Protocol):
    """An item of a config's list that has a name (a function, a model entry)."""

    @property
    def name(self) -> str: ...


def check_orders(models: Sequence[ModelEntry], shapes: Sequence[Shape]) -> None:
    """Each entry's own `k` leaves a grid of at least 1 on every shape (kinds.reorder)."""
    for index, model in enumerate(models):
        for shape in shapes:
            try:
                reorder(model, shape)
            except OrderError as exc:
                where = getattr(shape, "name", None)
                raise error_at(f"models[{index}].k", f"{exc} on {where or 'the network'}", cross_field=True) from None


def check_unique_names(items: Sequence[Named], key: str) -> None:
    seen: set[str] = set()
    for index, item in enumerate(items):
        if item.name in seen:
            raise error_at(f"{key}[{index}].name", f"expected a name not used before in {key} (got {item.name!r} again)")
        seen.add(item.name)


#: Tables put the paper's numbers in columns named `paper…` beside each model's own
#: (`paper_gain` beside `<model>_gain`), so no model may be named so.
RESERVED_PREFIX = "paper"


def check_model_names(models: Sequence[Named]) -> None:
    """Model names are unique and none starts with the paper's reserved prefix."""
    check_unique_names(models, "models")
    for index, model in enumerate(models):
        if model.name.startswith(RESERVED_PREFIX):
            raise error_at(f"models[{index}].name", f"expected a name not starting with {RESERVED_PREFIX!r}, which the "
                           f"tables keep for the paper's columns (got {model.name!r})")


def attach_matches(models: Sequence[Any], shapes: Sequence[Any], tuned: dict[str, Any] | None = None) -> None:
    """Each entry's `match` names another entry of `models` that matches none itself (or a
    tuned model, whose candidates are all one size: `_tuned_targets`), and fits under it on
    every shape; that entry is attached as the entry's `target`."""
    by_name = {m.name: m for m in models}
    by_name.update(_tuned_targets(models, shapes, tuned or {}, by_name))
    for index, model in enumerate(models):
        if model.match is None:
            continue
        aim = by_name.get(model.match)
        if aim is None or aim is model or aim.match is not None:
            others = [m.name for m in models if m is not model and m.match is None]
            others += sorted({t.model for t in (tuned or {}).values() if t.model in by_name} - set(others))
            raise error_at(f"models[{index}].match", f"expected the name of another model that has no match of its own: "
                           f"{', '.join(others) or 'none'} (got {model.match!r})")
        model._target = aim
        for shape in shapes:
            try:
                resolve(model, shape)
            except MatchError as exc:
                where = f" on {shape.name}" if getattr(shape, "name", None) else ""
                raise error_at(f"models[{index}].match", f"{exc}{where}") from None


def _tuned_targets(models: Sequence[Any], shapes: Sequence[Any], tuned: dict[str, Any],
                   by_name: dict[str, Any]) -> dict[str, Any]:
    """A tuned model's name -> its first candidate, as what `match: <tuned model>` aims at,
    when every candidate has that size on every shape (none: the candidates of a tuned entry
    that matches itself); a candidate of another size refuses the match."""
    groups: dict[str, list[Any]] = {}
    for name, origin in tuned.items():
        if name in by_name and origin.model not in by_name:
            groups.setdefault(origin.model, []).append(by_name[name])
    found = {}
    for model, candidates in groups.items():
        if any(c.match is not None for c in candidates):
            continue
        uneven = next((shape for shape in shapes if len({size_of(c, shape) for c in candidates}) > 1), None)
        aiming = [i for i, m in enumerate(models) if m.match == model]
        if uneven is not None and aiming:
            raise error_at(f"models[{aiming[0]}].match", f"the candidates of {model} differ in size on "
                           f"{getattr(uneven, 'name', None) or 'the network'}; match one candidate by its name")
        found[model] = candidates[0]
    return found


# --------------------------------------------------------------------------- experiments
def no_pykan_fit(models: Sequence[object], why: str) -> None:
    for index, model in enumerate(models):
        if getattr(model, "pykan_fit", None) is not None:
            raise error_at(f"models[{index}].pykan_fit", why)


def no_lbfgs(models: Sequence[object], why: str) -> None:
    for index, model in enumerate(models):
        if getattr(model, "optimizer", None) == "lbfgs":
            raise error_at(f"models[{index}].optimizer", f"expected adam (got lbfgs): {why}")


def check_known_baseline(baseline: str | None, models: Sequence[Named]) -> None:
    names = [m.name for m in models]
    if baseline is not None and baseline not in names:
        raise error_at("baseline", cross_field=True, message=f"expected one of the model names {', '.join(names)} (got {baseline!r})")


Config = TypeVar("Config", bound=Strict)


def select(config: Config, *, functions: Sequence[str] | None = None, models: Sequence[str] | None = None) -> Config:
    """The same config restricted to the named functions and models (in config order),
    validated again as a whole.

    Leaving out the baseline is allowed: the config then has none (`baseline: null`), and the
    gains or speedups are left empty."""
    data = config.model_dump()
    tuned = data.get("tuned") or {}

    def names(item: dict[str, Any]) -> list[str]:  # an entry, and the model it tunes
        return list(dict.fromkeys([item["name"], tuned.get(item["name"], {}).get("model", item["name"])]))

    for option, key, wanted in (("--functions", "functions", functions), ("--models", "models", models)):
        if not wanted:
            continue
        known = list(dict.fromkeys(name for item in data[key] for name in names(item)[::-1]))
        unknown = [name for name in wanted if name not in known]
        if unknown:
            raise UsageError(f"{option}: unknown name {clip(unknown[0])!r} (expected some of: {', '.join(known)})")
        data[key] = [item for item in data[key] if set(names(item)) & set(wanted)]
    if tuned:
        data["tuned"] = {name: origin for name, origin in tuned.items() if name in [m["name"] for m in data["models"]]}
    if data.get("baseline") is not None and data["baseline"] not in [n for m in data["models"] for n in names(m)]:
        data["baseline"] = None
    return type(config).model_validate(data)


def differences(before: Strict, after: Strict) -> list[str]:
    """Where two configs differ, as `key: old -> new` (keys as overrides spell them)."""
    found: list[str] = []

    def walk(key: str, old: object, new: object) -> None:
        if isinstance(old, dict) and isinstance(new, dict):
            for name in dict.fromkeys([*old, *new]):
                walk(f"{key}.{name}" if key else name, old.get(name), new.get(name))
        elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
            for index, (a, b) in enumerate(zip(old, new)):
                walk(f"{key}[{index}]", a, b)
        elif isinstance(old, list) and isinstance(new, list) and all(isinstance(v, dict) and "name" in v for v in old + new):
            found.append(f"{key}: {show([v['name'] for v in old])} -> {show([v['name'] for v in new])}")  # named items
        elif old != new:
            found.append(f"{key}: {show(old)} -> {show(new)}")

    walk("", before.model_dump(mode="json"), after.model_dump(mode="json"))
    return found


# --------------------------------------------------------------------------- loading
def load_config(path: Path, overrides: Sequence[str], schema: type[Config]) -> Config:
    """Read `path`, apply `key=value` overrides, validate against `schema`."""
    data = _read_yaml(path)
    applied: list[tuple[str, str]] = []  # (canonical key, raw override)
    for raw in overrides:
        applied.append((apply_override(data, raw, path), raw))
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(path, exc, applied)) from None


def dump_config(config: Strict) -> str:
    """The resolved config as YAML, in the same shape the loader reads, checked to load back
    as the very same config (what a run writes always loads again); ConfigError otherwise."""
    from relukan_bench.yamlio import YamlError, dumps, loads  # PyYAML: not with the config classes

    text = dumps(config.model_dump(mode="json"))
    try:
        again = type(config).model_validate(loads(text))
    except (YamlError, ValidationError) as exc:
        problem = format_validation_error(Path("config.yaml"), exc, []) if isinstance(exc, ValidationError) else str(exc)
        raise ConfigError(f"the config would not load again once written ({problem})") from None
    if again != config:
        raise ConfigError(f"the config would not load again once written (it reads back differently: "
                          f"{'; '.join(differences(config, again)[:3])})")
    return text


def _shipped_hint(path: Path) -> str:
    """For a bare name that is not a file: the shipped configs it could have meant."""
    if len(path.parts) != 1:
        return ""
    return f" (nor a shipped config: {', '.join(shipped_configs())}; see `relukan-bench config list`)"


def _read_yaml(path: Path) -> dict[str, Any]:
    from relukan_bench.yamlio import YamlError, loads, read_text  # PyYAML: not with the config classes

    try:
        data = loads(read_text(path))
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found{_shipped_hint(path)}") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: expected a config file, got a directory") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config file ({exc.__class__.__name__}: {exc})") from None
    except YamlError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of keys at the top level (got {show(data)})")
    return data
