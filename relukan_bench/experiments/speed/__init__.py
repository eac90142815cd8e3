"""The speed experiment (docs/paper.md, "Speed").

For every device, function, repeat and model: a freshly initialised model and optimizer,
`timing.warmup_steps` untimed training steps, then `train.steps` timed ones. The whole step is
timed: zero_grad, forward, MSE loss, backward, optimizer step. Inside a repeat every model gets
the same data and the same initialisation seed; models alternate inside a repeat so that slow
drifts of the machine hit all of them alike.

Fixes to the reference script, on purpose: the clock is read after a CUDA synchronise,
runs are seeded, repeated and summarised by median and quartiles, the thread count is pinned
(by the caller, see `relukan_bench.timing.threads`), f2's target is the paper's.

    for record in iter_speed(config, ["cpu"]): ...     # one dict per finished unit
    summary = summarize(records, baseline="kan")
    split = decompose(summary, {"kan": "kan", "bspline": "bspline", "relukan": "relukan"}, baseline="kan")
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

from relukan_bench.errors import failure
from relukan_bench.experiments.protocol import CompareTable, Experiment, Option, Part
from relukan_bench.records import Record
from relukan_bench.seeding import derive_seed
from relukan_bench.stats import describe, ratio_range, relative_iqr

if TYPE_CHECKING:
    from relukan_bench.config import SpeedConfig

@dataclass
class RawRecord(Record):
    """raw.csv: one timed repeat of one model on one function and device."""

    function: str
    model: str
    kind: str
    pykan_version: str | None
    pykan_mode: str | None
    device: str
    repeat: int
    seed: int
    steps: int
    warmup_steps: int
    seconds: float
    ms_per_step: float
    final_loss: float
    params: int | None
    threads: int
    compile_seconds: float
    forward_ms: float
    backward_ms: float
    optimizer_ms: float
    peak_memory_mb: float
    error: str | None
    samples: int | None = None
    macs: int | None = None
    sized: str | None = None
    effort: str | None = None
    infer_ms: float = math.nan
    infer_memory_mb: float = math.nan
    too_slow: str | None = None


@dataclass
class SummaryRecord(Record):
    """summary.csv: the repeats of one (function, model, device)."""

    function: str
    model: str
    pykan_version: str | None
    pykan_mode: str | None
    device: str
    n: int
    failed: int
    median_s: float
    q1_s: float
    q3_s: float
    min_s: float
    max_s: float
    iqr_rel: float
    ms_per_step: float
    speedup: float
    final_loss: float
    params: int | None
    compile_s: float
    forward_ms: float
    backward_ms: float
    optimizer_ms: float
    peak_memory_mb: float
    samples: int | None = None
    macs: int | None = None
    sized: str | None = None
    effort: str | None = None
    infer_ms: float = math.nan
    infer_q1_ms: float = math.nan
    infer_q3_ms: float = math.nan
    infer_memory_mb: float = math.nan
    too_slow: str | None = None


@dataclass
class DecompositionRecord(Record):
    """decomposition.csv: one ReLU-KAN's speedup over pykan, split (see `decompose`)."""

    function: str
    device: str
    relukan: str
    kan: str
    bspline: str
    equal_effort: bool
    total: float
    total_low: float
    total_high: float
    implementation: float
    implementation_low: float
    implementation_high: float
    basis: float
    basis_low: float
    basis_high: float
    implementation_share: float


#: the per-step breakdown of the phase and memory passes (relukan_bench.timing)
PHASE_COLUMNS = ("forward_ms", "backward_ms", "optimizer_ms", "peak_memory_mb")
#: the tables' columns and types, for the writers and the one reader (results.read_records)
RAW_TYPES, RAW_COLUMNS = RawRecord.types(), RawRecord.columns()
SUMMARY_COLUMNS = SummaryRecord.columns()

@dataclass(frozen=True)
class Unit:
    """One measurement: a fresh model of `model` trained on `function` on `device`."""

    device: str
    function: str
    repeat: int
    model: str


