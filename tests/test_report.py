"""REPORT.md: the verdict rules on hand-made summaries, and a report of a partial run."""

import json
import math
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from relukan_bench import env as env_module
from relukan_bench import fmt, report
from relukan_bench.experiments import fit, forgetting, speed
from relukan_bench.experiments.fit import records as fit_records
from relukan_bench.experiments.fit import report as fit_report
from relukan_bench.experiments.forgetting import records as forgetting_records
from relukan_bench.experiments.forgetting import report as forgetting_report
from relukan_bench.experiments.speed import records as speed_records
from relukan_bench.experiments.speed import report as speed_report
from relukan_bench.report import FAILS, HOLDS, PARTLY, SMOKE, UNTESTED, LoadedRun
from relukan_bench.results import write_csv
from relukan_bench.tables import Column, Table

MODELS = [{"name": "relukan", "kind": "relukan"}, {"name": "kan", "kind": "kan"}]


def speed_experiment(speedups: dict, paper: tuple = (5.0, 20.0), device: str = "cpu") -> LoadedRun:
    summary, table = [], []
    for function, value in speedups.items():
        summary += [
            {"function": function, "model": "relukan", "device": device, "speedup": value, "ms_per_step": 1.0,
             "iqr_rel": 0.05, "q1_s": 0.9, "q3_s": 1.1},
            {"function": function, "model": "kan", "device": device, "speedup": 1.0, "ms_per_step": value,
             "iqr_rel": 0.05, "q1_s": 0.9 * value, "q3_s": 1.1 * value},
        ]
        table.append({"function": function, "paper_speedup_cpu": paper[0], "paper_speedup_gpu": paper[1]})
    config = {"baseline": "kan", "models": MODELS, "train": {"steps": 500}, "timing": {"repeats": 7}}
    return LoadedRun("speed", Path("speed"), config, {}, summary, table)


def fit_experiment(errors: dict) -> LoadedRun:
    """`errors` maps a function to (relukan MSE, kan MSE)."""
    summary, table = [], []
    for function, (relukan, kan) in errors.items():
        for model, value in (("relukan", relukan), ("kan", kan)):
            summary.append({"function": function, "model": model, "final_test_mse": value, "n_seeds": 3.0,
                            "final_test_mse_min": value / 2, "final_test_mse_max": value * 2, "diverged": 0.0})
        table.append({"function": function, "relukan_gain": kan / relukan, "paper_gain": 50.0,
                      "paper_gain_as_plotted": 500.0})
    config = {"baseline": "kan", "models": MODELS, "train": {"steps": 5000, "optimizer": "adam", "lr": 1e-3},
              "seeds": [0, 1, 2]}
    return LoadedRun("fit", Path("fit"), config, {}, summary, table)


PLANTED = {"relukan": ("lr0.1", 1e-15), "kan": ("lr0.1", 1e3)}  # never selected; a ratio of 1e18 were they read


def tuned_fit_experiment(kept: dict, planted: dict = PLANTED) -> LoadedRun:
    """A tuned fit run as summary.csv writes it: `kept` maps a function to {model: (candidate,
    MSE)}, the selected candidates (validation MSE 1e-3); every model also tried `planted`
    (model -> (candidate, MSE)), unselected (validation MSE 1)."""
    summary, table, tuned = [], [], {}
    for function, models in kept.items():
        for model, choice in models.items():
            for (candidate, value), selected in ((choice, True), (planted[model], False)):
                entry = f"{model}.{candidate}"
                tuned[entry] = {"model": model, "candidate": candidate}
                summary.append({"function": function, "model": entry, "tuned_model": model, "candidate": candidate,
                                "selected": selected, "final_test_mse": value, "final_val_mse": 1e-3 if selected else 1.0,
                                "n_seeds": 3.0, "final_test_mse_min": value / 2, "final_test_mse_max": value * 2,
                                "diverged": 0.0})
        table.append({"function": function, "relukan_gain": models["kan"][1] / models["relukan"][1], "paper_gain": 50.0,
                      "paper_gain_as_plotted": 500.0})
    config = {"baseline": "kan", "models": [{"name": entry, "kind": origin["model"]} for entry, origin in tuned.items()],
              "tuned": tuned, "train": {"steps": 5000, "optimizer": "adam", "lr": 1e-3}, "seeds": [0, 1, 2]}
    return LoadedRun("fit", Path("fit-tuned"), config, {}, summary, table)


