"""Two result tables side by side: what changed, and whether it matters.

A side is a results directory (one experiment's run, a `reproduce` run, or the paper's numbers
in `results/paper/`) or one CSV of any experiment (`summary.csv`, `raw.csv`, `table.csv`, the
paper's `speed.csv` / `fit.csv`), read by `relukan_bench.compare_sides`. Rows are matched on
their keys and get a mark:

    +  worse beyond the threshold (and significant, where that can be tested)
    -  better beyond the threshold (and significant)
    ~  within the threshold, or not significant
    !  failed or diverged on one side only
    x  present on one side only

What is compared, per experiment:

- speed: ms per training step (lower is better). Where both sides have at least `MIN_REPEATS`
  raw repeats, a difference also needs a two-sided Mann-Whitney U test at p < `ALPHA`;
  otherwise the ratio alone decides, and the row says so. Against the paper: speedups over the
  baseline (higher is better), never seconds, since the paper's machine is unknown.
- fit: the median final test MSE over seeds; forgetting: learned MSE, final MSE and forgetting.
  Errors are compared as ratios (on a log scale) with a geometric-mean line per model; where a
  side has a range over seeds, a difference counts only if the two ranges do not overlap.

    base, new = load(Path("results/paper")), load(Path("results/reproduce/..."))  # compare_sides.load
    for comparison in compare(base, new, threshold=1.10): ...
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Sequence

from relukan_bench.compare_sides import comparisons, registered_experiments
from relukan_bench.errors import BenchError, ConfigError, UsageError
from relukan_bench.results import csv_text, write_output
from relukan_bench.sides import Entry, Side

if TYPE_CHECKING:
    from relukan_bench.experiments import protocol
    from relukan_bench.experiments.protocol import Experiment
    from relukan_bench.schema import Strict

MIN_REPEATS = 7
ALPHA = 0.01
GEOMEAN = "geomean"
ENV_FIELDS = ("cpu", "gpu", "torch", "pykan", "threads")
COLUMNS_TAIL = ("base", "new", "ratio", "mark", "metric", "p", "note")


@dataclass
class Row:
    keys: tuple[str, ...]
    metric: str
    base: float | None
    new: float | None
    ratio: float | None
    mark: str
    p: float | None = None
    note: str = ""


@dataclass
class Comparison:
    experiment: str
    metric_note: str
    keys: tuple[str, ...]
    rows: list[Row]
    summary: list[Row] = field(default_factory=list)  # geometric means
    warnings: list[str] = field(default_factory=list)
    tests: tuple[str, ...] = ()  # the metrics a significance test can decide (given raw repeats)

    @property
    def tested(self) -> bool:
        """Whether some row was decided with a significance test."""
        return any(row.p is not None for row in self.rows)

    @property
    def regressions(self) -> list[Row]:
        return [row for row in self.rows if row.mark == "+"]

# ----------------------------------------------------------------------------- comparing
def check_threshold(threshold: float) -> None:
    """UsageError unless `threshold` is a finite ratio above 1 (NaN or inf would let every
    change through, and turn the regression gate off)."""
    if not (math.isfinite(threshold) and threshold > 1.0):
        raise UsageError(f"--threshold: expected a finite ratio above 1, e.g. 1.10 (got {threshold})")


def compare(base: dict[str, Side], new: dict[str, Side], threshold: float = 1.10) -> list[Comparison]:
    """One comparison per experiment both inputs hold. UsageError when they share none."""
    check_threshold(threshold)
    shared = [name for name in registered_experiments() if name in base and name in new]
    if not shared:
        def what(sides: dict[str, Side]) -> str:
            return " and ".join(f"{s.experiment} {'numbers of the paper' if s.source == 'paper' else 'results'}"
                                for s in sides.values())

        unpublished = [name for name in {*base, *new} if not any(t.paper for t in comparisons()[name].tables)]
        reason = f"the paper reports no numbers for {unpublished[0]}" if unpublished and any(
            s.source == "paper" for s in [*base.values(), *new.values()]) else \
            "no experiment in common; expected results of the same experiment on both sides"
        where = [next(iter(sides.values())).path for sides in (base, new)]
        raise UsageError(f"BASE {where[0]} holds {what(base)}, NEW {where[1]} {what(new)}: {reason}")
    return [_compare_one(base[name], new[name], threshold) for name in shared]


def _compare_one(base: Side, new: Side, threshold: float) -> Comparison:
    exp, spec = registered_experiments()[base.experiment], comparisons()[base.experiment]
    paper = base.source == "paper" or new.source == "paper"
    metrics = [m for m in spec.chosen(paper) if m in base.metrics and m in new.metrics]
    if not metrics:
        raise UsageError(f"{base.label} and {new.label}: no {exp.name} measure in common "
                         f"(BASE has {', '.join(base.metrics) or 'none'}, NEW {', '.join(new.metrics) or 'none'})")
    if spec.first_only:
        metrics = metrics[:1]  # the first the sides share (speed: ms per step, else speedups)
    comparison = Comparison(exp.name, spec.note(metrics, paper), spec.keys, [], tests=spec.tested)
    comparison.warnings += (_environment_warnings(base, new) + _protocol_warnings(exp, base, new)
                            + _unfinished_warnings(exp, base, new))
    allowed: set[tuple[str, ...]] | None = None
    if paper and base.source != new.source:
        paper_side, run_side = (base, new) if base.source == "paper" else (new, base)
        allowed, warning = _paper_keys(spec, paper_side, run_side)
        if warning:
            comparison.warnings.append(warning)
    for metric in metrics:
        left, right = base.metrics[metric], new.metrics[metric]
        for key in dict.fromkeys([*left, *right]):
            note = ""
            a, b = left.get(key), right.get(key)
            if allowed is not None and key not in allowed:
                if (a is not None and base.source == "paper") or (b is not None and new.source == "paper"):
                    note = "the paper ran a different function"
                a = None if base.source == "paper" else a
                b = None if new.source == "paper" else b
            if a is None and b is None:
                continue
            row = _row(key, metric, a, b, threshold)
            if note:
                row.note = note
            comparison.rows.append(row)
    comparison.summary = _geomeans(comparison, threshold)
    return comparison


def _paper_keys(spec: protocol.Comparison, paper: Side, run: Side) -> tuple[set[tuple[str, ...]] | None, str]:
    """The paper's rows that ran the same function as the run (None: all, unchecked), and a
    warning when the run's function definitions could not be checked."""
    if run.config_path is None or paper.paper_rows is None:
        return None, f"{run.label}: no config.yaml beside it, so its functions were matched to the paper's by name only"
    try:
        return spec.paper_rows(paper.paper_rows, run.config_path), ""
    except BenchError:
        return None, f"{run.config_path}: unreadable, so the run's functions were matched to the paper's by name only"


