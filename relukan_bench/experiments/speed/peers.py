"""REPORT.md's "Among the field's KANs": the speed runs of `reproduce --peers` (speed-peers/,
speed-scale/) read per shape, and the verdict on "is ReLU-KAN the fastest KAN?".

Every ratio is read off the summary's medians and quartiles (stats.ratio_range): "x ReLU-KAN"
is the paper-faithful ReLU-KAN's time over the model's (above 1x the model is faster), "x floor"
the model's time over the `nn.Linear` floor's (how many times the bare contraction it costs).
A KAN is every model whose role is not "control" (the MLP and the floor are controls).
"""

from __future__ import annotations

from typing import Any, TypeGuard

from relukan_bench import fmt
from relukan_bench.report import FAILS, HOLDS, PARTLY, UNTESTED, LoadedRun, Verdict, finite
from relukan_bench.stats import ratio_range
from relukan_bench.tables import Column, Table

CLAIM = "ReLU-KAN is the fastest KAN to train"
RULE = ("fastest KAN holds when the paper-faithful ReLU-KAN trains fastest of every KAN on every shape timed, partly holds "
        "when some implementation of ReLU-KAN does on some shape, and does not hold when none does")
#: the run directories of `reproduce --peers`, in the order the report shows them
PARTS = ("speed-peers", "speed-scale")
#: KAN-benchmarking's network and batch: [1000, 1000, 1] at batch 100
HARNESS = ([1000, 1000, 1], 100)


def runs(exp: LoadedRun | None) -> list[LoadedRun]:
    """The peers' speed runs a reproduce run holds, in PARTS order."""
    if exp is None:
        return []
    return [exp.variants[name] for name in PARTS if name in exp.variants and exp.variants[name].summary]


def _impls(run: LoadedRun) -> dict[str, str]:
    """Each ReLU-KAN model's implementation: reference (paper-faithful), conv (the reference
    code's Conv2d) or fast."""
    return {m["name"]: m.get("impl", "reference") for m in run.entries() if m.get("kind") == "relukan"}


def _kans(run: LoadedRun) -> list[str]:
    roles = run.roles()
    return [m for m in run.model_names() if roles.get(m) != "control"]


def _floor(run: LoadedRun) -> str | None:
    return next((m["name"] for m in run.entries() if m.get("kind") == "linear"), None)


def _shapes(run: LoadedRun) -> list[tuple[str, str]]:
    return list(dict.fromkeys((r["function"], r["device"]) for r in run.summary))


def _rows(run: LoadedRun, function: str, device: str) -> dict[str, dict[str, Any]]:
    return {r["model"]: r for r in run.summary if r["function"] == function and r["device"] == device}


def _timed(row: dict[str, Any] | None, metric: str = "median_s") -> TypeGuard[dict[str, Any]]:
    return row is not None and not row.get("too_slow") and finite(row.get(metric))


def _inference(row: dict[str, Any]) -> dict[str, Any]:
    """A summary row's forward-only latency as a row of seconds' keys, for ratio_range."""
    return {"median_s": row.get("infer_ms"), "q1_s": row.get("infer_q1_ms"), "q3_s": row.get("infer_q3_ms")}


def _order(run: LoadedRun, rows: dict[str, dict[str, Any]], among: list[str] | None = None,
           metric: str = "median_s") -> list[str]:
    """The KANs of `among` (default every KAN) timed on the shape of `rows`, fastest first."""
    return sorted((m for m in (among or _kans(run)) if _timed(rows.get(m), metric)), key=lambda m: rows[m][metric])


def fastest(run: LoadedRun, function: str, device: str, inference: bool = False) -> str | None:
    """The KAN with the lowest median time on the shape (training step, or forward call)."""
    order = _order(run, _rows(run, function, device), metric="infer_ms" if inference else "median_s")
    return order[0] if order else None


def _ratio(base: dict[str, Any] | None, row: dict[str, Any] | None, inference: bool) -> str:
    """"2.1x [1.9x to 2.3x]": base / row with its quartile range; "" when either is untimed."""
    metric = "infer_ms" if inference else "median_s"
    if not _timed(base, metric) or not _timed(row, metric):
        return ""
    pair = (_inference(base), _inference(row)) if inference else (base, row)
    value, low, high = ratio_range(*pair)
    return f"{fmt.times(value)} [{fmt.times(low)} to {fmt.times(high)}]"


