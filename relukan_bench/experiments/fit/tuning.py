"""Tuning: each model at its own best, chosen on a validation set (fit only).

A model entry of a fit config may list `tune:` candidates, each a few of the entry's own keys
(`lr`, `optimizer`, `lbfgs`, kan's `pykan_fit`) and an optional `label`:

    - name: relukan
      kind: relukan
      tune:
        - {lr: 1.0e-4}
        - {lr: 1.0e-3}
        - {optimizer: lbfgs, lr: 1.0}

Before the config is validated, such an entry becomes one ordinary entry per candidate, named
`<model>.<label>` (`relukan.lr0.0001`), and the config's `tuned:` map records where each came
from. Everything downstream (plan, workers, resume, logs) sees ordinary entries; a run's
`config.yaml` records the expanded form, which loads back as itself. The summary then selects,
per function and tuned model, the candidate with the lowest median final validation MSE
(`select`); the test set never chooses anything.

With `tune_seeds:` the candidates are chosen on those seeds alone, and only the chosen one
trains on the others (`due`): a run in two stages that costs about the tuning seeds' share of
the full protocol plus one candidate's other seeds. The run's plan still lists every
(function, candidate, seed); `due` says which of them are wanted, given what has finished.
"""

from __future__ import annotations

import math
import re
from statistics import median
from typing import Any, Mapping, Protocol, Sequence, TypeVar

from relukan_bench.config_errors import describe_error
from relukan_bench.experiments.fit.records import RunRecord, SummaryRecord
from relukan_bench.experiments.seed_groups import over_seeds, unbounded
from relukan_bench.kinds import model_union
from relukan_bench.schema import NAME_PATTERN, error_at

MAX_CANDIDATES = 64
FIXED = ("name", "kind", "tune")  # what a candidate may not change


class Origin(Protocol):
    """What `due` reads of a tuned entry's origin (config.Tuned): the model it tunes."""

    @property
    def model(self) -> str: ...


class TunedConfig(Protocol):
    """What `due` reads of a FitConfig (not imported: fit/config.py imports this module)."""

    @property
    def tune_seeds(self) -> Sequence[int] | None: ...

    @property
    def tuned(self) -> Mapping[str, Origin]: ...


class PlannedRun(Protocol):
    """What `due` reads of a unit of the plan (fit/plan.py: Unit)."""

    @property
    def function(self) -> str: ...

    @property
    def seed(self) -> int: ...

    @property
    def model(self) -> str: ...

    def __hash__(self) -> int: ...


U = TypeVar("U", bound=PlannedRun)


def label_of(candidate: Mapping[str, object]) -> str:
    """A candidate's label: its own `label`, else its settings (`lr0.0003`, `lbfgs-lr1`,
    `pykan-fit-Adam-lr1`)."""
    if "label" in candidate:
        return str(candidate["label"])
    parts = []
    if candidate.get("optimizer") is not None:
        parts.append(str(candidate["optimizer"]))
    fit = candidate.get("pykan_fit")
    if isinstance(fit, dict):
        parts += ["pykan-fit", *([str(fit["opt"])] if "opt" in fit else []), *([f"lr{fit['lr']:g}"] if "lr" in fit else [])]
    if candidate.get("lr") is not None:
        parts.append(f"lr{candidate['lr']:g}")
    parts += [key for key in candidate if key not in ("optimizer", "pykan_fit", "lr")]
    return "-".join(parts) or "as-is"


def expand(data: object) -> object:
    """The raw config `data` with every tuned entry replaced by its candidates and `tuned:`
    filled in; ValueError-like pydantic errors (error_at) under `models[i].tune[j]...`."""
    if not isinstance(data, dict) or not isinstance(data.get("models"), list):
        return data
    if not any(isinstance(entry, dict) and "tune" in entry for entry in data["models"]):
        return data
    models: list[object] = []
    tuned = dict(data.get("tuned") or {}) if isinstance(data.get("tuned"), dict) else {}
    for index, entry in enumerate(data["models"]):
        if isinstance(entry, dict) and "tune" in entry:
            models += _candidates(index, entry, tuned)
        else:
            models.append(entry)
    return {**data, "models": models, "tuned": tuned}


