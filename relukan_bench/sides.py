"""What `compare` reads one side into: one experiment's numbers from one path (`Side`), one
`Entry` per metric and row. The readers are in relukan_bench.compare_sides and each
experiment's `compare.py`; relukan_bench.compare compares two sides."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Entry:
    """One side's number for one row."""

    value: float
    low: float | None = None  # range over seeds, where there are several
    high: float | None = None
    samples: list[float] | None = None  # raw repeats (speed)
    failed: bool = False  # diverged or failed, on some seed or repeat


@dataclass
class Side:
    """One experiment's numbers from one path."""

    path: Path
    experiment: str
    source: str  # "run" or "paper"
    metrics: dict[str, dict[tuple[str, ...], Entry]]
    env: dict[str, Any] | None = None
    config_path: Path | None = None
    paper_rows: list[dict[str, str]] | None = None
    files: list[Path] = field(default_factory=list)  # what it was read from (no output may replace them)

    @property
    def label(self) -> str:
        return "the paper" if self.source == "paper" else str(self.path)
