"""The catastrophic-forgetting experiment (docs/paper.md, "Catastrophic forgetting").

The target is `segments` Gaussian bumps side by side, one per segment of evenly spaced
points. Phase i trains only on segment i; one optimizer is kept across phases unless the
config resets it. After every phase the model is evaluated on every point, which gives a
phase x segment matrix of MSEs per model and seed (phase 0 is the model before training):

    M[i, j] = MSE on segment j after phase i          (i = 0..S, j = 1..S)

and from it, per run:

- learned_mse: mean over j of M[j, j], how well each segment was learned when it was trained;
- final_mse: mean over j of M[S, j], the MSE over the whole target at the end;
- forgetting: mean over j < S of M[S, j] - M[j, j], how much was lost of what was learned;
- max_forgetting: the largest of those increases;
- forgotten_fraction: sum over j < S of M[S, j] - M[j, j], divided by the sum over j < S of
  M[j-1, j] - M[j, j]: the share of what the phases gained on their own segments that is gone
  at the end (0: all kept; 1: back to where it was before; above 1: worse than that). A ratio
  of sums, so a segment that was hardly learned cannot blow it up; NaN when the phases gained
  nothing in sum.

A model that learns nothing forgets nothing: read forgetting beside learned_mse, or read the
fraction. Predicting 0 everywhere gives each segment an MSE of `zero_mse(data)` (about 0.18
for the paper's bumps), so a forgetting of that size means a segment was wiped out.

A ReLU-KAN's seeds train at once, as one batched model (`models.batched`), when there are
several and `train.batch_seeds` is on; such runs record `batched` = the number of seeds trained
together and, as `seconds`, their equal share of the group's time.

    for result in iter_forgetting(config, "cpu"): ...   # one RunResult per (seed, model)
    summary = summarize([r.run for r in results])
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

from relukan_bench.experiments.protocol import CompareTable, Experiment, Option, Part, rows_by_unit, seed_list
from relukan_bench.records import Record
from relukan_bench.stats import median

if TYPE_CHECKING:
    from relukan_bench.config import ForgettingConfig, ForgettingDataSpec
    import torch

@dataclass
class MatrixRecord(Record):
    """matrix.csv: one segment's MSE after one phase of one run."""

    model: str
    seed: int
    phase: int
    segment: int
    mse: float


@dataclass
class PredictionRecord(Record):
    """predictions.csv: one point after one phase of one run."""

    model: str
    seed: int
    phase: int
    index: int
    x: float
    y_true: float
    y_pred: float


@dataclass
class CurveRecord(Record):
    """curves.csv: one segment's MSE at one logged step of one run."""

    model: str
    seed: int
    step: int
    phase: int
    segment: int
    mse: float


@dataclass
class RunRecord(Record):
    """runs.csv: one run through every phase."""

    model: str
    kind: str
    seed: int
    init_seed: int
    device: str
    threads: int
    phases: int
    steps_per_phase: int
    phases_done: int
    diverged: bool
    diverged_phase: int | None
    learned_mse: float
    final_mse: float
    forgetting: float
    max_forgetting: float
    forgotten_fraction: float
    seconds: float
    params: int | None
    batched: int
    compile_seconds: float
    error: str | None


@dataclass
class SummaryRecord(Record):
    """summary.csv: the seeds of one model."""

    model: str
    kind: str
    n_seeds: int
    failed: int
    diverged: int
    params: int | None
    learned_mse: float
    final_mse: float
    final_mse_min: float
    final_mse_max: float
    forgetting: float
    forgetting_min: float
    forgetting_max: float
    max_forgetting: float
    forgotten_fraction: float
    forgotten_fraction_min: float
    forgotten_fraction_max: float
    seconds: float
    sized: str | None = None  # how the entry's own k and its match sized it (kinds.size_row); None: neither