def forgetting_experiment(fractions: dict) -> LoadedRun:
    """`fractions` maps a model to its (median, min, max) forgotten fraction."""
    summary = [{"model": model, "n_seeds": 3.0, "forgotten_fraction": median, "forgotten_fraction_min": low,
                "forgotten_fraction_max": high, "forgetting": 1e-3, "learned_mse": 1e-3, "final_mse": 2e-3, "max_forgetting": 2e-3, "params": 79.0}
               for model, (median, low, high) in fractions.items()]
    config = {"models": [*MODELS, {"name": "mlp", "kind": "mlp"}],
              "data": {"points": 5000, "segments": 5, "sigma": 5.0, "scale": 0.08, "domain": [0.0, 1.0]}}
    return LoadedRun("forgetting", Path("forgetting"), config, {}, summary, [])


@pytest.mark.parametrize("speedups, outcome", [
    ({"f1": 3.0, "f4": 21.0}, HOLDS),
    ({"f1": 1.9, "f4": 3.8}, PARTLY),
    ({"f1": 0.8, "f4": 30.0}, HOLDS),  # 15x reached somewhere: the claim's "about 20x" holds there
    ({"f1": 0.8, "f4": 3.0}, FAILS),
])
def test_speed_verdict(speedups, outcome):
    verdict = speed_report.verdict(speed_experiment(speedups))
    assert verdict.outcome == outcome
    assert f"{fmt.times(min(speedups.values()))} to {fmt.times(max(speedups.values()))}" in verdict.sentence
    assert "no GPU was measured" in verdict.sentence and "5x on CPU and 20x on GPU" in verdict.sentence
    assert "no GPU" not in speed_report.verdict(speed_experiment(speedups, device="cuda")).sentence


def test_speed_decomposition_section_and_verdict_sentence():
    exp = speed_experiment({"f1": 4.0, "f4": 8.0})
    exp.config["models"] = [*MODELS, {"name": "fast", "kind": "relukan", "impl": "fast"}, {"name": "ours", "kind": "bspline"}]
    exp.decomposition = [
        {"function": f, "device": "cpu", "relukan": relukan, "kan": "kan", "bspline": "ours", "total": total,
         "total_low": total / 2, "total_high": total * 2, "implementation": 2.0, "implementation_low": 1.5,
         "implementation_high": 2.5, "basis": total / 2, "basis_low": 1.0, "basis_high": total,
         "implementation_share": math.log(2.0) / math.log(total)}
        for f, relukan, total in (("f1", "relukan", 4.0), ("f1", "fast", 16.0), ("f4", "relukan", 8.0), ("f4", "fast", 32.0))
    ]
    text = speed_report.section(exp, Path("."))
    assert "### Where the speedup comes from" in text
    assert "| f4 | cpu | relukan | ours | 8x [4x to 16x] | 2x [1.5x to 2.5x] | 4x [1x to 8x] | 33% |" in text
    # a run from before equal_effort: a fast ReLU-KAN's B-spline KAN was a plain one
    assert "| f4 | cpu | fast | ours (not equal effort) | 32x [16x to 64x] |" in text
    assert ("- `relukan` on cpu (against `ours`, at equal effort): of its 4x to 8x over `kan`, the implementation "
            "accounts for 2x and the basis for 2x to 4x; the implementation's share of the gap is 33% to 50%.") in text
    assert "- `fast` on cpu (against `ours`, not at equal effort)" in text
    exp.decomposition[1]["equal_effort"] = "True"  # the column, when there: what it says
    assert "| f1 | cpu | fast | ours | 16x" in speed_report.section(exp, Path("."))
    sentence = speed_report.verdict(exp).sentence
    assert "Of that, pykan's implementation accounts for 2x" in sentence and "the basis for 2x to 4x." in sentence
    exp.decomposition = []
    assert "Where the speedup" not in speed_report.section(exp, Path(".")) and "Of that" not in speed_report.verdict(exp).sentence