def _cells(run: LoadedRun, model: str, row: dict[str, Any], base: dict[str, Any] | None,
           floor: dict[str, Any] | None) -> list[str]:
    """One model's row of a shape's table."""
    sized = f" ({row['sized']})" if row.get("sized") else ""
    head = [f"`{model}`{sized}", fmt.count(row.get("params")), fmt.count(row.get("macs")), str(row.get("effort") or "")]
    if row.get("too_slow"):
        return head + [f"too slow to time ({row['too_slow'].split(': ', 1)[-1]})", "", "", "", "", "", ""]
    spread = row.get("iqr_rel")
    train = f"{row['ms_per_step']:.3g}" + (f" ({spread:.0%})" if finite(spread) else "") if finite(row.get("ms_per_step")) else ""
    infer = f"{row['infer_ms']:.3g}" if finite(row.get("infer_ms")) else ""
    memory = "/".join(f"{row[k]:.3g}" if finite(row.get(k)) else "?" for k in ("peak_memory_mb", "infer_memory_mb"))
    return head + [train, _ratio(base, row, False), _ratio(row, floor, False), infer, _ratio(base, row, True),
                   _ratio(row, floor, True), memory]


def shape_table(run: LoadedRun, function: str, device: str) -> str:
    """Every model on one shape: size, effort, training and inference time, their ratios."""
    rows = _rows(run, function, device)
    relukan, floor = run.relukan(), _floor(run)
    base, bottom = rows.get(relukan) if relukan is not None else None, rows.get(floor) if floor else None
    table = Table("", "", [Column("model", "left")],
                  [Column(name) for name in ("params", "MACs/sample", "effort", "train ms/step (IQR)", "x ReLU-KAN",
                                             "x floor", "infer ms", "x ReLU-KAN", "x floor", "peak MiB train/infer")])
    for model in run.model_names():
        if model in rows:
            table.add_row(_cells(run, model, rows[model], base, bottom))
    return table.to_markdown()


def _label(run: LoadedRun, function: str) -> str:
    row = next((r for r in run.summary if r["function"] == function), {})
    entry: dict[str, Any] = next((f for f in run.config.get("functions", []) if f.get("name") == function), {})
    batch = row.get("samples") or entry.get("samples") or run.config.get("data", {}).get("samples")
    return f"{function} {entry.get('width', '')} batch {int(batch) if finite(batch) else batch}"


def overview(run: LoadedRun) -> str:
    """Per shape: the fastest KAN to train and to infer, and where ReLU-KAN stands."""
    relukan = run.relukan()
    table = Table("", "", [Column("shape", "left"), Column("device", "left")],
                  [Column("fastest KAN to train", "left"), Column("fastest KAN to infer", "left"),
                   Column("ReLU-KAN's rank (train)"), Column("ReLU-KAN / fastest (train)")])
    for function, device in _shapes(run):
        rows = _rows(run, function, device)
        train, infer = fastest(run, function, device), fastest(run, function, device, inference=True)
        order = _order(run, rows)
        rank = f"{order.index(relukan) + 1} of {len(order)}" if relukan in order else "not timed"
        table.add_row([_label(run, function), device,
                       f"`{train}` {rows[train]['ms_per_step']:.3g} ms" if train else "",
                       f"`{infer}` {rows[infer]['infer_ms']:.3g} ms" if infer else "", rank,
                       _ratio(rows.get(train), rows.get(relukan) if relukan is not None else None, False)
                       if train else ""])
    return table.to_markdown()