def key(record: dict[str, Any]) -> Unit:
    """The unit a raw record belongs to."""
    return Unit(record["device"], record["function"], int(record["repeat"]), record["model"])


def plan(config: SpeedConfig, devices: Sequence[str]) -> list[Unit]:
    """Every unit of work, in the order it runs."""
    return [
        Unit(device, function.name, repeat, model.name)
        for device in devices
        for function in config.functions
        for repeat in range(config.timing.repeats)
        for model in config.models
    ]


def iter_speed(config: SpeedConfig, devices: Sequence[str], units: Sequence[Unit] | None = None,
               on_unit: Callable[[Unit], None] | None = None) -> Iterator[dict[str, Any]]:
    """Run `units` (default: the whole plan); yield one raw record (RAW_COLUMNS) as each
    finishes, after `on_unit(unit)` before each starts. A unit that raises, or whose loss is
    not finite after its timed steps, is a failed unit: its record says why in `error`, and
    the others go on. A pykan version other than the installed one is timed in its worker
    (relukan_bench.worker), started on first use and closed when this generator ends."""
    from relukan_bench.data import make_dataset
    from relukan_bench.worker import Workers

    functions = {f.name: f for f in config.functions}
    models = {m.name: m for m in config.models}
    datasets: dict[tuple[str, str], Any] = {}
    with Workers() as workers:
        for unit in plan(config, devices) if units is None else units:
            if on_unit is not None:
                on_unit(unit)
            function = functions[unit.function]
            if (unit.device, unit.function) not in datasets:
                datasets.clear()  # one function's data alive at a time
                x, y = make_dataset(function, samples_of(config, function), tuple(config.data.domain),
                                    derive_seed(config.seed, "data", function.name))
                datasets[(unit.device, unit.function)] = (x.to(unit.device), y.to(unit.device))
            yield _run_unit(config, unit, function, models[unit.model], datasets[(unit.device, unit.function)], workers)


def samples_of(config: SpeedConfig, function: Any) -> int:
    """A function's batch: its own `samples`, else the config's data.samples."""
    return getattr(function, "samples", None) or config.data.samples


def effort_of(spec: Any, device: str) -> str:
    """What a model entry's step is given on `device`: eager, compiled, fused (a hand-written
    step), and captured in a CUDA graph (CUDA only); rows of one effort met on equal terms."""
    from relukan_bench.kinds import kind_of

    options = kind_of(spec).step(spec)
    parts = [name for name, on in (("fused", options.fused), ("compiled", options.compile),
                                   ("basis compiled", options.basis_compile)) if on] or ["eager"]
    return "+".join(parts + (["graph"] if options.cuda_graph and device.startswith("cuda") else []))


def _run_unit(config: SpeedConfig, unit: Unit, function: Any, spec: Any, data: tuple[Any, Any], workers: Any) -> dict[str, Any]:
    """One unit's raw record, measured here or in the worker of its pykan version."""
    import torch

    from relukan_bench.errors import ExecutionError
    from relukan_bench.experiments.speed.measure import NonFiniteLoss, measure
    from relukan_bench.kinds import kind_of, resolve, size_row
    from relukan_bench.pykan_envs import installed, needs_environment

    seed = derive_seed(config.seed, "init", function.name, unit.repeat)
    version, mode = kind_of(spec).pykan(spec) or (None, None)
    found: dict[str, Any] = {"pykan_version": (version or installed()) if mode is not None else None,
                             "threads": torch.get_num_threads(), **size_row(spec, function)}
    arguments = dict(domain=tuple(config.data.domain), seed=seed, lr=config.train.lr, steps=config.train.steps,
                     warmup=config.timing.warmup_steps, device=unit.device, max_step_seconds=config.timing.max_step_seconds)
    try:
        if needs_environment(version):
            entry, shape, _ = resolve(spec, function)  # the worker builds the resolved entry as it is
            found.update(workers.call(
                version, "relukan_bench.experiments.speed.measure:measure_unit",
                entry={**entry.model_dump(mode="json"), "match": None, "k": None},
                shape={"width": list(shape.width), "grid": shape.grid, "k": shape.k},
                x=data[0].tolist(), y=data[1].tolist(), train=config.train.model_dump(mode="json"),
                threads=torch.get_num_threads(), **arguments))
        else:
            found.update(measure(spec, function, x=data[0], y=data[1], train=config.train, **arguments))
    except NonFiniteLoss as exc:
        found.update(exc.found, error=str(exc))
    except ExecutionError:  # the worker was lost, not the unit: unfinished, and --resume runs it again
        raise
    except Exception as exc:  # noqa: BLE001 - any failure of one unit is recorded, the run goes on
        found["error"] = failure(exc)
    return _raw_record(config, unit, spec, seed, mode, found, samples_of(config, function))