def _candidates(index: int, entry: dict[str, object], tuned: dict[str, object]) -> list[dict[str, object]]:
    where = f"models[{index}].tune"
    candidates = entry["tune"]
    if not isinstance(candidates, list) or not 1 <= len(candidates) <= MAX_CANDIDATES:
        raise error_at(where, f"expected a list of 1 to {MAX_CANDIDATES} candidates, each a mapping of the entry's keys")
    base = {key: value for key, value in entry.items() if key != "tune"}
    out, labels = [], set()
    for number, candidate in enumerate(candidates):
        at = f"{where}[{number}]"
        if not isinstance(candidate, dict) or not candidate:
            raise error_at(at, "expected a mapping of the entry's keys to try, e.g. {lr: 3.0e-4}")
        fixed = [key for key in candidate if key in FIXED]
        if fixed:
            raise error_at(f"{at}.{fixed[0]}", f"a candidate changes how the entry trains, not its {fixed[0]}")
        settings = {key: value for key, value in candidate.items() if key != "label"}
        _checked({**base, **settings, "name": "candidate"}, at)  # validated before anything formats it
        label = label_of(candidate)
        name = f"{base.get('name')}.{label}"
        if not re.match(NAME_PATTERN, label) or len(name) > 64:
            raise error_at(f"{at}.label", f"expected a label of letters, digits, '.', '_' or '-' that keeps "
                           f"'<name>.<label>' within 64 characters (got {label[:70]!r})")
        if label in labels:
            raise error_at(f"{at}.label", f"expected a label no other candidate of this entry has (got {label!r} "
                           "again; give one a `label:`)")
        labels.add(label)
        out.append(_checked({**base, **settings, "name": name}, at))
        tuned[name] = {"model": base.get("name"), "candidate": label}
    return out


def _checked(entry: dict[str, object], at: str) -> dict[str, object]:
    """`entry` validated as its kind's entry; the first error reported under the candidate."""
    from pydantic import TypeAdapter, ValidationError

    try:
        TypeAdapter(model_union()).validate_python(entry)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        loc = [part for part in error["loc"] if isinstance(part, str) and part != entry.get("kind")]
        suffix, message = describe_error(error)
        where = ".".join([at, *[p for p in loc if p not in ("name", "kind")], *([suffix] if suffix else [])])
        raise error_at(where, message) from None
    return entry


# ----------------------------------------------------------------------------- selection
def origin(tuned: dict[str, Any], name: str) -> tuple[str, str]:
    """(the model an entry tunes, its candidate label); (name, "") for an untuned entry."""
    found = tuned.get(name)
    if found is None:
        return name, ""
    return (found.model, found.candidate) if hasattr(found, "model") else (found["model"], found["candidate"])


def select(summary: Sequence[SummaryRecord], scores: dict[tuple[str, str], float] | None = None) -> set[tuple[str, str]]:
    """The (function, model entry) pairs selected: per function and tuned model, the candidate
    whose median final validation MSE is lowest (a diverged or missing one ranks last; ties go
    to the first listed). Untuned entries are always selected. Reads only `final_val_mse`, or
    the (function, entry) `scores` where given (`choice_scores`: the tuning seeds' alone)."""
    best: dict[tuple[str, str], tuple[float, str]] = {}
    for row in summary:
        value = row.final_val_mse if scores is None else scores.get((row.function, row.model), math.nan)
        score = value if isinstance(value, (int, float)) and value == value else math.inf
        key = (row.function, row.tuned_model)
        if key not in best or score < best[key][0]:
            best[key] = (score, row.model)
    return {(function, model) for (function, _), (_, model) in best.items()}


def median_or_nan(values: Sequence[float]) -> float:
    finite = [v for v in values if v == v]
    return median(finite) if finite else math.nan


def choice_scores(runs: Sequence[RunRecord], seeds: Sequence[int] | None) -> dict[tuple[str, str], float]:
    """(function, entry) -> the median final validation MSE of its runs on `seeds` (None: on
    every seed), as `select` ranks them: a diverged run counts as unbounded, one that raised is
    left out, and an entry with no number is NaN (it ranks last)."""
    on = None if seeds is None else set(seeds)
    chosen_on = [run for run in runs if on is None or run.seed in on]
    groups = over_seeds(chosen_on, lambda run: (run.function, run.model))
    return {key: median_or_nan([unbounded(r, "final_val_mse") for r in group.rows]) for key, group in groups.items()}


def due(config: TunedConfig, units: Sequence[U], runs: Sequence[RunRecord]) -> list[U]:
    """Of the planned `units` (function, seed, model), those wanted once `runs` (runs.csv records)
    have finished: all of them, unless `config.tune_seeds` names the seeds the candidates are
    chosen on; then every unit on those seeds and every untuned entry's, and a candidate's
    other seeds once all its tuned model's candidates have finished the tuning seeds and it
    was chosen."""
    if config.tune_seeds is None:
        return list(units)
    on = set(config.tune_seeds)
    first = [u for u in units if u.seed in on or u.model not in config.tuned]
    finished = {(r.function, r.model, r.seed) for r in runs}
    open_ = {(u.function, config.tuned[u.model].model) for u in first
             if u.model in config.tuned and (u.function, u.model, u.seed) not in finished}
    decided = [r for r in runs if r.model in config.tuned and r.seed in on
               and (r.function, config.tuned[r.model].model) not in open_]
    summary = [SummaryRecord.blank(function=f, model=m, tuned_model=config.tuned[m].model) for f, m in
               dict.fromkeys((r.function, r.model) for r in decided)]
    chosen = select(summary, choice_scores(decided, None))
    wanted = set(first) | {u for u in units if (u.function, u.model) in chosen}
    return [u for u in units if u in wanted]
