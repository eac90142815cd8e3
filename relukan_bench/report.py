"""REPORT.md of a `reproduce` run: built from the files of its run directories alone.

The report reads what the experiments wrote (`summary.csv`, `table.csv`, `config.yaml`,
`env.json`), so it can be rebuilt from a finished or interrupted run at any time, and it
computes nothing that is not in those files except the verdicts. Each verdict follows a rule
stated in the report itself:

- speed, "about 20x faster": *holds* when ReLU-KAN's median speedup over KAN reaches 15x on
  some function and device; *partly holds* when it is faster on every function but never
  reaches 15x; *does not hold* when KAN is as fast or faster on some function.
- fit, "two orders of magnitude more accurate": the geometric mean over functions of
  KAN MSE / ReLU-KAN MSE (medians over seeds; a tuned run's selected candidates); *holds* at
  100x or more, *partly holds* above 1x, *does not hold* at 1x or less. With `fit-tuned/`
  (`reproduce --tuned`) the claim is decided twice by this rule: under the shared protocol and
  with each model at its best.
- forgetting, "avoids catastrophic forgetting": ReLU-KAN's forgotten fraction (the share of what
  its phases gained that is lost by the end); *holds* when every seed stays at or below 10%,
  *partly holds* when the median does, *does not hold* otherwise.

    text = build_report(run_dir)     # markdown
    found = write_report(run_dir)    # writes REPORT.md; [Verdict(claim, outcome, sentence, ...), ...]
    verdict.headline                 # "<claim>: <outcome>." ("smoke run, not a result" in a --quick run)

Every ratio in the report reads "how many times better ReLU-KAN is" than KAN (`fmt.times`: below
1 written 1/N x), as `CONVENTION` says in the report.
"""

from __future__ import annotations

import datetime as dt
import math
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from statistics import geometric_mean
from typing import Any, Callable, Sequence, TypeGuard

from relukan_bench import fmt
from relukan_bench.env import commits, describe, program, run_sessions
from relukan_bench.experiments import protocol
from relukan_bench.kinds import roles as kind_roles
from relukan_bench.records import types_of
from relukan_bench.results import read_csv, read_mapping, write_text
from relukan_bench.tables import Cell, Column, Table

HOLDS, PARTLY, FAILS, UNTESTED = "holds", "partly holds", "does not hold", "untested"



SMOKE = "smoke run, not a result"  # what a `--quick` run's verdicts say wherever they are printed
CONVENTION = ("Every ratio reads \"how many times better ReLU-KAN is\" (or the model named) than KAN: above 1 it is "
              "faster or has the lower MSE; below 1 it is written 1/N x, N times worse (1/50x: a 50 times higher MSE).")


@dataclass(frozen=True)
class Verdict:
    """A verdict on one of the paper's claims: the outcome and the sentence that backs it, the
    head table's short cells (`paper`, `ours`), an optional one-line `finding` printed under that
    table, and whether it comes from a `--quick` run (then `status` and `headline` say so)."""

    experiment: str
    claim: str
    outcome: str  # HOLDS, PARTLY, FAILS or UNTESTED
    sentence: str
    paper: str = ""  # what the paper claims, in a few words
    ours: str = ""  # what this run measured, in a few words
    finding: str = ""  # one line worth reading first (speed: where the speedup comes from)
    quick: bool = False

    @property
    def status(self) -> str:
        """The outcome, or "smoke run, not a result (<outcome>)" for a `--quick` run."""
        return f"{SMOKE} ({self.outcome})" if self.quick else self.outcome

    @property
    def headline(self) -> str:
        """`<claim>: <status>.`: the line to print before the sentence (REPORT.md, the terminal)."""
        return f"{self.claim}: {self.status}."