def _raw_record(config: SpeedConfig, unit: Unit, spec: Any, seed: int, mode: str | None, found: dict[str, Any],
                samples: int) -> dict[str, Any]:
    seconds = found.get("seconds", math.nan)
    return RawRecord(
        function=unit.function, model=unit.model, kind=spec.kind,
        pykan_version=found.get("pykan_version"), pykan_mode=mode,
        device=unit.device, repeat=unit.repeat, seed=seed,
        steps=config.train.steps, warmup_steps=config.timing.warmup_steps,
        seconds=seconds, ms_per_step=1000.0 * seconds / config.train.steps,
        final_loss=found.get("final_loss", math.nan), params=found.get("params"), threads=found["threads"],
        compile_seconds=found.get("compile_seconds", math.nan),
        forward_ms=found.get("forward_ms", math.nan), backward_ms=found.get("backward_ms", math.nan),
        optimizer_ms=found.get("optimizer_ms", math.nan), peak_memory_mb=found.get("peak_memory_mb", math.nan),
        error=found.get("error"), samples=samples, macs=found.get("macs"), sized=found.get("sized") or None,
        effort=effort_of(spec, unit.device), infer_ms=found.get("infer_ms", math.nan),
        infer_memory_mb=found.get("infer_memory_mb", math.nan), too_slow=found.get("too_slow") or None,
    ).row()


def summarize(records: Sequence[dict[str, Any]], baseline: str | None) -> list[dict[str, Any]]:
    """One row per (function, model, device): statistics of the repeats' seconds, and the
    speedup = baseline median / this median on the same function and device (NaN when the
    baseline did not run there). Failed units are counted in `failed` and left out of the
    statistics. Rows keep the order in which units first appear."""
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        groups[(record["function"], record["model"], record["device"])].append(record)
    timed = {key: [r for r in rows if not r.get("error") and not r.get("too_slow")] for key, rows in groups.items()}
    stats = {key: describe([r["seconds"] for r in rows]) for key, rows in timed.items()}
    summary = []
    for (function, model, device), rows in groups.items():
        mine = stats[(function, model, device)]
        base = stats.get((function, baseline, device)) if baseline else None
        ok = timed[(function, model, device)]
        summary.append(SummaryRecord(
            function=function,
            model=model,
            pykan_version=rows[0].get("pykan_version"),
            pykan_mode=rows[0].get("pykan_mode"),
            device=device,
            n=mine["n"],
            failed=sum(bool(r.get("error")) for r in rows),
            median_s=mine["median"],
            q1_s=mine["q1"],
            q3_s=mine["q3"],
            min_s=mine["min"],
            max_s=mine["max"],
            iqr_rel=relative_iqr(mine),
            ms_per_step=1000.0 * mine["median"] / rows[0]["steps"],
            speedup=base["median"] / mine["median"] if base is not None and mine["median"] > 0 else math.nan,
            final_loss=describe([r["final_loss"] for r in ok])["median"],
            params=next((r["params"] for r in rows if r["params"] is not None), None),
            compile_s=_median_of_known([r.get("compile_seconds") for r in ok]),
            **{name: _median_of_known([r.get(name) for r in ok]) for name in PHASE_COLUMNS},
            **_inference(ok), samples=rows[0].get("samples"), macs=rows[0].get("macs"),
            sized=rows[0].get("sized"), effort=rows[0].get("effort"),
            too_slow=next((r["too_slow"] for r in rows if r.get("too_slow")), None),
        ).row())
    return summary


