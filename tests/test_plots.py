"""Figures, drawn from real (tiny) runs of every experiment and read back from matplotlib's own
objects: what each promises a reader (readable labels, every model visible, the paper's
speedups, a centred colour scale) is checked on the figure itself."""

from __future__ import annotations

import dataclasses
import math
import sys
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")

from relukan_bench import fmt, plots  # noqa: E402
from relukan_bench.config import load_config  # noqa: E402
from relukan_bench.experiments.fit import figures as fit_figures  # noqa: E402
from relukan_bench.experiments.forgetting import figures as forgetting_figures  # noqa: E402
from relukan_bench.experiments.protocol import experiment  # noqa: E402
from relukan_bench.experiments.speed import figures as speed_figures  # noqa: E402
from relukan_bench.experiments.speed.records import SummaryRecord as SpeedSummaryRecord  # noqa: E402
from relukan_bench.runner import Request, run  # noqa: E402
from tests.tiny import FORGETTING  # noqa: E402

PLUGIN = '{name: rbf, kind: plugin, factory: "tests.plugins.rbf_kan:make", options: {}}'
MODELS = """models:
  - {name: relukan, kind: relukan}
  - {name: kan, kind: kan}
  - {name: relukan-fast, kind: relukan, impl: fast}
  - {name: bspline, kind: bspline}
  - {name: mlp, kind: mlp}
  - %s
""" % PLUGIN
# f1 and f2 are the paper's own speed functions (its speedups apply); g is not
SPEED = """experiment: speed
seed: 0
baseline: kan
data: {samples: 64}
train: {steps: 3}
timing: {repeats: 3, warmup_steps: 1}
""" + MODELS + """functions:
  - {name: f1, expression: sin(pi*x1), width: [1, 1], grid: 5, k: 3}
  - {name: f2, expression: sin(pi*x1 + pi*x2), width: [2, 1], grid: 5, k: 3}
  - {name: g, expression: x1*x2, width: [2, 1], grid: 3, k: 2}
"""
FIT = """experiment: fit
seeds: [0, 1]
baseline: kan
data: {train_samples: 64, test_samples: 16}
train: {steps: 30, lr: 0.01, log_every: 3}
""" + MODELS + """functions:
  - {name: f1, expression: sin(pi*x1), width: [1, 1], grid: 5, k: 3}
  - {name: f4, expression: sin(pi*x1 + pi*x2), width: [2, 5, 1], grid: 5, k: 3}
"""
LABELS = {"relukan": "ReLU-KAN (paper code)", "kan": "pykan KAN", "relukan-fast": "ReLU-KAN (fast)",
          "bspline": "B-spline KAN (ours)", "mlp": "MLP", "rbf": "rbf"}


def _run(tmp_path_factory, name: str, text: str) -> Path:
    where = tmp_path_factory.mktemp(name)
    (where / "c.yaml").write_text(text)
    outcome = run(name, Request(config=where / "c.yaml", out=where / "run"))
    assert not outcome.failed, outcome.failed
    return where / "run"


@pytest.fixture(scope="module")
def speed_run(tmp_path_factory):
    return _run(tmp_path_factory, "speed", SPEED)


@pytest.fixture(scope="module")
def fit_run(tmp_path_factory):
    return _run(tmp_path_factory, "fit", FIT)


@pytest.fixture(scope="module")
def forgetting_run(tmp_path_factory):
    return _run(tmp_path_factory, "forgetting", FORGETTING.replace("  - {name: mlp, kind: mlp}\n", "  - {name: mlp, kind: mlp}\n"
                                                                   "  - {name: relukan-fast, kind: relukan, impl: fast}\n"))


