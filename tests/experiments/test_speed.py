"""Pure parts of the speed experiment: the plan, the summary, the paper's layout."""

import dataclasses
import math

import pytest

from relukan_bench.experiments.speed.config import SpeedConfig
from relukan_bench.experiments.speed.paper import paper_speedups, paper_table, table_columns
from relukan_bench.experiments.speed.plan import plan
from relukan_bench.experiments.speed.records import DECOMPOSITION_COLUMNS, DecompositionRecord, RawRecord, SummaryRecord
from relukan_bench.experiments.speed.summary import decompose, summarize


def record(function, model, seconds, device="cpu", steps=100, loss=0.5):
    return RawRecord.blank(function=function, model=model, device=device, seconds=seconds, steps=steps, final_loss=loss,
                           params=7)


def test_summary_statistics_and_speedup_by_hand():
    records = [record("f1", "kan", s) for s in (3.0, 1.0, 2.0, 4.0)] + [record("f1", "relukan", s) for s in (0.5, 1.0, 0.5, 0.5)]
    records.append(record("f1", "relukan", 9.0, device="cuda"))  # no baseline on this device
    kan, relukan, gpu = summarize(records, baseline="kan")
    assert all(isinstance(row, SummaryRecord) for row in (kan, relukan, gpu))
    assert (kan.n, kan.median_s, kan.q1_s, kan.q3_s, kan.min_s, kan.max_s) == (4, 2.5, 1.75, 3.25, 1.0, 4.0)
    assert kan.iqr_rel == pytest.approx(1.5 / 2.5)
    assert kan.ms_per_step == pytest.approx(25.0) and kan.speedup == 1.0
    assert relukan.median_s == 0.5 and relukan.speedup == pytest.approx(5.0)
    assert gpu.device == "cuda" and math.isnan(gpu.speedup)
    assert all(math.isnan(row.speedup) for row in summarize(records, baseline=None))


KINDS = {"relukan": "relukan", "kan": "kan", "fast": "relukan", "ours": "bspline", "mlp": "mlp"}


def test_decomposition_by_hand():
    """total = kan / relukan = (kan / bspline) * (bspline / relukan), per ReLU-KAN."""
    records = [record("f1", "kan", s) for s in (7.0, 8.0, 9.0, 8.0, 8.0)]
    records += [record("f1", "ours", s) for s in (2.0, 2.0, 2.0, 1.0, 3.0)]  # median 2, q1 2, q3 2
    records += [record("f1", "relukan", s) for s in (1.0, 1.0, 1.0, 1.0, 1.0)]
    records += [record("f1", "fast", s) for s in (0.25, 0.25, 0.25)]
    records += [record("f1", "mlp", 0.1)]
    records += [record("f1", "relukan", 1.0, device="cuda")]  # no kan or bspline there: no row
    split = decompose(summarize(records, baseline="kan"), KINDS, baseline="kan")
    assert [(r.function, r.device, r.relukan) for r in split] == [("f1", "cpu", "relukan"), ("f1", "cpu", "fast")]
    relukan, fast = split
    assert isinstance(relukan, DecompositionRecord) and list(relukan.row()) == DECOMPOSITION_COLUMNS
    assert (relukan.kan, relukan.bspline) == ("kan", "ours")
    assert (relukan.total, relukan.implementation, relukan.basis) == (8.0, 4.0, 2.0)
    assert relukan.implementation_share == pytest.approx(2 / 3)  # ln 4 / ln 8
    assert (relukan.implementation_low, relukan.implementation_high) == (4.0, 4.0)  # kan q1 = q3 = 8
    assert (fast.total, fast.basis, fast.implementation_share) == (32.0, 8.0, pytest.approx(0.4))  # ln 4 / ln 32


def test_decomposition_needs_all_three_kinds_and_a_faster_relukan_for_a_share():
    records = [record("f1", "kan", 1.0), record("f1", "ours", 2.0), record("f1", "relukan", 4.0)]
    summary = summarize(records, baseline="kan")
    (row,) = decompose(summary, {"relukan": "relukan", "kan": "kan", "ours": "bspline"}, baseline="kan")
    assert (row.total, row.implementation, row.basis) == (0.25, 0.5, 0.5) and math.isnan(row.implementation_share)
    assert decompose(summary, {"relukan": "relukan", "kan": "kan"}, baseline="kan") == []  # no bspline
    assert decompose(summary, {"kan": "kan", "ours": "bspline"}, baseline="kan") == []  # no ReLU-KAN
    # the baseline is the pykan model when it is one, else the first model of kind kan
    assert decompose(summary, {"relukan": "relukan", "kan": "kan", "ours": "bspline"}, baseline="relukan")[0].kan == "kan"