def _inference(rows: Sequence[dict[str, Any]]) -> dict[str, float]:
    """The forward-only latency's median and quartiles over the timed repeats, and the
    median of its memory."""
    found = describe(_known([r.get("infer_ms") for r in rows]))
    return {"infer_ms": found["median"], "infer_q1_ms": found["q1"], "infer_q3_ms": found["q3"],
            "infer_memory_mb": _median_of_known([r.get("infer_memory_mb") for r in rows])}


def _known(values: Sequence[float | None]) -> list[float]:
    """The values that are numbers (not None, not NaN)."""
    return [v for v in values if v is not None and v == v]


def _median_of_known(values: Sequence[float | None]) -> float:
    """The median of the values that are numbers; NaN when none is."""
    return describe(_known(values))["median"]


# ----------------------------------------------------------------------------- where the speedup comes from
DECOMPOSITION_COLUMNS = DecompositionRecord.columns()


def decompose(summary: Sequence[dict[str, Any]], roles: dict[str, str | None], baseline: str | None,
              efforts: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Split every ReLU-KAN's speedup over pykan into the implementation's part and the
    basis's, with our B-spline KAN (the same function as pykan's, in a few tensor operations)
    between them:

        total = kan / relukan = (kan / bspline) * (bspline / relukan) = implementation * basis

    (medians of seconds on the same function and device). `implementation_share` is
    ln(implementation) / ln(total): the implementation's share of the gap on a log scale
    (NaN unless ReLU-KAN is faster, total > 1). Each ratio has a quartile range, pairing the
    quartiles the unfavourable and the favourable way. One row per (function, device, model
    in the role relukan); none without a pykan model (the baseline when it is one, else the
    first in the role kan) and a bspline model. `roles`: each model's role in the paper's
    comparison (relukan_bench.kinds).

    Each ReLU-KAN is held against the B-spline KAN given the same effort where there is one
    (`efforts`: each model's relukan_bench.kinds.StepOptions; compiled against compiled,
    captured against captured): then `equal_effort` is true and `basis` is the basis alone.
    No B-spline KAN has a fused step, so a fast ReLU-KAN meets the first B-spline KAN of its
    compile setting, and its `basis` also holds that implementation's own work."""
    kan = baseline if baseline is not None and roles.get(baseline) == "kan" else next((m for m, r in roles.items() if r == "kan"), None)
    bsplines = [m for m, r in roles.items() if r == "bspline"]
    relukans = [m for m, r in roles.items() if r == "relukan"]
    if kan is None or not bsplines or not relukans:
        return []
    rows = {(r["function"], r["model"], r["device"]): r for r in summary}
    split = []
    for function, device in dict.fromkeys((r["function"], r["device"]) for r in summary):
        slow = rows.get((function, kan, device))
        for relukan in relukans:
            bspline, equal = _partner(relukan, bsplines, efforts or {})
            middle, fast = rows.get((function, bspline, device)), rows.get((function, relukan, device))
            if slow is None or middle is None or fast is None:
                continue
            split.append(_split_row(function, device, relukan, kan, bspline, equal, slow, middle, fast))
    return split


def _partner(relukan: str, bsplines: Sequence[str], efforts: dict[str, Any]) -> tuple[str, bool]:
    """The B-spline KAN a ReLU-KAN is held against, and whether it had the same effort."""
    def effort(name: str) -> tuple[bool, bool, bool]:
        options = efforts.get(name)
        return (False, False, False) if options is None else (options.fused, options.compile, options.cuda_graph)

    mine = effort(relukan)
    for bspline in bsplines:
        if effort(bspline) == mine:
            return bspline, True
    for bspline in bsplines:
        if effort(bspline)[1] == mine[1]:
            return bspline, False
    return bsplines[0], False