#: the tables' columns and types, for the writers and the one reader (results.read_records)
MATRIX_TYPES, PREDICTION_TYPES, CURVE_TYPES = MatrixRecord.types(), PredictionRecord.types(), CurveRecord.types()
RUN_TYPES = RunRecord.types()
MATRIX_COLUMNS, PREDICTION_COLUMNS, CURVE_COLUMNS = list(MATRIX_TYPES), list(PREDICTION_TYPES), list(CURVE_TYPES)
RUN_COLUMNS = list(RUN_TYPES)
SUMMARY_COLUMNS = SummaryRecord.columns()

@dataclass(frozen=True)
class Unit:
    """One run: a fresh `model`, initialised from `seed`, taken through every phase."""

    seed: int
    model: str


@dataclass
class RunResult:
    """What one run produced: its RUN_COLUMNS record and the rows of the other tables."""

    run: dict[str, Any]
    matrix: list[dict[str, Any]] = field(default_factory=list)
    predictions: list[dict[str, Any]] = field(default_factory=list)
    curves: list[dict[str, Any]] = field(default_factory=list)


def key(row: dict[str, Any]) -> Unit:
    """The unit a row of any of the per-run logs belongs to."""
    return Unit(int(row["seed"]), row["model"])


def plan(config: ForgettingConfig) -> list[Unit]:
    """Every run in the order it runs: per model, the seeds one after another (so that a
    model's seeds can train together)."""
    return [Unit(seed, model.name) for model in config.models for seed in config.seeds]


def together(unit: Unit) -> str:
    """What units must share to train at once (as one batched model): the model."""
    return unit.model


# ----------------------------------------------------------------------------- the target
def target(data: ForgettingDataSpec) -> tuple["torch.Tensor", "torch.Tensor"]:
    """x (points, 1) and y (points, 1), float32: x_j = low + (high - low) j / points; in each
    segment x is rescaled to u in [-1, 1] (by the segment's own min and max, as the paper's
    code does) and y = exp(-(sigma u)^2 / 2) / (sigma sqrt(2 pi)) / scale."""
    import torch

    low, high = data.domain
    x = low + (high - low) * torch.arange(data.points, dtype=torch.float64) / data.points
    pieces = x.view(data.segments, -1)  # (S, n)
    lo, hi = pieces.min(dim=1, keepdim=True).values, pieces.max(dim=1, keepdim=True).values
    u = 2 * (pieces - lo) / (hi - lo) - 1
    y = torch.exp(-((data.sigma * u) ** 2) / 2) / (data.sigma * math.sqrt(2 * math.pi)) / data.scale
    return x.float().unsqueeze(1), y.reshape(-1).float().unsqueeze(1)


def zero_mse(data: ForgettingDataSpec) -> float:
    """The MSE on one segment of a model that predicts 0 there (all segments are alike)."""
    _, y = target(data)
    return float((y.view(data.segments, -1)[0].double() ** 2).mean())


# ----------------------------------------------------------------------------- the metric
@dataclass(frozen=True)
class Scores:
    learned_mse: float
    final_mse: float
    forgetting: float
    max_forgetting: float
    forgotten_fraction: float


def scores(matrix: Sequence[Sequence[float]]) -> Scores:
    """The run's numbers from its (S + 1) x S matrix: `matrix[0][j]` the MSE on segment j + 1
    before training, `matrix[i][j]` after phase i. See the module docstring."""
    size = len(matrix) - 1
    if size < 2 or any(len(row) != size for row in matrix):
        raise ValueError(f"expected S + 1 rows of S values, S >= 2 (got {len(matrix)} rows of {[len(r) for r in matrix]})")
    last = matrix[-1]
    learned = [matrix[j + 1][j] for j in range(size)]  # right after its own phase
    increases = [last[j] - learned[j] for j in range(size - 1)]
    gains = [matrix[j][j] - learned[j] for j in range(size - 1)]  # what phase j + 1 did for segment j + 1
    return Scores(
        learned_mse=sum(learned) / size,
        final_mse=sum(last) / size,
        forgetting=sum(increases) / len(increases),
        max_forgetting=max(increases),
        forgotten_fraction=sum(increases) / sum(gains) if sum(gains) > 0 else math.nan,
    )


