"""REPORT.md of a `reproduce` run: built from the files of its three run directories alone.

The report reads what the experiments wrote (`summary.csv`, `table.csv`, `config.yaml`,
`env.json`), so it can be rebuilt from a finished or interrupted run at any time, and it
computes nothing that is not in those files except the verdicts. Each verdict follows a rule
stated in the report itself:

- speed, "about 20x faster": *holds* when ReLU-KAN's median speedup over KAN reaches 15x on
  some function and device; *partly holds* when it is faster on every function but never
  reaches 15x; *does not hold* when KAN is as fast or faster on some function.
- fit, "two orders of magnitude more accurate": the geometric mean over functions of
  KAN MSE / ReLU-KAN MSE (medians over seeds); *holds* at 100x or more, *partly holds* above
  1x, *does not hold* at 1x or less.
- forgetting, "avoids catastrophic forgetting": ReLU-KAN's forgotten fraction (the share of what
  its phases gained that is lost by the end); *holds* when every seed stays at or below 10%,
  *partly holds* when the median does, *does not hold* otherwise.

    text = build_report(run_dir)     # markdown
    found = write_report(run_dir)    # writes REPORT.md; [Verdict(claim, outcome, sentence), ...]
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import yaml

from relukan_bench import fmt
from relukan_bench.results import read_csv
from relukan_bench.stats import ratio_range
from relukan_bench.tables import markdown_table

SPEED_HOLDS = 15.0  # "about 20x": at least 15x somewhere
FIT_HOLDS = 100.0  # "two orders of magnitude"
FORGETTING_HOLDS = 0.10  # at most 10% of what was gained is lost

HOLDS, PARTLY, FAILS, UNTESTED = "holds", "partly holds", "does not hold", "untested"



def _claim(name: str) -> str:
    from relukan_bench.experiments.protocol import experiment

    return experiment(name).claim


@dataclass(frozen=True)
class Verdict:
    experiment: str
    claim: str
    outcome: str  # HOLDS, PARTLY, FAILS or UNTESTED
    sentence: str


@dataclass
class Experiment:
    """One experiment's run directory as the report reads it."""

    name: str
    directory: Path
    config: dict[str, Any]
    env: dict[str, Any]
    summary: list[dict[str, Any]]
    table: list[dict[str, Any]]
    decomposition: list[dict[str, Any]] = field(default_factory=list)  # speed only

    @property
    def interrupted(self) -> bool:
        return bool(self.env.get("interrupted")) or self.env.get("end_time") is None

    def model_names(self) -> list[str]:
        """The config's models that have a summary row, in config order."""
        present = {row["model"] for row in self.summary}
        return [m["name"] for m in self.config.get("models", []) if m["name"] in present]

    def kinds(self) -> dict[str, str]:
        return {m["name"]: m["kind"] for m in self.config.get("models", [])}

    def roles(self) -> dict[str, str | None]:
        """Each model's role in the paper's comparison (relukan_bench.kinds)."""
        from relukan_bench.kinds import roles

        return roles(self.config.get("models", []))

    def relukan(self) -> str | None:
        """The paper's ReLU-KAN: the model named `relukan`, else the first in the role relukan."""
        names = self.model_names()
        if "relukan" in names:
            return "relukan"
        return next((n for n in names if self.roles().get(n) == "relukan"), None)

    def kan(self) -> str | None:
        baseline = self.config.get("baseline")
        if baseline in self.model_names():
            return baseline
        return next((n for n in self.model_names() if self.roles().get(n) == "kan"), None)


# ----------------------------------------------------------------------------- reading
def _number(text: Any) -> Any:
    """A CSV cell as a float where it is one ('' -> None), else the text."""
    if text is None or text == "":
        return None
    try:
        return float(text)
    except (TypeError, ValueError):
        return text


def _rows(path: Path, text: set[str]) -> list[dict[str, Any]]:
    """A derived table's rows: its `text` columns as written, every other cell a number (or
    None where empty; text where it is not a number)."""
    if not path.is_file():
        return []
    return [{key: _number(value) if key not in text else value for key, value in row.items()} for row in read_csv(path)]