@dataclass
class LoadedRun:
    """One experiment's run directory as the report reads it."""

    name: str
    directory: Path
    config: dict[str, Any]
    env: dict[str, Any]
    summary: list[dict[str, Any]]
    table: list[dict[str, Any]]
    decomposition: list[dict[str, Any]] = field(default_factory=list)  # speed only
    # further run directories of the same experiment in the reproduce run (protocol.Part): name -> read back
    variants: dict[str, "LoadedRun"] = field(default_factory=dict)

    @property
    def interrupted(self) -> bool:
        return bool(self.env.get("interrupted")) or self.env.get("end_time") is None

    def entries(self) -> list[dict[str, Any]]:
        """The config's model entries as the summary names them: a tuned model's candidates
        (config `tuned:`) as one entry under the tuned model's name, in config order."""
        tuned = self.config.get("tuned") or {}
        found: dict[str, dict[str, Any]] = {}
        for entry in self.config.get("models", []):
            name = (tuned.get(entry["name"]) or {}).get("model", entry["name"])
            found.setdefault(name, {**entry, "name": name})
        return list(found.values())

    def model_names(self) -> list[str]:
        """The config's models that have a summary row, in config order."""
        present = {row["model"] for row in self.summary}
        return [m["name"] for m in self.entries() if m["name"] in present]

    def kinds(self) -> dict[str, str]:
        return {m["name"]: m["kind"] for m in self.entries()}

    def roles(self) -> dict[str, str | None]:
        """Each model's role in the paper's comparison (relukan_bench.kinds)."""
        return kind_roles(self.entries())

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
def _number(text: str | None) -> float | str | None:
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
    return {column for table in protocol.experiment(name).summaries.values() for column, kind in types_of(table).items() if kind is str}


def load_experiment(directory: Path, name: str) -> LoadedRun | None:
    """The experiment's run directory, or None when it was never started. Its summary is read
    as the paper's comparison reads it (`comparison_rows`: a tuned fit's selected candidates)."""
    directory = Path(directory)
    if not (directory / "config.yaml").is_file():
        return None
    config = read_mapping(directory / "config.yaml") or {}
    env = read_mapping(directory / "env.json") or {}
    text = _text_columns(name) | {"function"}
    summary = protocol.experiment(name).report.comparison_rows(_rows(directory / "summary.csv", text))
    return LoadedRun(name, directory, config, env, summary, _rows(directory / "table.csv", text),
                      _rows(directory / "decomposition.csv", text))


def load_all(run_dir: Path) -> dict[str, LoadedRun | None]:
    """Every registered experiment's directory in a reproduce run (None where never started),
    with the further parts of it the run holds (`fit-tuned/`) as its `variants`."""
    found = {name: load_experiment(Path(run_dir) / name, name) for name in protocol.experiments()}
    for name, part in protocol.reproduce_parts(tuned=True, peers=True).items():
        owner = found.get(part.experiment)
        if name not in found and owner is not None:
            variant = load_experiment(Path(run_dir) / name, part.experiment)
            if variant is not None:
                owner.variants[name] = variant
    return found


def _further(experiments: dict[str, LoadedRun | None]) -> list[protocol.Part]:
    """The further parts of the run (protocol.Part: `fit-tuned/`) it holds, in run order."""
    return [part for name, part in protocol.reproduce_parts(tuned=True, peers=True).items()
            if name != part.experiment and name in getattr(experiments.get(part.experiment), "variants", {})]


def _missing(experiments: dict[str, LoadedRun | None], flags: dict[str, bool]) -> list[str]:
    """The parts of the run (with those its `flags` ask for: `--tuned`, `--peers`) not run or
    interrupted."""
    missing = []
    for name, part in protocol.reproduce_parts(**flags).items():
        owner = experiments.get(part.experiment)
        exp = owner if name == part.experiment else owner.variants.get(name) if owner is not None else None
        if exp is None or exp.interrupted:
            missing.append(name)
    return missing


# ----------------------------------------------------------------------------- formatting
def finite(value: object) -> TypeGuard[float]:
    """Whether `value` is a finite float (a CSV cell read as a number; None, NaN, an int: not)."""
    return isinstance(value, float) and math.isfinite(value)


def span(values: Sequence[float | None], style: Callable[[float], str] = fmt.times) -> str:
    """`a to b` for the finite values, or the one value."""
    numbers = [v for v in values if finite(v)]
    if not numbers:
        return "n/a"
    low, high = min(numbers), max(numbers)
    return style(low) if low == high else f"{style(low)} to {style(high)}"


def geomean(values: Sequence[float | None]) -> float:
    positive = [v for v in values if finite(v) and v > 0]
    return geometric_mean(positive) if positive else math.nan


def link(path: Path, run_dir: Path) -> str:
    return path.relative_to(run_dir).as_posix()


def _verdicts(found: dict[str, LoadedRun | None], quick: bool) -> list[Verdict]:
    return [replace(verdict, quick=quick) for name, exp in found.items() for verdict in protocol.experiment(name).report.verdicts(exp)]


