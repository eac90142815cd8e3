"""The fit experiment's config: `FitConfig` and the specs only it uses (its data and its
training, where a tuning candidate came from, the speed run its step times may come from)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Sequence

from pydantic import AfterValidator, Field, model_validator

from relukan_bench.config import (
    FunctionSpec,
    ModelSpec,
    TrainSpec,
    attach_matches,
    check_known_baseline,
    check_model_names,
    check_orders,
    check_unique_names,
)
from relukan_bench.experiments.fit.tuning import expand
from relukan_bench.schema import Domain, Name, PositiveInt, Seeds, Strict, Threads, error_at
from relukan_bench.yamlio import YamlError, loads, read_text


class FitDataSpec(Strict):
    """Training, test and validation inputs, each drawn uniformly from [low, high)^n,
    n = width[0], each from its own seed. The validation set chooses among tuning candidates
    (experiments/fit/tuning.py); the test set never chooses anything."""

    train_samples: PositiveInt = 1000
    test_samples: PositiveInt = 100
    validation_samples: PositiveInt = 100
    domain: Domain = [0.0, 1.0]


def is_speed_run(directory: Path) -> bool:
    """Whether `directory` holds a speed run: config.yaml saying `experiment: speed`, and summary.csv."""
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
    tuned: dict[Name, Tuned] = {}  # entry name -> what it tunes (experiments/fit/tuning.py; filled from `tune:`)
    # the seeds the candidates are chosen on (None: every seed); the chosen candidate alone then
    # trains on the other seeds (experiments/fit/tuning.py: due)
    tune_seeds: Seeds | None = None
    # a speed run directory (a relative path: beside this run's directory, as reproduce writes
    # its parts): the time to each target uses its step times where it timed the same model on
    # the same shape and batch (experiments/fit/targets.py); None: this run's own
    step_times: StepTimes | None = None

    @model_validator(mode="before")
    @classmethod
    def _expand_tuning(cls, data: object) -> object:
        return expand(data)

    @model_validator(mode="after")
    def _check_names(self) -> "FitConfig":
        check_model_names(self.models)
        check_orders(self.models, self.functions)
        check_unique_names(self.functions, "functions")
        attach_matches(self.models, self.functions, self.tuned)
        names = {m.name for m in self.models}
        for name, origin in self.tuned.items():
            if name not in names:
                raise error_at("tuned", cross_field=True, message=f"expected the names of model entries (got {name!r})")
        tuned_models = {t.model for t in self.tuned.values()}
        if self.baseline not in tuned_models:
            check_known_baseline(self.baseline, self.models)
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