@pytest.mark.parametrize("errors, outcome, mean", [
    ({"f1": (1e-5, 1e-2), "f2": (1e-4, 1e-2)}, HOLDS, math.sqrt(1000 * 100)),
    ({"f1": (1e-5, 1e-4), "f2": (1e-3, 1e-3)}, PARTLY, math.sqrt(10)),
    ({"f1": (1e-3, 1e-5), "f2": (1e-3, 1e-2)}, FAILS, math.sqrt(0.01 * 10)),
])
def test_fit_verdict(errors, outcome, mean):
    verdict = fit_report.verdict(fit_experiment(errors))
    assert verdict.outcome == outcome
    assert f"geometric mean {fmt.times(mean)}" in verdict.sentence
    assert verdict.ours.startswith(f"{fmt.times(mean)} (geometric mean)")
    better = sum(1 for relukan, kan in errors.values() if kan > relukan)
    assert f"on {better} of {len(errors)} functions" in verdict.sentence
    assert "50x in MSE, 500x as plotted" in verdict.sentence


@pytest.mark.parametrize("fraction, outcome", [
    ((0.02, 0.0, 0.08), HOLDS),
    ((0.02, 0.0, 0.35), PARTLY),  # the median seed keeps its gains, one seed does not
    ((0.40, 0.2, 0.9), FAILS),
    ((math.inf, math.inf, math.inf), FAILS),
])
def test_forgetting_verdict(fraction, outcome):
    verdict = forgetting_report.verdict(forgetting_experiment({"relukan": fraction, "kan": (0.03, 0.0, 0.04),
                                                                "mlp": (4.2, 0.5, 50.0)}))
    assert verdict.outcome == outcome
    assert "`kan` 3%" in verdict.sentence and "`mlp` 420%" in verdict.sentence
    assert "0.176 for a segment wiped out" in verdict.sentence


def test_missing_experiments_are_untested():
    assert speed_report.verdict(None).outcome == UNTESTED
    assert fit_report.verdict(None).outcome == UNTESTED
    assert forgetting_report.verdict(None).outcome == UNTESTED


def test_report_of_a_run_that_stopped_after_speed(tmp_path):
    directory = tmp_path / "speed"
    directory.mkdir()
    (directory / "config.yaml").write_text("experiment: speed\nbaseline: kan\nmodels:\n"
                                           "- {name: relukan, kind: relukan}\n- {name: kan, kind: kan}\n")
    (directory / "env.json").write_text(json.dumps({"end_time": "2026-11-28T10:00:05+00:00"}))
    experiment = speed_experiment({"f1": 2.0})
    write_csv(directory / "summary.csv", speed_records.SUMMARY_COLUMNS, experiment.summary)
    write_csv(directory / "table.csv", ["function", "paper_speedup_cpu", "paper_speedup_gpu"], experiment.table)
    (tmp_path / "env.json").write_text(json.dumps({"interrupted": True, "start_time": "2026-11-28T10:00:00+00:00",
                                                   "end_time": "2026-11-28T10:00:07+00:00"}))
    text = report.build_report(tmp_path)
    assert "**Incomplete**: interrupted or not run: fit, forgetting" in text
    assert "**ReLU-KAN trains about 20x faster than KAN: partly holds.**" in text
    assert "more accurate than KAN: untested.**" in text
    assert text.count("Not run.") == 2
    assert "Wall time of the whole run: 0 min 07 s" in text
    assert "Smoke run" not in text
    assert "| f1 | cpu |" in text