@pytest.fixture(autouse=True)
def _close_figures():
    """The figures a test kept open to read are closed after it."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def _redraw(run_dir: Path, out: Path, monkeypatch) -> dict[str, object]:
    """The run's figures drawn again into `out` by its experiment from its own logs, as the
    runner draws them; every figure by file name, kept open to be read."""
    from relukan_bench.results import read_log
    from relukan_bench.yamlio import loads, read_text

    drawn: dict[str, object] = {}

    def keep(fig, path):
        fig.savefig(path, dpi=plots.DPI)
        drawn[Path(path).name] = fig
        return path

    for module in [m for m in list(sys.modules.values()) if getattr(m, "__dict__", {}).get("_save") is plots._save]:
        monkeypatch.setattr(module, "_save", keep)  # plots and every module that saves its figures through it
    exp = experiment(loads(read_text(run_dir / "config.yaml"))["experiment"])
    config = load_config(run_dir / "config.yaml", [], exp.schema)
    results = exp.rebuild({t: read_log(run_dir / f"{t}.csv", types)[0] for t, types in exp.tables.items()})
    out.mkdir(exist_ok=True)
    exp.figures(out, config, results, exp.summarize(out, config, results, exp.context(config)))
    return drawn


def _legend_texts(fig) -> list[str]:
    legends = [*fig.legends, *(ax.get_legend() for ax in fig.axes if ax.get_legend())]
    return [text.get_text() for legend in legends for text in legend.get_texts()]


def _png_of_print_size(path: Path) -> None:
    """A PNG about a printed page's width (7 inches at plots.DPI, give or take the legend)."""
    from PIL import Image

    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = Image.open(path).size
    assert 0.55 * plots.WIDTH * plots.DPI <= width <= 1.25 * plots.WIDTH * plots.DPI, (path.name, width)
    assert 0.2 * width <= height <= 1.2 * width, (path.name, width, height)
    assert path.stat().st_size < 600_000


# ----------------------------------------------------------------------------- speed
def test_speed_png_is_the_speedup_beside_the_papers_with_readable_labels(speed_run, tmp_path, monkeypatch):
    from relukan_bench.experiments.speed.figures import speed_points
    from relukan_bench.experiments.speed.paper import paper_speedups
    from relukan_bench.results import read_csv

    _png_of_print_size(speed_run / "speed.png")
    fig = _redraw(speed_run, tmp_path, monkeypatch)["speed.png"]
    [ax] = [a for a in fig.axes if a.get_legend()]
    assert ax.get_yscale() == "log" and ax.get_ylabel() == "speedup over pykan KAN"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["f1\n[1, 1]", "f2\n[2, 1]", "g\n[2, 1]"]
    legend = _legend_texts(fig)
    assert [label for label in legend if label in LABELS.values()] == [LABELS[m] for m in LABELS if m != "kan"]
    assert "paper's ReLU-KAN over KAN, CPU" in legend and "paper's ReLU-KAN over KAN, GPU" in legend
    assert any("pykan KAN (1x)" in t.get_text() for t in ax.texts)  # the baseline is the line at 1
    # our points are the summary's speedups, one per function and model but the baseline
    summary = _speed_summary(speed_run)
    ours = sorted(round(line.get_ydata()[0], 9) for line in ax.lines if line.get_marker() == "o")
    assert ours == sorted(round(p["value"], 9) for p in speed_points(summary, "kan"))
    assert len(ours) == 3 * 5
    # the paper's CPU and GPU speedups of f1 and f2 (g is not the paper's), as hollow markers
    config = load_config(speed_run / "config.yaml", [], experiment("speed").schema)
    paper = paper_speedups(read_csv(Path(plots.__file__).parents[1] / "results" / "paper" / "speed.csv"), config)
    markers = sorted(round(float(y), 9) for c in _scatters(ax) for _, y in c.get_offsets())
    assert markers == sorted(round(v, 9) for v in paper.values()) and len(markers) == 4
    assert {plots.times(v) for v in paper.values()} <= {t.get_text() for t in ax.texts}


def _scatters(ax):
    from matplotlib.collections import PathCollection

    return [c for c in ax.collections if isinstance(c, PathCollection)]


