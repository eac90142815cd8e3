"""Wall time of one fit config run serially, by N local workers and on a local Dask cluster of
N workers, side by side in one session, and whether their files are the same (docs/cluster.md).

    python benchmarks/parallel.py                            # configs/fit.yaml, 1000 steps, 2 workers
    python benchmarks/parallel.py --steps 5000 --workers 4   # the full default fit on 4 workers

Each variant is a real `relukan-bench fit` command in its own process, one after another on an
otherwise idle machine. speedup = serial wall time / the variant's; per-unit slowdown = the
median over units of the unit's `seconds` in the variant / in the serial run (what two units
at once cost each other: shared caches and memory bandwidth). `same files` compares
curves.csv, predictions.csv, table.csv and runs.csv less its `seconds` columns with the serial
run's, byte for byte. Writes results/benchmarks/parallel.csv and parallel-env.json.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, out_dir, write_csv, write_env

SAME = ("curves.csv", "predictions.csv", "table.csv")


def _runs(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _same(one: Path, other: Path) -> bool:
    if any((one / name).read_bytes() != (other / name).read_bytes() for name in SAME):
        return False
    strip = lambda rows: [{k: v for k, v in row.items() if k not in ("seconds", "compile_seconds")} for row in rows]  # noqa: E731
    return strip(_runs(one / "runs.csv")) == strip(_runs(other / "runs.csv"))


def _slowdown(variant: Path, serial: Path) -> float:
    alone = {(r["function"], r["model"], r["seed"]): float(r["seconds"]) for r in _runs(serial / "runs.csv")}
    return statistics.median(float(r["seconds"]) / alone[(r["function"], r["model"], r["seed"])]
                             for r in _runs(variant / "runs.csv"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default=str(ROOT / "configs" / "fit.yaml"))
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-dask", action="store_true", help="leave out the Dask variant")
    args = parser.parse_args()
    variants = {"serial": ["--workers", "1"], f"local x{args.workers}": ["--workers", str(args.workers)]}
    if not args.no_dask:
        variants[f"dask x{args.workers}"] = ["--workers", str(args.workers), "--executor", "dask"]
    rows = []
    with tempfile.TemporaryDirectory() as home:
        for name, options in variants.items():
            out = Path(home) / name.replace(" ", "-")
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "relukan_bench", "fit", "-c", args.config, f"train.steps={args.steps}",
                            "--out", str(out), *options], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            rows.append({"variant": name, "seconds": time.perf_counter() - start, "out": out})
        serial = rows[0]
        for row in rows:
            row.update(speedup=serial["seconds"] / row["seconds"], unit_slowdown=_slowdown(row["out"], serial["out"]),
                       same_files=_same(row["out"], serial["out"]))
            print(f"{row['variant']:>10}: {row['seconds']:7.1f} s wall, speedup {row['speedup']:.2f}x, "
                  f"per-unit slowdown {row['unit_slowdown']:.2f}x, same files as serial: {row['same_files']}")
    out = out_dir()
    write_csv(out / "parallel.csv", [{k: v for k, v in row.items() if k != "out"} for row in rows])
    write_env(out / "parallel-env.json", 1, "cpu")


if __name__ == "__main__":
    main()