def _split_row(function: str, device: str, relukan: str, kan: str, bspline: str, equal: bool,
               slow: dict[str, Any], middle: dict[str, Any], fast: dict[str, Any]) -> dict[str, Any]:
    total, implementation, basis = ratio_range(slow, fast), ratio_range(slow, middle), ratio_range(middle, fast)
    share = math.log(implementation[0]) / math.log(total[0]) if total[0] > 1 and implementation[0] > 0 else math.nan
    return DecompositionRecord(
        function=function, device=device, relukan=relukan, kan=kan, bspline=bspline, equal_effort=equal,
        total=total[0], total_low=total[1], total_high=total[2],
        implementation=implementation[0], implementation_low=implementation[1], implementation_high=implementation[2],
        basis=basis[0], basis_low=basis[1], basis_high=basis[2],
        implementation_share=share,
    ).row()


# ----------------------------------------------------------------------------- paper layout
DEVICE_LABELS = {"cpu": "cpu", "cuda": "gpu"}  # the paper's column names say GPU


#: table.csv's columns as `table_columns` writes them, `{M}` standing for a model's name
TABLE_LAYOUT: dict[str, type] = {
    "function": str, "{M}_cpu_s": float, "{M}_gpu_s": float, "{M}_speedup_cpu": float, "{M}_speedup_gpu": float,
    "paper_speedup_cpu": float, "paper_speedup_gpu": float,
}


def table_columns(model_names: Sequence[str], baseline: str | None) -> list[str]:
    """`function`; median seconds per model and device as the paper lays them out; each
    model's measured speedup over the baseline; the paper's ReLU-KAN-over-KAN speedup
    (`TABLE_LAYOUT`)."""
    seconds = [f"{m}_{d}_s" for m in model_names for d in ("cpu", "gpu")]
    speedups = [f"{m}_speedup_{d}" for m in model_names if m != baseline for d in ("cpu", "gpu")] if baseline else []
    return ["function", *seconds, *speedups, "paper_speedup_cpu", "paper_speedup_gpu"]


def paper_table(
    summary: Sequence[dict[str, Any]],
    function_names: Sequence[str],
    model_names: Sequence[str],
    paper: dict[tuple[str, str], float],
) -> list[dict[str, Any]]:
    """One row per function in the paper's layout (None where not run), with speedups."""
    by_key = {(row["function"], row["model"], DEVICE_LABELS.get(row["device"], row["device"])): row for row in summary}
    table = []
    for function in function_names:
        row: dict[str, Any] = {"function": function}
        for model in model_names:
            for device in ("cpu", "gpu"):
                found = by_key.get((function, model, device))
                row[f"{model}_{device}_s"] = found["median_s"] if found else None
                row[f"{model}_speedup_{device}"] = found["speedup"] if found else None
        for device in ("cpu", "gpu"):
            row[f"paper_speedup_{device}"] = paper.get((function, device))
        table.append(row)
    return table


def paper_speedups(paper_rows: Sequence[dict[str, str]], config: SpeedConfig) -> dict[tuple[str, str], float]:
    """The paper's ReLU-KAN speedup over KAN, keyed by (function, device label), for the
    functions of `config` that are the paper's own (same name, expression, width and grid).
    Absolute seconds from different machines are not comparable; speedups are."""
    mine = {f.name: f for f in config.functions}
    speedups: dict[tuple[str, str], float] = {}
    for row in paper_rows:
        function = mine.get(row["function"])
        if function is None or not _same_function(function, row):
            continue
        for device in ("cpu", "gpu"):
            kan, relukan = float(row[f"kan_{device}_s"]), float(row[f"relukan_{device}_s"])
            speedups[(row["function"], device)] = kan / relukan
    return speedups