def _rules() -> tuple[dict[str, bool], dict[str, float], set[str]]:
    """Per metric, over every experiment: higher is better, the floor of its ratios, tested."""
    higher: dict[str, bool] = {}
    floors: dict[str, float] = {}
    tested: set[str] = set()
    for spec in comparisons().values():
        higher.update(spec.higher_is_better)
        floors.update(spec.floors)
        tested.update(spec.tested)
    return higher, floors, tested


def _row(key: tuple[str, ...], metric: str, a: Entry | None, b: Entry | None, threshold: float) -> Row:
    base_value = a.value if a else None
    new_value = b.value if b else None
    if a is None or b is None:
        return Row(key, metric, base_value, new_value, None, "x", note="only in " + ("NEW" if a is None else "BASE"))
    a_bad, b_bad = a.failed or not math.isfinite(a.value), b.failed or not math.isfinite(b.value)
    if a_bad != b_bad:
        return Row(key, metric, base_value, new_value, _ratio(metric, a.value, b.value), "!",
                   note=("failed or diverged in " + ("BASE" if a_bad else "NEW")))
    if not (math.isfinite(a.value) and math.isfinite(b.value)):
        return Row(key, metric, base_value, new_value, None, "~", note="failed on both sides")
    ratio = _ratio(metric, a.value, b.value)
    if ratio is None:
        return Row(key, metric, base_value, new_value, None, "~", note="ratio undefined (zero or negative)")
    worse = ratio < 1 / threshold if _rules()[0][metric] else ratio > threshold
    better = ratio > threshold if _rules()[0][metric] else ratio < 1 / threshold
    p, note = None, ""
    if a.samples is not None and b.samples is not None and min(len(a.samples), len(b.samples)) >= MIN_REPEATS:
        from scipy.stats import mannwhitneyu

        p = float(mannwhitneyu(a.samples, b.samples, alternative="two-sided").pvalue)
        if (worse or better) and p >= ALPHA:
            return Row(key, metric, base_value, new_value, ratio, "~", p, f"not significant (p >= {ALPHA:g})")
    elif metric in _rules()[2]:
        note = f"ratio alone (fewer than {MIN_REPEATS} repeats on a side)"
    elif _overlap(metric, a, b):
        if worse or better:
            return Row(key, metric, base_value, new_value, ratio, "~", note="within the seeds' range")
    return Row(key, metric, base_value, new_value, ratio, "+" if worse else "-" if better else "~", p, note)