def test_markdown_table_escapes_pipes():
    table = Table("", "", [Column("a", "left")], [Column("b")])
    table.add_row(["x|y", "1"])
    text = table.to_markdown()
    assert text.splitlines() == ["| a | b |", "|---|---:|", "| x\\|y | 1 |"]


def test_the_columns_the_report_reads_exist():
    """The report reads these columns from the experiments' tables by name."""
    assert {"speedup", "ms_per_step", "iqr_rel", "q1_s", "q3_s"} <= set(speed_records.SUMMARY_COLUMNS)
    assert {"final_test_mse", "final_test_mse_min", "final_test_mse_max", "n_seeds", "diverged"} <= set(fit_records.SUMMARY_COLUMNS)
    assert {"forgotten_fraction", "forgotten_fraction_min", "forgotten_fraction_max", "forgetting", "learned_mse",
            "final_mse", "max_forgetting", "params"} <= set(forgetting_records.SUMMARY_COLUMNS)


def test_report_of_a_resumed_run_lists_its_sessions(tmp_path):
    (tmp_path / "env.json").write_text(json.dumps({
        "interrupted": False, "start_time": "2026-11-28T10:00:00+00:00", "end_time": "2026-11-28T10:20:00+00:00",
        "command": ["relukan-bench", "reproduce"],
        "resumed": [{"start_time": "2026-11-28T10:15:00+00:00", "command": ["relukan-bench", "reproduce", "--resume", "r"]}],
    }))
    text = report.build_report(tmp_path)
    assert "From its start to its end: 20 min 00 s, in 2 sessions (it was resumed; see the environment)." in text
    assert "Wall time" not in text
    assert "| resumed (UTC) | 2026-11-28T10:15:00+00:00: relukan-bench reproduce --resume r |" in text


# ----------------------------------------------------------------------------- the head of the report
def decomposition(functions: dict) -> list:
    """decomposition.csv rows of `relukan` against `bspline`: function -> (total, implementation)."""
    return [{"function": f, "device": "cpu", "relukan": "relukan", "kan": "kan", "bspline": "bspline", "total": total,
             "total_low": total, "total_high": total, "implementation": code, "implementation_low": code,
             "implementation_high": code, "basis": total / code, "basis_low": total / code, "basis_high": total / code,
             "implementation_share": math.log(code) / math.log(total)} for f, (total, code) in functions.items()]


def write_part(directory: Path, exp: LoadedRun) -> None:
    """`exp` as a run directory: config.yaml, env.json and its tables."""
    directory.mkdir(parents=True)
    (directory / "config.yaml").write_text(yaml.safe_dump({"experiment": exp.name, **exp.config}))
    (directory / "env.json").write_text(json.dumps({"end_time": "2026-11-28T10:00:05+00:00"}))
    for name, rows in (("summary", exp.summary), ("table", exp.table), ("decomposition", exp.decomposition)):
        if rows:
            write_csv(directory / f"{name}.csv", list(dict.fromkeys(k for row in rows for k in row)), rows)


def write_run(run_dir: Path, env: dict, fit_errors: dict | None = None, tuned: LoadedRun | None = None) -> None:
    """A reproduce run directory of all three experiments, from the hand-made summaries above
    (and `tuned` as its fit-tuned/)."""
    speed_run = speed_experiment({"f1": 2.0, "f4": 4.0})
    speed_run.decomposition = decomposition({"f1": (2.0, 1.8), "f4": (4.0, 2.5)})
    runs = [speed_run, fit_experiment(fit_errors or {"f1": (1e-3, 1e-5), "f2": (1e-4, 1e-3)}),
            forgetting_experiment({"relukan": (0.02, 0.0, 0.31), "kan": (0.03, 0.0, 0.04), "mlp": (4.2, 0.5, 50.0)})]
    for exp in runs:
        write_part(run_dir / exp.name, exp)
    if tuned is not None:
        write_part(run_dir / "fit-tuned", tuned)
    (run_dir / "env.json").write_text(json.dumps({"start_time": "2026-11-28T10:00:00+00:00", "cpu": "Some CPU",
                                                  "cpu_count": 2, "end_time": "2026-11-28T10:20:00+00:00", **env}))