CONFIG = SpeedConfig.model_validate({
    "baseline": "kan",
    "timing": {"repeats": 2},
    "models": [{"name": "relukan", "kind": "relukan"}, {"name": "kan", "kind": "kan"}],
    "functions": [
        {"name": "f1", "expression": "sin(pi * x1)", "width": [1, 1], "grid": 5, "k": 3},
        {"name": "f2", "expression": "sin(pi*x1 + pi*x2)", "width": [2, 1], "grid": 10, "k": 3},
    ],
})


def test_plan_alternates_models_inside_each_repeat():
    units = plan(CONFIG, ["cpu", "cuda"])
    assert len(units) == 2 * 2 * 2 * 2
    assert [(u.function, u.repeat, u.model) for u in units[:4]] == [
        ("f1", 0, "relukan"), ("f1", 0, "kan"), ("f1", 1, "relukan"), ("f1", 1, "kan"),
    ]
    assert {u.device for u in units[:8]} == {"cpu"}


def test_paper_speedups_only_for_the_papers_own_functions():
    paper = [
        {"function": "f1", "expression": "sin(pi*x1)", "width": "[1, 1]", "grid": "5", "k": "3",
         "kan_cpu_s": "2.80", "kan_gpu_s": "6.01", "relukan_cpu_s": "0.56", "relukan_gpu_s": "0.72"},
        {"function": "f2", "expression": "sin(pi*x1 + pi*x2)", "width": "[2, 1]", "grid": "5", "k": "3",
         "kan_cpu_s": "3.04", "kan_gpu_s": "7.23", "relukan_cpu_s": "0.78", "relukan_gpu_s": "0.75"},
    ]
    speedups = paper_speedups(paper, CONFIG)  # f2 here has grid 10: not the paper's
    assert speedups == {("f1", "cpu"): pytest.approx(5.0), ("f1", "gpu"): pytest.approx(6.01 / 0.72)}


def test_paper_table_layout():
    summary = summarize([record("f1", "kan", 2.0), record("f1", "relukan", 0.5), record("f1", "kan", 3.0, device="cuda")], "kan")
    columns = table_columns(["relukan", "kan"], "kan")
    assert columns == ["function", "relukan_cpu_s", "relukan_gpu_s", "kan_cpu_s", "kan_gpu_s",
                       "relukan_speedup_cpu", "relukan_speedup_gpu", "paper_speedup_cpu", "paper_speedup_gpu"]
    (f1, f2) = paper_table(summary, ["f1", "f2"], ["relukan", "kan"], {("f1", "cpu"): 5.0})
    assert f1["relukan_cpu_s"] == 0.5 and f1["kan_gpu_s"] == 3.0 and f1["relukan_gpu_s"] is None
    assert f1["relukan_speedup_cpu"] == 4.0 and f1["paper_speedup_cpu"] == 5.0 and f1["paper_speedup_gpu"] is None
    assert all(f2[c] is None for c in columns[1:])


def test_failed_units_are_counted_and_left_out_of_the_statistics():
    failed = dataclasses.replace(record("f1", "kan", 9.0), error="the loss is not finite after the timed steps (nan)")
    records = [record("f1", "kan", 2.0), failed, record("f1", "relukan", 0.5)]
    records += [dataclasses.replace(record("f2", "relukan", math.nan, loss=math.nan), error="RuntimeError: boom", params=None)]
    kan, relukan, broken = summarize(records, baseline="kan")
    assert (kan.n, kan.failed, kan.median_s, kan.max_s) == (1, 1, 2.0, 2.0)
    assert relukan.speedup == 4.0 and relukan.failed == 0
    assert (broken.n, broken.failed, broken.params) == (0, 1, None)
    assert math.isnan(broken.median_s) and math.isnan(broken.speedup) and math.isnan(broken.ms_per_step)


