"""The forgetting experiment's records: one dataclass per table it writes (matrix.csv,
predictions.csv, curves.csv, runs.csv, summary.csv) and the tables' columns and types."""

from __future__ import annotations

from dataclasses import dataclass

from relukan_bench.records import Record


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