def _text_columns(name: str) -> set[str]:
    """The columns of the experiment's derived tables that hold text (their record classes)."""
    from relukan_bench.experiments.protocol import experiment
    from relukan_bench.records import types_of

    return {column for table in experiment(name).summaries.values() for column, kind in types_of(table).items() if kind is str}


def load_experiment(directory: Path, name: str) -> Experiment | None:
    """The experiment's run directory, or None when it was never started."""
    directory = Path(directory)
    if not (directory / "config.yaml").is_file():
        return None
    config = yaml.safe_load((directory / "config.yaml").read_text(encoding="utf-8")) or {}
    env_path = directory / "env.json"
    env = json.loads(env_path.read_text(encoding="utf-8")) if env_path.is_file() else {}
    text = _text_columns(name) | {"function"}
    return Experiment(name, directory, config, env, _rows(directory / "summary.csv", text), _rows(directory / "table.csv", text),
                      _rows(directory / "decomposition.csv", text))


def load_all(run_dir: Path) -> dict[str, Experiment | None]:
    """Every registered experiment's directory in a reproduce run (None where never started)."""
    from relukan_bench.experiments.protocol import experiments

    return {name: load_experiment(Path(run_dir) / name, name) for name in experiments()}


# ----------------------------------------------------------------------------- formatting
def _finite(value: Any) -> bool:
    return isinstance(value, float) and math.isfinite(value)


def _span(values: Sequence[float], style: Callable[[float], str] = fmt.ratio) -> str:
    """`a to b` for the finite values, or the one value."""
    finite = [v for v in values if _finite(v)]
    if not finite:
        return "n/a"
    low, high = min(finite), max(finite)
    return style(low) if low == high else f"{style(low)} to {style(high)}"


def _geomean(values: Sequence[float]) -> float:
    from statistics import geometric_mean

    finite = [v for v in values if _finite(v) and v > 0]
    return geometric_mean(finite) if finite else math.nan


def _link(path: Path, run_dir: Path) -> str:
    return path.relative_to(run_dir).as_posix()


# ----------------------------------------------------------------------------- speed
def _speed_rows(exp: Experiment) -> dict[tuple[str, str, str], dict[str, Any]]:
    return {(r["function"], r["model"], r["device"]): r for r in exp.summary}


def speed_spread(exp: Experiment, function: str, model: str, device: str) -> tuple[float, float]:
    """The speedup's quartile range: baseline q1 / model q3 to baseline q3 / model q1."""
    rows = _speed_rows(exp)
    mine, base = rows.get((function, model, device)), rows.get((function, exp.kan(), device))
    if not mine or not base:
        return math.nan, math.nan
    return ratio_range(base, mine)[1:]


def speed_section(exp: Experiment, run_dir: Path) -> str:
    models = exp.model_names()
    kan = exp.kan()
    others = [m for m in models if m != kan]
    rows = _speed_rows(exp)
    paper = {r["function"]: r for r in exp.table}
    steps = exp.config.get("train", {}).get("steps")
    repeats = exp.config.get("timing", {}).get("repeats")
    header = ["function", "device", *[f"{m} ms/step (IQR)" for m in models],
              *[f"{m} speedup [quartile range]" for m in others], "paper speedup CPU", "paper speedup GPU"]
    body = []
    for function, device in dict.fromkeys((r["function"], r["device"]) for r in exp.summary):
        cells = [function, device]
        for model in models:
            row = rows.get((function, model, device))
            spread = row.get("iqr_rel") if row else None
            text = "" if row is None or not _finite(row.get("ms_per_step")) else f"{row['ms_per_step']:.3g}" + (f" ({spread:.0%})" if _finite(spread) else "")
            cells.append(text + (f" ({fmt.failures(row)})" if row and fmt.failures(row) else ""))
        for model in others:
            row = rows.get((function, model, device))
            low, high = speed_spread(exp, function, model, device)
            cells.append("" if row is None else f"**{fmt.ratio(row.get('speedup'))}** [{fmt.ratio(low)} to {fmt.ratio(high)}]")
        found = paper.get(function, {})
        cells += [fmt.ratio(found.get("paper_speedup_cpu")), fmt.ratio(found.get("paper_speedup_gpu"))]
        body.append(cells)
    text = [
        f"{steps} full-batch Adam steps per timing, repeated on {repeats} fresh model(s) per function, model and device; "
        f"median ms per step with the interquartile range as a share of the median. Speedup = {kan} / model, "
        "medians on the same device; the range pairs the quartiles the unfavourable and the favourable way. "
        "The paper's speedups are its KAN seconds over its ReLU-KAN seconds (absolute seconds from different "
        "machines are not comparable).",
        "",
        markdown_table(header, body, right=[False, False, *[True] * (len(header) - 2)]),
        "",
        f"![speed]({_link(exp.directory / 'speed.png', run_dir)})" if (exp.directory / "speed.png").is_file() else "",
    ]
    if exp.decomposition:
        text += ["", decomposition_section(exp)]
    return "\n".join(text)


