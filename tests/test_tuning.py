"""Tuning: candidates of a model entry, chosen on the validation set alone."""

import csv
import json
import math
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from relukan_bench.config import dump_config, load_config, select
from relukan_bench.errors import ConfigError
from relukan_bench.experiments.fit import tuning
from relukan_bench.experiments.fit.config import FitConfig
from relukan_bench.experiments.fit.plan import Unit, plan
from relukan_bench.experiments.fit.records import RunRecord
from relukan_bench.experiments.fit.summary import selected_rows, summarize
from relukan_bench.runner import Request, run

TUNED = """\
experiment: fit
seeds: [0, 1]
baseline: kan
train: {steps: 12}
data: {train_samples: 64, test_samples: 32, validation_samples: 32}
models:
  - name: relukan
    kind: relukan
    tune:
      - {lr: 1.0e-3}
      - {lr: 3.0e-2}
      - {optimizer: lbfgs, lr: 0.5}
  - name: kan
    kind: kan
    tune:
      - {lr: 1.0e-2}
      - {label: paper, pykan_fit: {opt: Adam, lr: 1.0, update_grid: false}}
  - {name: mlp, kind: mlp}
functions:
  - {name: f1, expression: sin(pi*x1), width: [1, 1], grid: 5, k: 3}
"""


def _config(tmp_path: Path, text: str = TUNED, overrides=()) -> FitConfig:
    path = tmp_path / "tuned.yaml"
    path.write_text(text)
    return load_config(path, list(overrides), FitConfig)


def test_candidates_become_entries_that_load_back_as_themselves(tmp_path):
    config = _config(tmp_path)
    assert [m.name for m in config.models] == [
        "relukan.lr0.001", "relukan.lr0.03", "relukan.lbfgs-lr0.5", "kan.lr0.01", "kan.paper", "mlp"]
    assert config.origin("kan.paper") == ("kan", "paper") and config.origin("mlp") == ("mlp", "")
    assert config.models[2].lr == 0.5 and config.models[4].pykan_fit.lr == 1.0 and config.models[3].pykan_fit is None
    again = tmp_path / "again.yaml"
    again.write_text(dump_config(config))
    assert load_config(again, [], FitConfig) == config  # what a run records loads back as the same config
    assert [m.name for m in select(config, models=["relukan"]).models] == [m.name for m in config.models[:3]]
    assert select(config, models=["relukan"]).baseline is None and select(config, models=["kan"]).baseline == "kan"


@pytest.mark.parametrize("candidate,expected", [
    ("{lr: -1}", "models[0].tune[1].lr: "),
    ("{speed: 1}", "models[0].tune[1].speed: unknown key"),
    ("{name: x}", "models[0].tune[1].name: a candidate changes how the entry trains, not its name"),
    ("{lr: 1.0e-3}", "models[0].tune[1].label: expected a label no other candidate of this entry has"),
    ("{label: 'a b', lr: 1.0}", "models[0].tune[1].label: expected a label of letters"),
    ("7", "models[0].tune[1]: expected a mapping of the entry's keys"),
])
def test_a_bad_candidate_is_named_by_its_place(tmp_path, candidate, expected):
    text = TUNED.replace("      - {lr: 3.0e-2}", f"      - {candidate}")
    with pytest.raises(ConfigError) as caught:
        _config(tmp_path, text)
    assert expected in str(caught.value) and "\n" not in str(caught.value)


def _row(function, model, seed, test, val, diverged=False):
    return RunRecord.blank(function=function, model=model, kind="relukan", trainer="loop", seed=seed, diverged=diverged,
                           final_train_mse=test, final_test_mse=math.nan if diverged else test,
                           final_test_rmse=math.sqrt(test), final_val_mse=math.nan if diverged else val,
                           best_test_mse=test, seconds=1.0, params=10, spline_params=None)