# ----------------------------------------------------------------------------- the environment
_TEMPORARY = ("/tmp/", "/var/tmp/", "/private/tmp/", "/var/folders/")


def _temporary(word: str) -> bool:
    path = word.split("=", 1)[-1]
    return any(path.startswith(root) or path == root.rstrip("/")
               for root in (*_TEMPORARY, tempfile.gettempdir().rstrip("/") + "/"))


def shown_command(words: Sequence[str], run_dir: Path) -> str:
    """A recorded command line as a user types it: `relukan-bench`, not the path of the script
    or of `__main__.py`; `--out` / `--resume` (this run directory) as `run_dir` where that is a
    relative path, and without a temporary directory otherwise; no other temporary path."""
    words = list(words)
    if not words:
        return ""
    shown, rest = [program(words[0])], iter(words[1:])
    here = run_dir.as_posix() if not run_dir.is_absolute() else None
    for word in rest:
        flag, _, value = word.partition("=")
        if flag in ("--out", "--resume"):
            value = value or next(rest, "")
            if here or not (Path(value).is_absolute() or _temporary(value)):
                shown += [flag, here or value]
            continue
        shown.append(Path(word).name if _temporary(word) else word)
    return " ".join(shown)


def computed_with(run_dir: Path, env: dict[str, Any]) -> str:
    """Every commit the run and its parts were computed with, in the order first used, with
    their tree state: `commit 85bba7a221a4`, or `commits 0e125e5d0778 (uncommitted changes),
    e3ffd4d15185` for a run resumed under other code, or whose parts ran other code
    (relukan_bench.env.run_sessions)."""
    used = commits(run_sessions(run_dir, env))
    return f"commit{'s' if len(used) > 1 else ''} " + ", ".join(describe(git) for git in used or [None])


def _environment(env: dict[str, Any], run_dir: Path, commit: str) -> str:
    rows = [
        ("CPU", f"{env.get('cpu')} ({env.get('cpu_count')} logical cores)"),
        ("GPU", ", ".join(env.get("gpus") or []) or "none"),
        ("devices measured", ", ".join(env.get("devices") or [])),
        ("torch threads", str(env.get("threads"))),
        ("python / torch / pykan / numpy",
         f"{env.get('python')} / {env.get('torch')} / {env.get('pykan')} / {env.get('numpy')}"),
        ("platform", str(env.get("platform"))),
        ("relukan-bench", f"{env.get('relukan_bench')}, {commit}"),
        ("command", shown_command(env.get("command") or [], run_dir)),
        ("started / ended (UTC)", f"{env.get('start_time')} / {env.get('end_time') or 'not finished'}"),
    ]
    for session in env.get("resumed") or []:  # `--resume` went on with the run
        command = shown_command(session.get("command") or [], run_dir)
        code = f"; commit {describe(session['git'])}" if session.get("git") else ""
        rows.append(("resumed (UTC)", f"{session.get('start_time')}: {command}{code}"))
    table = Table("", "", [Column("", "left")], [Column("", "left")])
    for row in rows:
        table.add_row(row)
    return table.to_markdown()


def _duration(env: dict[str, Any]) -> str:
    try:
        start = dt.datetime.fromisoformat(env["start_time"])
        end = dt.datetime.fromisoformat(env["end_time"])
    except (KeyError, TypeError, ValueError):
        return ""
    minutes, seconds = divmod(int((end - start).total_seconds()), 60)
    return f"{minutes} min {seconds:02d} s"


# ----------------------------------------------------------------------------- the report
def write_report(run_dir: Path) -> list[Verdict]:
    """Write `run_dir/REPORT.md` (atomically); return its verdicts (`quick` set in a `--quick` run)."""
    text, found = _report(Path(run_dir))
    write_text(Path(run_dir) / "REPORT.md", text)
    return found


def build_report(run_dir: Path) -> str:
    """The whole REPORT.md of a reproduce run directory (its env.json says whether `--quick`)."""
    return _report(Path(run_dir))[0]


def _report(run_dir: Path) -> tuple[str, list[Verdict]]:
    """The head (what was run, the claims at a glance, the finding, the ratio convention), the
    verdicts in full, the environment, then a section per experiment."""
    env = read_mapping(run_dir / "env.json") or {}
    experiments = load_all(run_dir)
    found = _verdicts(experiments, bool(env.get("quick")))
    commit = computed_with(run_dir, env)
    lines = [*_head(env, experiments), *_glance(found), *_verdict_lines(found), "## Environment", "",
             _what_ran(env, commit), "", _environment(env, run_dir, commit), ""]
    for name, exp in experiments.items():
        lines += _section(name, exp, run_dir, bool(env.get("quick")))
    return "\n".join(lines).rstrip() + "\n", found