def _floor(metric: str, value: float) -> float:
    floor = _rules()[1].get(metric)
    return max(value, floor) if floor is not None else value


def _ratio(metric: str, base: float, new: float) -> float | None:
    base, new = _floor(metric, base), _floor(metric, new)
    if not (math.isfinite(base) and math.isfinite(new)) or base <= 0 or new <= 0:
        return None
    return new / base


def _overlap(metric: str, a: Entry, b: Entry) -> bool:
    """Whether the two sides' ranges over seeds (a single value counts as a point) overlap;
    False when neither side has a range (then the ratio alone decides)."""
    if a.low is None and b.low is None:
        return False

    def interval(entry: Entry) -> tuple[float, float]:
        low = entry.low if entry.low is not None else entry.value
        high = entry.high if entry.high is not None else entry.value
        return _floor(metric, low), _floor(metric, high)

    (a_low, a_high), (b_low, b_high) = interval(a), interval(b)
    return a_low <= b_high and b_low <= a_high


def _geomeans(comparison: Comparison, threshold: float) -> list[Row]:
    """Per model and metric (forgetting: per metric, over models), the geometric mean of the
    ratios of the rows both sides have and could divide."""
    groups: dict[tuple[tuple[str, ...], str], list[Row]] = {}
    for row in comparison.rows:
        if row.ratio is None or row.mark in ("x", "!"):
            continue
        group = row.keys[1:2] if len(comparison.keys) > 1 else ()  # per model, where rows have more keys
        groups.setdefault((group, row.metric), []).append(row)
    from statistics import geometric_mean

    summary = []
    for (group, metric), rows in groups.items():
        if len(rows) < 2:
            continue
        # Every row with a ratio has both values: the conditions below leave none out.
        ratio = geometric_mean([r.ratio for r in rows if r.ratio is not None])
        base = geometric_mean([_floor(metric, r.base) for r in rows if r.base is not None])
        new = geometric_mean([_floor(metric, r.new) for r in rows if r.new is not None])
        worse = ratio < 1 / threshold if _rules()[0][metric] else ratio > threshold
        better = ratio > threshold if _rules()[0][metric] else ratio < 1 / threshold
        keys = (GEOMEAN, *group, *[""] * (len(comparison.keys) - 1 - len(group)))
        summary.append(Row(keys, metric, base, new, ratio, "+" if worse else "-" if better else "~",
                           note=f"over {len(rows)} rows"))
    return summary