def test_the_choice_is_made_on_validation_and_never_on_test():
    origin = {"m.a": ("m", "a"), "m.b": ("m", "b"), "m.c": ("m", "c"), "k.x": ("k", "x"), "k.y": ("k", "y")}.get
    runs = [
        # m.a: the best on test by far, the worst on validation: not to be chosen
        *[_row("f", "m.a", s, 1e-6, 9e-1) for s in (0, 1, 2)],
        *[_row("f", "m.b", s, 5e-2, 1e-3 * (s + 1)) for s in (0, 1, 2)],  # best median validation
        *[_row("f", "m.c", s, 1e-3, 5e-3) for s in (0, 1)], _row("f", "m.c", 2, 1.0, 0.0, diverged=True),
        *[_row("f", "k.x", s, 2e-1, 2e-1) for s in (0, 1, 2)],
        *[_row("f", "k.y", s, 1e-1, 3e-1) for s in (0, 1, 2)],
    ]
    summary = summarize(runs, "k", lambda name: origin(name) or (name, ""))
    chosen = {row.model for row in summary if row.selected}
    assert chosen == {"m.b", "k.x"}
    shown = {row.model: row for row in selected_rows(summary)}
    assert set(shown) == {"m", "k"} and shown["m"].final_test_mse == 5e-2
    assert shown["m"].gain == pytest.approx(2e-1 / 5e-2)  # over the baseline's own choice, k.x
    assert [r.candidate for r in summary] == ["a", "b", "c", "x", "y"]


def test_lbfgs_and_pykan_fit_candidates_train_in_the_common_driver_and_the_table_shows_the_choice(tmp_path):
    (tmp_path / "tuned.yaml").write_text(TUNED)
    result = run("fit", Request(config=tmp_path / "tuned.yaml", out=tmp_path / "run"))
    assert not result.failed and result.units == (12, 12)
    runs = list(csv.DictReader(open(tmp_path / "run" / "runs.csv")))
    by_model = {r["model"]: r for r in runs}
    assert by_model["kan.paper"]["trainer"] == "pykan-fit" and by_model["relukan.lbfgs-lr0.5"]["trainer"] == "loop"
    assert all(math.isfinite(float(r["final_val_mse"])) for r in runs)
    summary = list(csv.DictReader(open(tmp_path / "run" / "summary.csv")))
    assert len(summary) == 6 and sum(r["selected"] == "True" for r in summary) == 3
    table = list(csv.DictReader(open(tmp_path / "run" / "table.csv")))
    assert set(table[0]) >= {"relukan_test_mse", "kan_test_mse", "mlp_test_mse", "relukan_gain", "mlp_gain"}
    chosen = {r["tuned_model"]: r for r in summary if r["selected"] == "True"}
    assert float(table[0]["relukan_test_mse"]) == float(chosen["relukan"]["final_test_mse"])
    for name in ("tuning.png", "overview.png", "curves_f1.png", "seeds.png"):
        assert (tmp_path / "run" / name).stat().st_size > 10_000, name


def test_resume_mid_tuning_ends_as_an_uninterrupted_run(tmp_path):
    (tmp_path / "tuned.yaml").write_text(TUNED.replace("seeds: [0, 1]", "seeds: [0]"))
    run("fit", Request(config=tmp_path / "tuned.yaml", out=tmp_path / "full"))
    shutil.copytree(tmp_path / "full", tmp_path / "part")
    part = tmp_path / "part"
    lines = (part / "runs.csv").read_text().splitlines(keepends=True)
    (part / "runs.csv").write_text("".join(lines[:4]))  # three candidates finished, the rest not
    for name in ("summary.csv", "table.csv", "tuning.png"):
        (part / name).unlink()
    env = json.loads((part / "env.json").read_text())
    env.update(end_time=None, interrupted=True)
    (part / "env.json").write_text(json.dumps(env))
    result = run("fit", Request(resume=part))
    assert result.units == (6, 6) and not result.interrupted
    for name in ("curves.csv", "predictions.csv", "table.csv"):
        assert (part / name).read_bytes() == (tmp_path / "full" / name).read_bytes(), name

    from relukan_bench.experiments.fit.targets import TIMED

    def without_seconds(path):  # and the times to a target, which are measured too
        return [{k: v for k, v in r.items() if k not in ("seconds", *TIMED)} for r in csv.DictReader(open(path))]

    assert without_seconds(part / "summary.csv") == without_seconds(tmp_path / "full" / "summary.csv")
    assert (part / "tuning.png").is_file()