def _same_function(function: Any, row: dict[str, str]) -> bool:
    def compact(text: str) -> str:
        return "".join(text.split())

    width = [int(v) for v in row["width"].strip("[]").split(",")]
    return (
        compact(function.expression) == compact(row["expression"])
        and function.width == width
        and function.grid == int(row["grid"])
        and function.k == int(row["k"])
    )


# ----------------------------------------------------------------------------- the figure
def speed_points(summary: Sequence[dict[str, Any]], baseline: str | None) -> list[dict[str, Any]]:
    """What speed.png draws, one point per summary row: with a baseline, every other model's
    speedup over it on the same function and device, its quartile range pairing the quartiles
    the unfavourable and the favourable way (stats.ratio_range, as decomposition.csv does);
    without one, the median seconds and their quartiles."""
    from relukan_bench.stats import ratio_range

    by_key = {(r["function"], r["model"], r["device"]): r for r in summary}
    points = []
    for row in summary:
        if baseline is None:
            value, low, high = row["median_s"], row["q1_s"], row["q3_s"]
        elif row["model"] == baseline:
            continue
        else:
            value, low, high = ratio_range(by_key.get((row["function"], baseline, row["device"]), {}), row)
        points.append({"function": row["function"], "model": row["model"], "device": row["device"],
                       "value": value, "low": low, "high": high})
    return points


def figure(run_dir: Any, config: SpeedConfig, summary: Sequence[dict[str, Any]], paper: dict[tuple[str, str], float]) -> None:
    """speed.png: the speedup over the baseline per function (or seconds, without a baseline),
    beside the paper's CPU and GPU speedups when the baseline is a pykan KAN."""
    from relukan_bench.kinds import looks
    from relukan_bench.plots import plot_speed

    named = looks(config.models)
    baseline = config.baseline
    relukan = next((m for m, look in named.items() if look.role == "relukan"), None)
    compared = baseline is not None and named[baseline].role == "kan"
    points = speed_points(summary, baseline)
    for point in points:  # the paper's model's speedups are written beside it, as the paper's are
        point["annotate"] = baseline is not None and point["model"] == relukan
    repeats = config.timing.repeats
    title = (f"Training speedup over {named[baseline].label}, {config.train.steps} steps (median of {repeats} repeats, "
             "whiskers: quartile range)" if baseline else
             f"Training time of {config.train.steps} steps (median of {repeats} repeats, whiskers: quartiles)")
    plot_speed(points, {m: v for m, v in named.items() if m != baseline}, {f.name: _tick(f) for f in config.functions},
               run_dir / "speed.png", paper=paper if compared else None, paper_after=relukan, title=title,
               ylabel=f"speedup over {named[baseline].label}" if baseline else "seconds",
               reference=f"{named[baseline].label} (1x)" if baseline else None)


def _tick(function: Any) -> str:
    """A function's label under speed.png: its name and width; a bare shape (`expression:
    random`) its name alone, on two lines at its dashes (the sweep's names say width and batch:
    L1000-b100)."""
    return function.name.replace("-", "\n") if function.bare else f"{function.name}\n{list(function.width)}"


# ----------------------------------------------------------------------------- the declaration
BASELINES_CONFIG = "speed-baselines.yaml"  # speed against every pykan version and mode (reproduce runs it when it can)


def baseline_versions(path: Any) -> list[str]:
    """The pykan versions a speed config's models name, in order (none when it cannot be read)."""
    from relukan_bench.yamlio import YamlError, loads, read_text

    try:
        config = loads(read_text(path))
    except (OSError, ValueError, YamlError):
        return []
    models = config.get("models", []) if isinstance(config, dict) else []
    return list(dict.fromkeys(str(m["pykan"]) for m in models if isinstance(m, dict) and m.get("pykan") is not None))


def _seconds_label(unit: Unit) -> str:
    return f"{unit.function} {unit.model} on {unit.device}, repeat {unit.repeat + 1}"


