"""Time to a target (experiments/fit/targets.py): the steps by hand, "not reached" as a value,
and the step time from the run itself or from a real speed run of the same model and shape."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, strategies as st

from relukan_bench.experiments.fit import targets
from relukan_bench.experiments.fit.records import RunRecord, RunResult, SummaryRecord
from relukan_bench.experiments.fit.targets import first_step, run_steps, suffix
from tests.no_figures import figures_skipped


@pytest.fixture(autouse=True, scope="module")
def no_figures():
    """These runs are read for their tables and logs: the runs in this process draw no figures."""
    with figures_skipped():
        yield


def test_suffixes_name_the_targets():
    assert [suffix(t) for t in targets.TARGETS] == ["e2", "e3", "e4", "e5"]


def test_the_first_logged_step_at_or_below_the_target_and_inf_when_never():
    steps, values = [10, 20, 30, 40], [0.5, 1e-2, 2e-3, 1e-4]
    assert first_step(steps, values, 1e-2) == 20  # at the target counts
    assert first_step(steps, values, 1e-3) == 40
    assert run_steps(steps, values) == {"e2": 20.0, "e3": 40.0, "e4": 40.0, "e5": math.inf}
    assert first_step([], [], 1e-2) == math.inf


@given(st.lists(st.floats(min_value=1e-9, max_value=10.0), min_size=1, max_size=40))
def test_the_step_found_is_the_first_below_and_none_before_it_is(values):
    steps = [10 * (i + 1) for i in range(len(values))]
    for target in targets.TARGETS:
        found = first_step(steps, values, target)
        before = [v for s, v in zip(steps, values) if s < found]
        assert all(v > target for v in before)
        assert math.isinf(found) == all(v > target for v in values)


def _result(model: str, seed: int, val: list[float], seconds: float, error: str | None = None, diverged: bool = False):
    run = RunRecord.blank(function="f", model=model, seed=seed, seconds=seconds, steps_done=10 * len(val), device="cpu",
                          error=error, diverged=diverged)
    return RunResult(run, steps=[10 * (i + 1) for i in range(len(val))], val_mse=val)


def test_the_summary_takes_medians_counts_the_seeds_that_reached_and_times_them():
    results = [
        _result("m", 0, [1e-1, 5e-3, 5e-4], seconds=3.0),  # e2 at 20, e3 at 30
        _result("m", 1, [5e-3, 5e-3, 5e-3], seconds=6.0),  # e2 at 10, never e3
        _result("m", 2, [1e-1, 1e-1, 1e-3], seconds=9.0),  # e2 and e3 at 30
        _result("m", 3, [1e-9], seconds=1.0, error="RuntimeError: boom"),  # failed: left out
    ]
    summary = [SummaryRecord.blank(function="f", model="m")]
    targets.summary_columns(results, summary, {})
    row = summary[0]
    assert (row.steps_e2, row.reached_e2) == (20.0, 3)
    assert (row.steps_e3, row.reached_e3) == (30.0, 2)
    assert math.isinf(row.steps_e4) and row.reached_e4 == 0 and math.isinf(row.time_e4)
    assert row.step_source == targets.THIS_RUN and row.step_s == pytest.approx(0.2)  # median of 0.1, 0.2, 0.3
    assert row.time_e2 == pytest.approx(20 * 0.2)
    targets.summary_columns(results, summary, {("f", "m", "cpu"): 0.5})
    assert (row.step_source, row.time_e3) == ("speed run", pytest.approx(15.0))


def test_a_diverged_run_counts_with_what_it_reached_and_most_seeds_missing_is_not_reached():
    results = [_result("m", 0, [1e-3, math.nan], 2.0, error="the loss is not finite at step 20", diverged=True),
               _result("m", 1, [1.0, 1.0], 2.0), _result("m", 2, [1.0, 1.0], 2.0)]
    summary = [SummaryRecord.blank(function="f", model="m")]
    targets.summary_columns(results, summary, {})
    assert summary[0].reached_e2 == 1 and math.isinf(summary[0].steps_e2)


def test_step_times_come_from_a_real_speed_run_of_the_same_entry_shape_and_batch(tmp_path):
    """A speed run times relukan and kan on f1's shape: the fit's Adam entries of those names
    take its step times there; pykan's fit(), LBFGS and f4 (a shape it did not time) their own."""
    import csv

    from relukan_bench.runner import Request, run
    from tests.tiny import FIT, SPEED

    (tmp_path / "speed.yaml").write_text(SPEED)
    run("speed", Request(config=tmp_path / "speed.yaml", out=tmp_path / "speed"))
    lbfgs = "  - {name: relukan-lbfgs, kind: relukan, optimizer: lbfgs, lr: 1.0}\n"
    (tmp_path / "fit.yaml").write_text(FIT.replace("functions:", lbfgs + "functions:")
                                       + f"step_times: {tmp_path / 'speed'}\n")
    assert run("fit", Request(config=tmp_path / "fit.yaml", out=tmp_path / "fit")).warnings == []
    timed = {(r["function"], r["model"]): r["ms_per_step"] for r in csv.DictReader(open(tmp_path / "speed" / "summary.csv"))}
    rows = {(r["function"], r["model"]): r for r in csv.DictReader(open(tmp_path / "fit" / "summary.csv"))}
    for model in ("relukan", "kan"):
        assert rows[("f1", model)]["step_source"] == "speed run"
        assert float(rows[("f1", model)]["step_s"]) == pytest.approx(float(timed[("f1", model)]) / 1000, rel=1e-9)
    own = [rows[("f1", "kan-pykan-fit")], rows[("f1", "relukan-lbfgs")], rows[("f4", "relukan")], rows[("f4", "kan")]]
    assert {r["step_source"] for r in own} == {targets.THIS_RUN}
    for row in rows.values():  # time = steps x step time, or not reached
        steps, time = float(row["steps_e2"]), float(row["time_e2"])
        assert (math.isinf(steps) and math.isinf(time)) or time == pytest.approx(steps * float(row["step_s"]), rel=1e-9)