def test_match_may_name_a_tuned_model_and_sizes_every_candidate_under_it(tmp_path):
    """`match: relukan` on a tuned relukan aims at its candidates (all one size); the matched
    entry's own candidates are sized alike."""
    from relukan_bench.kinds import size_of

    text = TUNED.replace("  - {name: mlp, kind: mlp}\n", "  - {name: mlp, kind: mlp, match: relukan}\n"
                         "  - {name: cheb, kind: chebyshev, match: relukan, tune: [{lr: 1.0e-3}, {lr: 1.0e-2}]}\n")
    config = _config(tmp_path, text)
    f1 = config.functions[0]
    goal = size_of(next(m for m in config.models if m.name.startswith("relukan.")), f1).params
    matched = [m for m in config.models if m.name == "mlp" or m.name.startswith("cheb.")]
    assert len(matched) == 3 and all(0 < size_of(m, f1).params <= goal for m in matched)
    assert len({size_of(m, f1) for m in matched if m.name.startswith("cheb.")}) == 1


def test_match_refuses_a_tuned_model_whose_candidates_differ_in_size(tmp_path):
    text = TUNED.replace("      - {optimizer: lbfgs, lr: 0.5}\n", "      - {train_se: false}\n").replace(
        "  - {name: mlp, kind: mlp}\n", "  - {name: mlp, kind: mlp, match: relukan}\n")
    with pytest.raises(ConfigError, match=r"models\[\d+\]\.match: the candidates of relukan differ in size on f1; "
                                          r"match one candidate by its name"):
        _config(tmp_path, text)


ON_ONE_SEED = TUNED.replace("seeds: [0, 1]", "seeds: [0, 1, 2]\ntune_seeds: [1]").replace(
    "train: {steps: 12}", "train: {steps: 12, batch_seeds: false}")


@pytest.mark.parametrize("change,expected", [
    (("tune_seeds: [1]", "tune_seeds: [1, 7]"), "tune_seeds: expected some of the run's seeds (got 7"),
    (("batch_seeds: false", "batch_seeds: true"), "tune_seeds: expected train.batch_seeds: false"),
    (("tune_seeds: [1]", "tune_seeds: []"), "tune_seeds: "),
])
def test_tune_seeds_must_be_some_of_the_seeds_of_a_run_that_trains_seeds_alone(tmp_path, change, expected):
    with pytest.raises(ConfigError) as caught:
        _config(tmp_path, ON_ONE_SEED.replace(*change))
    assert expected in str(caught.value) and "\n" not in str(caught.value)


def test_tune_seeds_needs_candidates_to_choose_among(tmp_path):
    text = "\n".join(line for line in ON_ONE_SEED.splitlines() if "tune:" not in line and not line.startswith("      -"))
    with pytest.raises(ConfigError) as caught:
        _config(tmp_path, text)
    assert "tune_seeds: expected a config whose models list `tune:` candidates" in str(caught.value)