def decomposition_section(exp: Experiment) -> str:
    """Where the speedup comes from: pykan / our B-spline KAN (the implementation) times our
    B-spline KAN / ReLU-KAN (the basis), from `decomposition.csv`."""
    first = exp.decomposition[0]
    kan, bspline = first["kan"], first["bspline"]
    header = ["function", "device", "ReLU-KAN", f"total {kan} / ReLU-KAN", f"implementation {kan} / {bspline}",
              f"basis {bspline} / ReLU-KAN", "implementation's share"]
    body = []
    for row in exp.decomposition:
        cells = [row["function"], row["device"], row["relukan"]]
        for name in ("total", "implementation", "basis"):
            cells.append(f"{fmt.ratio(row.get(name))} [{fmt.ratio(row.get(name + '_low'))} to {fmt.ratio(row.get(name + '_high'))}]")
        share = row.get("implementation_share")
        cells.append(f"{share:.0%}" if _finite(share) else "")
        body.append(cells)
    lines = []
    for relukan in dict.fromkeys(r["relukan"] for r in exp.decomposition):
        mine = [r for r in exp.decomposition if r["relukan"] == relukan]
        for device in dict.fromkeys(r["device"] for r in mine):
            here = [r for r in mine if r["device"] == device]
            shares = [r["implementation_share"] for r in here if _finite(r.get("implementation_share"))]
            lines.append(
                f"- `{relukan}` on {device}: of its {_span([r['total'] for r in here])} over `{kan}`, "
                f"the implementation accounts for {_span([r['implementation'] for r in here])} and the basis for "
                f"{_span([r['basis'] for r in here])}"
                + (f"; the implementation's share of the gap is {min(shares):.0%} to {max(shares):.0%}." if shares else ".")
            )
    return "\n".join([
        "### Where the speedup comes from",
        "",
        f"`{bspline}` is pykan's B-spline KAN (the same function, the same initial parameters) written as a few tensor "
        f"operations per layer (relukan_bench/models/bspline.py). So `{kan}` / `{bspline}` is what pykan's implementation "
        f"costs, `{bspline}` / ReLU-KAN what the B-spline basis costs against ReLU-KAN's, and their product is the "
        "whole speedup. The share is the implementation's part of it on a log scale; brackets: quartile ranges."
        + (" Against the paper's reference ReLU-KAN both sides are plain autograd modules trained by the same loop, so "
           "`basis` is the basis alone; against a fast ReLU-KAN it also holds that implementation's own work (a "
           "hand-written backward, fused Adam: docs/performance.md), which the B-spline KAN is not given."
           if any(m.get("impl") == "fast" for m in exp.config.get("models", []) if m["name"] in {r["relukan"] for r in exp.decomposition})
           else ""),
        "",
        markdown_table(header, body, right=[False, False, False, True, True, True, True]),
        "",
        *lines,
    ])