def _environment_warnings(base: Side, new: Side) -> list[str]:
    if base.source == "paper" or new.source == "paper":
        return ["the paper does not state its hardware or versions: only ratios between its own numbers carry over"]
    if base.env is None or new.env is None:
        missing = [side.label for side in (base, new) if side.env is None]
        return [f"no env.json beside {' or '.join(missing)}: the environments were not compared"]
    base_env, new_env = base.env, new.env
    differ = [f"{key} {base_env.get(key)!s} vs {new_env.get(key)!s}" for key in ENV_FIELDS
              if base_env.get(key) != new_env.get(key)]
    return ["the environments differ: " + "; ".join(differ)] if differ else []


#: How many config differences a warning names before it says "and N more".
SHOWN_DIFFERENCES = 6


def _protocol_warnings(exp: Experiment, base: Side, new: Side) -> list[str]:
    """What makes two runs' rows measure different things: a smoke run on either side, and
    the keys where their recorded configs differ (`train.steps: 5000 -> 20`)."""
    from relukan_bench.config import differences, load_config  # pydantic: off the CLI's import path

    sides = [side for side in (base, new) if side.source == "run"]
    found = [f"{side.label} is a smoke run (--quick): its numbers are not results"
             for side in sides if (side.env or {}).get("quick")]
    paths = [side.config_path for side in sides if side.config_path is not None]
    if len(sides) == 2 and len(paths) == 2:
        try:
            configs: list[Strict] = [load_config(path, [], exp.schema) for path in paths]
        except (ConfigError, OSError) as exc:
            return found + [f"the configs were not compared ({exc})"]
        differ = differences(*configs)
        if differ:
            more = f"; and {len(differ) - SHOWN_DIFFERENCES} more" if len(differ) > SHOWN_DIFFERENCES else ""
            found.append("the runs' configs differ, so their rows may measure different things: "
                         + "; ".join(differ[:SHOWN_DIFFERENCES]) + more)
    return found


def _unfinished_warnings(exp: Experiment, base: Side, new: Side) -> list[str]:
    """A run still being written, interrupted or killed: its rows are medians over the units
    that had finished, which may be fewer seeds or repeats than the other side's."""
    from relukan_bench.session import being_written  # session imports config (pydantic): off the CLI's path

    found = []
    for side in (base, new):
        if side.source != "run" or side.env is None:
            continue
        directory = side.path if side.path.is_dir() else side.path.parent
        if being_written(directory):
            why = "another process is writing it now"
        elif ("end_time" in side.env and side.env["end_time"] is None) or side.env.get("interrupted"):
            why = "it was interrupted or killed"
        else:
            continue
        found.append(f"{directory} is unfinished ({why}): its rows summarise only the units that had finished, "
                     f"perhaps over fewer seeds or repeats; to finish it: relukan-bench {exp.name} --resume {directory}")
    return found


# ----------------------------------------------------------------------------- output
def csv_columns(comparisons: Sequence[Comparison]) -> list[str]:
    """The key columns the experiments have (in the order function, model, device), then the
    values; `experiment` first when several experiments are compared."""
    keys = [k for k in ("function", "model", "device") if any(k in c.keys for c in comparisons)]
    return (["experiment"] if len(comparisons) > 1 else []) + keys + list(COLUMNS_TAIL)


def write_table(out: Path, comparisons: Sequence[Comparison], sides: Iterable[dict[str, Side]]) -> None:
    """`--out`: the comparisons as CSV, written atomically; refused (UsageError) where `out` is
    not a regular file or a new path, or is a file the comparison read (`sides`' files)."""
    inputs = [path for found in sides for side in found.values() for path in side.files]
    write_output(out, csv_text(csv_columns(comparisons), csv_rows(comparisons)), inputs, replace=True, what="--out")


def csv_rows(comparisons: Sequence[Comparison]) -> list[dict[str, str | float | None]]:
    rows = []
    for comparison in comparisons:
        for row in [*comparison.rows, *comparison.summary]:
            record: dict[str, str | float | None] = {"experiment": comparison.experiment, **dict(zip(comparison.keys, row.keys))}
            record.update(base=row.base, new=row.new, ratio=row.ratio, mark=row.mark, metric=row.metric, p=row.p,
                          note=row.note)
            rows.append(record)
    return rows