def test_a_unit_whose_loss_is_not_finite_is_recorded_as_failed():
    from relukan_bench.experiments.speed.plan import iter_speed

    config = CONFIG.model_copy(update={"functions": CONFIG.functions[:1], "timing": CONFIG.timing.model_copy(update={"repeats": 1}),
                                       "train": CONFIG.train.model_copy(update={"steps": 5, "lr": 1e30})})
    records = list(iter_speed(config, ["cpu"]))
    assert all(isinstance(r, RawRecord) for r in records)
    assert [r.model for r in records] == ["relukan", "kan"]  # the run went on
    for r in records:
        assert r.error.startswith("the loss is not finite after the timed steps") and r.seconds > 0


def test_each_relukan_meets_the_bspline_of_its_own_effort():
    """compiled against compiled is the basis at equal effort; a fused ReLU-KAN has no fused
    B-spline KAN to meet, so it meets the B-spline KAN of its compile setting, marked unequal."""
    from relukan_bench.kinds import StepOptions

    names = ("kan", "ours", "ours-c", "relukan", "relukan-c", "fast", "fast-c")
    records = [record("f1", m, s) for m, s in zip(names, (8.0, 4.0, 2.0, 2.0, 1.0, 0.5, 0.25))]
    roles = {"kan": "kan", "ours": "bspline", "ours-c": "bspline", "relukan": "relukan", "relukan-c": "relukan",
             "fast": "relukan", "fast-c": "relukan"}
    efforts = {"ours-c": StepOptions(compile=True), "relukan-c": StepOptions(compile=True),
               "fast": StepOptions(fused=True), "fast-c": StepOptions(fused=True, compile=True)}
    split = {r.relukan: r for r in decompose(summarize(records, "kan"), roles, "kan", efforts)}
    assert {m: (r.bspline, r.equal_effort) for m, r in split.items()} == {
        "relukan": ("ours", True), "relukan-c": ("ours-c", True), "fast": ("ours", False), "fast-c": ("ours-c", False)}
    assert (split["relukan-c"].implementation, split["relukan-c"].basis) == (4.0, 2.0)
    # without efforts every model counts as plain: the first B-spline KAN, equal
    assert decompose(summarize(records, "kan"), roles, "kan")[0].bspline == "ours"


def test_every_pykan_version_and_mode_in_one_run(pykan_home, tmp_path):
    """pykan 0.0.5 and 0.1.2 in their workers, 0.2.8 here in two modes, alternating inside the
    repeat; every row says which pykan ran, and where the step's time and memory went; the
    report puts ReLU-KAN against each of them."""
    from relukan_bench.experiments.speed.report import baselines_section
    from relukan_bench.runner import Request, run

    (tmp_path / "c.yaml").write_text(
        "experiment: speed\nthreads: 1\nbaseline: kan\ndata: {samples: 64}\ntrain: {steps: 3}\ntiming: {repeats: 1, warmup_steps: 1}\n"
        "models:\n  - {name: relukan, kind: relukan}\n  - {name: kan, kind: kan}\n"
        "  - {name: kan-default, kind: kan, mode: default}\n"
        "  - {name: kan-0.0.5, kind: kan, pykan: '0.0.5', mode: default}\n"
        "  - {name: kan-0.1.2, kind: kan, pykan: '0.1.2', mode: default}\n"
        "  - {name: kan-compile, kind: kan, mode: speed-compile}\n"
        "functions:\n  - {name: f2, expression: sin(pi*x1 + pi*x2), width: [2, 1], grid: 5, k: 3}\n")
    outcome = run("speed", Request(config=tmp_path / "c.yaml", out=tmp_path / "run"))
    assert not outcome.failed, outcome.failed
    from relukan_bench.results import read_records

    raw = read_records(tmp_path / "run" / "raw.csv", RawRecord)
    assert [(r["model"], r["pykan_version"], r["pykan_mode"]) for r in raw] == [
        ("relukan", None, None), ("kan", "0.2.8", "speed"), ("kan-default", "0.2.8", "default"),
        ("kan-0.0.5", "0.0.5", "default"), ("kan-0.1.2", "0.1.2", "default"), ("kan-compile", "0.2.8", "speed-compile")]
    # pykan's speed(compile=True) compiles at its first call: that warm-up step is its compile time
    assert [r["model"] for r in raw if not math.isnan(r["compile_seconds"])] == ["kan-compile"]
    for r in raw:
        assert r["seconds"] > 0 and math.isfinite(r["final_loss"]) and r["threads"] == 1
        assert all(r[c] > 0 for c in ("forward_ms", "backward_ms", "optimizer_ms", "peak_memory_mb")), r
    params = {r["model"]: r["params"] for r in raw}
    assert params["kan-default"] > params["kan"]  # default mode trains the symbolic branch's parameters too
    summary = {r.model: r for r in outcome.shown.summary}
    assert summary["kan-0.0.5"].pykan_version == "0.0.5" and summary["kan-0.1.2"].pykan_mode == "default"
    assert all(summary[m].peak_memory_mb > 0 for m in summary)
    from relukan_bench.report import load_experiment

    loaded = load_experiment(tmp_path / "run", "speed")
    section = baselines_section(loaded)
    from relukan_bench.experiments.speed.report import verdict

    assert "Against all 5 pykan versions and modes timed, its median speedups span" in verdict(loaded).sentence
    for label in ("`kan` (pykan 0.2.8, speed)", "`kan-0.0.5` (pykan 0.0.5, default)", "`kan-0.1.2` (pykan 0.1.2, default)",
                  "`kan-compile` (pykan 0.2.8, speed-compile)"):
        assert label in section
    assert "Only one pykan version was timed" not in section