def speed_verdict(exp: Experiment | None) -> Verdict:
    claim = _claim("speed")
    if exp is None or not exp.summary or exp.relukan() is None or exp.kan() is None:
        return Verdict("speed", claim, UNTESTED, "Untested: the speed experiment did not produce ReLU-KAN and KAN rows.")
    relukan = exp.relukan()
    parts, best, all_faster = [], 0.0, True
    for device in dict.fromkeys(r["device"] for r in exp.summary):
        found = [r for r in exp.summary if r["model"] == relukan and r["device"] == device and _finite(r.get("speedup"))]
        if not found:
            continue
        speedups = [r["speedup"] for r in found]
        spreads = [speed_spread(exp, r["function"], relukan, device) for r in found]
        best = max(best, *speedups)
        all_faster = all_faster and min(speedups) > 1.0
        low, high = min(s[0] for s in spreads), max(s[1] for s in spreads)
        parts.append(
            f"on {'the CPU' if device == 'cpu' else 'the GPU (' + device + ')'} ReLU-KAN trained "
            f"{_span(speedups)} faster than KAN across {len(found)} functions "
            f"(medians; {fmt.ratio(low)} to {fmt.ratio(high)} between the repeats' quartiles)"
        )
    if not parts:
        return Verdict("speed", claim, UNTESTED, "Untested: no speedup could be computed.")
    paper_cpu = [r.get("paper_speedup_cpu") for r in exp.table]
    paper_gpu = [r.get("paper_speedup_gpu") for r in exp.table]
    outcome = HOLDS if best >= SPEED_HOLDS else PARTLY if all_faster else FAILS
    devices = {r["device"] for r in exp.summary}
    gpu_note = "" if "cuda" in devices else "; its ~20x is a GPU-against-GPU result on f4 and f5, and no GPU was measured here"
    sentence = (
        f"{'; '.join(parts)}, against the paper's {_span(paper_cpu)} on CPU and {_span(paper_gpu)} on GPU{gpu_note}."
    )
    split = [r for r in exp.decomposition if r["relukan"] == relukan]
    if split:
        sentence += (
            f" Of that, pykan's implementation accounts for {_span([r['implementation'] for r in split])} (the same "
            f"B-spline KAN in a few tensor operations, `{split[0]['bspline']}`, is that much faster than pykan) and the "
            f"basis for {_span([r['basis'] for r in split])}."
        )
    return Verdict("speed", claim, outcome, sentence[0].upper() + sentence[1:])


# ----------------------------------------------------------------------------- fit
def fit_section(exp: Experiment, run_dir: Path) -> str:
    models = exp.model_names()
    kan = exp.kan()
    others = [m for m in models if m != kan]
    rows = {(r["function"], r["model"]): r for r in exp.summary}
    steps = exp.config.get("train", {}).get("steps")
    seeds = exp.config.get("seeds", [])
    header = ["function", *[f"{m} test MSE [seed range]" for m in models], *[f"{kan} / {m}" for m in others],
              "paper KAN", "paper ReLU-KAN", "paper KAN / ReLU-KAN (MSE)", "as plotted"]
    body, notes = [], []
    for table_row in exp.table:
        function = table_row["function"]
        cells = [function]
        for model in models:
            row = rows.get((function, model))
            if row is None:
                cells.append("")
                continue
            cell = fmt.mse(row["final_test_mse"])
            if (row.get("n_seeds") or 0) > 1:
                cell += f" [{fmt.mse(row.get('final_test_mse_min'))} to {fmt.mse(row.get('final_test_mse_max'))}]"
            if fmt.failures(row):
                cell += f" ({fmt.failures(row)})"
            cells.append(cell)
        for model in others:
            cells.append(f"**{fmt.ratio(table_row.get(f'{model}_gain'))}**")
        mark = "*" if table_row.get("paper_note") else ""
        ran_other = "other function*" if mark else ""  # the paper ran something else under this name
        cells += [fmt.mse(table_row.get("paper_kan_test_mse")) or ran_other, fmt.mse(table_row.get("paper_relukan_test_mse")) or ran_other,
                  fmt.ratio(table_row.get("paper_gain")) + mark, fmt.ratio(table_row.get("paper_gain_as_plotted")) + mark]
        if mark:
            notes.append(f"{function}: {table_row['paper_note']}.")
        body.append(cells)
    figures = [f"![{p.stem}]({_link(p, run_dir)})" for p in [exp.directory / "overview.png"] if p.is_file()]
    curves = sorted(exp.directory.glob("curves_*.png"))
    fits = sorted(exp.directory.glob("fit_*.png"))
    text = [
        f"Final test MSE after {steps} full-batch Adam steps, median over {len(seeds)} seed(s) with the range over seeds; "
        f"`{kan} / model` > 1 means the model's error is lower than {kan}'s. The paper's columns are its final "
        "test errors in MSE, and its ratio as its figures plot it (KAN RMSE against ReLU-KAN MSE).",
        "",
        markdown_table(header, body),
        "",
        *[f"- \\* {note}" for note in notes],
        "",
        *figures,
        "",
        "Per function: " + ", ".join(f"[{p.stem}]({_link(p, run_dir)})" for p in [*curves, *fits]) if curves or fits else "",
    ]
    return "\n".join(text)