def head_table(text: str) -> list[list[str]]:
    """The cells of the report's first table, its header first (its separator row left out)."""
    from itertools import takewhile

    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("|"))
    table = takewhile(lambda line: line.startswith("|"), lines[first:])
    return [[cell.strip() for cell in line.strip("|").split(" | ")] for line in table if not line.startswith("|---")]


def test_the_report_opens_with_the_claims_at_a_glance(tmp_path):
    write_run(tmp_path, {})
    text = report.build_report(tmp_path)
    lines = text.splitlines()
    assert lines[0] == "# ReLU-KAN against KAN: a reproduction" and "2026-11-28, 20 min 00 s" in lines[2]
    assert lines[4:7] == ["## Verdicts", "", "| claim | paper | ours | verdict |"]
    table = head_table(text)
    claims = [exp.report.claim for exp in (speed.EXPERIMENT, fit.EXPERIMENT, forgetting.EXPERIMENT)]
    assert [row[0] for row in table[1:]] == claims  # one row per claim, in the report's order
    assert [row[3] for row in table[1:]] == ["**partly holds**", "**does not hold**", "**partly holds**"]
    assert all(len(cell) <= 70 and "\n" not in cell for row in table for cell in row), table
    assert table[1][1:3] == ["~20x: 20x GPU, 5x CPU", "2x to 4x CPU"]
    assert table[3][2] == "loses 2% of its gains (0% to 31%); KAN 3%"
    after = lines[7 + len(table):]  # the table's separator row is not in `table`
    assert after[:2] == ["", "Most of ReLU-KAN's speedup over pykan is pykan's code: our own B-spline KAN (pykan's "
                         "model in a few tensor operations) is already 1.8x to 2.5x faster than pykan; the ReLU basis adds "
                         "1.11x to 1.6x (on the CPU, 2 functions; pykan's code is 66% to 85% of the speedup, on a log "
                         "scale)."]
    assert after[3] == report.CONVENTION and after[5] == "### The verdicts in full"
    assert text.index("- **ReLU-KAN trains about 20x faster than KAN: partly holds.**") > text.index(report.CONVENTION)
    assert text.index("## Environment") > text.index("How the verdicts are decided")


def test_a_ratio_below_one_means_relukan_is_worse():
    assert [fmt.times(v) for v in (16.43, 1.0, 0.999, 0.5, 0.00105, 0.0)] == ["16.4x", "1x", "1x", "1/2x", "1/952x", "0x"]
    assert fmt.times(math.inf) == "inf" and fmt.times(math.nan) == "" and fmt.times(None) == ""
    worse = fit_report.verdict(fit_experiment({"f1": (1e-3, 1e-5), "f2": (1e-3, 1e-4)}))  # KAN's MSE is lower
    assert worse.outcome == FAILS and worse.ours == "1/31.6x (geometric mean); lower MSE on 0 of 2"
    assert "from 1/100x (f1) to 1/10x (f2)" in worse.sentence
    assert fit_report.verdict(fit_experiment({"f1": (1e-5, 1e-3)})).ours.startswith("100x")  # ReLU-KAN's is lower
    assert speed_report.verdict(speed_experiment({"f1": 0.5, "f4": 2.0})).ours == "1/2x to 2x CPU"  # KAN faster on f1


def test_the_fit_table_holds_the_medians_and_the_ratios_only(tmp_path):
    write_run(tmp_path, {})
    text = report.build_report(tmp_path)
    section = text[text.index("## Fitting accuracy"):text.index("## Catastrophic forgetting")]
    assert "| function | relukan test MSE | kan test MSE | relukan ratio | paper ratio |" in section
    assert "| f1 | 1.00e-03 | 1.00e-05 | **1/100x** | 50x |" in section
    assert "| f2 | 1.00e-04 | 1.00e-03 | **10x** | 50x |" in section
    assert "0.01x" not in text and "0.1x" not in text


