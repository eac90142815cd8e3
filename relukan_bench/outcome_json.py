"""What `--json` prints: one JSON object per command that writes a run, for scripts.

    {"experiment": "fit", "run_dir": "results/fit/...", "status": "complete", "quick": false,
     "units": {"finished": 90, "planned": 90}, "failed": [], "warnings": [],
     "summary": [{"function": "f1", "model": "relukan", ...}, ...]}

`status` is `complete`, `failed` (some units failed; the rest is kept) or `interrupted`. The
summary rows are `summary.csv`'s, numbers as numbers; a value that is not a finite number
(a diverged run's `inf`, a missing `nan`) or an empty cell is `null`. A `reproduce` run gives
its report, verdicts and the object of each experiment.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any


def status(interrupted: bool, failed: Any) -> str:
    return "interrupted" if interrupted else "failed" if failed else "complete"


def _value(text: str) -> Any:
    """A CSV cell as JSON: int, finite float, null (empty, nan, inf), or the text."""
    if text == "":
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return {"True": True, "False": False}.get(text, text)
    return number if math.isfinite(number) else None


def summary_rows(run_dir: Path) -> list[dict[str, Any]]:
    """The rows of `run_dir/summary.csv` (none when the run wrote none)."""
    from relukan_bench.results import read_csv

    path = Path(run_dir) / "summary.csv"
    if not path.is_file():
        return []
    return [{key: _value(value) for key, value in row.items()} for row in read_csv(path)]


def run_object(outcome: Any) -> dict[str, Any]:
    """The object of one experiment's run (relukan_bench.experiments.protocol.Outcome)."""
    finished, planned = outcome.units
    return {"experiment": outcome.experiment, "run_dir": str(outcome.run_dir),
            "status": status(outcome.interrupted, outcome.failed), "quick": outcome.quick,
            "units": {"finished": finished, "planned": planned}, "failed": list(outcome.failed),
            "warnings": list(outcome.warnings), "summary": summary_rows(outcome.run_dir)}


def reproduce_object(result: Any) -> dict[str, Any]:
    """The object of a reproduce run (relukan_bench.runner.ReproduceRun)."""
    failed = [line for run in result.runs.values() for line in run.failed]
    quick = any(run.quick for run in result.runs.values())
    return {"command": "reproduce", "run_dir": str(result.run_dir), "report": str(result.report),
            "status": status(result.interrupted, failed), "quick": quick,
            "verdicts": [{"experiment": v.experiment, "claim": v.claim, "outcome": v.outcome, "status": v.status,
                          "sentence": v.sentence}
                         for v in result.verdicts],
            "experiments": {name: run_object(run) for name, run in result.runs.items()}}


def dumps(data: dict[str, Any]) -> str:
    """One line of strict JSON (no NaN or Infinity)."""
    return json.dumps(data, allow_nan=False, ensure_ascii=False)
