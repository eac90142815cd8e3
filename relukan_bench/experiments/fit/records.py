"""The fit experiment's records: one class per table it writes (runs.csv, curves.csv,
predictions.csv, summary.csv), their columns and types, and `RunResult`, what one run produced."""

from __future__ import annotations

from dataclasses import dataclass, field

from relukan_bench.records import Record


@dataclass
class RunRecord(Record):
    """runs.csv: one training run."""

    function: str
    model: str
    kind: str
    trainer: str
    optimizer: str
    seed: int
    init_seed: int
    device: str
    threads: int
    steps: int
    steps_done: int
    diverged: bool
    diverged_step: int | None
    final_train_mse: float
    final_test_mse: float
    final_test_rmse: float
    final_val_mse: float
    best_test_mse: float
    best_step: int | None
    seconds: float
    params: int | None
    spline_params: int | None
    batched: int
    compile_seconds: float
    error: str | None
    macs: int | None = None
    sized: str | None = None


@dataclass
class CurveRecord(Record):
    """curves.csv: the errors at one logged step of one run."""

    function: str
    model: str
    seed: int
    step: int
    train_mse: float
    test_mse: float
    val_mse: float


@dataclass
class PredictionRecord(Record):
    """predictions.csv: one point of a run's fit (x1 empty for n-D functions)."""

    function: str
    model: str
    seed: int
    index: int
    x1: float | None
    y_true: float
    y_pred: float


@dataclass
class SummaryRecord(Record):
    """summary.csv: the seeds of one (function, model entry). A tuned model's entries are its
    candidates (`tuned_model`, `candidate`); `selected` marks, per function and tuned model,
    the one with the lowest median final validation MSE (an untuned entry is its own choice)."""

    function: str
    model: str
    tuned_model: str
    candidate: str | None
    selected: bool
    kind: str
    trainer: str
    n_seeds: int
    failed: int
    diverged: int
    final_train_mse: float
    final_test_mse: float
    final_test_mse_min: float
    final_test_mse_max: float
    best_test_mse: float
    final_test_rmse: float
    final_val_mse: float
    gain: float
    seconds: float
    params: int | None
    spline_params: int | None
    macs: int | None = None
    sized: str | None = None
    # time to a target (experiments/fit/targets.py): the median first step at which the
    # validation MSE reaches 1e-N (inf: not reached), the seeds that reached it, and that many
    # steps times the median seconds per step (`step_s`, from `step_source`)
    steps_e2: float | None = None
    steps_e3: float | None = None
    steps_e4: float | None = None
    steps_e5: float | None = None
    reached_e2: int | None = None
    reached_e3: int | None = None
    reached_e4: int | None = None
    reached_e5: int | None = None
    step_s: float | None = None
    step_source: str | None = None
    time_e2: float | None = None
    time_e3: float | None = None
    time_e4: float | None = None
    time_e5: float | None = None


#: the tables' columns and types, for the writers and the one reader (results.read_records)
RUN_TYPES, CURVE_TYPES, PREDICTION_TYPES = RunRecord.types(), CurveRecord.types(), PredictionRecord.types()
RUN_COLUMNS, CURVE_COLUMNS, PREDICTION_COLUMNS = list(RUN_TYPES), list(CURVE_TYPES), list(PREDICTION_TYPES)
SUMMARY_COLUMNS = SummaryRecord.columns()


@dataclass
class RunResult:
    """What one run produced: its runs.csv record, its logged curve and its predictions."""

    run: RunRecord
    steps: list[int] = field(default_factory=list)
    train_mse: list[float] = field(default_factory=list)
    test_mse: list[float] = field(default_factory=list)
    predictions: list[PredictionRecord] = field(default_factory=list)
    val_mse: list[float] = field(default_factory=list)

    def curves(self) -> list[CurveRecord]:
        """Its curves.csv records: the errors at every logged step."""
        run = self.run
        return [CurveRecord(function=run.function, model=run.model, seed=run.seed, step=step, train_mse=train,
                            test_mse=test, val_mse=val)
                for step, train, test, val in zip(self.steps, self.train_mse, self.test_mse, self.val_mse)]