class Speed(Experiment):
    name, rank, title = "speed", 0, "Speed"
    report = f"{__name__}.report"  # its REPORT.md part: RULE, section, verdict
    claim = "ReLU-KAN trains about 20x faster than KAN"
    help = ("Time ReLU-KAN and the original KAN on the paper's five speed functions.\n\n"
            "Writes config.yaml, env.json, raw.csv (every repeat), summary.csv (median, quartiles, speedup over the "
            "baseline), table.csv (the paper's layout) and speed.png into results/speed/<UTC timestamp>/.")
    quick_help = "Smoke run: every function and model, a handful of steps, one repeat."
    quick = ("train.steps=5", "timing.repeats=1", "timing.warmup_steps=1")

    @property
    def schema(self) -> type:
        from relukan_bench.config import SpeedConfig

        return SpeedConfig

    tables = {"raw": RawRecord}
    summaries = {"summary": SummaryRecord, "decomposition": DecompositionRecord}
    parts = (Part("speed-peers", "speed", "speed-peers", "ReLU-KAN among the field's KANs at the paper's shapes", flag="peers"),
             Part("speed-scale", "speed", "speed-scale", "the field's KANs from 64 to 1000 wide", flag="peers"),
             Part("speed-fit-peers", "speed", "speed-fit-peers", "the step times of the field's KANs on the fitting shapes",
                  flag="peers"))
    layouts = {"table": TABLE_LAYOUT}
    units_name = "timed runs"
    workers = True
    parallel = False
    serial_reason = ("timings taken while other units run on the same cores measure their contention for "
                     "cores, caches and memory bandwidth, not the models")
    device_help = "cpu, cuda, or auto (the CPU plus CUDA when present). Default: the config's (cpu)."
    selects = ("functions", "models")
    options = (
        Option("--repeats", "timing.repeats", "Fresh models timed per function, model and device.", int, 1),
        Option("--seed", "seed", "Base seed of data and initialisation.", int, 0),
    )

    def devices(self, choice: str) -> list[str]:
        from relukan_bench.devices import resolve_devices

        return resolve_devices(choice)

    compare_keys = ("function", "model", "device")
    compare_metrics = ("ms_per_step", "speedup")
    compare_first_only = True
    higher_is_better = {"ms_per_step": False, "speedup": True}
    tested_metrics = ("ms_per_step",)

    @property
    def compare_tables(self) -> tuple[CompareTable, ...]:
        from relukan_bench.experiments.speed import compare as read

        return (
            CompareTable("raw.csv", frozenset({"function", "model", "device", "repeat", "ms_per_step"}), read.speed_raw),
            CompareTable("summary.csv", frozenset({"function", "model", "device", "median_s", "ms_per_step"}), read.speed_summary),
            CompareTable("speed.csv", frozenset({"function", "expression", "kan_cpu_s", "relukan_cpu_s"}), read.paper_speed, paper=True),
            CompareTable("table.csv", frozenset({"function", "paper_speedup_cpu"}), read.speed_table),
        )

    def compare_candidates(self, paper: bool) -> tuple[str, ...]:
        return ("speedup",) if paper else self.compare_metrics

    def compare_note(self, metrics: Sequence[str], paper: bool) -> str:
        if list(metrics) == ["speedup"]:
            return ("speedup over the baseline (higher is better)"
                    + ("; against the paper speedups are compared, never seconds" if paper else ""))
        return "ms per training step, median over repeats (lower is better)"

    def compare_run(self, side: Any, directory: Any, load_csv: Any) -> None:
        from relukan_bench.safe_files import present

        if present(directory / "raw.csv"):  # the raw repeats, for the significance test (read, or refused)
            side.metrics["ms_per_step"] = load_csv(directory / "raw.csv", directory).metrics["ms_per_step"]

    def paper_keys(self, paper_rows: Sequence[dict[str, str]], config_path: Any) -> set[tuple[str, ...]]:
        from relukan_bench.experiments.speed.compare import paper_keys

        return paper_keys(paper_rows, config_path)

    def reproduce_config(self) -> tuple[Any, str | None]:
        """configs/speed-baselines.yaml when the environments of its pykan versions are
        prepared; else the default config and how to prepare them."""
        from relukan_bench import pykan_envs, resources

        path = resources.configs_dir() / BASELINES_CONFIG
        versions = baseline_versions(path)
        if pykan_envs.missing(versions):
            return None, (f"speed times the installed pykan only; to time it against pykan {', '.join(versions)} too "
                          f"(configs/{BASELINES_CONFIG}), {pykan_envs.install_hint(pykan_envs.missing(versions))}")
        return resources.display_path(path), None

    def context(self, config: SpeedConfig) -> dict[tuple[str, str], float]:
        from relukan_bench import resources
        from relukan_bench.results import read_csv

        return paper_speedups(read_csv(resources.paper_dir() / "speed.csv"), config)

    def demand(self, config: SpeedConfig, devices: Sequence[str]) -> Any:
        from relukan_bench.limits import Demand

        units = len(devices) * len(config.functions) * config.timing.repeats * len(config.models)
        samples = max(samples_of(config, f) for f in config.functions)
        from relukan_bench.experiments.speed.measure import PROBE_FRACTION

        probe = PROBE_FRACTION if config.timing.max_step_seconds is not None else 1
        return Demand(units, "devices x functions x timing.repeats x models",
                      units * (config.timing.warmup_steps + config.train.steps) * samples,
                      "those units x (timing.warmup_steps + train.steps) x samples (the largest batch)",
                      config.data.samples, "data.samples",
                      units, "devices x functions x timing.repeats x models", probe=probe)

    def plan(self, config: SpeedConfig, devices: Sequence[str]) -> list[Unit]:
        return plan(config, devices)

    def key(self, row: dict[str, Any]) -> Unit:
        return key(row)

    def execute(self, config: SpeedConfig, devices: Sequence[str], units: Sequence[Unit], progress: Any) -> Iterator[dict[str, Any]]:
        return iter_speed(config, devices, units, lambda unit: progress(unit, 0, math.nan))

    def rows(self, result: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
        return {"raw": [result]}

    def rebuild(self, loaded: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
        return list(loaded["raw"])

    def failure(self, result: dict[str, Any]) -> str | None:
        if not result.get("error"):
            return None
        return f"{result['function']} {result['model']} on {result['device']}, repeat {result['repeat'] + 1}: {result['error']}"

    def label(self, unit: Unit) -> str:
        return _seconds_label(unit)

    def summarize(self, run_dir: Any, config: SpeedConfig, results: Sequence[dict[str, Any]], context: Any) -> dict[str, Any]:
        from relukan_bench.kinds import kind_of, roles
        from relukan_bench.results import write_csv

        model_names, function_names = [m.name for m in config.models], [f.name for f in config.functions]
        summary = summarize(results, config.baseline)
        write_csv(run_dir / "summary.csv", SUMMARY_COLUMNS, summary)
        write_csv(run_dir / "table.csv", table_columns(model_names, config.baseline),
                  paper_table(summary, function_names, model_names, context))
        efforts = {m.name: kind_of(m).step(m) for m in config.models}
        split = decompose(summary, roles(config.models), config.baseline, efforts)
        if split:
            write_csv(run_dir / "decomposition.csv", DECOMPOSITION_COLUMNS, split)
        return {"summary": summary, "paper": context, "split": split}

    def figures(self, run_dir: Any, config: SpeedConfig, results: Sequence[dict[str, Any]], shown: dict[str, Any]) -> None:
        if any(not r.get("error") for r in results):
            figure(run_dir, config, shown["summary"], shown["paper"])

    def show(self, outcome: Any) -> list[Any]:
        from relukan_bench import render

        shown, config = outcome.shown, outcome.config
        tables = [render.speed_table(shown["summary"], config.baseline, shown["paper"], config.train.steps)]
        tables += [table for table in [render.inference_table(shown["summary"], config.baseline)] if table]
        return tables + ([render.decomposition_table(shown["split"])] if shown["split"] else [])



EXPERIMENT = Speed()
