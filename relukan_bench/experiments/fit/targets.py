"""Time to a target: for every fit run, the first logged step at which the validation MSE is at
or below each of TARGETS, and for every (function, model entry) that many steps (the median
over its seeds) times the model's median training time per step.

"Not reached" is a value, not a gap: a run that never gets there counts as infinitely many
steps (written `inf`), so the median over seeds is infinite when most seeds miss, and the
summary's `reached_eN` counts the seeds that did.

The step time is, where the config names a speed run (`step_times`; a relative path names a
directory beside the fit run's, as `reproduce` writes its parts) that timed the same model
entry on the same shape, batch and device, that run's median time per step (its method:
warm-up, repeats, one thread; docs/methodology.md); otherwise this run's own: each run's
training wall time over its steps (the errors it logs every step included), the median over
the seeds. `step_source` says which.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from relukan_bench.experiments.fit.plan import trainer
from relukan_bench.experiments.fit.records import RunResult, SummaryRecord
from relukan_bench.results import read_csv
from relukan_bench.stats import median

if TYPE_CHECKING:
    from relukan_bench.experiments.fit.config import FitConfig
    from relukan_bench.schema import ModelEntry

#: (fit function, fit model entry, device) -> seconds per step; the device is None where a speed
#: run's summary.csv has no device column (it is read loosely: `speed_step_times`)
StepSeconds = dict[tuple[str, str, str | None], float]

#: the validation MSE levels the summary reports the steps and the time to
TARGETS = (1e-2, 1e-3, 1e-4, 1e-5)
#: `step_source` of a step time measured by the fit run itself
THIS_RUN = "this run"


def suffix(target: float) -> str:
    """A target's column suffix: 1e-4 -> "e4"."""
    return f"e{round(-math.log10(target))}"


#: the summary's columns that hold a measured time (they differ from run to run, as `seconds` does)
TIMED = ("step_s", *(f"time_{suffix(t)}" for t in TARGETS))


def first_step(steps: Sequence[int], values: Sequence[float], target: float) -> float:
    """The first logged step whose value is at or below `target` (inf: never)."""
    return next((float(step) for step, value in zip(steps, values) if value <= target), math.inf)


def run_steps(steps: Sequence[int], values: Sequence[float]) -> dict[str, float]:
    """A run's steps to every target, by column suffix."""
    return {suffix(t): first_step(steps, values, t) for t in TARGETS}


def summary_columns(results: Sequence[RunResult], summary: Sequence[SummaryRecord], timed: StepSeconds) -> None:
    """Fill every summary record's steps_eN (median over the seeds that did not fail), reached_eN,
    step_s, step_source and time_eN. `timed`: (function, model, device) -> seconds per step
    from a speed run, where one applies."""
    groups: dict[tuple[str, str], list[RunResult]] = {}
    for result in results:
        run = result.run
        if not run.error or run.diverged:
            groups.setdefault((run.function, run.model), []).append(result)
    for record in summary:
        group = groups.get((record.function, record.model), [])
        reached = [run_steps(r.steps, r.val_mse) for r in group]
        own = median([r.run.seconds / r.run.steps_done for r in group if r.run.steps_done])
        device = group[0].run.device if group else None
        timed_step = timed.get((record.function, record.model, device))
        step_s, record.step_source = (timed_step, "speed run") if timed_step is not None else (own, THIS_RUN)
        record.step_s = step_s
        for target in TARGETS:  # the columns of each target (SummaryRecord: steps_e2 .. time_e5), by name
            key = suffix(target)
            steps = median([r[key] for r in reached])
            setattr(record, f"steps_{key}", steps)
            setattr(record, f"reached_{key}", sum(not math.isinf(r[key]) for r in reached))
            setattr(record, f"time_{key}", steps * step_s if not math.isinf(steps) else math.inf)


def speed_run(config: FitConfig, run_dir: Path) -> tuple[Path | None, str | None]:
    """The speed run `config.step_times` names (a relative path: beside `run_dir`), or None
    with a warning saying why this run's own step times are used instead."""
    # lazy, as in speed_step_times: fit/config.py imports pydantic, kept out of the CLI's start
    from relukan_bench.experiments.fit.config import is_speed_run

    if config.step_times is None:
        return None, None
    where = Path(config.step_times)
    where = where if where.is_absolute() else Path(run_dir).parent / where
    if is_speed_run(where):
        return where, None
    return None, f"step_times: no speed run at {where}; the times to a target use this run's own step times"


def speed_step_times(config: FitConfig, run_dir: Path | None) -> StepSeconds:
    """(fit function, fit model entry, device) -> seconds per step, from the speed run
    `run_dir` (None: none): where it timed an entry defined as this one (name, lr and tuning
    aside, Adam only) on a function of the same width, grid and k, at the fit's training batch."""
    if run_dir is None:
        return {}
    # lazy: both import pydantic, kept out of the CLI's start
    from relukan_bench.config import load_config
    from relukan_bench.experiments.speed.config import SpeedConfig

    speed = load_config(run_dir / "config.yaml", [], SpeedConfig)
    if speed.data.samples != config.data.train_samples:
        return {}
    # (speed function, model) -> device -> seconds per step
    timed: dict[tuple[str | None, str | None], dict[str | None, float]] = {}
    for row in read_csv(run_dir / "summary.csv"):  # read loosely: a speed run of any version has these columns
        ms = _number(row.get("ms_per_step"))
        if ms is not None and not row.get("too_slow"):
            timed.setdefault((row.get("function"), row.get("model")), {})[row.get("device")] = ms / 1000
    found: StepSeconds = {}
    for function in config.functions:
        shape = next((f for f in speed.functions if (list(f.width), f.grid, f.k) == (list(function.width), function.grid, function.k)), None)
        if shape is None:
            continue
        for entry in config.models:
            twin = next((m for m in speed.models if m.name == config.origin(entry.name)[0]), None)
            if twin is not None and trainer(entry) == "loop" and _definition(entry) == _definition(twin):
                found.update({(function.name, entry.name, device): seconds
                              for device, seconds in timed.get((shape.name, twin.name), {}).items()})
    return found


def _definition(entry: ModelEntry) -> dict[str, object]:
    return entry.model_dump(exclude={"name", "lr"})


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None