def _head(env: dict[str, Any], experiments: dict[str, LoadedRun | None]) -> list[str]:
    """The title, the smoke-run and incomplete banners, and one line on what ran where and when."""
    lines = ["# ReLU-KAN against KAN: a reproduction", ""]
    if env.get("quick"):
        lines += ["> **Smoke run (`--quick`)**, not a result: a handful of steps, one repeat and one seed per "
                  "experiment. It shows that everything runs; its numbers are not evidence for or against the paper.", ""]
    further = _further(experiments)
    missing = _missing(experiments, {flag: bool(env.get(flag)) for flag in protocol.REPRODUCE_FLAGS})
    if missing or env.get("interrupted"):
        lines += [f"> **Incomplete**: interrupted or not run: {', '.join(missing) or 'see env.json'}. "
                  "The tables show what finished.", ""]
    where = f"{env.get('cpu') or 'unknown CPU'} ({env.get('cpu_count')} logical cores)"
    where += ", " + ", ".join(env["gpus"]) if env.get("gpus") else ", no GPU"
    when = ", ".join(part for part in ((env.get("start_time") or "")[:10], _duration(env)) if part)
    again = "".join(f", {part.experiment} again with `configs/{part.config}.yaml` ({part.title})" for part in further)
    return lines + [f"ReLU-KAN (Qiu et al., arXiv 2406.02075) against pykan's KAN, every experiment at its default "
                    f"config{again}, on {where}" + (f"; {when}." if when else "."), ""]


def _glance(found: list[Verdict]) -> list[str]:
    """The claims at a glance: claim | paper | ours | verdict, one short line each; then each
    verdict's finding and the ratio convention."""
    table = Table("", "", [Column("claim", "left")], [Column(name, "left") for name in ("paper", "ours", "verdict")])
    for v in found:
        table.add_row([v.claim, v.paper or "n/a", v.ours or "not measured", Cell(v.status, style="bold")])
    findings = [(f"{SMOKE[0].upper()}{SMOKE[1:]}: " if v.quick else "") + v.finding for v in found if v.finding]
    return ["## Verdicts", "", table.to_markdown(), "",
            *[line for finding in findings for line in (finding, "")], CONVENTION, ""]


def _what_ran(env: dict[str, Any], commit: str) -> str:
    """What the run is, how long it took and in how many sessions; where it was computed with
    several commits, which ones (a run resumed under other code mixes them)."""
    duration = _duration(env)
    return ("Paper: Qiu et al., *ReLU-KAN: New Kolmogorov-Arnold Networks that Only Need Matrix Addition, "
            "Dot Multiplication, and ReLU*, arXiv 2406.02075. KAN is pykan's. Every experiment ran its default "
            "config (`configs/`); each one's directory holds its config, environment, raw records and tables."
            + (f" Wall time of the whole run: {duration}." if duration and not env.get("resumed") else "")
            + (f" From its start to its end: {duration}, in {1 + len(env['resumed'])} sessions (it was resumed; "
               "see the environment)." if duration and env.get("resumed") else "")
            + (f" Computed with {commit} (in the order first used; each part's env.json records each session's "
               "commit): its numbers come from more than one version of the code." if commit.startswith("commits ") else ""))


def _verdict_lines(found: list[Verdict]) -> list[str]:
    lines = ["### The verdicts in full", ""]
    lines += [f"- **{verdict.headline}** {verdict.sentence}" for verdict in found]
    return lines + [
        "",
        "How the verdicts are decided: " + "; ".join(rule for rule in _rules() if rule) + ".",
        "",
    ]


def _rules() -> list[str]:
    return [exp.report.rule for exp in protocol.experiments().values()]


def _section(name: str, exp: LoadedRun | None, run_dir: Path, quick: bool = False) -> list[str]:
    """One experiment's section: where its files are, then what its declaration writes."""
    declared = protocol.experiment(name)
    lines = [f"## {declared.report.title}", ""]
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
    if quick:
        lines += [f"**{SMOKE[0].upper()}{SMOKE[1:]}**: the tables below show that it runs (`--quick`).", ""]
    return lines + [declared.report.section(exp, run_dir) if exp.summary else "No finished work.", ""]
