"""Throughput of several seeds trained as one batched model against the same seeds trained one
after another, on the paper's five speed functions, 1 thread (docs/performance.md).

    python benchmarks/seeds.py            # 8 seeds: fast, fast + torch.compile, reference

A "sequential" round runs one training step of each of the S separate models (what `fit` did
before batching); a "batched" round runs one step of the BatchedReLUKAN holding them. The same
parameters, the same data (1000 samples per seed). ratio = sequential time / batched time.

What batching can gain at most, measured in the same rounds: a "tiny" round runs one seed's
step on 8 samples, whose arithmetic is negligible, so its time is the step's fixed cost O (the
operations' dispatch, Adam's call). One seed's step is O + A, A its arithmetic on 1000
samples; perfect batching pays O once and S times A, so ideal = S (O + A) / (O + S A), and
efficiency = ratio / ideal. An ideal below the target says the arithmetic, not batching, is
what is left to speed up. Writes results/benchmarks/seeds.csv and seeds-env.json.
"""

from __future__ import annotations


from common import ROOT, arguments, out_dir, quartiles, ratio, setup, timed_rounds, write_csv, write_env


def main() -> None:
    parser = arguments(__doc__, rounds=7)
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--impls", default="fast,fast+compile,reference")
    parser.add_argument("--default-malloc", action="store_true", help="leave glibc's mmap threshold alone")
    args = parser.parse_args()
    setup(args.threads)
    import torch

    from relukan_bench.config import TrainSpec, load_config
    from relukan_bench.data import make_dataset
    from relukan_bench.experiments.speed.config import SpeedConfig
    from relukan_bench.models.batched import BatchedReLUKAN
    from relukan_bench.models.relukan import ReLUKAN
    from relukan_bench.training import keep_large_allocations, make_step

    allocator = keep_large_allocations() if not args.default_malloc else False
    print(f"glibc keeps large allocations: {allocator} (what fit and forgetting do; --default-malloc to measure without)")

    config = load_config(ROOT / "configs" / "speed.yaml", [], SpeedConfig)
    rows = []
    for impl in args.impls.split(","):
        model_impl = "fast" if impl == "fast+compile" else impl
        options = {"fused": model_impl == "fast", "cuda_graph": True, "compile": impl == "fast+compile"}
        for function in config.functions:
            data = [make_dataset(function, 1000, (0.0, 1.0), seed=s) for s in range(args.seeds)]
            x = torch.stack([d[0] for d in data]).to(args.device)
            y = torch.stack([d[1] for d in data]).to(args.device)
            models = []
            for seed in range(args.seeds):
                torch.manual_seed(seed)
                models.append(ReLUKAN(function.width, function.grid, function.k, impl=model_impl).to(args.device))
            # as the experiments train them: a fast step on a GPU is captured in a CUDA graph
            batched = make_step(BatchedReLUKAN(models), TrainSpec(), x, y, **options)
            singles = [make_step(m, TrainSpec(), x[i], y[i], **options) for i, m in enumerate(models)]
            torch.manual_seed(0)
            alone = ReLUKAN(function.width, function.grid, function.k, impl=model_impl).to(args.device)
            tiny = make_step(alone, TrainSpec(), x[0, :8], y[0, :8], **options)
            for step in (batched, *singles, tiny):
                step.prepare()  # compile (each step its own) and capture, before any timing

            def sequential(singles=singles):
                for step in singles:
                    step()

            samples = timed_rounds({"sequential": sequential, "batched": batched, "tiny": tiny}, args.device,
                                   args.rounds, args.steps)
            gain = ratio(samples, "sequential", "batched")
            sequential_ms, batched_ms, fixed_ms = (quartiles(samples[name])[1] for name in ("sequential", "batched", "tiny"))
            arithmetic_ms = max(sequential_ms / args.seeds - fixed_ms, 0.0)
            ideal = sequential_ms / (fixed_ms + args.seeds * arithmetic_ms)
            row = {"impl": impl, "function": function.name, "width": str(function.width), "grid": function.grid,
                   "seeds": args.seeds, "device": args.device, "threads": args.threads,
                   "sequential_ms": sequential_ms, "batched_ms": batched_ms, "throughput_ratio": gain,
                   "fixed_ms": fixed_ms, "arithmetic_ms": arithmetic_ms, "ideal_ratio": ideal, "efficiency": gain / ideal,
                   "keep_large_allocations": allocator}
            rows.append(row)
            print(f"{impl:9} {function.name}: {args.seeds} sequential {sequential_ms:.3f} ms, batched {batched_ms:.3f} ms "
                  f"per step of all seeds: {gain:.2f}x the throughput | one seed: fixed {fixed_ms:.3f} ms + arithmetic "
                  f"{arithmetic_ms:.3f} ms, ideal {ideal:.2f}x, efficiency {gain / ideal:.0%}", flush=True)
    folder = out_dir()
    name = "seeds-default-malloc" if args.default_malloc else "seeds"
    write_csv(folder / f"{name}.csv", rows)
    write_env(folder / f"{name}-env.json", args.threads, args.device)
    print(f"wrote {folder / (name + '.csv')}")


if __name__ == "__main__":
    main()