def test_no_temporary_path_in_the_report(tmp_path):
    recorded = ["/tmp/refwt/relukan_bench/__main__.py", "reproduce", "--device", "cpu", "--out", "/tmp/refrun"]
    write_run(tmp_path, {"command": recorded, "resumed": [{"start_time": "2026-11-28T10:15:00+00:00",
                                                           "command": [*recorded[:4], f"--resume={tmp_path}"]}]})
    text = report.build_report(tmp_path)
    assert "/tmp" not in text and str(tmp_path) not in text
    assert "| command | relukan-bench reproduce --device cpu |" in text
    assert "| resumed (UTC) | 2026-11-28T10:15:00+00:00: relukan-bench reproduce --device cpu |" in text
    # rebuilt from a directory given relative: the command names it
    assert report.shown_command(recorded, Path("results/reference-cpu")) == (
        "relukan-bench reproduce --device cpu --out results/reference-cpu")
    assert report.shown_command(["/x/.venv/bin/relukan-bench", "fit", "-c", "/tmp/a/fit.yaml"], tmp_path) == (
        "relukan-bench fit -c fit.yaml")


def test_the_environment_records_the_command_as_typed(monkeypatch):
    monkeypatch.setattr("sys.argv", ["/tmp/wt/relukan_bench/__main__.py", "reproduce", "--quick"])
    assert env_module.command_line() == ["relukan-bench", "reproduce", "--quick"]
    monkeypatch.setattr("sys.argv", ["/home/u/.venv/bin/relukan-bench", "speed"])
    assert env_module.command_line() == ["relukan-bench", "speed"]
    assert env_module.program("/usr/lib/python3/site-packages/pytest/__main__.py") == "__main__.py"


def test_a_quick_run_says_smoke_run_wherever_it_gives_a_verdict(tmp_path):
    write_run(tmp_path, {"quick": True})
    verdicts = report.write_report(tmp_path)
    text = (tmp_path / "REPORT.md").read_text()
    assert all(v.quick and v.headline == f"{v.claim}: {SMOKE} ({v.outcome})." for v in verdicts)
    assert [row[3] for row in head_table(text)[1:]] == [f"**{SMOKE} ({v.outcome})**" for v in verdicts]
    for verdict in verdicts:
        assert f"- **{verdict.headline}** {verdict.sentence}" in text
    assert "Smoke run, not a result: Most of ReLU-KAN's speedup" in text
    for title in ("## Speed", "## Fitting accuracy", "## Catastrophic forgetting"):
        section = text[text.index(title):]
        assert section.index("**Smoke run, not a result**") < section.index("\n| ")  # before the section's tables
    write_run(tmp_path / "full", {})
    assert not any(v.quick for v in report.write_report(tmp_path / "full"))
    assert "smoke run" not in (tmp_path / "full" / "REPORT.md").read_text().lower()


# ----------------------------------------------------------------------------- the accuracy claim both ways
SHARED_CLAIM = f"{fit.EXPERIMENT.report.claim} (shared protocol: Adam lr 1e-3)"
BEST_CLAIM = f"{fit.EXPERIMENT.report.claim} (each model at its best, chosen on validation)"
KEPT = {"f1": {"relukan": ("lbfgs-lr1", 1e-6), "kan": ("pykan-fit", 1e-4)},    # 100x
        "f2": {"relukan": ("lr0.01", 1e-7), "kan": ("pykan-fit", 1e-4)}}       # 1000x