def harness_sentence(run: LoadedRun) -> str:
    """KAN-benchmarking's finding at [1000, 1000, 1], batch 100: is ReLU-KAN the slowest KAN,
    as the reference code (Conv2d) and as ours (paper-faithful, fast)? "" without that shape."""
    width, batch = HARNESS
    shapes = {f["name"] for f in run.config.get("functions", []) if f.get("width") == width
              and (f.get("samples") or run.config.get("data", {}).get("samples")) == batch}
    found = [(f, d) for f, d in _shapes(run) if f in shapes]
    if not found:
        return ""
    function, device = found[0]
    rows, impls = _rows(run, function, device), _impls(run)
    parts = []
    for model, impl in impls.items():
        order = _order(run, rows, [m for m in _kans(run) if m == model or m not in impls])  # it against the peers
        if model not in order:
            continue
        name = {"conv": "as the reference code computes it (Conv2d", "fast": "as our fast implementation ("}.get(
            impl, "as our paper-faithful one (")
        place = ("the slowest" if order[-1] == model else "the fastest" if order[0] == model else
                 f"number {order.index(model) + 1}")
        behind = "" if order[0] == model else f", {_ratio(rows[model], rows[order[0]], False)} the time of `{order[0]}`"
        parts.append(f"{name}{', ' if impl == 'conv' else ''}`{model}`) it is {place} of {len(order)} KANs to train "
                     f"(itself and the peers), {rows[model]['ms_per_step']:.3g} ms a step{behind}")
    slow = [m for m in _kans(run) if rows.get(m, {}).get("too_slow")]
    tail = f" ({', '.join(f'`{m}`' for m in slow)}: too slow to time)" if slow else ""
    timed = _order(run, rows)
    last = timed[-1] if timed else None
    tail += f"; the slowest KAN timed there is `{last}`, {rows[last]['ms_per_step']:.3g} ms a step" if last else ""
    return (f"KAN-benchmarking timed ReLU-KAN slowest of all at {width}, batch {batch} ({function} here, {device}): "
            + "; ".join(parts) + f"{tail}. Brackets: quartile ranges.")


def section(exp: LoadedRun) -> str:
    """### Among the field's KANs: per run, the overview, the KAN-benchmarking sentence and a
    table per shape."""
    found = runs(exp)
    if not found:
        return ""
    lines = ["### Among the field's KANs", "",
             "ReLU-KAN beside the KANs the field uses (docs/models.md, \"The field's KANs\"; docs/peers.md), every model "
             "timed by this experiment's one method. `x ReLU-KAN`: the paper-faithful ReLU-KAN's median time over the "
             "model's (above 1x the model is faster); `x floor`: the model's time over an `nn.Linear` of ReLU-KAN's "
             "multiply-adds fed copies of its input; brackets: quartile ranges; effort: what each step is given "
             "(rows of one effort met on equal terms). " + RULE[0].upper() + RULE[1:] + ".", ""]
    for run in found:
        steps, repeats = run.config.get("train", {}).get("steps"), run.config.get("timing", {}).get("repeats")
        lines += [f"#### `{run.directory.name}/`: {steps} steps, {repeats} repeats", "", overview(run), ""]
        sentence = harness_sentence(run)
        lines += [sentence, ""] if sentence else []
        for function, device in _shapes(run):
            lines += [f"{_label(run, function)}, {device}:", "", shape_table(run, function, device), ""]
    return "\n".join(lines).rstrip()


def verdict(exp: LoadedRun | None) -> Verdict | None:
    """"Fastest KAN?" over every shape of the peers' runs (RULE); None without them."""
    found = runs(exp)
    if not found:
        return None
    paper, anyone, shapes = 0, 0, 0
    winners: dict[str, int] = {}
    for run in found:
        impls = _impls(run)
        for function, device in _shapes(run):
            best = fastest(run, function, device)
            if best is None:
                continue
            shapes += 1
            winners[best] = winners.get(best, 0) + 1
            anyone += best in impls
            paper += impls.get(best) == "reference"
    if not shapes:
        return Verdict("speed-peers", CLAIM, UNTESTED, "Untested: no KAN was timed among the peers.")
    outcome = HOLDS if paper == shapes else PARTLY if anyone else FAILS
    tally = ", ".join(f"`{m}` on {n}" for m, n in sorted(winners.items(), key=lambda item: -item[1]))
    sentence = (f"Of {shapes} shapes timed, the fastest KAN to train was: {tally}. The paper-faithful ReLU-KAN was "
                f"fastest on {paper}, some implementation of ReLU-KAN on {anyone}.")
    return Verdict("speed-peers", CLAIM, outcome, sentence, paper="not claimed (compared with pykan only)",
                   ours=f"ReLU-KAN fastest on {anyone} of {shapes} shapes (paper-faithful: {paper})")