def test_due_holds_a_candidates_other_seeds_until_every_candidate_of_its_model_finished_the_tuning_seed(tmp_path):
    config = _config(tmp_path, ON_ONE_SEED)
    units = plan(config)
    first = tuning.due(config, units, [])
    assert {(u.model, u.seed) for u in first} == {
        *((m.name, 1) for m in config.models), ("mlp", 0), ("mlp", 2)}  # the untuned entry: every seed
    vals = {"relukan.lr0.001": 3e-3, "relukan.lr0.03": 1e-4, "relukan.lbfgs-lr0.5": 2e-3, "kan.lr0.01": 5e-3}
    runs = [_row("f1", model, 1, test=1e-9, val=val) for model, val in vals.items()]  # kan.paper not finished
    runs.append(_row("f1", "relukan.lr0.001", 0, test=1e-9, val=1e-9))  # a stray other seed chooses nothing
    then = tuning.due(config, units, runs)
    assert set(then) - set(first) == {Unit("f1", 0, "relukan.lr0.03"), Unit("f1", 2, "relukan.lr0.03")}
    runs.append(replace(_row("f1", "kan.paper", 1, test=1.0, val=1.0), diverged=True))  # diverged ranks last
    assert {u for u in tuning.due(config, units, runs) if u.model.startswith("kan")} - set(first) == {
        Unit("f1", 0, "kan.lr0.01"), Unit("f1", 2, "kan.lr0.01")}
    assert tuning.due(config.model_copy(update={"tune_seeds": None}), units, runs) == units


def test_choosing_on_one_seed_trains_only_the_chosen_candidate_on_the_others(tmp_path):
    (tmp_path / "tuned.yaml").write_text(ON_ONE_SEED)
    result = run("fit", Request(config=tmp_path / "tuned.yaml", out=tmp_path / "run"))
    assert not result.failed and not result.interrupted and result.units == (5 + 3 + 2 * 2, 5 + 3 + 2 * 2)
    runs = list(csv.DictReader(open(tmp_path / "run" / "runs.csv")))
    summary = list(csv.DictReader(open(tmp_path / "run" / "summary.csv")))
    for tuned in ("relukan", "kan"):
        rows = [r for r in summary if r["tuned_model"] == tuned]
        on_seed_1 = {r["model"]: float(r["final_val_mse"]) for r in runs if r["seed"] == "1" and r["model"].startswith(tuned + ".")}
        chosen = [r for r in rows if r["selected"] == "True"]
        assert len(chosen) == 1 and chosen[0]["model"] == min(on_seed_1, key=on_seed_1.get)
        assert {r["model"]: int(r["n_seeds"]) for r in rows} == {m: 3 if m == chosen[0]["model"] else 1 for m in on_seed_1}
    planned = [(u.model, str(u.seed)) for u in plan(_config(tmp_path, ON_ONE_SEED))]
    assert [(r["model"], r["seed"]) for r in runs] == [u for u in planned if u in {(r["model"], r["seed"]) for r in runs}]
    again = run("fit", Request(resume=tmp_path / "run"))
    assert again.units == result.units and not again.interrupted  # nothing more is due


_VALUES = st.recursive(st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False, allow_infinity=False)
                       | st.text(st.characters(whitelist_categories=("L", "N", "P", "Zs")), max_size=6), lambda inner: st.lists(inner, max_size=3)
                       | st.dictionaries(st.sampled_from(["a", "lr", "opt", "max_eval"]), inner, max_size=2), max_leaves=5)


@settings(max_examples=60, deadline=None)
@given(key=st.sampled_from(["lr", "optimizer", "lbfgs", "pykan_fit", "label", "pykan_fit.lr", "lbfgs.max_eval"]),
       value=_VALUES)
def test_any_candidate_value_is_validated_before_anything_formats_it(key, value):
    """Whatever a candidate holds, `config show` prints the config or refuses it in one line
    naming the candidate's key: a candidate's label is made only from validated values."""
    import json

    from typer.testing import CliRunner

    from relukan_bench.cli import app

    top, _, inner = key.partition(".")
    candidate = {top: {inner: value} if inner else value}
    if top in ("lbfgs",):
        candidate["optimizer"] = "lbfgs"
    result = CliRunner().invoke(app, ["config", "show", "fit-tuned", f"models.kan.tune[0]={json.dumps(candidate, ensure_ascii=False)}"])
    assert result.exit_code in (0, 2) and "Traceback" not in result.output, result.output
    if result.exit_code == 2:
        assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
        assert "models[1].tune[0]" in result.stderr, result.stderr