def test_speed_on_two_devices_has_a_marker_per_device(speed_run, tmp_path, monkeypatch):
    """The rows of a CUDA device (the CPU's, every model's time scaled: no GPU here) beside the
    CPU's: a point per device, told apart by marker and legend."""
    from relukan_bench.experiments.speed.figures import figure

    drawn: dict[str, object] = {}
    monkeypatch.setattr(plots, "_save", lambda fig, path: drawn.setdefault("fig", fig) and path)
    rows = _speed_summary(speed_run)
    scale = {"kan": 4.0, "relukan": 0.5, "relukan-fast": 0.05, "bspline": 0.6, "mlp": 0.1, "rbf": 0.3}
    cuda = [dataclasses.replace(r, device="cuda", median_s=r.median_s * scale[r.model], q1_s=r.q1_s * scale[r.model],
                                q3_s=r.q3_s * scale[r.model]) for r in rows]
    config = load_config(speed_run / "config.yaml", [], experiment("speed").schema)
    figure(tmp_path, config, rows + cuda, experiment("speed").context(config))
    fig = drawn["fig"]
    assert {"ours, CPU", "ours, CUDA"} <= set(_legend_texts(fig))
    [ax] = fig.axes
    by_marker = {m: [line for line in ax.lines if line.get_marker() == m] for m in ("o", "s")}
    assert len(by_marker["o"]) == len(by_marker["s"]) == 3 * 5
    relukan = by_marker["o"][0].get_color()  # the first point: f1's ReLU-KAN (paper code)
    cpu, gpu = ([line.get_ydata()[0] for line in by_marker[m] if line.get_color() == relukan] for m in ("o", "s"))
    assert len(cpu) == len(gpu) == 3 and gpu == pytest.approx([8 * v for v in cpu])  # 4 / 0.5 times the CPU's speedup


def test_speed_without_a_baseline_draws_seconds_and_no_paper(speed_run, tmp_path, monkeypatch):
    from relukan_bench.experiments.speed.figures import figure

    drawn: dict[str, object] = {}
    monkeypatch.setattr(plots, "_save", lambda fig, path: drawn.setdefault("fig", fig) and path)
    rows = _speed_summary(speed_run)
    config = load_config(speed_run / "config.yaml", ["baseline=null"], experiment("speed").schema)
    figure(tmp_path, config, rows, experiment("speed").context(config))
    [ax] = drawn["fig"].axes
    assert ax.get_ylabel() == "seconds" and not _scatters(ax)  # no paper markers: its numbers are speedups
    assert len([line for line in ax.lines if line.get_marker() == "o"]) == 3 * 6


def _speed_summary(run_dir: Path) -> list[SpeedSummaryRecord]:
    """A speed run's summary.csv read back as the records it was written from."""
    from relukan_bench.results import read_records

    return [SpeedSummaryRecord.from_row(row) for row in read_records(run_dir / "summary.csv", SpeedSummaryRecord)]


# ----------------------------------------------------------------------------- fit
def test_fit_figures_show_every_model_and_say_which_coincide(fit_run, tmp_path, monkeypatch):
    for name in ("curves_f1.png", "curves_f4.png", "fit_f1.png", "fit_f4.png", "overview.png", "seeds.png"):
        _png_of_print_size(fit_run / name)
    drawn = _redraw(fit_run, tmp_path, monkeypatch)
    same = {"relukan-fast": "ReLU-KAN (fast): same as ReLU-KAN (paper code)", "bspline": "B-spline KAN (ours): same as pykan KAN"}
    expected = [same.get(m, label) for m, label in LABELS.items()]
    for name in ("curves_f1.png", "curves_f4.png", "overview.png"):
        assert [t for t in _legend_texts(drawn[name]) if not t.startswith("paper's")] == expected, name
    assert "paper's ReLU-KAN" in _legend_texts(drawn["curves_f1.png"])  # the paper ran f1 as we do
    assert [t.split(" (seed")[0] for t in _legend_texts(drawn["fit_f1.png"])] == ["target", *expected]
    assert [a.get_title().split(", seed")[0].replace("\n", ": ") for a in drawn["fit_f4.png"].axes] == expected
    assert _legend_texts(drawn["seeds.png"]) == list(LABELS.values())
    # the duplicates are dashed over the curve they lie on
    [ax] = [a for a in drawn["overview.png"].axes if a.get_title().startswith("f1")]
    styles = {line.get_label(): line.get_linestyle() for line in ax.lines}
    assert styles[same["relukan-fast"]] == styles[same["bspline"]] == "--" and styles[LABELS["relukan"]] == "-"
    assert "$\\sin(\\pi x_{1})$" in drawn["curves_f1.png"]._suptitle.get_text()