def test_reproduce_runs_the_baselines_config_once_its_environments_are_prepared(pykan_home):
    from relukan_bench.config import load_config
    from relukan_bench.experiments.speed import EXPERIMENT
    from relukan_bench.experiments.speed.config import baseline_versions

    path, note = EXPERIMENT.reproduce_config()
    assert path.name == "speed-baselines.yaml" and note is None
    assert baseline_versions(path) == ["0.1.2", "0.0.5"]
    config = load_config(path, [], SpeedConfig)
    versions = {m.name: (m.pykan, m.mode) for m in config.models if m.kind == "kan"}
    assert versions == {"kan": (None, "speed"), "kan-0.2.8-default": (None, "default"),
                        "kan-0.2.8-compile": (None, "speed-compile"), "kan-0.1.2": ("0.1.2", "default"),
                        "kan-0.0.5": ("0.0.5", "default")}
    assert config.baseline == "kan" and config.timing.repeats >= 7


def test_a_version_whose_worker_fails_is_a_failed_unit_that_names_it(pykan_home, tmp_path, monkeypatch):
    """An environment whose pykan cannot even be imported: each of its units fails with one line
    naming the version, the row still says which pykan was asked for, the others run."""
    from relukan_bench.experiments.speed.plan import iter_speed
    from relukan_bench.pykan_envs import HOME_VARIABLE

    broken = tmp_path / "home"
    (broken / "0.0.5" / "kan").mkdir(parents=True)
    (broken / "0.0.5" / "kan" / "__init__.py").write_text("raise ImportError('a broken pykan')\n")
    (broken / "0.0.5" / ".relukan-bench-pykan").write_text("0.0.5\n")
    monkeypatch.setenv(HOME_VARIABLE, str(broken))
    config = CONFIG.model_validate({**CONFIG.model_dump(), "functions": [CONFIG.functions[0].model_dump()],
                                    "timing": {"repeats": 1, "warmup_steps": 1}, "train": {"steps": 2},
                                    "models": [{"name": "relukan", "kind": "relukan"},
                                               {"name": "old", "kind": "kan", "pykan": "0.0.5", "mode": "default"}],
                                    "baseline": "old"})
    # without its metadata the worker finds the installed pykan's: caught before anything is built
    relukan, old = list(iter_speed(config, ["cpu"]))
    assert old.error == ("WorkerError: pykan 0.0.5: RuntimeError: pykan 0.0.5 runs in a worker of its own "
                            "environment; this process imports pykan 0.2.8")
    (broken / "0.0.5" / "pykan-0.0.5.dist-info").mkdir()
    (broken / "0.0.5" / "pykan-0.0.5.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: pykan\nVersion: 0.0.5\n")
    relukan, old = list(iter_speed(config, ["cpu"]))
    assert relukan.error is None and relukan.seconds > 0
    assert old.pykan_version == "0.0.5" and old.pykan_mode == "default" and math.isnan(old.seconds)
    assert old.error.startswith("WorkerError: pykan 0.0.5: ImportError: a broken pykan"), old.error