def fit_verdict(exp: Experiment | None) -> Verdict:
    claim = _claim("fit")
    if exp is None or not exp.summary or exp.relukan() is None or exp.kan() is None:
        return Verdict("fit", claim, UNTESTED, "Untested: the fit experiment did not produce ReLU-KAN and KAN rows.")
    relukan, kan = exp.relukan(), exp.kan()
    rows = {(r["function"], r["model"]): r for r in exp.summary}
    gains, worst, best, functions = [], [], [], []
    for function in dict.fromkeys(r["function"] for r in exp.summary):
        mine, base = rows.get((function, relukan)), rows.get((function, kan))
        if not mine or not base or not mine["final_test_mse"] or not base["final_test_mse"]:
            continue
        functions.append(function)
        gains.append(base["final_test_mse"] / mine["final_test_mse"])
        worst.append((base.get("final_test_mse_min") or math.nan) / (mine.get("final_test_mse_max") or math.nan))
        best.append((base.get("final_test_mse_max") or math.nan) / (mine.get("final_test_mse_min") or math.nan))
    if not gains:
        return Verdict("fit", claim, UNTESTED, "Untested: no function has both models' errors.")
    mean = _geomean(gains)
    better = sum(1 for g in gains if g > 1)
    paper = [r.get("paper_gain") for r in exp.table]
    plotted = [r.get("paper_gain_as_plotted") for r in exp.table]
    outcome = HOLDS if mean >= FIT_HOLDS else PARTLY if mean > 1 else FAILS
    steps = exp.config.get("train", {}).get("steps")
    lowest, highest = functions[gains.index(min(gains))], functions[gains.index(max(gains))]
    sentence = (
        f"After {steps} Adam steps in the same training loop, ReLU-KAN's median test MSE was lower than KAN's on "
        f"{better} of {len(gains)} functions: KAN/ReLU-KAN MSE from {fmt.ratio(min(gains))} ({lowest}) to "
        f"{fmt.ratio(max(gains))} ({highest}), geometric mean {fmt.ratio(mean)} ({_span(worst + best)} between "
        f"the seeds' extremes); the paper's own numbers give {_span(paper)} in MSE, {_span(plotted)} as plotted."
    )
    return Verdict("fit", claim, outcome, sentence)


# ----------------------------------------------------------------------------- forgetting
def forgetting_section(exp: Experiment, run_dir: Path) -> str:
    from relukan_bench.experiments.forgetting import summary_table
    from relukan_bench.tables import to_markdown

    data, train = exp.config.get("data", {}), exp.config.get("train", {})
    table = summary_table(exp.summary, zero_mse(exp), data.get("segments"), train.get("steps_per_phase"), train.get("lr"),
                          exp.kinds())
    panels = [exp.directory / f"panels_{m}.png" for m in (exp.relukan(), exp.kan()) if m]
    shown = [p for p in [*panels, exp.directory / "heatmap.png"] if p.is_file()]
    others = [p for p in sorted(exp.directory.glob("*.png")) if p not in shown]
    text = [
        f"{table.title}. {table.caption} The paper reports no number for this experiment, only figures.",
        "",
        to_markdown(table),
        "",
        *[f"![{p.stem}]({_link(p, run_dir)})" for p in shown],
        "",
        "Also: " + ", ".join(f"[{p.stem}]({_link(p, run_dir)})" for p in others) if others else "",
    ]
    return "\n".join(text)