def test_an_absolute_step_times_that_names_no_speed_run_is_refused_in_one_line(tmp_path):
    from relukan_bench.config import load_config
    from relukan_bench.errors import ConfigError
    from relukan_bench.experiments.fit.config import FitConfig
    from tests.tiny import FIT

    (tmp_path / "fit.yaml").write_text(FIT)
    (tmp_path / "notaspeedrun").mkdir()
    (tmp_path / "notaspeedrun" / "config.yaml").write_text("experiment: fit\n")
    for where in (tmp_path / "missing", tmp_path / "notaspeedrun"):
        with pytest.raises(ConfigError, match=r"step_times: expected a speed run directory, with config.yaml and summary.csv"):
            load_config(tmp_path / "fit.yaml", [f"step_times={where}"], FitConfig)
    assert load_config(tmp_path / "fit.yaml", ["step_times=speed-beside"], FitConfig).step_times == "speed-beside"


def test_a_relative_step_times_names_a_sibling_and_without_one_the_run_says_so(tmp_path):
    """`step_times: speed` beside the run directory is read (as reproduce lays its parts out);
    where there is none the run ends with a warning and uses its own step times."""
    import csv

    from relukan_bench.runner import Request, run
    from tests.tiny import FIT, SPEED

    (tmp_path / "fit.yaml").write_text(FIT.replace("seeds: [0, 1]", "seeds: [0]") + "step_times: speed\n")
    alone = run("fit", Request(config=tmp_path / "fit.yaml", out=tmp_path / "alone" / "fit", functions=["f1"]))
    assert alone.warnings == [f"step_times: no speed run at {tmp_path / 'alone' / 'speed'}; the times to a target use "
                              "this run's own step times"]
    (tmp_path / "speed.yaml").write_text(SPEED)
    run("speed", Request(config=tmp_path / "speed.yaml", out=tmp_path / "rep" / "speed", functions=["f1"]))
    beside = run("fit", Request(config=tmp_path / "fit.yaml", out=tmp_path / "rep" / "fit", functions=["f1"]))
    assert beside.warnings == []
    rows = list(csv.DictReader(open(tmp_path / "rep" / "fit" / "summary.csv")))
    assert {r["model"]: r["step_source"] for r in rows} == {"relukan": "speed run", "kan": "speed run",
                                                             "kan-pykan-fit": targets.THIS_RUN}


def test_the_timed_columns_are_the_summarys_time_columns():
    from relukan_bench.experiments.fit.records import SUMMARY_COLUMNS

    assert set(targets.TIMED) == {c for c in SUMMARY_COLUMNS if c == "step_s" or c.startswith("time_e")}
