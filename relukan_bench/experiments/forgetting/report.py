"""The forgetting experiment's part of REPORT.md: its section (the summary table, the panels
and heatmap) and its verdict.

"Avoids catastrophic forgetting": ReLU-KAN's forgotten fraction (the share of what its phases
gained that is lost by the end); *holds* when every seed stays at or below `HOLDS_AT`,
*partly holds* when the median does, *does not hold* otherwise. With the field's KANs
(`reproduce --peers`, experiments/forgetting/peers.py), also "forgets least among them?".
"""

from __future__ import annotations

from pathlib import Path

import relukan_bench.experiments.forgetting.peers as peers
from relukan_bench import fmt
from relukan_bench.experiments.forgetting.peers import zero_mse
from relukan_bench.experiments.forgetting.records import SummaryRecord
from relukan_bench.experiments.forgetting.tables import summary_table
from relukan_bench.experiments.protocol import experiment
from relukan_bench.kinds import kinds
from relukan_bench.report import FAILS, HOLDS, PARTLY, UNTESTED, LoadedRun, Verdict, finite, link
from relukan_bench.tables import to_markdown

HOLDS_AT = 0.10  # at most 10% of what was gained is lost
RULE = (f"forgetting holds when ReLU-KAN loses at most {HOLDS_AT:.0%} of its gains on every seed, and partly holds "
        "when the median seed does")


def section(exp: LoadedRun, run_dir: Path) -> str:
    data, train = exp.config.get("data", {}), exp.config.get("train", {})
    labels = {name: kinds()[kind].label if kind in kinds() else kind for name, kind in exp.kinds().items()}
    table = summary_table(_summary_records(exp), zero_mse(exp), data.get("segments"), train.get("steps_per_phase"),
                          train.get("lr"), labels)
    panels = [exp.directory / f"panels_{m}.png" for m in (exp.relukan(), exp.kan()) if m]
    shown = [p for p in [*panels, exp.directory / "heatmap.png"] if p.is_file()]
    others = [p for p in sorted(exp.directory.glob("*.png")) if p not in shown]
    text = [
        f"{table.title}. {table.caption} The paper reports no number for this experiment, only figures.",
        "",
        to_markdown(table),
        "",
        *[f"![{p.stem}]({link(p, run_dir)})" for p in shown],
        "",
        "Also: " + ", ".join(f"[{p.stem}]({link(p, run_dir)})" for p in others) if others else "",
    ]
    among = peers.section(exp)
    return "\n".join(text + (["", among] if among else []))


def _summary_records(exp: LoadedRun) -> list[SummaryRecord]:
    """The run's summary.csv, read back as rows, made records again for the table the terminal
    shows too (a column a row lacks, in a run written before it existed, is blank)."""
    return [SummaryRecord.from_row(row) for row in exp.summary]


def verdict(exp: LoadedRun | None) -> Verdict:
    claim = experiment("forgetting").report.claim
    if exp is None or not exp.summary or exp.relukan() is None:
        return Verdict("forgetting", claim, UNTESTED, "Untested: the forgetting experiment did not produce a ReLU-KAN row.")
    rows = {r["model"]: r for r in exp.summary}
    mine = rows[exp.relukan()]
    median = mine["forgotten_fraction"]
    top = mine.get("forgotten_fraction_max")
    highest = top if finite(top) else median
    if not finite(median):
        outcome = FAILS
    else:
        outcome = HOLDS if highest <= HOLDS_AT else PARTLY if median <= HOLDS_AT else FAILS
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
    kan = rows.get(exp.kan()) if exp.kan() else None
    ours = f"loses {fmt.percent(median)} of its gains"
    ours += f" ({fmt.percent(mine.get('forgotten_fraction_min'))} to {fmt.percent(highest)})" if seeds > 1 else ""
    ours += f"; KAN {fmt.percent(kan['forgotten_fraction'])}" if kan else ""
    return Verdict("forgetting", claim, outcome, sentence, paper="no forgetting (figures only, no number)", ours=ours)


def verdicts(exp: LoadedRun | None) -> list[Verdict]:
    """The claim on ReLU-KAN alone; with the peers' run (`reproduce --peers`), also "forgets least
    among the field's KANs?" (experiments/forgetting/peers.py)."""
    among = peers.verdict(exp)
    return [verdict(exp)] + ([among] if among is not None else [])


# ----------------------------------------------------------------------------- the report