def zero_mse(exp: Experiment) -> float:
    """The MSE of predicting 0 on a segment, from the run's own data settings."""
    from relukan_bench.config import ForgettingDataSpec
    from relukan_bench.experiments.forgetting import zero_mse as compute

    return compute(ForgettingDataSpec.model_validate(exp.config["data"]))


def forgetting_verdict(exp: Experiment | None) -> Verdict:
    claim = _claim("forgetting")
    if exp is None or not exp.summary or exp.relukan() is None:
        return Verdict("forgetting", claim, UNTESTED, "Untested: the forgetting experiment did not produce a ReLU-KAN row.")
    rows = {r["model"]: r for r in exp.summary}
    mine = rows[exp.relukan()]
    median = mine["forgotten_fraction"]
    highest = mine.get("forgotten_fraction_max") if _finite(mine.get("forgotten_fraction_max")) else median
    if not _finite(median):
        outcome = FAILS
    else:
        outcome = HOLDS if highest <= FORGETTING_HOLDS else PARTLY if median <= FORGETTING_HOLDS else FAILS
    seeds = int(mine.get("n_seeds") or 1)
    spread = (f" [{fmt.percent(mine.get('forgotten_fraction_min'))} to {fmt.percent(highest)} over {seeds} seeds]"
              if seeds > 1 else "")
    sentence = (
        f"ReLU-KAN lost {fmt.percent(median)}{spread} of what its phases gained, a mean forgetting of "
        f"{fmt.mse(mine['forgetting'])} against {zero_mse(exp):.3f} for a segment wiped out"
    )
    model_roles = exp.roles()
    controls = [f"`{name}` {fmt.percent(row['forgotten_fraction'])}" for name, row in rows.items()
                if name != exp.relukan() and model_roles.get(name) in ("kan", "control")]
    sentence += ("; under the same protocol " + ", ".join(controls) if controls else "") + "."
    return Verdict("forgetting", claim, outcome, sentence)


# ----------------------------------------------------------------------------- the report
def _verdicts(found: dict[str, Experiment | None]) -> list[Verdict]:
    from relukan_bench.experiments.protocol import experiment

    return [experiment(name).verdict(exp) for name, exp in found.items()]


def _environment(env: dict[str, Any]) -> str:
    git = env.get("git") or {}
    commit = (git.get("commit") or "")[:12] + (" (with local changes)" if git.get("dirty") else "") if git else "unknown"
    rows = [
        ("CPU", f"{env.get('cpu')} ({env.get('cpu_count')} logical cores)"),
        ("GPU", ", ".join(env.get("gpus") or []) or "none"),
        ("devices measured", ", ".join(env.get("devices") or [])),
        ("torch threads", str(env.get("threads"))),
        ("python / torch / pykan / numpy",
         f"{env.get('python')} / {env.get('torch')} / {env.get('pykan')} / {env.get('numpy')}"),
        ("platform", str(env.get("platform"))),
        ("relukan-bench", f"{env.get('relukan_bench')}, commit {commit}"),
        ("command", " ".join(env.get("command") or [])),
        ("started / ended (UTC)", f"{env.get('start_time')} / {env.get('end_time') or 'not finished'}"),
    ]
    for session in env.get("resumed") or []:  # `--resume` went on with the run
        rows.append(("resumed (UTC)", f"{session.get('start_time')}: {' '.join(session.get('command') or [])}"))
    return markdown_table(["", ""], [list(r) for r in rows], right=[False, False])


def _duration(env: dict[str, Any]) -> str:
    import datetime as dt

    try:
        start = dt.datetime.fromisoformat(env["start_time"])
        end = dt.datetime.fromisoformat(env["end_time"])
    except (KeyError, TypeError, ValueError):
        return ""
    minutes, seconds = divmod(int((end - start).total_seconds()), 60)
    return f"{minutes} min {seconds:02d} s"


def write_report(run_dir: Path) -> list[Verdict]:
    """Write `run_dir/REPORT.md` (atomically); return its verdicts."""
    from relukan_bench.results import write_text

    text, found = _report(Path(run_dir))
    write_text(Path(run_dir) / "REPORT.md", text)
    return found


