"""relukan-bench: reproduce the ReLU-KAN paper's experiments against the original KAN.

Importing this package is cheap on purpose: torch, pykan, pandas and matplotlib are imported
only inside the commands that need them, so `relukan-bench --help` answers at once.
`relukan_bench.load` is relukan_bench.loading.load.

    run = relukan_bench.load("results/reference-cpu")   # its tables as pandas DataFrames (docs/notebook.md)
"""

from __future__ import annotations

__version__ = "0.1.0"  # before the import below: the modules it imports may read it

from relukan_bench.loading import load  # noqa: E402

__all__ = ["__version__", "load"]