# ----------------------------------------------------------------------------- running
Progress = Callable[[Unit, int, float], None]


def iter_forgetting(config: ForgettingConfig, device: str, on_progress: Progress | None = None,
                    units: Sequence[Unit] | None = None) -> Iterator[RunResult]:
    """Run `units` (default: the whole plan) on `device`; yield a RunResult as each finishes.

    `on_progress(unit, steps_done, train_mse)` is called after every phase. A run that raises
    is a failed run: its record says why in `error` and the others go on (a run whose loss
    stops being finite is recorded as diverged)."""
    from relukan_bench.experiments.seed_groups import run_groups

    x, y = target(config.data)
    x, y = x.to(device), y.to(device)
    yield from run_groups(
        plan(config), units, config, together,
        lambda group, spec, progress: run_group(config, group, spec, x, y, device, progress),
        lambda unit, spec, error: failed_run(config, unit, spec, device, error), on_progress,
    )


def failed_run(config: ForgettingConfig, unit: Unit, spec: Any, device: str, error: str) -> RunResult:
    """The record of a run that raised: who it was and why, no numbers."""
    import torch

    from relukan_bench.seeding import derive_seed

    return RunResult(RunRecord.blank(
        model=unit.model, kind=spec.kind, seed=unit.seed, init_seed=derive_seed(unit.seed, "init", "forgetting"),
        device=device, threads=torch.get_num_threads(), phases=config.data.segments,
        steps_per_phase=config.train.steps_per_phase, diverged=False, error=error,
    ))


def run_one(config: ForgettingConfig, unit: Unit, spec: Any, x: "torch.Tensor", y: "torch.Tensor", device: str,
            on_progress: Callable[[int, float], None] | None = None) -> RunResult:
    """Train one fresh model through every phase; evaluate it on every segment after each."""
    return run_group(config, [unit], spec, x, y, device, on_progress)[0]


def run_group(config: ForgettingConfig, units: Sequence[Unit], spec: Any, x: "torch.Tensor", y: "torch.Tensor",
              device: str, on_progress: Callable[[int, float], None] | None = None) -> list[RunResult]:
    """Train the seeds of `units` (one model entry) through every phase, as one batched model
    when there are several, and evaluate each seed on every segment after each phase. A seed
    whose loss stops being finite stops there; the others go on."""
    import torch

    from relukan_bench.seeding import derive_seed
    from relukan_bench.timing import clock
    from relukan_bench.training import prepare, step_for

    init_seeds = [derive_seed(unit.seed, "init", "forgetting") for unit in units]
    group = _Group(config, units, spec, init_seeds, x, y, device)
    with torch.no_grad():
        before = group.predict()
    for s, unit in enumerate(units):
        group.results[s].matrix += _matrix_rows(unit, 0, _segment_mse(before[s], y, config.data.segments).tolist(), group.matrices[s])
    step = step_for(spec, group.model, config.train, *group.segment(1))
    compile_seconds = prepare(spec, step)  # compile and CUDA-graph capture, outside the clock
    start = clock(device)
    for phase in range(1, config.data.segments + 1):
        if phase > 1:
            step.set_data(*group.segment(phase))
            if config.train.reset_optimizer:
                step.reset_optimizer()  # else one optimizer across phases (the paper)
        losses = group.phase(phase, step)
        if not group.alive:
            break
        if on_progress is not None:
            on_progress(phase * config.train.steps_per_phase, float(losses[-1, group.alive].median()))
    seconds = (clock(device) - start) / len(units)
    for s, unit in enumerate(units):
        group.results[s].run = group.run_record(s, unit, seconds, compile_seconds)
    return group.results


