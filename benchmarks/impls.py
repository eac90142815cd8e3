"""ms per training step of the paper's five speed functions: ReLU-KAN reference, fast, fast +
torch.compile, pykan, our B-spline KAN (`bspline`) and the matched MLP, side by side in one
run, 1 thread (docs/performance.md).

    python benchmarks/impls.py                 # CPU, 1 thread
    python benchmarks/impls.py --device cuda   # also: 500 steps of f5, fast + CUDA graph

Each step is what `relukan-bench speed` times: the whole training step on 1000 samples (full
batch, MSE, Adam lr 1e-3). Compile time is measured apart (`FusedStep.prepare`), never inside
a timed round. Writes results/benchmarks/impls.csv, impls.png and impls-env.json.
"""

from __future__ import annotations

import math

from common import ROOT, arguments, out_dir, pyplot, quartiles, ratio, save_figure, setup, timed_rounds, write_csv, write_env

VARIANTS = ("reference", "fast", "fast+compile", "pykan", "bspline", "mlp")


def build(variant: str, function, x, y, seed: int, device: str):
    from relukan_bench.config import TrainSpec
    from relukan_bench.kinds.bspline import BSplineSpec
    from relukan_bench.kinds.kan import KANSpec
    from relukan_bench.kinds.mlp import MLPSpec
    from relukan_bench.kinds.relukan import ReLUKANSpec
    from relukan_bench.kinds import build_model
    from relukan_bench.training import step_for

    if variant == "pykan":
        spec = KANSpec(name="kan", kind="kan")
    elif variant == "bspline":
        spec = BSplineSpec(name="bspline", kind="bspline")
    elif variant == "mlp":
        spec = MLPSpec(name="mlp", kind="mlp")
    else:
        spec = ReLUKANSpec(name="relukan", kind="relukan", impl="reference" if variant == "reference" else "fast",
                           compile=variant == "fast+compile")
    model = build_model(spec, function, (0.0, 1.0), seed).to(device)
    step = step_for(spec, model, TrainSpec(), x, y)
    return step, step.prepare()


def main() -> None:
    parser = arguments(__doc__, rounds=7)
    parser.add_argument("--steps", type=int, default=40, help="timed steps per variant per round")
    parser.add_argument("--functions", default="f1,f2,f3,f4,f5")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    args = parser.parse_args()
    setup(args.threads)

    from relukan_bench.config import load_config
    from relukan_bench.data import make_dataset
    from relukan_bench.experiments.speed.config import SpeedConfig
    from relukan_bench.timing import clock

    config = load_config(ROOT / "configs" / "speed.yaml", [], SpeedConfig)
    wanted = args.functions.split(",")
    variants = args.variants.split(",")
    rows = []
    for function in [f for f in config.functions if f.name in wanted]:
        x, y = make_dataset(function, 1000, (0.0, 1.0), seed=0)
        x, y = x.to(args.device), y.to(args.device)
        steps, compile_s = {}, {}
        for variant in variants:
            steps[variant], compile_s[variant] = build(variant, function, x, y, seed=1, device=args.device)
        samples = timed_rounds(steps, args.device, args.rounds, args.steps)
        for variant in variants:
            q1, med, q3 = quartiles(samples[variant])
            rows.append({
                "function": function.name, "width": str(function.width), "grid": function.grid, "variant": variant,
                "device": args.device, "threads": args.threads, "rounds": args.rounds, "steps": args.steps,
                "ms_per_step": med, "q1_ms": q1, "q3_ms": q3,
                "reference_over_this": ratio(samples, "reference", variant) if "reference" in samples else math.nan,
                "this_over_fast": ratio(samples, variant, "fast") if "fast" in samples else math.nan,
                "pykan_over_this": ratio(samples, "pykan", variant) if "pykan" in samples else math.nan,
                "bspline_over_this": ratio(samples, "bspline", variant) if "bspline" in samples else math.nan,
                "compile_s": compile_s[variant] if variant == "fast+compile" else math.nan,
            })
        print(_line(function.name, {r["variant"]: r for r in rows if r["function"] == function.name}), flush=True)
        if args.device.startswith("cuda") and function.name == "f5" and "fast" in steps:
            step = steps["fast"]
            start = clock(args.device)
            for _ in range(500):
                step()
            seconds = clock(args.device) - start
            print(f"f5, 500 steps, fast{' + CUDA graph' if getattr(step, '_graph', None) is not None else ''}: "
                  f"{seconds:.4f} s (synchronised; the paper: 1.15 s)")
            rows.append({**rows[-1], "variant": "fast-500-steps", "ms_per_step": 1000 * seconds / 500, "q1_ms": math.nan,
                         "q3_ms": math.nan, "reference_over_this": math.nan, "this_over_fast": math.nan,
                         "pykan_over_this": math.nan, "bspline_over_this": math.nan,
                         "compile_s": math.nan, "rounds": 1, "steps": 500})
    folder = out_dir()
    write_csv(folder / "impls.csv", rows)
    write_env(folder / "impls-env.json", args.threads, args.device)
    _plot(rows, folder / "impls.png")
    print(f"wrote {folder / 'impls.csv'} and impls.png")


def _line(function: str, by_variant: dict) -> str:
    parts = [f"{function}:"]
    for variant, row in by_variant.items():
        parts.append(f"{variant} {row['ms_per_step']:.3f} ms")
    ref = by_variant.get("reference")
    if ref is not None:
        parts.append("| reference/" + ", reference/".join(
            f"{v} {r['reference_over_this']:.2f}x" for v, r in by_variant.items() if v != "reference"))
    if "pykan" in by_variant and "fast" in by_variant:
        parts.append(f"| pykan/fast {by_variant['pykan']['this_over_fast']:.2f}x")
    if "pykan" in by_variant and "bspline" in by_variant:
        parts.append(f"| pykan/bspline {by_variant['bspline']['pykan_over_this']:.2f}x (implementation),")
        parts.append("bspline/" + ", bspline/".join(
            f"{v} {by_variant[v]['bspline_over_this']:.2f}x" for v in ("reference", "fast") if v in by_variant) + " (basis)")
    if "fast+compile" in by_variant:
        parts.append(f"| compile {by_variant['fast+compile']['compile_s']:.1f} s")
    return " ".join(parts)


def _plot(rows: list[dict], path) -> None:
    plt = pyplot()
    functions = list(dict.fromkeys(r["function"] for r in rows))
    variants = [v for v in VARIANTS if any(r["variant"] == v for r in rows)]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    width = 0.8 / max(len(variants), 1)
    for i, variant in enumerate(variants):
        values = [next((r["ms_per_step"] for r in rows if r["function"] == f and r["variant"] == variant), math.nan) for f in functions]
        ax.bar([j + i * width for j in range(len(functions))], values, width, label=variant)
    ax.set_xticks([j + width * (len(variants) - 1) / 2 for j in range(len(functions))], functions)
    ax.set_yscale("log")
    ax.set_ylabel("ms per training step (median)")
    ax.set_title(f"Training step, 1000 samples, {rows[0]['threads']} thread(s), {rows[0]['device']}")
    ax.legend()
    fig.tight_layout()
    save_figure(fig, path)


if __name__ == "__main__":
    main()
