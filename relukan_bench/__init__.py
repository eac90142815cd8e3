"""relukan-bench: reproduce the ReLU-KAN paper's experiments against the original KAN.

Importing this package is cheap on purpose: torch, pykan, pandas and matplotlib are imported
only inside the commands that need them, so `relukan-bench --help` answers at once.

    run = relukan_bench.load("results/reference-cpu")   # its tables as pandas DataFrames (docs/notebook.md)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from relukan_bench.loading import Run

__version__ = "0.1.0"


def load(run_dir: str | Path) -> Run:
    """A run directory (speed, fit, forgetting or reproduce) read back: its tables as pandas
    DataFrames with their documented dtypes, its config and its environment
    (relukan_bench.loading.Run; docs/notebook.md). UsageError, one line, when it cannot be read."""
    from relukan_bench.loading import load as load_run

    return load_run(run_dir)