SHAPES = """\
experiment: speed
baseline: relukan
data: {samples: 40}
train: {steps: 3}
timing: {repeats: 2, warmup_steps: 1}
models:
  - {name: relukan, kind: relukan}
  - {name: bspline, kind: bspline, match: relukan}
  - {name: fast, kind: relukan, impl: fast}
functions:
  - {name: L6, expression: random, width: [6, 6], grid: 5, k: 3, samples: 20}
  - {name: f1, expression: sin(pi*x1), width: [1, 1], grid: 5, k: 3}
"""


def shapes_config(tmp_path, text=SHAPES, overrides=()):
    from relukan_bench.config import load_config

    path = tmp_path / "shapes.yaml"
    path.write_text(text)
    return load_config(path, list(overrides), SpeedConfig)


def test_bare_shapes_on_random_targets_with_their_own_batch(tmp_path):
    """A shape with `expression: random` of any last width trains on standard-normal targets at
    its own batch; each row records its batch, multiply-adds, match, effort and inference."""
    from relukan_bench.experiments.speed.plan import iter_speed

    records = list(iter_speed(shapes_config(tmp_path), ["cpu"]))
    assert len(records) == 2 * 2 * 3 and not any(r.error for r in records)
    by = {(r.function, r.model): r for r in records if r.repeat == 0}
    assert by[("L6", "relukan")].samples == 20 and by[("f1", "relukan")].samples == 40
    assert by[("L6", "relukan")].macs == 6 * 8 * 6 and by[("L6", "relukan")].params == 6 * 8 * 6 + 6 + 2 * 6 * 8
    assert by[("L6", "bspline")].sized.startswith("grid ") and by[("L6", "bspline")].params <= by[("L6", "relukan")].params
    assert (by[("L6", "relukan")].effort, by[("L6", "fast")].effort) == ("eager", "fused")
    for r in records:
        assert r.infer_ms > 0 and r.infer_memory_mb >= 0 and r.too_slow is None
    rows = {(r.function, r.model): r for r in summarize(records, "relukan")}
    assert rows[("L6", "fast")].infer_q1_ms <= rows[("L6", "fast")].infer_ms <= rows[("L6", "fast")].infer_q3_ms


def test_a_random_target_needs_no_single_output_but_an_expression_still_does(tmp_path):
    from relukan_bench.errors import ConfigError

    with pytest.raises(ConfigError, match=r"functions\[0\]\.width: expected the last width to be 1"):
        shapes_config(tmp_path, SHAPES.replace("expression: random, width: [6, 6]", "expression: x1, width: [6, 6]"))
    with pytest.raises(ConfigError, match=r"functions\[0\]\.expression"):
        shapes_config(tmp_path, SHAPES.replace("expression: random", "expression: randomly"))


def test_a_model_estimated_above_the_limit_is_marked_too_slow_and_never_run(tmp_path):
    """The probe runs two steps at a tenth of the batch; a limit no step can meet marks every
    unit too slow to time, counted apart from failures, never timed and never silently left out."""
    from relukan_bench.experiments.speed.plan import iter_speed

    config = shapes_config(tmp_path, overrides=["timing.max_step_seconds=1e-9"])
    records = list(iter_speed(config, ["cpu"]))
    assert len(records) == 12
    for r in records:
        assert r.too_slow.startswith("too slow to time: one step estimated at") and "limit 1e-09 s" in r.too_slow
        assert r.error is None and math.isnan(r.seconds) and math.isnan(r.infer_ms)
    rows = summarize(records, "relukan")
    assert all(row.n == 0 and row.failed == 0 and row.too_slow for row in rows)
    generous = list(iter_speed(shapes_config(tmp_path, overrides=["timing.max_step_seconds=100"]), ["cpu"]))
    assert all(r.too_slow is None and r.seconds > 0 for r in generous)


def test_the_probe_refuses_a_step_estimated_to_outgrow_the_memory(monkeypatch):
    """The probe scales a step's measured peak by the batch: past half the device's memory the
    unit is 'too large to time', and a step within both limits is timed."""
    import torch

    import relukan_bench.experiments.speed.measure as module
    from relukan_bench.config import TrainSpec
    from relukan_bench.models.relukan import ReLUKAN

    x, y = torch.rand(200, 3), torch.rand(200, 1)
    model = ReLUKAN([3, 4, 1], 5, 3)
    assert module.too_slow(model, x, y, TrainSpec(), 1e-3, "cpu", limit=100.0) == ""
    monkeypatch.setattr("relukan_bench.limits.device_memory", lambda device: 1024)  # a 1 KiB device
    found = module.too_slow(model, x, y, TrainSpec(), 1e-3, "cpu", limit=100.0)
    assert found.startswith("too large to time: one step estimated to hold") and "(measured at batch 20)" in found


