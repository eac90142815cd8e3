"""What a fit config will cost before it runs: every (function, model entry) trained for a few
steps on seed 0 by the experiment's own code (relukan_bench.experiments.fit.iter_fit: the same
trainer, optimizer, logging and evaluation), its seconds per step scaled to the config's steps
and seeds, summed, and divided by the workers the run will use.

    python benchmarks/fit_cost.py configs/fit-peers-tuned.yaml --workers 2
    python benchmarks/fit_cost.py configs/fit-peers.yaml --steps 50
    python benchmarks/fit_cost.py configs/fit-peers-tuned.yaml --only lbfgs,pykan-fit

The first steps are no cheaper than the rest (pykan's fit() updates its grids in its first 50
steps; LBFGS's first line searches are its longest), so the estimate errs high. It ignores the
few seconds each run spends building its model and the imbalance of the last runs across
workers. Writes results/benchmarks/fit_cost.csv (per entry and function) and fit_cost-env.json.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from common import arguments, out_dir, setup, write_csv, write_env


def main() -> None:
    parser = arguments(__doc__, rounds=1)
    parser.add_argument("config", type=Path)
    parser.add_argument("--steps", type=int, default=100, help="steps each entry trains to be timed")
    parser.add_argument("--workers", type=int, default=2, help="parallel workers the run will use")
    parser.add_argument("--only", default="", help="time only the entries whose names contain one of these, comma-separated "
                        "(e.g. lbfgs,pykan-fit); the estimate then covers those entries alone")
    args = parser.parse_args()
    setup(args.threads)

    from relukan_bench.config import FitConfig, load_config
    from relukan_bench.experiments.fit import Unit, iter_fit

    full = load_config(args.config, [f"device={args.device}"], FitConfig)
    short = load_config(args.config, [f"device={args.device}", f"train.steps={args.steps}"], FitConfig)
    rows, start = [], time.perf_counter()
    for function in short.functions:
        wanted = [w for w in args.only.split(",") if w]
        units = [Unit(function.name, short.seeds[0], model.name) for model in short.models
                 if not wanted or any(w in model.name for w in wanted)]
        for result in iter_fit(short, args.device, units=units):
            run = result.run
            per_step = run["seconds"] / max(run["steps_done"] or 1, 1)
            rows.append({"function": run["function"], "model": run["model"], "optimizer": run["optimizer"],
                         "trainer": run["trainer"], "ms_per_step": 1000 * per_step,
                         "run_s": per_step * full.train.steps, "error": run["error"] or ""})
    seeds = len(full.seeds)
    total = sum(r["run_s"] for r in rows) * seeds
    by_model: dict[str, float] = {}
    for r in rows:
        tuned = full.origin(r["model"])[0]
        by_model[tuned] = by_model.get(tuned, 0.0) + r["run_s"] * seeds
    print(f"{args.config}: {len(rows) * seeds} runs of {full.train.steps} steps "
          f"(timed {args.steps} steps each on seed {short.seeds[0]} in {time.perf_counter() - start:.0f} s)")
    for model, seconds in sorted(by_model.items(), key=lambda item: -item[1]):
        print(f"  {model:<22} {seconds / 60:7.1f} min of training")
    print(f"estimate: {total / 60:.0f} min of training, about {total / 60 / args.workers:.0f} min on {args.workers} workers")
    out = out_dir()
    write_csv(out / "fit_cost.csv", rows)
    env = write_env(out / "fit_cost-env.json", args.threads, args.device)
    env.update(config=str(args.config), steps_timed=args.steps, workers=args.workers, estimate_s=total)
    (out / "fit_cost-env.json").write_text(json.dumps(env, indent=2, default=str))


if __name__ == "__main__":
    main()
