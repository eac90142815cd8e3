"""Experiment configs: a tree of validated models with defaults in code, and one loader.

    config = load_config(Path("configs/speed.yaml"), ["train.steps=50"], SpeedConfig)

Resolution happens here and only here: the YAML file (read by `relukan_bench.yamlio`: safe and bounded), then the
`key=value` overrides, then pydantic validation of the whole. Unknown keys are refused at every
level. Any problem raises `ConfigError` with one line naming the file, the key and what was
expected, e.g.

    configs/speed.yaml: functions[2].width: expected a list of at least 2 positive integers (got [2])
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal, Sequence, TypeVar

from pydantic import AfterValidator, Field, ValidationError, field_validator, model_validator

from relukan_bench.errors import ConfigError, UsageError, clip
from relukan_bench.expressions import Expression, parse
from relukan_bench.kinds import kind_names, model_union
from relukan_bench.schema import (
    MAX_COUNT, Domain, Name, NonNegativeInt, PositiveFloat, PositiveInt, Seed, Seeds, Strict, Threads, Width, error_at,
    show,
)

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


#: a speed function's `expression` that times a bare network shape on random targets
RANDOM = "random"


class SpeedFunctionSpec(FunctionSpec):
    """A speed function: a FunctionSpec, or, with `expression: random`, a bare network shape
    (any last width) timed on standard-normal targets; `samples` its own batch size (None: the
    config's data.samples)."""

    samples: PositiveInt | None = None

    @field_validator("expression", mode="before")
    @classmethod
    def _parse_expression(cls, value: Any) -> Any:
        if value != RANDOM:
            parse(value)
        return value

    @model_validator(mode="after")
    def _expression_fits_width(self) -> "SpeedFunctionSpec":
        return self if self.bare else FunctionSpec._expression_fits_width(self)

    @property
    def bare(self) -> bool:
        return self.expression == RANDOM


class DataSpec(Strict):
    """Inputs drawn uniformly from [low, high)^n, n = width[0]."""

    samples: PositiveInt = 1000
    domain: Domain = [0.0, 1.0]


class TrainSpec(Strict):
    """Full-batch training: every step is zero_grad, forward, loss, backward, optimizer step."""

    steps: PositiveInt = 500
    optimizer: Literal["adam"] = "adam"
    lr: PositiveFloat = 1e-3
    loss: Literal["mse"] = "mse"


ModelSpec = model_union()


def _check_orders(models: Sequence[Any], shapes: Sequence[Any]) -> None:
    """Each entry's own `k` leaves a grid of at least 1 on every shape (kinds.reorder)."""
    from relukan_bench.kinds import OrderError, reorder

    for index, model in enumerate(models):
        for shape in shapes:
            try:
                reorder(model, shape)
            except OrderError as exc:
                where = getattr(shape, "name", None)
                raise error_at(f"models[{index}].k", f"{exc} on {where or 'the network'}", cross_field=True) from None


def _unique_names(items: Sequence[Any], key: str) -> None:
    seen: set[str] = set()
    for index, item in enumerate(items):
        if item.name in seen:
            raise error_at(f"{key}[{index}].name", f"expected a name not used before in {key} (got {item.name!r} again)")
        seen.add(item.name)


#: Tables put the paper's numbers in columns named `paper…` beside each model's own
#: (`paper_gain` beside `<model>_gain`), so no model may be named so.
RESERVED_PREFIX = "paper"


def _model_names(models: Sequence[Any]) -> None:
    """Model names are unique and none starts with the paper's reserved prefix."""
    _unique_names(models, "models")
    for index, model in enumerate(models):
        if model.name.startswith(RESERVED_PREFIX):
            raise error_at(f"models[{index}].name", f"expected a name not starting with {RESERVED_PREFIX!r}, which the "
                           f"tables keep for the paper's columns (got {model.name!r})")


def _attach_matches(models: Sequence[Any], shapes: Sequence[Any], tuned: dict[str, Any] | None = None) -> None:
    """Each entry's `match` names another entry of `models` that matches none itself (or a
    tuned model, whose candidates are all one size: `_tuned_targets`), and fits under it on
    every shape; that entry is attached as the entry's `target`."""
    from relukan_bench.kinds import MatchError, resolve

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
    from relukan_bench.kinds import size_of

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
class TimingSpec(Strict):
    """How each (function, model, device) is timed: `repeats` fresh models, each trained
    `warmup_steps` untimed steps and then `train.steps` timed ones."""

    repeats: PositiveInt = 5
    warmup_steps: NonNegativeInt = 10
    # a unit whose first step, measured at a tenth of the batch and scaled up, would take longer
    # is recorded as too slow to time, not run (None: every unit is timed)
    max_step_seconds: PositiveFloat | None = None


class SpeedConfig(Strict):
    """`relukan-bench speed`: train every model on every function and time it."""

    experiment: Literal["speed"] = "speed"
    seed: Seed = 0
    threads: Threads = 1
    device: Literal["cpu", "cuda", "auto"] = "cpu"
    baseline: Name | None = None  # speedup = baseline median / model median
    data: DataSpec = DataSpec()
    train: TrainSpec = TrainSpec()
    timing: TimingSpec = TimingSpec()
    models: Annotated[list[ModelSpec], Field(min_length=1)]
    functions: Annotated[list[SpeedFunctionSpec], Field(min_length=1)]

    @model_validator(mode="after")
    def _check_names(self) -> "SpeedConfig":
        _model_names(self.models)
        _check_orders(self.models, self.functions)
        _unique_names(self.functions, "functions")
        _attach_matches(self.models, self.functions)
        _known_baseline(self.baseline, self.models)
        _no_pykan_fit(self.models, "speed times our training loop only; pykan's fit() also evaluates, logs and updates grids (use it in fit)")
        _no_lbfgs(self.models, "speed times a step by its phases, and an LBFGS step has none: it evaluates the loss a varying number of times (use it in fit)")
        return self


def _no_pykan_fit(models: Sequence[Any], why: str) -> None:
    for index, model in enumerate(models):
        if getattr(model, "pykan_fit", None) is not None:
            raise error_at(f"models[{index}].pykan_fit", why)


def _no_lbfgs(models: Sequence[Any], why: str) -> None:
    for index, model in enumerate(models):
        if getattr(model, "optimizer", None) == "lbfgs":
            raise error_at(f"models[{index}].optimizer", f"expected adam (got lbfgs): {why}")


def _known_baseline(baseline: str | None, models: Sequence[Any]) -> None:
    names = [m.name for m in models]
    if baseline is not None and baseline not in names:
        raise error_at("baseline", cross_field=True, message=f"expected one of the model names {', '.join(names)} (got {baseline!r})")


class FitDataSpec(Strict):
    """Training, test and validation inputs, each drawn uniformly from [low, high)^n,
    n = width[0], each from its own seed. The validation set chooses among tuning candidates
    (relukan_bench.tuning); the test set never chooses anything."""

    train_samples: PositiveInt = 1000
    test_samples: PositiveInt = 100
    validation_samples: PositiveInt = 100
    domain: Domain = [0.0, 1.0]


def is_speed_run(directory: Path) -> bool:
    """Whether `directory` holds a speed run: config.yaml saying `experiment: speed`, and summary.csv."""
    from relukan_bench.yamlio import YamlError, loads, read_text

    try:
        recorded = loads(read_text(directory / "config.yaml"))
        return isinstance(recorded, dict) and recorded.get("experiment") == "speed" and (directory / "summary.csv").is_file()
    except (OSError, UnicodeDecodeError, YamlError):
        return False


def _speed_run(path: str) -> str:
    """An absolute path must name a speed run now; a relative one names a sibling of the run
    directory (experiments/fit/targets.py), which may be written before this run ends."""
    if not path.strip() or "\x00" in path:
        raise ValueError(f"expected the path of a speed run directory (got {path!r})")
    if Path(path).is_absolute() and not is_speed_run(Path(path)):
        raise ValueError(f"expected a speed run directory, with config.yaml and summary.csv (got {path!r})")
    return path


StepTimes = Annotated[str, AfterValidator(_speed_run)]


class Tuned(Strict):
    """Where a tuning candidate's entry came from: the model it tunes, its candidate label."""

    model: Name
    candidate: Name


class FitTrainSpec(TrainSpec):
    """TrainSpec for fitting: 5000 steps, and the errors logged every `log_every` steps."""

    steps: PositiveInt = 5000
    log_every: PositiveInt = 1
    batch_seeds: bool = True  # train a ReLU-KAN's seeds at once, as one batched model (models/batched.py)


class FitConfig(Strict):
    """`relukan-bench fit`: train every model on every function once per seed, record error curves."""

    experiment: Literal["fit"] = "fit"
    seeds: Seeds = [0, 1, 2]
    threads: Threads = 1
    device: Literal["cpu", "cuda", "auto"] = "cpu"
    baseline: Name | None = None  # gain = baseline's median final test MSE / the model's
    data: FitDataSpec = FitDataSpec()
    train: FitTrainSpec = FitTrainSpec()
    models: Annotated[list[ModelSpec], Field(min_length=1)]
    functions: Annotated[list[FunctionSpec], Field(min_length=1)]
    tuned: dict[Name, Tuned] = {}  # entry name -> what it tunes (relukan_bench.tuning; filled from `tune:`)
    # the seeds the candidates are chosen on (None: every seed); the chosen candidate alone then
    # trains on the other seeds (relukan_bench.tuning.due)
    tune_seeds: Seeds | None = None
    # a speed run directory (a relative path: beside this run's directory, as reproduce writes
    # its parts): the time to each target uses its step times where it timed the same model on
    # the same shape and batch (experiments/fit/targets.py); None: this run's own
    step_times: StepTimes | None = None

    @model_validator(mode="before")
    @classmethod
    def _expand_tuning(cls, data: Any) -> Any:
        from relukan_bench.tuning import expand

        return expand(data)

    @model_validator(mode="after")
    def _check_names(self) -> "FitConfig":
        _model_names(self.models)
        _check_orders(self.models, self.functions)
        _unique_names(self.functions, "functions")
        _attach_matches(self.models, self.functions, self.tuned)
        names = {m.name for m in self.models}
        for name, origin in self.tuned.items():
            if name not in names:
                raise error_at("tuned", cross_field=True, message=f"expected the names of model entries (got {name!r})")
        tuned_models = {t.model for t in self.tuned.values()}
        if self.baseline not in tuned_models:
            _known_baseline(self.baseline, self.models)
        _check_tune_seeds(self.tune_seeds, self.seeds, bool(self.tuned), self.train.batch_seeds)
        return self

    def origin(self, name: str) -> tuple[str, str]:
        """(the model an entry tunes, its candidate label); (name, "") for an untuned entry."""
        found = self.tuned.get(name)
        return (found.model, found.candidate) if found is not None else (name, "")


def _check_tune_seeds(tune_seeds: Sequence[int] | None, seeds: Sequence[int], tuned: bool, batched: bool) -> None:
    """`tune_seeds`: some of `seeds`, in a config that has candidates to choose among and
    trains each seed alone (a batch trains all its seeds at once: choosing on some would save
    nothing, and a batch of fewer seeds rounds differently)."""
    if tune_seeds is None:
        return
    if not tuned:
        raise error_at("tune_seeds", cross_field=True,
                       message="expected a config whose models list `tune:` candidates (nothing to choose among)")
    if batched:
        raise error_at("tune_seeds", cross_field=True, message="expected train.batch_seeds: false (a batch trains "
                       "all its seeds at once, so choosing on some of them would save nothing)")
    stray = [seed for seed in tune_seeds if seed not in seeds]
    if stray:
        raise error_at("tune_seeds", cross_field=True, message=f"expected some of the run's seeds (got {stray[0]}, "
                       f"not in seeds)")


class NetworkSpec(Strict):
    """The shape every model of an experiment shares: layer widths, grid G and order k."""

    width: Width = [1, 1]
    grid: PositiveInt = 25
    k: NonNegativeInt = 1



class ForgettingDataSpec(Strict):
    """`points` evenly spaced inputs over [low, high) cut into `segments` equal segments, one
    Gaussian bump per segment. As the paper's code: each segment's x rescaled to [-1, 1] as
    u, y = exp(-(sigma u)^2 / 2) / (sigma sqrt(2 pi)) / scale."""

    points: PositiveInt = 5000
    segments: Annotated[int, Field(ge=2, le=MAX_COUNT)] = 5
    sigma: PositiveFloat = 5.0
    scale: PositiveFloat = 0.08
    domain: Domain = [0.0, 1.0]

    @model_validator(mode="after")
    def _equal_segments(self) -> "ForgettingDataSpec":
        if self.points % self.segments or self.points // self.segments < 2:
            raise error_at(
                "points", cross_field=True,
                message=f"expected a multiple of segments ({self.segments}) with at least 2 points per segment (got {self.points})",
            )
        return self


class ForgettingTrainSpec(Strict):
    """Phase i trains `steps_per_phase` full-batch steps on segment i only."""

    steps_per_phase: PositiveInt = 250
    optimizer: Literal["adam"] = "adam"
    lr: PositiveFloat = 1e-3
    loss: Literal["mse"] = "mse"
    reset_optimizer: bool = False  # true: a fresh optimizer every phase; false: one for all (the paper)
    log_every: PositiveInt = 5  # curves.csv: every segment's MSE every `log_every` steps
    batch_seeds: bool = True  # train a ReLU-KAN's seeds at once, as one batched model (models/batched.py)


class ForgettingConfig(Strict):
    """`relukan-bench forgetting`: learn the segments one after another, measure what is lost."""

    experiment: Literal["forgetting"] = "forgetting"
    seeds: Seeds = [0, 1, 2]
    threads: Threads = 1
    device: Literal["cpu", "cuda", "auto"] = "cpu"
    data: ForgettingDataSpec = ForgettingDataSpec()
    network: NetworkSpec = NetworkSpec()
    train: ForgettingTrainSpec = ForgettingTrainSpec()
    models: Annotated[list[ModelSpec], Field(min_length=1)]


    @model_validator(mode="after")
    def _check(self) -> "ForgettingConfig":
        width = self.network.width
        if width[0] != 1 or width[-1] != 1:
            raise error_at("network.width", cross_field=True, message=f"expected one input and one output, e.g. [1, 1] (got {show(width)})")
        _model_names(self.models)
        _check_orders(self.models, [self.network])
        _attach_matches(self.models, [self.network])
        _no_pykan_fit(self.models, "forgetting trains every model by our loop, one optimizer across phases; pykan's fit() cannot")
        _no_lbfgs(self.models, "forgetting keeps one Adam across its phases (or resets it), LBFGS's curvature history would span segments (use it in fit)")
        return self


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

    def walk(key: str, old: Any, new: Any) -> None:
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
        raise ConfigError(_format_validation_error(path, exc, applied)) from None


def dump_config(config: Strict) -> str:
    """The resolved config as YAML, in the same shape the loader reads, checked to load back
    as the very same config (what a run writes always loads again); ConfigError otherwise."""
    from relukan_bench.yamlio import YamlError, dumps, loads

    text = dumps(config.model_dump(mode="json"))
    try:
        again = type(config).model_validate(loads(text))
    except (YamlError, ValidationError) as exc:
        problem = _format_validation_error(Path("config.yaml"), exc, []) if isinstance(exc, ValidationError) else str(exc)
        raise ConfigError(f"the config would not load again once written ({problem})") from None
    if again != config:
        raise ConfigError(f"the config would not load again once written (it reads back differently: "
                          f"{'; '.join(differences(config, again)[:3])})")
    return text


def _shipped_hint(path: Path) -> str:
    """For a bare name that is not a file: the shipped configs it could have meant."""
    from relukan_bench.resources import shipped_configs

    if len(path.parts) != 1:
        return ""
    return f" (nor a shipped config: {', '.join(shipped_configs())}; see `relukan-bench config list`)"


def _read_yaml(path: Path) -> dict[str, Any]:
    from relukan_bench.yamlio import YamlError, loads, read_text

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


_TOKEN = re.compile(r"([A-Za-z0-9_-]+)|\[([0-9]{1,9})\]")  # keys and names as the schema spells them
_INDEX = re.compile(r"[0-9]{1,9}")
_MAX_KEY = 200


def apply_override(data: dict[str, Any], raw: str, path: Path) -> str:
    """Apply one `key.path=value` to `data` in place; return the canonical key it set.

    Keys are dotted; list items are chosen by index (`functions[2].grid`, `functions.2.grid`)
    or by their `name` (`functions.f2.grid`). Values are read as YAML (`50`, `1e-3`, `[2, 1]`)
    by the configs' own loader (relukan_bench.yamlio), with its bounds.
    """
    from relukan_bench.yamlio import YamlError, check_size, loads

    key, sep, text = raw.partition("=")
    key = key.strip()
    shown = clip(raw)
    if not sep or not key:
        raise ConfigError(f"{path}: override {shown!r}: expected key=value, e.g. train.steps=50")
    tokens = _key_tokens(key)
    if tokens is None:
        raise ConfigError(f"{path}: override {shown!r}: cannot read the key {clip(key)!r} "
                          "(expected names joined by dots, list items as [0] or by name)")
    try:
        value = loads(text) if text.strip() else text
    except YamlError as exc:
        raise ConfigError(f"{path}: override {shown!r}: the value is not valid YAML ({exc.reason})") from None
    canonical = _set(data, tokens, value, lambda message: ConfigError(f"{path}: override {shown!r}: {message}"))
    try:
        check_size(data)
    except YamlError as exc:
        raise ConfigError(f"{path}: override {shown!r}: the config would hold {exc.reason}") from None
    return canonical


def _key_tokens(key: str) -> list[str | int] | None:
    """`functions[2].grid` as ['functions', 2, 'grid']; None when it cannot be read."""
    if len(key) > _MAX_KEY:
        return None
    tokens: list[str | int] = []
    position = 0
    for match in _TOKEN.finditer(key):
        if key[position : match.start()] not in ("", "."):
            return None
        tokens.append(int(match.group(2)) if match.group(2) is not None else match.group(1))
        position = match.end()
    return tokens if tokens and position == len(key) else None


def _set(data: dict[str, Any], tokens: list[str | int], value: Any, error: Any) -> str:
    """Set `value` at the path `tokens` inside `data`; the canonical key. `error(message)` is raised."""
    node: Any = data
    canonical = ""
    for i, token in enumerate(tokens):
        last = i == len(tokens) - 1
        if isinstance(node, list):
            index = _list_index(node, token)
            if index is None:
                raise error(f"{canonical or 'the config'} has no item {clip(str(token))!r}")
            canonical += f"[{index}]"
            if last:
                node[index] = value
            else:
                node = node[index]
        elif isinstance(node, dict):
            name = str(token)
            canonical += f".{name}" if canonical else name
            if last:
                node[name] = value
            else:
                node = node.setdefault(name, {})
        else:
            raise error(f"{canonical} is a value, not a mapping or list")
    return canonical


def _list_index(items: list[Any], token: str | int) -> int | None:
    if isinstance(token, int) or _INDEX.fullmatch(token):
        index = int(token)
        return index if 0 <= index < len(items) else None
    for index, item in enumerate(items):
        if isinstance(item, dict) and item.get("name") == token:
            return index
    return None


# --------------------------------------------------------------------------- error messages
def _format_loc(loc: Sequence[Any]) -> str:
    text = ""
    previous: Any = None
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif isinstance(previous, int) and part in kind_names():
            pass  # the tag pydantic adds for a discriminated union member
        else:
            text += f".{part}" if text else str(part)
        previous = part
    return text


def _describe_error(error: dict[str, Any]) -> tuple[str, str]:
    """(extra key suffix, message) for one pydantic error."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    got = f" (got {show(error.get('input'))})"
    if kind in ("at_key", "cross_field"):
        return ctx["key"], ctx["message"]
    if kind == "value_error":
        return "", str(ctx.get("error", error["msg"]))
    if kind == "missing":
        return "", "missing required key"
    if kind == "union_tag_invalid":
        return "kind", f"expected one of {', '.join(repr(k) for k in kind_names())} (got {show(ctx.get('tag'))})"
    if kind == "union_tag_not_found":
        return "kind", f"missing required key (one of {', '.join(repr(k) for k in kind_names())})"
    if kind == "too_long":  # a list: its length, not its items
        return "", f"expected at most {ctx.get('max_length')} item(s) (got {ctx.get('actual_length')})"
    if kind in _MESSAGES:
        return "", _MESSAGES[kind].format_map(ctx) + got
    return "", error["msg"] + got


#: pydantic's error types as we say them, filled from the error's context; "(got ...)" follows
_MESSAGES = {
    "int_type": "expected an integer",
    "int_parsing": "expected an integer",
    "int_from_float": "expected an integer",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "finite_number": "expected a finite number",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "string_type": "expected text",
    "list_type": "expected a list",
    "model_type": "expected a mapping of keys",
    "dict_type": "expected a mapping of keys",
    "model_attributes_type": "expected a mapping of keys",
    "string_pattern_mismatch": "expected a name of letters, digits, '_', '-' or '.'",
    "string_too_long": "expected at most {max_length} characters",
    "greater_than": "expected a number > {gt}",
    "greater_than_equal": "expected a number >= {ge}",
    "less_than_equal": "expected a number <= {le}",
    "too_short": "expected at least {min_length} item(s)",
    "literal_error": "expected {expected}",
}


def _format_validation_error(path: Path, exc: ValidationError, applied: list[tuple[str, str]]) -> str:
    error = exc.errors(include_url=False)[0]
    suffix, message = _describe_error(error)
    loc = _format_loc(error["loc"])
    if suffix:
        loc = f"{loc}.{suffix}" if loc and not suffix.startswith("[") else f"{loc}{suffix}"
    where = loc or "the config"
    culprit = ""
    for canonical, raw in applied:
        related = [canonical]
        if error["type"] == "cross_field" and "." in canonical:  # any key of the same object
            related.append(canonical.rpartition(".")[0])
        if any(where == key or where.startswith(key + ".") or where.startswith(key + "[") for key in related):
            culprit = f" (set by override {clip(raw)!r})"
    return f"{path}: {where}: {message}{culprit}"
