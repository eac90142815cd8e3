"""relukan-bench: reproduce the ReLU-KAN paper's experiments against the original KAN.

Importing this package is cheap on purpose: torch, pykan, pandas and matplotlib are imported
only inside the commands that need them, so `relukan-bench --help` answers at once.
"""

__version__ = "0.1.0"