class _Group:
    """The seeds of one model entry going through the phases together: their model (batched
    when there are several), data, matrices and records so far."""

    def __init__(self, config: ForgettingConfig, units: Sequence[Unit], spec: Any, init_seeds: list[int],
                 x: "torch.Tensor", y: "torch.Tensor", device: str):
        from relukan_bench.kinds import build_model, kind_of
        from relukan_bench.models import count_parameters

        self.config, self.units, self.spec, self.init_seeds, self.x, self.y = config, units, spec, init_seeds, x, y
        self.device, self.count = device, len(units)
        members = [build_model(spec, config.network, tuple(config.data.domain), seed) for seed in init_seeds]
        self.params = count_parameters(members[0])
        if self.count > 1:
            self.model = kind_of(spec).batch(members).to(device)
            self.xs, self.ys = x.expand(self.count, -1, -1), y.expand(self.count, -1, -1)  # every seed sees the same data
        else:
            self.model = members[0].to(device)
            self.xs, self.ys = x, y
        self.results = [RunResult(run={}) for _ in units]
        self.matrices: list[list[list[float]]] = [[] for _ in units]
        self.alive = list(range(self.count))  # the seeds that have not diverged
        self.diverged_phase: list[int | None] = [None] * self.count

    def predict(self) -> "torch.Tensor":
        """Every seed's prediction on every point, (S, N, 1)."""
        return self.model(self.xs) if self.count > 1 else self.model(self.x).unsqueeze(0)

    def segment(self, phase: int) -> tuple["torch.Tensor", "torch.Tensor"]:
        size = self.config.data.points // self.config.data.segments
        part = slice((phase - 1) * size, phase * size)
        return self.xs[..., part, :], self.ys[..., part, :]

    def phase(self, phase: int, step: Any) -> "torch.Tensor":
        """Train one phase; record each living seed's matrix row, predictions and curves;
        return the phase's losses (steps, S) on the CPU."""
        import torch

        steps, segments = self.config.train.steps_per_phase, self.config.data.segments
        losses = torch.empty(steps, self.count, dtype=torch.float64, device=self.x.device)
        logged: list[tuple[int, torch.Tensor]] = []  # (global step, (S, segments) MSE on the device)
        for i in range(steps):
            losses[i] = step().reshape(-1)
            if (i + 1) % self.config.train.log_every == 0 or i + 1 == steps:
                with torch.no_grad():
                    logged.append(((phase - 1) * steps + i + 1, _segment_mse(self.predict(), self.ys, segments)))
        losses = losses.cpu()  # the phase's one read-back from the device
        with torch.no_grad():
            prediction = self.predict()
        per_segment = _segment_mse(prediction, self.ys, segments).tolist()  # (S, segments)
        for s in list(self.alive):
            if not bool(torch.isfinite(losses[:, s]).all()):
                self.diverged_phase[s] = phase
                self.alive.remove(s)
                continue
            self._record(s, phase, per_segment[s], prediction[s, :, 0].tolist(), logged)
        return losses

    def _record(self, s: int, phase: int, per_segment: list[float], predicted: list[float],
                logged: list[tuple[int, "torch.Tensor"]]) -> None:
        unit, result = self.units[s], self.results[s]
        result.matrix += _matrix_rows(unit, phase, per_segment, self.matrices[s])
        result.predictions += [
            PredictionRecord(model=unit.model, seed=unit.seed, phase=phase, index=i, x=xi, y_true=t, y_pred=p).row()
            for i, (xi, t, p) in enumerate(zip(self.x[:, 0].tolist(), self.y[:, 0].tolist(), predicted))
        ]
        result.curves += [
            CurveRecord(model=unit.model, seed=unit.seed, step=at, phase=phase, segment=j + 1, mse=mse).row()
            for at, values in logged
            for j, mse in enumerate(values[s].tolist())
        ]

    def run_record(self, s: int, unit: Unit, seconds: float, compile_seconds: float) -> dict[str, Any]:
        import torch

        diverged = self.diverged_phase[s]
        numbers = scores(self.matrices[s]) if diverged is None else Scores(*[math.nan] * 5)
        return RunRecord(
            model=unit.model, kind=self.spec.kind, seed=unit.seed, init_seed=self.init_seeds[s],
            device=self.device, threads=torch.get_num_threads(), phases=self.config.data.segments,
            steps_per_phase=self.config.train.steps_per_phase, phases_done=len(self.matrices[s]) - 1,
            diverged=diverged is not None, diverged_phase=diverged,
            learned_mse=numbers.learned_mse, final_mse=numbers.final_mse, forgetting=numbers.forgetting,
            max_forgetting=numbers.max_forgetting, forgotten_fraction=numbers.forgotten_fraction,
            seconds=seconds, params=self.params, batched=self.count, compile_seconds=compile_seconds,
            error=f"the loss is not finite in phase {diverged}" if diverged is not None else None,
        ).row()