def test_fit_y_range_is_ours_and_the_final_ratio_is_written(fit_run, tmp_path, monkeypatch):
    from relukan_bench import resources
    from relukan_bench.experiments.fit.paper import paper_curves
    from relukan_bench.experiments.fit.summary import curve_bands
    from relukan_bench.results import read_csv, read_log

    drawn = _redraw(fit_run, tmp_path, monkeypatch)
    exp = experiment("fit")
    bands = curve_bands(exp.rebuild({t: read_log(fit_run / f"{t}.csv", types)[0] for t, types in exp.tables.items()}))
    summary = {(r["function"], r["model"]): float(r["final_test_mse"]) for r in read_csv(fit_run / "summary.csv")}
    config = load_config(fit_run / "config.yaml", [], exp.schema)
    paper = paper_curves(read_csv(resources.paper_dir() / "loss_curves.csv"), exp.context(config))
    assert {function for function, _ in paper} == {"f1", "f4"}
    for function in ("f1", "f4"):
        ours = [v for (f, _), band in bands.items() if f == function for key in ("test_min", "test_max", "test_median")
                for v in band[key] if 0 < v < math.inf]
        theirs = [max((s, v) for s, v in zip(c["step"], c["test"]) if s <= 30)[1] for (f, _), c in paper.items() if f == function]
        axes = drawn[f"curves_{function}.png"].axes
        low, high = axes[-1].get_ylim()  # ours, and the paper's at our last step; never its spikes
        assert math.isclose(high, max(ours + theirs) * 2.0, rel_tol=1e-6) and math.isclose(low, min(ours + theirs) / 2.0, rel_tol=1e-6)
        assert max(v for (f, _), c in paper.items() if f == function for v in c["test"]) > high  # its spikes are cut
        ratio = summary[(function, "kan")] / summary[(function, "relukan")]
        assert any(t.get_text().endswith(fmt.times(ratio)) for t in axes[-1].texts), [t.get_text() for t in axes[-1].texts]
        assert axes[-1].get_title().startswith("test MSE") and len(axes) in (1, 2)


def test_train_and_test_share_one_panel_where_they_coincide(fit_run, tmp_path, monkeypatch):
    monkeypatch.setattr(fit_figures, "TRAIN_TEST", math.inf)  # every curve coincides
    drawn = _redraw(fit_run, tmp_path / "one", monkeypatch)
    [ax] = drawn["curves_f1.png"].axes
    assert ax.get_title().startswith("test MSE (train MSE within a factor")
    monkeypatch.setattr(fit_figures, "TRAIN_TEST", -1.0)  # none does
    drawn = _redraw(fit_run, tmp_path / "two", monkeypatch)
    assert [a.get_title() for a in drawn["curves_f1.png"].axes] == ["train MSE", "test MSE"]


def test_coinciding_curves_are_found_and_no_others():
    from relukan_bench.experiments.fit.figures import coinciding

    def band(values):
        return {"test_median": values}

    a = [1.0, 0.5, 0.1, 0.01]
    found = coinciding({"a": band(a), "b": band([v * 1.04 for v in a]), "c": band([v * 1.2 for v in a]),
                        "d": band([v * 1.21 for v in a])})
    assert found == {"b": "a", "d": "c"}  # d coincides with c, not with a (20% away); nothing with b


