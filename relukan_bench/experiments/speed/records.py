"""The speed experiment's records: raw.csv (one timed repeat), summary.csv (the repeats of one
function, model and device) and decomposition.csv (where a speedup comes from), and their
columns."""

from __future__ import annotations

import math
from dataclasses import dataclass

from relukan_bench.records import Record


@dataclass
class RawRecord(Record):
    """raw.csv: one timed repeat of one model on one function and device."""

    function: str
    model: str
    kind: str
    pykan_version: str | None
    pykan_mode: str | None
    device: str
    repeat: int
    seed: int
    steps: int
    warmup_steps: int
    seconds: float
    ms_per_step: float
    final_loss: float
    params: int | None
    threads: int
    compile_seconds: float
    forward_ms: float
    backward_ms: float
    optimizer_ms: float
    peak_memory_mb: float
    error: str | None
    samples: int | None = None
    macs: int | None = None
    sized: str | None = None
    effort: str | None = None
    infer_ms: float = math.nan
    infer_memory_mb: float = math.nan
    too_slow: str | None = None


@dataclass
class SummaryRecord(Record):
    """summary.csv: the repeats of one (function, model, device)."""

    function: str
    model: str
    pykan_version: str | None
    pykan_mode: str | None
    device: str
    n: int
    failed: int
    median_s: float
    q1_s: float
    q3_s: float
    min_s: float
    max_s: float
    iqr_rel: float
    ms_per_step: float
    speedup: float
    final_loss: float
    params: int | None
    compile_s: float
    forward_ms: float
    backward_ms: float
    optimizer_ms: float
    peak_memory_mb: float
    samples: int | None = None
    macs: int | None = None
    sized: str | None = None
    effort: str | None = None
    infer_ms: float = math.nan
    infer_q1_ms: float = math.nan
    infer_q3_ms: float = math.nan
    infer_memory_mb: float = math.nan
    too_slow: str | None = None


@dataclass
class DecompositionRecord(Record):
    """decomposition.csv: one ReLU-KAN's speedup over pykan, split (see `decompose`)."""

    function: str
    device: str
    relukan: str
    kan: str
    bspline: str
    equal_effort: bool
    total: float
    total_low: float
    total_high: float
    implementation: float
    implementation_low: float
    implementation_high: float
    basis: float
    basis_low: float
    basis_high: float
    implementation_share: float


#: the tables' columns and types, for the writers and the one reader (results.read_records)
RAW_TYPES, RAW_COLUMNS = RawRecord.types(), RawRecord.columns()
SUMMARY_COLUMNS = SummaryRecord.columns()
DECOMPOSITION_COLUMNS = DecompositionRecord.columns()