def test_a_tuned_run_states_the_accuracy_claim_both_ways_by_the_same_rule(tmp_path):
    write_run(tmp_path, {"tuned": True}, tuned=tuned_fit_experiment(KEPT))  # shared: 1/100x and 10x
    found = report.write_report(tmp_path)
    text = (tmp_path / "REPORT.md").read_text()
    assert [v.experiment for v in found] == ["speed", "fit", "fit-tuned", "forgetting"]
    table = head_table(text)
    assert [row[0] for row in table[1:]] == [speed.EXPERIMENT.report.claim, SHARED_CLAIM, BEST_CLAIM, forgetting.EXPERIMENT.report.claim]
    assert [row[3] for row in table[1:3 + 1]][1:] == ["**does not hold**", "**holds**"]
    assert table[2][2] == "1/3.16x (geometric mean); lower MSE on 1 of 2"
    assert table[3][2] == "316x (geometric mean); lower MSE on 2 of 2"  # sqrt(100 x 1000)
    assert f"- **{BEST_CLAIM}: holds.** With each model at its best" in text
    assert "Settings kept: ReLU-KAN `lbfgs-lr1` (1 functions), `lr0.01` (1); KAN `pykan-fit` (2)." in text
    assert f"- **{SHARED_CLAIM}: does not hold.** After 5000 Adam steps in the same training loop" in text
    assert "fit again with `configs/fit-tuned.yaml`" in text.splitlines()[2] and "Incomplete" not in text
    assert "stated both ways when the run tuned" in text  # the rule says so


def test_the_tuned_section_shows_the_settings_kept_and_both_accuracies(tmp_path):
    write_run(tmp_path, {"tuned": True}, tuned=tuned_fit_experiment(KEPT))
    text = report.build_report(tmp_path)
    section = text[text.index("## Fitting accuracy"):text.index("## Catastrophic forgetting")]
    tuned = section[section.index("### The same claim with each model at its best, chosen on validation"):]
    assert "Run directory: [`fit-tuned/`](fit-tuned/) ([summary.csv](fit-tuned/summary.csv), [table.csv](fit-tuned/table.csv))." in tuned
    assert ("| function | relukan MSE, shared | kan MSE, shared | ratio, shared | relukan MSE, at its best "
            "| kan MSE, at its best | ratio, at its best | paper ratio |") in tuned
    assert "| f1 | 1.00e-03 | 1.00e-05 | **1/100x** | 1.00e-06 | 1.00e-04 | **100x** | 50x |" in tuned
    assert "| f2 | 1.00e-04 | 1.00e-03 | **10x** | 1.00e-07 | 1.00e-04 | **1000x** | 50x |" in tuned
    assert "| function | relukan | kan |" in tuned
    assert "| f1 | `lbfgs-lr1` | `pykan-fit` |" in tuned and "| f2 | `lr0.01` | `pykan-fit` |" in tuned
    assert "- relukan: `lbfgs-lr1`, `lr0.1`, `lr0.01`\n- kan: `pykan-fit`, `lr0.1`" in tuned  # every candidate tried, the planted one too
    assert "(Adam lr 1e-3 for every model)" in tuned
    assert "1.00e-15" not in text and "1.00e+03" not in text  # no unselected candidate anywhere
    assert section.index("| f1 | 1.00e-03 | 1.00e-05 | **1/100x** | 50x |") < section.index("### The same claim")


def test_unselected_candidates_never_enter_a_verdict(tmp_path):
    """The planted candidates (a ratio of 1e18) are never selected: the verdict is the kept ones' 10x."""
    kept = {"f1": {"relukan": ("lr0.01", 2e-5), "kan": ("lr0.001", 1e-4)},     # 5x
            "f2": {"relukan": ("lr0.01", 5e-6), "kan": ("lr0.001", 1e-4)}}     # 20x
    write_run(tmp_path / "both", {"tuned": True}, tuned=tuned_fit_experiment(kept))
    best = report.write_report(tmp_path / "both")[2]
    assert best.claim == BEST_CLAIM and best.outcome == PARTLY and best.ours == "10x (geometric mean); lower MSE on 2 of 2"
    assert "from 5x (f1) to 20x (f2), geometric mean 10x (" in best.sentence
    assert "`lr0.1`" not in best.sentence
    # a plain fit run with `tune:` is read by its selected candidates too, and states its settings
    write_run(tmp_path / "plain", {})
    (tmp_path / "plain" / "fit").rename(tmp_path / "plain" / "untuned")
    write_part(tmp_path / "plain" / "fit", replace(tuned_fit_experiment(kept), directory=Path("fit")))
    found = report.write_report(tmp_path / "plain")
    assert [v.claim for v in found][1] == fit.EXPERIMENT.report.claim and len(found) == 3  # no fit-tuned/: one accuracy row
    assert found[1].outcome == PARTLY and found[1].ours.startswith("10x (geometric mean)")
    section = (tmp_path / "plain" / "REPORT.md").read_text().split("## Fitting accuracy")[1]
    assert "| f1 | 2.00e-05 | 1.00e-04 | **5x** | 50x |" in section and "| f1 | `lr0.01` | `lr0.001` |" in section
    assert "each model by the candidate of lowest median validation MSE" in section and "Adam steps" not in section


