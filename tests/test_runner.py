"""The runner: resuming interrupted runs and refusing what cannot be resumed, on small real runs.

An interruption is made by hand from a finished run: its commit log (raw.csv or runs.csv) loses
its last rows, as if the process had been killed before it could write them, while the other
logs keep the rows of those units (a kill between two writes) and a temporary file is left
behind. Resuming must recompute exactly the missing units, keep the others as they were and
end with the files an uninterrupted run writes.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import pytest

from relukan_bench.errors import ConfigError, UsageError
from relukan_bench.results import read_csv
from relukan_bench.runner import Request, run
from tests.tiny import FORGETTING, SPEED
from tests.tiny import FIT as TINY_FIT

#: with the widest paper network, where pykan's results used to vary from run to run
FIT = TINY_FIT.replace("{name: f4, expression: sin(pi*x1 + pi*x2), width: [2, 5, 1], grid: 5, k: 3}",
                       "{name: f6, expression: exp(sin(pi*x1**2 + pi*x2**2) + sin(pi*x3**2 + pi*x4**2)), "
                       "width: [4, 4, 2, 1], grid: 10, k: 3}")



def _rows(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def _without(rows: list[list[str]], *columns: str) -> list[list[str]]:
    """The table less some columns (the seconds a run took differ from run to run)."""
    drop = {rows[0].index(c) for c in columns}
    return [[cell for i, cell in enumerate(row) if i not in drop] for row in rows]


def _interrupt(full: Path, copy: Path, commit: str, keep: int) -> list[list[str]]:
    """`copy`: `full` as a kill would have left it after `keep` finished units: fewer rows in
    the commit log, the later units' rows still in the other logs, no summaries or figures,
    a temporary file. Returns the commit log's rows that were kept."""
    shutil.copytree(full, copy)
    rows = _rows(copy / commit)[: 1 + keep]
    with open(copy / commit, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    for path in copy.iterdir():
        if path.suffix == ".png" or path.name in ("summary.csv", "table.csv"):
            path.unlink()
    (copy / f".{commit}.x1y2z3.tmp").write_text("half a file")
    env = json.loads((copy / "env.json").read_text())
    env.update(end_time=None, interrupted=True)
    (copy / "env.json").write_text(json.dumps(env))
    return rows


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def fit_full(tmp_path_factory):
    """One finished fit run, made once; tests work on copies."""
    home = tmp_path_factory.mktemp("fit")
    (home / "fit.yaml").write_text(FIT)
    run("fit", Request(config=home / "fit.yaml", out=home / "full"))
    return home / "full"


@pytest.fixture
def fit_runs(fit_full, tmp_path):
    (tmp_path / "fit.yaml").write_text(FIT)
    shutil.copytree(fit_full, tmp_path / "full")
    return tmp_path, None


def test_fit_resume_runs_only_the_missing_units_and_ends_as_an_uninterrupted_run(fit_runs):
    tmp_path, _ = fit_runs
    kept = _interrupt(tmp_path / "full", tmp_path / "part", "runs.csv", keep=5)
    result = run("fit", Request(resume=tmp_path / "part"))
    assert not result.interrupted and result.units == (12, 12) and result.failed == []
    part, whole = tmp_path / "part", tmp_path / "full"
    runs = _rows(part / "runs.csv")
    assert runs[:6] == kept  # the finished units were not run again: even their seconds are as they were
    assert _without(runs, "seconds") == _without(_rows(whole / "runs.csv"), "seconds")
    # the same results to the last bit: ReLU-KAN and pykan (also pykan's own fit() with grid updates)
    for name in ("curves.csv", "predictions.csv", "table.csv"):
        assert (part / name).read_bytes() == (whole / name).read_bytes(), name
    from relukan_bench.experiments.fit.targets import TIMED  # times differ from run to run

    timed = ("seconds", *TIMED)
    assert _without(_rows(part / "summary.csv"), *timed) == _without(_rows(whole / "summary.csv"), *timed)
    assert sorted(p.name for p in part.iterdir()) == sorted(p.name for p in whole.iterdir())  # figures again, no .tmp
    env = json.loads((part / "env.json").read_text())
    assert env["interrupted"] is False and env["end_time"] and [s["units_done"] for s in env["resumed"]] == [5]


def test_resuming_a_finished_run_runs_nothing(fit_runs):
    tmp_path, _ = fit_runs
    before = _rows(tmp_path / "full" / "runs.csv")
    result = run("fit", Request(resume=tmp_path / "full"))
    assert result.units == (12, 12) and _rows(tmp_path / "full" / "runs.csv") == before


@pytest.mark.parametrize(
    "request_,message",
    [
        (dict(overrides=["train.steps=13"]), "the config differs from the one the run recorded (train.steps: 12 -> 13)"),
        (dict(options=["seeds=[0]"]), "the config differs from the one the run recorded (seeds: [0, 1] -> [0])"),
        (dict(models=["relukan"]), "(baseline: 'kan' -> null; models: ['relukan', 'kan', 'kan-pykan-fit'] -> ['relukan'])"),
        (dict(quick=True), "the config differs from the one the run recorded (seeds: [0, 1] -> [0]; train.steps: 12 -> 20)"),
        (dict(out=Path("elsewhere")), "--out elsewhere: a resumed run goes on in its own directory; give --resume or --out"),
    ],
)
def test_fit_resume_refuses_a_different_config_and_touches_nothing(fit_runs, request_, message):
    tmp_path, _ = fit_runs
    _interrupt(tmp_path / "full", tmp_path / "part", "runs.csv", keep=5)
    before = _snapshot(tmp_path)
    with pytest.raises(UsageError) as caught:
        run("fit", Request(resume=tmp_path / "part", **request_))
    assert message in str(caught.value)
    assert _snapshot(tmp_path) == before


def test_resume_refuses_another_environment_and_what_is_not_a_run(fit_runs):
    tmp_path, _ = fit_runs
    part = tmp_path / "part"
    _interrupt(tmp_path / "full", part, "runs.csv", keep=5)
    env = json.loads((part / "env.json").read_text())
    torch_version = env["torch"]
    (part / "env.json").write_text(json.dumps({**env, "torch": "1.0.0"}))
    before = _snapshot(tmp_path)
    with pytest.raises(UsageError, match=re.escape(f"recorded in another environment (torch: 1.0.0 -> {torch_version})")):
        run("fit", Request(resume=part))
    assert _snapshot(tmp_path) == before
    (tmp_path / "empty").mkdir()
    for where in ("empty", "missing", "fit.yaml"):
        with pytest.raises(UsageError, match=rf"--resume .*{where}: expected a fit run directory \(with config.yaml and env.json\)"):
            run("fit", Request(resume=tmp_path / where))
    with pytest.raises(UsageError, match="expected a speed run directory"):
        run("speed", Request(resume=tmp_path / "full"))
    (tmp_path / "full" / "config.yaml").write_text("experiment: fit\nseeds: [0, 0]\n")
    with pytest.raises(UsageError, match="config.yaml was edited after the run started"):
        run("fit", Request(resume=tmp_path / "full"))
    env = json.loads((tmp_path / "full" / "env.json").read_text())
    del env["config_sha256"]  # a run of an older version, which recorded no digest
    (tmp_path / "full" / "env.json").write_text(json.dumps(env))
    with pytest.raises(ConfigError, match="config.yaml: seeds"):  # a recorded config that no longer validates
        run("fit", Request(resume=tmp_path / "full"))


def test_resume_refuses_a_log_with_other_columns(fit_runs):
    tmp_path, _ = fit_runs
    part = tmp_path / "part"
    _interrupt(tmp_path / "full", part, "runs.csv", keep=5)
    rows = _rows(part / "curves.csv")
    with open(part / "curves.csv", "w", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows([row[:-1] for row in rows])
    with pytest.raises(UsageError, match="cannot read the run .*curves.csv: expected the columns"):
        run("fit", Request(resume=part))


def test_speed_resume_times_only_the_missing_units(tmp_path):
    (tmp_path / "speed.yaml").write_text(SPEED)
    run("speed", Request(config=tmp_path / "speed.yaml", out=tmp_path / "full"))
    kept = _interrupt(tmp_path / "full", tmp_path / "part", "raw.csv", keep=3)
    result = run("speed", Request(resume=tmp_path / "part"))
    assert result.units == (12, 12) and not result.interrupted
    raw = _rows(tmp_path / "part" / "raw.csv")
    assert raw[:4] == kept
    whole = _rows(tmp_path / "full" / "raw.csv")
    measured = ("seconds", "ms_per_step", "forward_ms", "backward_ms", "optimizer_ms", "peak_memory_mb", "infer_ms",
                "infer_memory_mb")
    assert _without(raw, *measured) == _without(whole, *measured)
    assert raw[4:] != whole[4:]  # timed again: a second measurement never gives the same nanoseconds
    assert [int(r["n"]) for r in read_csv(tmp_path / "part" / "summary.csv")] == [2] * 6
    assert (tmp_path / "part" / "speed.png").exists()


def test_forgetting_resume_runs_only_the_missing_units(tmp_path):
    (tmp_path / "forgetting.yaml").write_text(FORGETTING)
    run("forgetting", Request(config=tmp_path / "forgetting.yaml", out=tmp_path / "full"))
    kept = _interrupt(tmp_path / "full", tmp_path / "part", "runs.csv", keep=1)
    result = run("forgetting", Request(resume=tmp_path / "part"))
    assert result.units == (6, 6)
    part, whole = tmp_path / "part", tmp_path / "full"
    assert _rows(part / "runs.csv")[:2] == kept
    assert _without(_rows(part / "runs.csv"), "seconds") == _without(_rows(whole / "runs.csv"), "seconds")
    for name in ("matrix.csv", "predictions.csv", "curves.csv"):
        assert (part / name).read_bytes() == (whole / name).read_bytes(), name
    assert sorted(p.name for p in part.iterdir()) == sorted(p.name for p in whole.iterdir())
