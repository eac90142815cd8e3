"""What every benchmark shares: side-by-side timing, statistics, the environment, outputs.

Timing: every variant is built first, then the variants take turns, round after round: in a
round each runs a few untimed steps (its caches and allocations back in place after the
others ran) and then `steps` timed ones. A machine that slows down for a while slows every
variant alike, and a ratio is taken inside each round, so the reported ratio is the median of
per-round ratios. Clocks are read after a CUDA synchronise. One thread unless told otherwise.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import sys
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing


def arguments(doc: str, rounds: int) -> argparse.ArgumentParser:
    """A script's command line with the options every benchmark takes."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=rounds)
    return parser


def setup(threads: int = 1) -> None:
    """Pin the thread count; float32 in IEEE precision on a GPU too, as the experiments run."""
    import torch

    from relukan_bench.devices import set_ieee_float32

    torch.set_num_threads(threads)
    set_ieee_float32()  # for the whole process


def timed_rounds(variants: dict[str, Callable[[], object]], device: str, rounds: int, steps: int,
                 rewarm: int = 3) -> dict[str, list[float]]:
    """ms per step of every variant in every round, the variants taking turns."""
    from relukan_bench.timing import clock

    samples: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, step in variants.items():
            for _ in range(rewarm):
                step()
            start = clock(device)
            for _ in range(steps):
                step()
            samples[name].append(1000.0 * (clock(device) - start) / steps)
    return samples


def quartiles(values: list[float]) -> tuple[float, float, float]:
    q = statistics.quantiles(values, n=4, method="inclusive") if len(values) > 1 else [values[0]] * 3
    return q[0], statistics.median(values), q[2]


def ratio(samples: dict[str, list[float]], slow: str, fast: str) -> float:
    """Median over rounds of slow / fast: how many times faster `fast` is."""
    return statistics.median(a / b for a, b in zip(samples[slow], samples[fast]))


def out_dir() -> Path:
    """results/benchmarks/, created if missing."""
    path = ROOT / "results" / "benchmarks"
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_csv(path: Path, rows: list[dict]) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path)


def pyplot():
    """matplotlib's pyplot on the file-only Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path: Path) -> None:
    """Save `fig` to `path` atomically and close it."""
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=120)
    import matplotlib.pyplot as plt

    plt.close(fig)
    os.replace(tmp, path)


def write_env(path: Path, threads: int, device: str) -> dict:
    from relukan_bench.env import environment

    env = environment(threads, [device])
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(env, indent=2, default=str))
    os.replace(tmp, path)
    return env
