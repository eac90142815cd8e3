"""Throughput of several seeds trained as one batched model against the same seeds trained one
after another, on the paper's five speed functions, 1 thread (docs/performance.md).

    python benchmarks/seeds.py            # 8 seeds, fast and reference implementations

A "sequential" round runs one training step of each of the S separate models (what `fit` did
before batching); a "batched" round runs one step of the BatchedReLUKAN holding them. The same
parameters, the same data (1000 samples per seed). ratio = sequential time / batched time.
Writes results/benchmarks/seeds.csv and seeds-env.json.
"""

from __future__ import annotations


from common import ROOT, arguments, out_dir, quartiles, ratio, setup, timed_rounds, write_csv, write_env


def main() -> None:
    parser = arguments(__doc__, rounds=7)
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--impls", default="fast,reference")
    parser.add_argument("--default-malloc", action="store_true", help="leave glibc's mmap threshold alone")
    args = parser.parse_args()
    setup(args.threads)
    import torch

    from relukan_bench.config import SpeedConfig, TrainSpec, load_config
    from relukan_bench.data import make_dataset
    from relukan_bench.models.batched import BatchedReLUKAN
    from relukan_bench.models.relukan import ReLUKAN
    from relukan_bench.training import keep_large_allocations, make_step

    allocator = keep_large_allocations() if not args.default_malloc else False
    print(f"glibc keeps large allocations: {allocator} (what fit and forgetting do; --default-malloc to measure without)")

    config = load_config(ROOT / "configs" / "speed.yaml", [], SpeedConfig)
    rows = []
    for impl in args.impls.split(","):
        for function in config.functions:
            data = [make_dataset(function, 1000, (0.0, 1.0), seed=s) for s in range(args.seeds)]
            x = torch.stack([d[0] for d in data]).to(args.device)
            y = torch.stack([d[1] for d in data]).to(args.device)
            models = []
            for seed in range(args.seeds):
                torch.manual_seed(seed)
                models.append(ReLUKAN(function.width, function.grid, function.k, impl=impl).to(args.device))
            # as the experiments train them: a fast step on a GPU is captured in a CUDA graph
            batched = make_step(BatchedReLUKAN(models), TrainSpec(), x, y, cuda_graph=True)
            singles = [make_step(m, TrainSpec(), x[i], y[i], cuda_graph=True) for i, m in enumerate(models)]

            def sequential(singles=singles):
                for step in singles:
                    step()

            samples = timed_rounds({"sequential": sequential, "batched": batched}, args.device, args.rounds, args.steps)
            gain = ratio(samples, "sequential", "batched")
            row = {"impl": impl, "function": function.name, "width": str(function.width), "grid": function.grid,
                   "seeds": args.seeds, "device": args.device, "threads": args.threads,
                   "sequential_ms": quartiles(samples["sequential"])[1], "batched_ms": quartiles(samples["batched"])[1],
                   "throughput_ratio": gain, "keep_large_allocations": allocator}
            rows.append(row)
            print(f"{impl:9} {function.name}: {args.seeds} sequential {row['sequential_ms']:.3f} ms, batched "
                  f"{row['batched_ms']:.3f} ms per step of all seeds: {gain:.2f}x the throughput", flush=True)
    folder = out_dir()
    name = "seeds-default-malloc" if args.default_malloc else "seeds"
    write_csv(folder / f"{name}.csv", rows)
    write_env(folder / f"{name}-env.json", args.threads, args.device)
    print(f"wrote {folder / (name + '.csv')}")


if __name__ == "__main__":
    main()