def build_report(run_dir: Path) -> str:
    """The whole REPORT.md of a reproduce run directory (its env.json says whether `--quick`)."""
    return _report(Path(run_dir))[0]


def _report(run_dir: Path) -> tuple[str, list[Verdict]]:
    env_path = run_dir / "env.json"
    env = json.loads(env_path.read_text(encoding="utf-8")) if env_path.is_file() else {}
    experiments = load_all(run_dir)
    found = _verdicts(experiments)
    lines = [*_head(env, experiments), *_verdict_lines(found, bool(env.get("quick"))), "## Environment", "",
             _environment(env), ""]
    for name, exp in experiments.items():
        lines += _section(name, exp, run_dir)
    return "\n".join(lines).rstrip() + "\n", found


def _head(env: dict[str, Any], experiments: dict[str, Experiment | None]) -> list[str]:
    """The title, the smoke-run and incomplete banners, and what was run."""
    lines = ["# ReLU-KAN against KAN: a reproduction", ""]
    if env.get("quick"):
        lines += ["> **Smoke run (`--quick`)**: a handful of steps, one repeat and one seed per experiment. "
                  "It shows that everything runs; its numbers are not evidence for or against the paper.", ""]
    missing = [name for name, exp in experiments.items() if exp is None or exp.interrupted]
    if missing or env.get("interrupted"):
        lines += [f"> **Incomplete**: interrupted or not run: {', '.join(missing) or 'see env.json'}. "
                  "The tables show what finished.", ""]
    duration = _duration(env)
    return lines + [
        "Paper: Qiu et al., *ReLU-KAN: New Kolmogorov-Arnold Networks that Only Need Matrix Addition, "
        "Dot Multiplication, and ReLU*, arXiv 2406.02075. KAN is pykan's. Every experiment ran its default "
        "config (`configs/`); each one's directory holds its config, environment, raw records and tables."
        + (f" Wall time of the whole run: {duration}." if duration and not env.get("resumed") else "")
        + (f" From its start to its end: {duration}, in {1 + len(env['resumed'])} sessions (it was resumed; "
           "see the environment)." if duration and env.get("resumed") else ""),
        "",
    ]


def _verdict_lines(found: list[Verdict], quick: bool) -> list[str]:
    lines = ["## Verdicts", ""]
    for verdict in found:
        prefix = "(smoke run) " if quick else ""
        lines.append(f"- **{verdict.claim}: {prefix}{verdict.outcome}.** {verdict.sentence}")
    return lines + [
        "",
        f"How the verdicts are decided: speed holds when ReLU-KAN's median speedup reaches {SPEED_HOLDS:.0f}x on some "
        "function and device, and partly holds when it is faster on every function; accuracy holds when the geometric "
        f"mean over functions of KAN MSE / ReLU-KAN MSE is at least {FIT_HOLDS:.0f}x, and partly holds above 1x; "
        f"forgetting holds when ReLU-KAN loses at most {FORGETTING_HOLDS:.0%} of its gains on every seed, and partly "
        "holds when the median seed does.",
        "",
    ]


def _section(name: str, exp: Experiment | None, run_dir: Path) -> list[str]:
    """One experiment's section: where its files are, then what its declaration writes."""
    from relukan_bench.experiments.protocol import experiment

    declared = experiment(name)
    lines = [f"## {declared.title}", ""]
    if exp is None:
        return lines + ["Not run.", ""]
    where = exp.directory.relative_to(run_dir).as_posix()
    lines += [
        f"Run directory: [`{where}/`]({where}/) (tables: [summary.csv]({where}/summary.csv)"
        + (f", [table.csv]({where}/table.csv)" if (exp.directory / "table.csv").is_file() else "")
        + (f"; [env.json]({where}/env.json)" if (exp.directory / "env.json").is_file() else "") + ")."
        + (" **Interrupted**: only finished work is shown." if exp.interrupted else ""),
        "",
    ]
    return lines + [declared.section(exp, run_dir) if exp.summary else "No finished work.", ""]
