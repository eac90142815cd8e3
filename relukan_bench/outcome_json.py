"""What `--json` prints: one JSON object per command that writes a run, for scripts.

    {"experiment": "fit", "run_dir": "results/fit/...", "status": "complete", "quick": false,
     "units": {"finished": 90, "planned": 90}, "failed": [], "warnings": [],
     "summary": [{"function": "f1", "model": "relukan", ...}, ...]}

`status` is `complete`, `failed` (some units failed; the rest is kept), `interrupted`, or `lost`
(a worker process died or a Dask task was lost: `error` says why, the units it held are
unfinished and `--resume` runs them). The
summary rows are `summary.csv`'s, each cell by its column's declared type (the experiment's
summary record, as `relukan_bench.load` reads it): a number column gives numbers, a text column
text (a model named `nan` or `1e3` stays a string), a bool column true or false. A value that is
not a finite number (a diverged run's `inf`, a missing `nan`) or an empty cell is `null`. A
`reproduce` run gives its report, verdicts and the object of each experiment.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Mapping, Sequence

from relukan_bench.experiments.protocol import experiments
from relukan_bench.loading import declared_tables, read_rows
from relukan_bench.results import read_csv
from relukan_bench.safe_files import present

if TYPE_CHECKING:
    from relukan_bench.experiments.protocol import Outcome
    from relukan_bench.runner import ReproduceRun


def status(interrupted: bool, failed: Sequence[str], lost: str | None = None) -> str:
    return "lost" if lost else "interrupted" if interrupted else "failed" if failed else "complete"


def _value(value: object) -> object:
    """A cell read by its declared type, as JSON: null for None and for a float that is not finite."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def summary_rows(run_dir: Path, experiment: str) -> list[dict[str, object]]:
    """The rows of `run_dir/summary.csv`, a table of `experiment` (none when the run wrote none)."""
    path = Path(run_dir) / "summary.csv"
    if not present(path):
        return []
    declared = declared_tables(experiments()[experiment]).get("summary")
    if declared is None:  # an experiment that declares no summary record: its cells stay text
        return [dict(row) for row in read_csv(path)]
    _, records = read_rows(path, declared, experiment)
    return [{key: _value(value) for key, value in record.items()} for record in records]


def run_object(outcome: Outcome) -> dict[str, object]:
    """The object of one experiment's run (relukan_bench.experiments.protocol.Outcome)."""
    finished, planned = outcome.units
    return {"experiment": outcome.experiment, "run_dir": str(outcome.run_dir),
            "status": status(outcome.interrupted, outcome.failed, outcome.lost), "quick": outcome.quick,
            "error": outcome.lost,
            "units": {"finished": finished, "planned": planned}, "failed": list(outcome.failed),
            "warnings": list(outcome.warnings), "summary": summary_rows(outcome.run_dir, outcome.experiment)}


def reproduce_object(result: ReproduceRun) -> dict[str, object]:
    """The object of a reproduce run (relukan_bench.runner.ReproduceRun)."""
    failed = [line for run in result.runs.values() for line in run.failed]
    quick = any(run.quick for run in result.runs.values())
    return {"command": "reproduce", "run_dir": str(result.run_dir), "report": str(result.report),
            "status": status(result.interrupted, failed, result.lost), "quick": quick, "error": result.lost,
            "verdicts": [{"experiment": v.experiment, "claim": v.claim, "outcome": v.outcome, "status": v.status,
                          "sentence": v.sentence}
                         for v in result.verdicts],
            "experiments": {name: run_object(run) for name, run in result.runs.items()}}


def dumps(data: Mapping[str, object]) -> str:
    """One line of strict JSON (no NaN or Infinity)."""
    return json.dumps(data, allow_nan=False, ensure_ascii=False)