# ----------------------------------------------------------------------------- forgetting
def test_forgetting_heatmap_is_growth_since_the_own_phase_on_a_centred_scale(forgetting_run, tmp_path, monkeypatch):
    from matplotlib.colors import TwoSlopeNorm

    from relukan_bench.experiments.forgetting.records import MatrixRecord
    from relukan_bench.experiments.forgetting.summary import growth, median_matrix
    from relukan_bench.results import read_log

    for name in ("heatmap.png", "curves.png", "panels_relukan.png"):
        _png_of_print_size(forgetting_run / name)
    drawn = _redraw(forgetting_run, tmp_path, monkeypatch)
    fig = drawn["heatmap.png"]
    panels = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in panels] == ["ReLU-KAN (paper code)", "pykan KAN", "MLP", "ReLU-KAN (fast)"]
    assert len({round(ax.get_position().y0, 3) for ax in panels}) == 2  # a grid, three a row
    norms = {id(ax.images[0].norm): ax.images[0].norm for ax in panels}
    [norm] = norms.values()  # one scale for every panel
    assert isinstance(norm, TwoSlopeNorm) and norm.vcenter == 0 and norm.vmin == -norm.vmax and norm(0.0) == 0.5
    assert panels[0].images[0].get_cmap().name == "RdBu_r"
    exp = experiment("forgetting")
    rows = [MatrixRecord.from_row(row) for row in read_log(forgetting_run / "matrix.csv", exp.tables["matrix"])[0]]
    shown = growth(median_matrix(rows, "relukan"))
    matrix = median_matrix(rows, "relukan")
    assert shown["own"] == [matrix[1][0], matrix[2][1], matrix[3][2]]
    assert [[v is None for v in row] for row in shown["log10"]] == [[False, True, True], [False, False, True], [False, False, False]]
    assert math.isclose(shown["log10"][2][0], math.log10(matrix[3][0] / matrix[1][0]))
    texts = [t.get_text() for t in panels[0].texts]
    assert plots.times(10 ** shown["log10"][2][0]) in texts  # the growth factor, written in its cell
    assert sum(1 for p in panels[0].patches if p.get_hatch()) == 3  # the cells before their phase
    assert "own phase" in fig.axes[-1].get_ylabel()  # the colour bar says what the colour is


def test_forgetting_curves_are_a_grid_with_the_phases_marked(forgetting_run, tmp_path, monkeypatch):
    drawn = _redraw(forgetting_run, tmp_path, monkeypatch)
    fig = drawn["curves.png"]
    panels = [ax for ax in fig.axes if ax.lines]
    assert [ax.get_title() for ax in panels] == ["ReLU-KAN (paper code)", "pykan KAN", "MLP", "ReLU-KAN (fast)"]
    assert len({round(ax.get_position().y0, 3) for ax in panels}) == 2
    for ax in panels:
        assert [t.get_text() for t in ax.texts] == ["1", "2", "3"]  # phase numbers over their shaded spans
        assert ax.get_yscale() == "log"
    assert _legend_texts(fig) == ["segment 1", "segment 2", "segment 3"]
    assert drawn["panels_relukan-fast.png"]._suptitle.get_text().startswith("ReLU-KAN (fast): ")


# ----------------------------------------------------------------------------- labels and math
def test_labels_come_from_the_kinds_and_tell_every_entry_apart():
    from relukan_bench.experiments.speed.config import SpeedConfig
    from relukan_bench.experiments.fit.config import FitConfig
    from relukan_bench.kinds import looks

    root = Path(plots.__file__).parents[1] / "configs"
    named = looks(load_config(root / "speed-baselines.yaml", [], SpeedConfig).models)
    assert named["kan-0.0.5"].label == "pykan 0.0.5 KAN" and named["kan-0.2.8-default"].label == "pykan KAN (default mode)"
    assert named["relukan-compiled"].label == "ReLU-KAN (paper code, compiled)"
    assert len({v.label for v in named.values()}) == len(named)
    assert {v.family for v in named.values()} == {"ReLU-KAN", "B-spline KAN", "MLP"}
    colors = plots.palette(named)
    assert len(set(colors.values())) == len(named)
    config = load_config(root / "fit.yaml", ["models.mlp.lr=0.01", "models.bspline.kind=relukan"], FitConfig)
    named = looks(config.models)
    assert named["mlp"].label == "MLP (lr 0.01)"
    assert named["relukan"].label == "ReLU-KAN (paper code) [relukan]" and named["bspline"].label == "ReLU-KAN (paper code) [bspline]"