COMPILED = """\
experiment: speed
baseline: relukan
data: {samples: 32}
train: {steps: 2}
timing: {repeats: 1, warmup_steps: 1}
models:
  - {name: relukan, kind: relukan}
  - {name: conv-c, kind: relukan, impl: conv, compile: true}
  - {name: rbf-c, kind: rbf, compile: true}
  - {name: chebyshev-c, kind: chebyshev, compile: true}
  - {name: fourier-c, kind: fourier, compile: true}
  - {name: floor-c, kind: linear, compile: true}
functions:
  - {name: f4, expression: exp(sin(pi*x1) + x2**2), width: [2, 5, 1], grid: 5, k: 3}
"""


def test_every_new_kind_also_runs_compiled_and_says_so(tmp_path):
    """`compile: true` on the new kinds: the whole step and the forward through torch.compile,
    compile time recorded apart, the effort column saying `compiled` (inkan and flashkan:
    tests/kinds/test_peers.py)."""
    from relukan_bench.experiments.speed.plan import iter_speed

    records = {r.model: r for r in iter_speed(shapes_config(tmp_path, COMPILED), ["cpu"])}
    assert not any(r.error for r in records.values())
    assert records["relukan"].effort == "eager" and math.isnan(records["relukan"].compile_seconds)
    for name in ("conv-c", "rbf-c", "chebyshev-c", "fourier-c", "floor-c"):
        assert records[name].effort == "compiled" and records[name].compile_seconds > 0, name
        assert records[name].seconds > 0 and records[name].infer_ms > 0, name


def test_effort_names_what_each_step_is_given():
    from relukan_bench.experiments.speed.plan import effort_of
    from relukan_bench.kinds import kind_of

    def entry(kind, **options):
        return kind_of(kind).entry.model_validate({"name": "m", "kind": kind, **options})

    assert effort_of(entry("relukan"), "cpu") == "eager"
    assert effort_of(entry("relukan", impl="fast"), "cpu") == "fused"
    assert effort_of(entry("relukan", impl="fast"), "cuda") == "fused+graph"
    assert effort_of(entry("bspline", compile=True), "cuda:0") == "compiled"
    assert effort_of(entry("inkan", basis_compile=True), "cpu") == "basis compiled"


def test_a_unit_travels_as_its_raw_record_until_the_writer_and_reads_back_the_same(tmp_path):
    """The runner's hooks: `rows` hands the record itself to the writer, `rebuild` turns the row
    read back into the same record, `failure` names the unit from it."""
    from relukan_bench.experiments.speed import EXPERIMENT
    from relukan_bench.results import read_log, write_csv

    timed = RawRecord(function="f1", model="kan", kind="kan", pykan_version="0.2.8", pykan_mode="speed", device="cpu",
                      repeat=1, seed=3, steps=5, warmup_steps=1, seconds=0.5, ms_per_step=100.0, final_loss=0.25,
                      params=40, threads=1, compile_seconds=0.0, forward_ms=1.0, backward_ms=2.0, optimizer_ms=0.5,
                      peak_memory_mb=3.0, error=None, samples=64, macs=80, sized=None, effort="eager", infer_ms=0.5,
                      infer_memory_mb=1.0, too_slow=None)
    failed = dataclasses.replace(timed, model="relukan", kind="relukan", error="RuntimeError: boom")
    assert EXPERIMENT.rows(timed) == {"raw": [timed]} and EXPERIMENT.rows(timed)["raw"][0] is timed
    write_csv(tmp_path / "raw.csv", RawRecord.columns(), [timed, failed])
    rebuilt = EXPERIMENT.rebuild({"raw": read_log(tmp_path / "raw.csv", RawRecord)[0]})
    assert rebuilt == [timed, failed] and all(isinstance(r, RawRecord) for r in rebuilt)
    assert EXPERIMENT.failure(timed) is None
    assert EXPERIMENT.failure(failed) == "f1 relukan on cpu, repeat 2: RuntimeError: boom"
    assert EXPERIMENT.key(timed.row()) == EXPERIMENT.key(rebuilt[0].row())