def _matrix_rows(unit: Unit, phase: int, per_segment: list[float], matrix: list[list[float]]) -> list[dict[str, Any]]:
    """Append the phase's row to `matrix`; return it as MATRIX_COLUMNS rows."""
    matrix.append(per_segment)
    return [
        MatrixRecord(model=unit.model, seed=unit.seed, phase=phase, segment=j + 1, mse=mse).row()
        for j, mse in enumerate(per_segment)
    ]


def _segment_mse(prediction: "torch.Tensor", y: "torch.Tensor", segments: int) -> "torch.Tensor":
    """float64 MSE of `prediction` (N, 1) on every segment, (segments,); for a batch of
    predictions (S, N, 1), (S, segments). Left on the device."""
    squared = (prediction.double() - y.double()) ** 2
    return squared.reshape(*squared.shape[:-2], segments, -1).mean(dim=-1)


# ----------------------------------------------------------------------------- statistics
def summarize(runs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per model, medians across seeds. A diverged run counts as infinite; runs that
    raised count in `failed` (with the diverged ones) and are left out of the numbers."""
    from relukan_bench.experiments.seed_groups import over_seeds, unbounded as _value

    summary = []
    for model, group in over_seeds(runs, lambda run: run["model"]).items():
        rows = group.rows
        finals = [_value(r, "final_mse") for r in rows]
        forgetting = [_value(r, "forgetting") for r in rows]
        fractions = [_value(r, "forgotten_fraction") for r in rows if r["diverged"] or r["forgotten_fraction"] == r["forgotten_fraction"]]
        summary.append(SummaryRecord(
            model=model,
            kind=group.first["kind"],
            n_seeds=len(rows),
            failed=group.failed,
            diverged=sum(bool(r["diverged"]) for r in rows),
            params=rows[0]["params"] if rows else None,
            learned_mse=median([_value(r, "learned_mse") for r in rows]),
            final_mse=median(finals),
            final_mse_min=min(finals, default=math.nan),
            final_mse_max=max(finals, default=math.nan),
            forgetting=median(forgetting),
            forgetting_min=min(forgetting, default=math.nan),
            forgetting_max=max(forgetting, default=math.nan),
            max_forgetting=median([_value(r, "max_forgetting") for r in rows]),
            forgotten_fraction=median(fractions),
            forgotten_fraction_min=min(fractions, default=math.nan),
            forgotten_fraction_max=max(fractions, default=math.nan),
            seconds=median([r["seconds"] for r in rows]),
        ).row())
    return summary


def representative_seed(runs: Sequence[dict[str, Any]], model: str) -> int | None:
    """The seed whose forgetting is the median of the model's runs (the lower of the two
    middle ones for an even count); None when every run diverged."""
    from relukan_bench.experiments.seed_groups import representative_seed as median_seed

    return median_seed(runs, "forgetting", model=model)


def median_matrix(matrix_rows: Sequence[dict[str, Any]], model: str) -> list[list[float]]:
    """The model's (S + 1) x S matrix (phase 0 first), each cell the median across seeds (NaN
    where no seed reached that phase)."""
    cells: dict[tuple[int, int], list[float]] = defaultdict(list)
    size = 0
    for row in matrix_rows:
        if row["model"] == model:
            cells[(row["phase"], row["segment"])].append(row["mse"])
            size = max(size, row["segment"])
    return [[median(cells.get((i, j), [])) for j in range(1, size + 1)] for i in range(0, size + 1)]


def curve_medians(curve_rows: Sequence[dict[str, Any]], model: str) -> dict[int, tuple[list[int], list[float]]]:
    """Per segment: the logged steps and the median across seeds of its MSE at each."""
    cells: dict[int, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for row in curve_rows:
        if row["model"] == model:
            cells[row["segment"]][row["step"]].append(row["mse"])
    return {
        segment: (sorted(by_step), [median(by_step[s]) for s in sorted(by_step)])
        for segment, by_step in sorted(cells.items())
    }


def growth(matrix: Sequence[Sequence[float]]) -> dict[str, Any]:
    """What heatmap.png draws of a `median_matrix`: for phases 1..S (rows) and segments
    (columns), log10(MSE after the phase / MSE right after the segment's own phase), None
    before that phase (the segment not trained yet); `own`: the MSE right after each
    segment's own phase. NaN where a value is missing or not positive."""
    def log_ratio(value: float, own: float) -> float:
        return math.log10(value / own) if 0 < value < math.inf and 0 < own < math.inf else math.nan

    own = [matrix[s + 1][s] for s in range(len(matrix) - 1)]
    rows = [[log_ratio(matrix[p][s], own[s]) if s < p else None for s in range(len(own))] for p in range(1, len(matrix))]
    return {"log10": rows, "own": own}


# ----------------------------------------------------------------------------- figures
def figures(run_dir: Any, config: ForgettingConfig, results: Sequence[RunResult]) -> None:
    """Per model the paper's panel figure; for all models the growth heatmaps and the curves."""
    from relukan_bench import plots
    from relukan_bench.kinds import looks

    x, y = target(config.data)
    runs = [r.run for r in results]
    named = {m: look for m, look in looks(config.models).items() if any(r["model"] == m for r in runs)}
    for model in named:
        predictions: dict[int, dict[int, list[float]]] = {}  # seed -> phase -> y_pred
        for result in results:
            if result.run["model"] == model:
                by_phase = predictions.setdefault(result.run["seed"], {})
                for row in result.predictions:
                    by_phase.setdefault(row["phase"], []).append(row["y_pred"])
        plots.plot_forgetting_panels(named[model].label, x[:, 0].tolist(), y[:, 0].tolist(), config.data.segments,
                                     predictions, representative_seed(runs, model), run_dir / f"panels_{model}.png")
    matrix_rows = [row for r in results for row in r.matrix]
    plots.plot_forgetting_heatmaps({m: growth(median_matrix(matrix_rows, m)) for m in named}, named, run_dir / "heatmap.png")
    curve_rows = [row for r in results for row in r.curves]
    plots.plot_forgetting_curves({m: curve_medians(curve_rows, m) for m in named}, named, config.train.steps_per_phase,
                                 run_dir / "curves.png")


# ----------------------------------------------------------------------------- the declaration
class Forgetting(Experiment):
    name, rank, title = "forgetting", 2, "Catastrophic forgetting"
    report = f"{__name__}.report"  # its REPORT.md part: RULE, section, verdict
    claim = "ReLU-KAN avoids catastrophic forgetting"
    help = ("Learn five Gaussian peaks one after another and measure how much each model forgets.\n\n"
            "Writes config.yaml, env.json, runs.csv (one row per model and seed), matrix.csv (MSE on every segment after "
            "every phase), predictions.csv, curves.csv, summary.csv (medians over seeds: learned, final MSE, forgetting) "
            "and PNG figures (the paper's panels per model, heatmap.png, curves.png) into "
            "results/forgetting/<UTC timestamp>/.")
    quick_help = "Smoke run: every model, 10 steps per phase, one seed."
    quick = ("train.steps_per_phase=10", "seeds=[0]")

    @property
    def schema(self) -> type:
        from relukan_bench.config import ForgettingConfig

        return ForgettingConfig

    tables = {"matrix": MatrixRecord, "predictions": PredictionRecord, "curves": CurveRecord, "runs": RunRecord}
    summaries = {"summary": SummaryRecord}
    parts = (Part("forgetting-peers", "forgetting", "forgetting-peers", "which of the field's KANs forgets least",
                  flag="peers"),)
    units_name = "training runs"
    selects = ("models",)

    options = (Option("--seeds", "seeds", "Seeds of initialisation, e.g. 0,1,2: one run of every phase per seed.",
                      convert=seed_list),)

    compare_keys = ("model",)
    compare_metrics = ("learned_mse", "final_mse", "forgetting")
    higher_is_better = {"learned_mse": False, "final_mse": False, "forgetting": False}
    #: forgetting can be zero or negative (a later phase helped an earlier segment); ratios are
    #: taken of max(forgetting, 1e-4), about 0.06% of a wiped-out segment's MSE.
    floors = {"forgetting": 1e-4}

    @property
    def compare_tables(self) -> tuple[CompareTable, ...]:
        from relukan_bench.experiments.forgetting import compare as read

        return (CompareTable("summary.csv", frozenset({"model", "learned_mse", "final_mse", "forgetting", "n_seeds"}),
                             read.forgetting_summary),)

    def compare_note(self, metrics: Sequence[str], paper: bool) -> str:
        floor = self.floors["forgetting"]
        return (f"learned MSE, final MSE and forgetting, medians over seeds (lower is better), compared as ratios on a "
                f"log scale; forgetting below {floor:g} counts as {floor:g}")

    def shapes(self, config: ForgettingConfig) -> list[Any]:
        return [config.network]

    def demand(self, config: ForgettingConfig, devices: Sequence[str]) -> Any:
        from relukan_bench.limits import Demand

        data, train = config.data, config.train
        units = len(config.models) * len(config.seeds)
        from relukan_bench.kinds import kind_of

        at_once = len(config.seeds) if train.batch_seeds and any(kind_of(m).batch for m in config.models) else 1
        steps = data.segments * train.steps_per_phase
        return Demand(units, "models x seeds", units * steps * data.points,
                      "those units x data.segments x train.steps_per_phase x data.points",
                      data.points * at_once, "data.points" + (" x seeds (trained at once)" if at_once > 1 else ""),
                      units * (steps // train.log_every + data.segments) * data.segments,
                      "those units x (data.segments x train.steps_per_phase / train.log_every) x data.segments")

    def plan(self, config: ForgettingConfig, devices: Sequence[str]) -> list[Unit]:
        return plan(config)

    def key(self, row: dict[str, Any]) -> Unit:
        return key(row)

    def steps(self, config: ForgettingConfig) -> int:
        return config.data.segments * config.train.steps_per_phase

    def execute(self, config: ForgettingConfig, devices: Sequence[str], units: Sequence[Unit], progress: Any) -> Iterator[RunResult]:
        return iter_forgetting(config, devices[0], progress, units)

    def tasks(self, config: ForgettingConfig, units: Sequence[Unit]) -> list[list[Unit]]:
        from relukan_bench.experiments.seed_groups import tasks

        return tasks(plan(config), units, config, together)

    def rows(self, result: RunResult) -> dict[str, list[dict[str, Any]]]:
        return {"matrix": result.matrix, "predictions": result.predictions, "curves": result.curves, "runs": [result.run]}

    def rebuild(self, loaded: dict[str, list[dict[str, Any]]]) -> list[RunResult]:
        return [RunResult(run, matrix=rows["matrix"], predictions=rows["predictions"], curves=rows["curves"])
                for run, rows in rows_by_unit(loaded, "runs", key)]

    def failure(self, result: RunResult) -> str | None:
        run = result.run
        return f"{run['model']} seed {run['seed']}: {run['error']}" if run.get("error") else None

    def label(self, unit: Unit) -> str:
        return f"{unit.model} seed {unit.seed}"

    def summarize(self, run_dir: Any, config: ForgettingConfig, results: Sequence[RunResult], context: Any) -> dict[str, Any]:
        from relukan_bench.kinds import size_row
        from relukan_bench.results import write_csv

        summary = summarize([r.run for r in results])
        entries = {m.name: m for m in config.models}
        for row in summary:  # from the config, not the logs: runs logged before the column existed resume as they were
            row["sized"] = size_row(entries[row["model"]], config.network)["sized"] if row["model"] in entries else None
        write_csv(run_dir / "summary.csv", SUMMARY_COLUMNS, summary)
        return {"summary": summary}

    def figures(self, run_dir: Any, config: ForgettingConfig, results: Sequence[RunResult], shown: dict[str, Any]) -> None:
        if any(r.matrix for r in results):
            figures(run_dir, config, [r for r in results if r.matrix])

    def show(self, outcome: Any) -> list[Any]:
        from relukan_bench.tables import to_rich

        config = outcome.config
        return [to_rich(summary_table(outcome.shown["summary"], zero_mse(config.data), config.data.segments, config.train.steps_per_phase,
                                      config.train.lr, {m.name: m.kind for m in config.models}))]



EXPERIMENT = Forgetting()


# ----------------------------------------------------------------------------- the table
def summary_table(summary: Sequence[dict[str, Any]], zero: float, segments: int, steps: int, lr: float,
                  kinds: dict[str, str]) -> Any:
    """The one table of a forgetting run (terminal and REPORT.md): per model, how well it
    learned each segment, its final error and how much it forgot, medians over seeds with
    the range over seeds of forgetting and of the forgotten fraction. `kinds`: what the kind
    column shows per model (its kind's name, or in the report its label)."""
    from relukan_bench import fmt
    from relukan_bench.tables import Cell, Column, Table

    table = Table(
        f"Sequential learning of {segments} segments, {steps} steps each at lr {lr}: medians over seeds",
        "learned: mean MSE on each segment right after its own phase; forgetting: the mean increase of that MSE by "
        f"the end (segments 1-{segments - 1}); forgotten: the share of what the phases gained that is lost by the end. "
        f"Predicting 0 on a segment gives MSE {zero:.3f}.",
        [Column("model", right=False), Column("kind", right=False), Column("params"), Column("learned\nMSE"),
         Column("final\nMSE"), Column("forgetting\n[seed range]", bold=True), Column("max\nforgetting"),
         Column("forgotten\n[seed range]", bold=True)],
    )
    for row in summary:
        ranged = (row.get("n_seeds") or 0) > 1
        params = row.get("params")
        table.rows.append([
            Cell(row["model"]), Cell(kinds.get(row["model"], "")),
            Cell("" if params is None or params != params else f"{params:.0f}"),
            Cell(fmt.mse(row["learned_mse"])), Cell(fmt.mse(row["final_mse"])),
            Cell(fmt.mse(row["forgetting"]),
                 f"{fmt.mse(row.get('forgetting_min'))} to {fmt.mse(row.get('forgetting_max'))}" if ranged else ""),
            Cell(fmt.mse(row["max_forgetting"])),
            Cell(fmt.percent(row["forgotten_fraction"]),
                 f"{fmt.percent(row.get('forgotten_fraction_min'))} to {fmt.percent(row.get('forgotten_fraction_max'))}"
                 if ranged else "", fmt.failures(row)),
        ])
    return table

