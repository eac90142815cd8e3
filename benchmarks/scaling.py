"""How close the fast ReLU-KAN layer comes to the matmul floor, as width, batch and grid grow.

    python benchmarks/scaling.py        # 1 thread, CPU

One ReLU-KAN layer, in = out = width, k = 3, trained one full-batch step at a time (MSE,
Adam), against an nn.Linear(width*(G+k), width): the same number of weights, the same
matmuls, none of the basis work. A ReLU-KAN layer with trainable s and e needs the gradient
of its flattened basis, which is the Linear's input gradient, so the floor it is held to is
the Linear with `requires_grad` on its input ("linear"); with fixed s/e, as a first layer, it
is the Linear without it ("linear-no-input-grad"). Every variant uses torch's fused Adam kernel.

The performance target is the first row: 256x256, grid 5, batch 4096, fast within 1.5x of the
Linear (docs/performance.md); that row also measures fast + torch.compile (compiled before any timing). Writes results/benchmarks/scaling.csv, scaling.png and scaling-env.json.
"""

from __future__ import annotations


from common import arguments, out_dir, pyplot, quartiles, ratio, save_figure, setup, timed_rounds, write_csv, write_env

#: (sweep, width, batch, grid): the target point, then one axis at a time.
POINTS = (
    [("target", 256, 4096, 5)]
    + [("width", w, 1000, 5) for w in (16, 32, 64, 128, 256, 512)]
    + [("batch", 32, b, 5) for b in (1000, 3000, 10000, 30000, 100000)]
    + [("grid", 64, 1000, g) for g in (5, 10, 20, 50)]
)


def variants(width: int, batch: int, grid: int, k: int, device: str, reference: bool, compiled: bool = False):
    import torch

    from relukan_bench.config import TrainSpec
    from relukan_bench.fused_step import FusedAdam
    from relukan_bench.models.relukan import ReLUKAN
    from relukan_bench.training import make_step

    generator = torch.Generator().manual_seed(0)
    x = torch.rand(batch, width, generator=generator).to(device)
    y = torch.rand(batch, width, generator=generator).to(device)
    steps = {}
    for name, train_se, impl in (("fast", True, "fast"), ("fast-fixed-se", False, "fast")) + (
            (("reference", True, "reference"),) if reference else ()):
        torch.manual_seed(0)
        model = ReLUKAN([width, width], grid, k, train_se=train_se, impl=impl).to(device)
        steps[name] = make_step(model, TrainSpec(), x, y, fused=impl == "fast")
    if compiled:  # compile time is spent here, before any timing
        torch.manual_seed(0)
        model = ReLUKAN([width, width], grid, k, impl="fast").to(device)
        steps["fast+compile"] = make_step(model, TrainSpec(), x, y, fused=True, compile=True)
        steps["fast+compile"].prepare()
    features = width * (grid + k)
    for name, input_grad in (("linear", True), ("linear-no-input-grad", False)):
        torch.manual_seed(0)
        linear = torch.nn.Linear(features, width).to(device)
        inputs = torch.rand(batch, features, generator=generator).to(device).requires_grad_(input_grad)
        steps[name] = _linear_step(linear, inputs, y, FusedAdam(list(linear.parameters()), 1e-3))
    return steps


def _linear_step(linear, inputs, y, optimizer):
    import torch.nn.functional as F

    def step():
        optimizer.zero_grad()
        inputs.grad = None
        loss = F.mse_loss(linear(inputs), y)
        loss.backward()
        optimizer.step()
        return loss.detach()

    return step


def main() -> None:
    parser = arguments(__doc__, rounds=3)
    parser.add_argument("--budget", type=float, default=0.4, help="seconds per variant per round (sets the step count)")
    parser.add_argument("--only", default="", help="comma-separated sweeps to run (target,width,batch,grid)")
    args = parser.parse_args()
    setup(args.threads)
    from relukan_bench.timing import clock

    only = set(args.only.split(",")) - {""}
    rows = []
    for sweep, width, batch, grid in POINTS:
        if only and sweep not in only:
            continue
        k = 3
        reference = width * (grid + k) * batch <= 2e7  # the reference's temporaries at 1e5 x 32 x 8 take minutes
        steps = variants(width, batch, grid, k, args.device, reference, compiled=sweep == "target")
        steps["fast"]()  # lazy initialisation, outside the estimate
        start = clock(args.device)
        steps["fast"]()
        estimate = max(clock(args.device) - start, 1e-4)
        count = max(2, min(200, int(args.budget / estimate)))
        samples = timed_rounds(steps, args.device, args.rounds, count, rewarm=1)
        for name in steps:
            q1, med, q3 = quartiles(samples[name])
            rows.append({
                "sweep": sweep, "width": width, "batch": batch, "grid": grid, "k": k, "variant": name, "device": args.device,
                "threads": args.threads, "rounds": args.rounds, "steps": count, "ms_per_step": med, "q1_ms": q1, "q3_ms": q3,
                "over_linear": ratio(samples, name, "linear"),
                "over_linear_no_input_grad": ratio(samples, name, "linear-no-input-grad"),
            })
        by = {r["variant"]: r for r in rows[-len(steps):]}
        text = (f"{sweep:6} width {width:4} batch {batch:6} grid {grid:2}: fast {by['fast']['ms_per_step']:9.2f} ms "
                f"= {by['fast']['over_linear']:.2f}x linear ({by['linear']['ms_per_step']:.2f} ms); fixed s/e "
                f"{by['fast-fixed-se']['over_linear_no_input_grad']:.2f}x linear-no-input-grad")
        if "fast+compile" in by:
            text += f"; fast+compile {by['fast+compile']['over_linear']:.2f}x linear"
        if "reference" in by:
            text += f"; reference {by['reference']['ms_per_step'] / by['fast']['ms_per_step']:.2f}x fast"
        print(text, flush=True)
    folder = out_dir()
    write_csv(folder / "scaling.csv", rows)
    write_env(folder / "scaling-env.json", args.threads, args.device)
    _plot(rows, folder / "scaling.png")
    print(f"wrote {folder / 'scaling.csv'} and scaling.png")


def _plot(rows: list[dict], path) -> None:
    plt = pyplot()
    sweeps = [s for s in ("width", "batch", "grid") if any(r["sweep"] == s for r in rows)]
    if not sweeps:
        return
    fig, axes = plt.subplots(1, len(sweeps), figsize=(4.2 * len(sweeps), 3.8), squeeze=False)
    for ax, sweep in zip(axes[0], sweeps):
        for variant, column, label in (("fast", "over_linear", "fast / linear"),
                                       ("fast-fixed-se", "over_linear_no_input_grad", "fast, fixed s/e / linear, no input grad"),
                                       ("reference", "over_linear", "reference / linear")):
            points = [(r[sweep], r[column]) for r in rows if r["sweep"] == sweep and r["variant"] == variant]
            if points:
                ax.plot(*zip(*points), marker="o", label=label)
        ax.axhline(1.5, color="grey", linestyle="--", linewidth=0.8)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(sweep)
        ax.set_ylabel("step time / Linear's")
    axes[0][0].legend(fontsize=7)
    fig.suptitle(f"ReLU-KAN layer vs nn.Linear with as many weights ({rows[0]['threads']} thread, {rows[0]['device']})")
    fig.tight_layout()
    save_figure(fig, path)


if __name__ == "__main__":
    main()