def test_a_tuned_run_without_its_tuned_fit_says_it_is_incomplete(tmp_path):
    write_run(tmp_path, {"tuned": True})
    text = report.build_report(tmp_path)
    assert "**Incomplete**: interrupted or not run: fit-tuned." in text
    assert [row[0] for row in head_table(text)[1:]][1] == fit.EXPERIMENT.report.claim  # no fit-tuned/: the report as before


# ----------------------------------------------------------------------------- the code it was computed with
def code(commit: str, dirty: bool = False) -> dict:
    return {"commit": commit * 40, "dirty": dirty}


def with_sessions(directory: Path, first: tuple[str, dict], *resumed: tuple[str, dict]) -> None:
    """Give the env.json in `directory` a session at each (start time, git record)."""
    env = json.loads((directory / "env.json").read_text())
    env.update(start_time=first[0], git=first[1],
               resumed=[{"start_time": start, "git": git, "command": ["relukan-bench", "reproduce", "--resume", "r"]}
                        for start, git in resumed])
    (directory / "env.json").write_text(json.dumps(env))


def test_the_report_names_every_commit_the_run_and_its_parts_were_computed_with(tmp_path):
    write_run(tmp_path, {})
    with_sessions(tmp_path, ("2026-12-01T09:00:00+00:00", code("a")), ("2026-12-01T12:00:00+00:00", code("c")))
    with_sessions(tmp_path / "speed", ("2026-12-01T09:00:00+00:00", code("a")), ("2026-12-01T12:00:00+00:00", code("c")))
    with_sessions(tmp_path / "fit", ("2026-12-01T10:00:00+00:00", code("b", dirty=True)), ("2026-12-01T12:00:00+00:00", code("c")))
    with_sessions(tmp_path / "forgetting", ("2026-12-01T11:00:00+00:00", code("a", dirty=True)))
    text = report.write_report(tmp_path) and (tmp_path / "REPORT.md").read_text()
    used = "commits aaaaaaaaaaaa, bbbbbbbbbbbb (uncommitted changes), aaaaaaaaaaaa (uncommitted changes), cccccccccccc"
    assert f"| relukan-bench | None, {used} |" in text
    assert (f"Computed with {used} (in the order first used; each part's env.json records each session's commit): "
            "its numbers come from more than one version of the code.") in text
    assert "| resumed (UTC) | 2026-12-01T12:00:00+00:00: relukan-bench reproduce --resume r; commit cccccccccccc |" in text


def test_a_run_computed_with_one_commit_names_it_in_one_phrase(tmp_path):
    write_run(tmp_path, {})
    for directory in (tmp_path, tmp_path / "speed", tmp_path / "fit", tmp_path / "forgetting"):
        with_sessions(directory, ("2026-12-01T09:00:00+00:00", code("a")), ("2026-12-01T12:00:00+00:00", code("a")))
    text = report.build_report(tmp_path)
    assert "| relukan-bench | None, commit aaaaaaaaaaaa |" in text and "Computed with" not in text
    write_run(tmp_path / "old", {})  # env.json files from before commits were recorded
    assert "| relukan-bench | None, commit unknown |" in report.build_report(tmp_path / "old")