@pytest.mark.parametrize("text,tex", [
    ("sin(pi*x1)", r"$\sin(\pi x_{1})$"),
    ("exp(sin(pi*x1) + x2**2)", r"$\exp(\sin(\pi x_{1}) + x_{2}^{2})$"),
    ("arctan(x1 + x1*x2 + x2**2)", r"$\arctan(x_{1} + x_{1} x_{2} + x_{2}^{2})$"),
    ("x1 - (x2 - x3)", r"$x_{1} - (x_{2} - x_{3})$"),
    ("(x1 + 1)*x2/2", r"$\frac{(x_{1} + 1) x_{2}}{2}$"),
    ("x1*-x2", r"$x_{1} (-x_{2})$"),
    ("2*3", r"$2 \cdot 3$"),
    ("not an expression", "not an expression"),
])
def test_expressions_as_mathtext(text, tex):
    from relukan_bench.expressions import mathtext

    assert mathtext(text) == tex
    assert plots.typeset(text) == tex  # matplotlib typesets it


def test_every_shipped_function_is_typeset():
    from relukan_bench.expressions import mathtext
    from relukan_bench.yamlio import loads, read_text

    root = Path(plots.__file__).parents[1] / "configs"
    expressions = {f["expression"] for path in root.glob("*.yaml") for f in loads(read_text(path)).get("functions", [])}
    expressions.discard("random")  # a bare shape (speed only): no expression to draw
    assert len(expressions) >= 8
    for text in expressions:
        assert plots.typeset(text) == mathtext(text) != text


def test_figures_of_nothing_finite_are_still_drawn(tmp_path):
    """Every number infinite or missing (failed and diverged runs): each figure is drawn, and
    says where there is nothing to draw."""
    from types import SimpleNamespace

    from relukan_bench.experiments.fit.records import PredictionRecord, RunRecord
    from relukan_bench.kinds import Look

    nan, inf = math.nan, math.inf
    looks = {"a": Look("A", "F", "Blues", "relukan"), "b": Look("B", "G", "no such colormap", "kan")}
    point = {"function": "f1", "device": "cpu", "value": nan, "low": nan, "high": inf, "annotate": True}
    speed_figures.plot_speed([dict(point, model="a"), dict(point, model="b")], looks, {"f1": "f1\n[1, 1]"}, tmp_path / "s.png",
                     paper={("f1", "cpu"): 5.0}, paper_after="a", ylabel="speedup over B", reference="B (1x)")
    function = SimpleNamespace(name="f1", expression="sin(pi*x1)", width=[1, 1], grid=5, k=3)
    band = {"step": [0, 1], **{f"{w}_{p}": [nan, inf] for w in ("train", "test") for p in ("median", "min", "max")}}
    ratio = {"kan": "b", "relukan": "a", "kan_mse": inf, "relukan_mse": nan, "value": nan}
    fit_figures.plot_fit_curves(function, {"a": band, "b": band}, {}, looks, tmp_path / "c.png", same={"b": "a"}, ratio=ratio)
    fit_figures.plot_fit_overview([function], {("f1", "a"): band}, looks, {}, tmp_path / "o.png", ratios={"f1": ratio})
    rows = [PredictionRecord(function="f1", model="a", seed=0, index=0, x1=0.0, y_true=nan, y_pred=inf)]
    fit_figures.plot_fit_predictions(function, {"a": rows, "b": []}, looks, tmp_path / "p.png")
    runs = [RunRecord.blank(function="f1", model=m, seed=0, final_test_mse=inf, diverged=True) for m in looks]
    fit_figures.plot_fit_seeds([function], runs, looks, tmp_path / "d.png")
    forgetting_figures.plot_forgetting_heatmaps({"a": {"log10": [], "own": []}, "b": {"log10": [[nan]], "own": [nan]}}, looks, tmp_path / "h.png")
    forgetting_figures.plot_forgetting_curves({"a": {1: ([0, 1], [nan, inf])}}, looks, 1, tmp_path / "k.png")
    forgetting_figures.plot_forgetting_panels("A", [0.0, 1.0], [0.0, 1.0], 1, {0: {1: [nan, inf]}}, None, tmp_path / "n.png")
    for name in ("s", "c", "o", "p", "d", "h", "k", "n"):
        assert (tmp_path / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
