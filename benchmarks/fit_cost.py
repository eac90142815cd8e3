"""What a fit config will cost before it runs: every (function, model entry) trained for a few
steps on seed 0 by the experiment's own code (relukan_bench.experiments.fit.plan.iter_fit: the same
trainer, optimizer, logging and evaluation), its seconds per step scaled to the config's steps
and seeds, summed, and divided by the workers the run will use.

    python benchmarks/fit_cost.py configs/fit-peers-tuned.yaml --workers 2
    python benchmarks/fit_cost.py configs/fit-peers.yaml --steps 50
    python benchmarks/fit_cost.py configs/fit-peers-tuned.yaml --only lbfgs,pykan-fit

A config that chooses on some seeds (`tune_seeds:`) runs in two stages: every candidate on
the tuning seeds, then the chosen one alone on the others; which one is chosen is not known
before, so the second stage is given as a range, from the cheapest candidate of each tuned
model to the costliest, and the estimate as the first stage plus that range.

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

    from relukan_bench.config import load_config
    from relukan_bench.experiments.fit.config import FitConfig
    from relukan_bench.experiments.fit.plan import Unit, iter_fit

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
    first, low, high, by_model = stages(full, rows)
    print(f"{args.config}: {full.train.steps} steps a run "
          f"(timed {args.steps} steps each on seed {short.seeds[0]} in {time.perf_counter() - start:.0f} s)")
    for model, seconds in sorted(by_model.items(), key=lambda item: -item[1]):
        print(f"  {model:<22} {seconds / 60:7.1f} min of training on the first stage")
    total = first + high
    if full.tune_seeds is not None:
        print(f"first stage (every candidate on seeds {full.tune_seeds}): {first / 60:.0f} min of training; "
              f"second (the chosen candidates on the other seeds): {low / 60:.0f} to {high / 60:.0f} min")
    print(f"estimate: {(first + low) / 60:.0f} to {total / 60:.0f} min of training, about {(first + low) / 60 / args.workers:.0f} "
          f"to {total / 60 / args.workers:.0f} min on {args.workers} workers" if low != high else
          f"estimate: {total / 60:.0f} min of training, about {total / 60 / args.workers:.0f} min on {args.workers} workers")
    out = out_dir()
    write_csv(out / "fit_cost.csv", rows)
    env = write_env(out / "fit_cost-env.json", args.threads, args.device)
    env.update(config=str(args.config), steps_timed=args.steps, workers=args.workers, estimate_s=total,
               first_stage_s=first, second_stage_s=[low, high])
    (out / "fit_cost-env.json").write_text(json.dumps(env, indent=2, default=str))


def stages(config, rows: list[dict]) -> tuple[float, float, float, dict[str, float]]:
    """(first stage seconds, second stage's cheapest and costliest, first stage per model) from
    the timed `rows`: every entry on the tuning seeds (every seed without `tune_seeds`, and for
    an untuned entry), then per function and tuned model one candidate on the other seeds."""
    tuning = len(config.tune_seeds) if config.tune_seeds is not None else len(config.seeds)
    rest = len(config.seeds) - tuning
    first, by_model, candidates = 0.0, {}, {}
    for r in rows:
        tuned, label = config.origin(r["model"])
        seconds = r["run_s"] * (tuning if label else len(config.seeds))
        first += seconds
        by_model[tuned] = by_model.get(tuned, 0.0) + seconds
        if label:
            candidates.setdefault((r["function"], tuned), []).append(r["run_s"] * rest)
    low = sum(min(times) for times in candidates.values())
    high = sum(max(times) for times in candidates.values())
    return first, low, high, by_model


if __name__ == "__main__":
    main()
