"""Terminal tables: rendered to text at a fixed width and read back."""

import io
import math
import re

from rich.console import Console

from relukan_bench.experiments.fit.config import FitConfig
from relukan_bench.experiments.fit.records import SummaryRecord
from relukan_bench.experiments.fit.tables import fit_table
from relukan_bench.experiments.speed.records import DecompositionRecord
from relukan_bench.experiments.speed.records import SummaryRecord as SpeedSummaryRecord
from relukan_bench.experiments.speed.tables import decomposition_table, inference_table, speed_table


def _text(table) -> str:
    console = Console(width=160, record=True, color_system=None)
    console.print(table)
    return console.export_text()


def test_fit_table_shows_medians_ranges_divergence_and_the_paper():
    config = FitConfig.model_validate({
        "baseline": "kan", "train": {"steps": 5000},
        "models": [{"name": "relukan", "kind": "relukan"}, {"name": "kan", "kind": "kan"}],
        "functions": [{"name": "f3", "expression": "exp(x1)", "width": [1, 1], "grid": 5, "k": 3}],
    })
    summary = [
        SummaryRecord.blank(function="f3", model="relukan", final_test_mse=1.04e-4, final_test_mse_min=8.1e-5,
                            final_test_mse_max=1.8e-4, n_seeds=3, diverged=0),
        SummaryRecord.blank(function="f3", model="kan", final_test_mse=1.04e-5, final_test_mse_min=2.5e-6,
                            final_test_mse_max=math.inf, n_seeds=3, diverged=1),
    ]
    table = [{"function": "f3", "relukan_test_mse": 1.04e-4, "kan_test_mse": 1.04e-5, "relukan_gain": 0.1,
              "paper_gain": 0.5986, "paper_gain_as_plotted": 125.98, "paper_note": "paper's ReLU-KAN ran x1**2 + x1 + 1"}]
    text = _text(fit_table(summary, table, config))
    assert "Final test MSE after 5000 steps" in text
    assert "1.04e-04" in text and "8.1e-05-1.8e-04" in text
    assert "1.04e-05" in text and "2.5e-06-inf" in text and "1 diverged" in text
    assert "1/10x" in text and "1/1.67x*" in text and "126x*" in text  # below 1: 1/N x, N times worse


def test_forgetting_table_shows_medians_ranges_fractions_and_divergence():
    from relukan_bench.experiments.forgetting.records import SummaryRecord as ForgettingSummary
    from relukan_bench.experiments.forgetting.tables import summary_table
    from relukan_bench.tables import to_markdown, to_rich

    row = {"model": "relukan", "params": 79, "n_seeds": 3, "diverged": 0, "learned_mse": 4.12e-3, "final_mse": 4.75e-3,
           "forgetting": 2.59e-3, "forgetting_min": -5.1e-3, "forgetting_max": 4.6e-2, "max_forgetting": 7.53e-3,
           "forgotten_fraction": 0.021, "forgotten_fraction_min": 0.0033, "forgotten_fraction_max": 0.35}
    diverged = {**row, "model": "mlp", "diverged": 1, "forgetting": math.inf, "forgetting_max": math.inf,
                "forgotten_fraction": math.inf, "forgotten_fraction_max": math.inf}
    table = summary_table([ForgettingSummary.blank(**row), ForgettingSummary.blank(**diverged)], 0.176, 5, 250, 0.001,
                          {"relukan": "ReLU-KAN", "mlp": "MLP"})
    for text in (_text(to_rich(table)), to_markdown(table)):  # one table, two renderings
        assert "Sequential learning of 5 segments, 250 steps each" in _text(to_rich(table))
        assert "Predicting 0 on a segment gives MSE 0.176" in _text(to_rich(table))
        assert "ReLU-KAN" in text and "MLP" in text
        assert "2.59e-03" in text and "-5.10e-03 to 4.60e-02" in text and "2%" in text and "0% to 35%" in text
        assert "-5.10e-03 to diverged" in text and "1 diverged" in text and "79" in text


# Many models and functions in 80 columns (a log): every name whole, no line wider than the console.
MODELS = ["relukan", "relukan-fast", "relukan-conv", "relukan-compiled", "kan", "kan-0.2.8-compile", "kan-pykan-fit",
          "bspline", "bspline-compiled", "bspline-captured", "rbf", "rbf-matched", "chebyshev", "chebyshev-matched",
          "fourier", "inkan", "flashkan", "linear-floor", "mlp", "mlp-matched"]
FUNCTIONS = [f"{axis}{size}-b{batch}" for axis in ("L", "N") for size in (10, 100, 1000) for batch in (100, 1000)]


def _narrow(renderable) -> list[str]:
    """The lines of `renderable` printed in a log 80 columns wide; none is wider."""
    console = Console(width=80, record=True, file=io.StringIO(), color_system=None)
    console.print(renderable)
    lines = console.export_text().splitlines()
    assert lines and all(len(line) <= 80 for line in lines), "\n".join(line for line in lines if len(line) > 80)
    return lines


def _names_whole(lines: list[str], names: list[str]) -> None:
    """Every name appears as a whole cell (between borders), not only as part of a longer one."""
    cells = {cell.strip() for line in lines for cell in re.split("[│┃]", line)}
    missing = [name for name in names if name not in cells]
    assert not missing, missing


def _speed_summary(inference: bool) -> list[SpeedSummaryRecord]:
    rows = []
    for f_index, function in enumerate(FUNCTIONS):
        for m_index, model in enumerate(MODELS):
            slow = model == "kan-0.2.8-compile" and function.startswith("L1000")
            ms = 0.1 * (1 + m_index) * (1 + f_index)
            row = {"function": function, "model": model, "device": "cpu", "n": 0 if slow else 7, "failed": 0,
                   "ms_per_step": math.nan if slow else ms, "iqr_rel": math.nan if slow else 0.04,
                   "speedup": math.nan if slow else 0.1 * (5 + m_index) * 1.001}
            if inference:
                median = math.nan if slow else ms / 3
                row.update(infer_ms=median, infer_q1_ms=median * 0.98, infer_q3_ms=median * 1.03, macs=1200 * m_index,
                           params=79 + m_index, effort="eager", samples=1000,
                           too_slow="too slow to time: one step estimated at 31.2 s (limit 10 s; measured at batch 100)"
                           if slow else None)
            rows.append(SpeedSummaryRecord.blank(**row))
    return rows


def test_speed_tables_with_many_models_and_functions_fit_80_columns_with_every_name_whole():
    lines = _narrow(speed_table(_speed_summary(True), "kan", {}, 5))
    _names_whole(lines, MODELS + FUNCTIONS + ["paper speedup"])
    headers = [line for line in lines if "┃ device" in line]
    assert len(headers) > 1  # split into parts, the row labels repeated in each
    assert all(line.count("kan-0.2.8-compile") == 1 for line in lines if "kan-0.2.8-compile" in line)
    assert any("too slow" in line for line in lines)  # the unit not timed says so instead of an empty cell
    assert "ms per training step over 5 steps" in " ".join(" ".join(lines).split())

    inference = inference_table(_speed_summary(True), "kan")
    lines = _narrow(inference)
    _names_whole(lines, MODELS + FUNCTIONS)
    text = " ".join(" ".join(lines).split())
    assert "ms per forward call" in text and "speedup over kan" in text
    relukan = next(line for line in lines if "│ relukan " in line)  # 0.1 ms / 3 against kan's 0.5 ms / 3: 5x
    assert "0.0333 (5%)" in relukan
    assert any("5.00x" in line for line in lines)


def test_the_inference_table_appears_only_where_rows_have_a_forward_latency():
    older = _speed_summary(False)  # rows from before the columns
    assert inference_table(older, "kan") is None
    lines = _narrow(speed_table(older, "kan", {("L10-b100", "cpu"): 5.0}, 5))
    _names_whole(lines, MODELS + FUNCTIONS)
    assert not any("too slow" in line for line in lines) and any("5.00x" in line for line in lines)
    assert inference_table(_speed_summary(True), "kan") is not None


def test_fit_table_with_many_models_and_functions_fits_80_columns_with_every_name_whole():
    functions = FUNCTIONS[:5] + ["f1", "f2", "f3", "f4", "f5"]
    config = FitConfig.model_validate({
        "baseline": "kan", "train": {"steps": 5000},
        "models": [{"name": name, "kind": "relukan" if "relukan" in name else "kan"} for name in MODELS],
        "functions": [{"name": name, "expression": "exp(x1)", "width": [1, 1], "grid": 5, "k": 3} for name in functions],
    })
    summary = [SummaryRecord.blank(function=function, model=model, final_test_mse=1.04e-4 * (1 + i), final_test_mse_min=8.1e-5,
                                   final_test_mse_max=math.inf if model == "mlp" else 1.8e-4, n_seeds=3,
                                   diverged=int(model == "mlp"))
               for function in functions for i, model in enumerate(MODELS)]
    table = [{"function": function, **{f"{model}_test_mse": 1.04e-4 for model in MODELS},
              **{f"{model}_gain": 0.1 for model in MODELS if model != "kan"},
              "paper_gain": 0.5986, "paper_gain_as_plotted": 125.98, "paper_note": "x1**2 + x1 + 1" if function == "f3" else ""}
             for function in functions]
    lines = _narrow(fit_table(summary, table, config))
    _names_whole(lines, MODELS + functions + ["paper gain", "paper as plotted"])
    text = " ".join(" ".join(lines).split())
    assert "Final test MSE after 5000 steps" in text
    assert "8.1e-05-1.8e-04" in text and "8.1e-05-inf" in text and "1 diverged" in text
    assert "1/10x" in text and "1/1.67x*" in text and "126x*" in text and "126x " in text


def test_the_decomposition_table_fits_80_columns():
    split = [DecompositionRecord(function=function, device="cpu", relukan=relukan, kan="kan-0.2.8-compile",
                                 bspline="bspline-compiled", equal_effort=True, total=14.79, total_low=14.0,
                                 total_high=15.5, implementation=1.1, implementation_low=1.0, implementation_high=1.2,
                                 basis=13.44, basis_low=13.0, basis_high=14.0, implementation_share=0.04)
             for function in FUNCTIONS for relukan in ("relukan", "relukan-fast")]
    lines = _narrow(decomposition_table(split))
    _names_whole(lines, FUNCTIONS + ["relukan", "relukan-fast", "total", "implementation", "basis"])
    assert any("[14.00x-15.50x]" in line for line in lines) and any("4%" in line for line in lines)


def test_the_time_to_1e_4_table_gives_time_and_steps_or_not_reached_with_the_seeds():
    from relukan_bench.experiments.fit.tables import target_table

    config = FitConfig.model_validate({
        "train": {"log_every": 10},
        "models": [{"name": "relukan", "kind": "relukan"}, {"name": "kan", "kind": "kan"}],
        "functions": [{"name": "f1", "expression": "sin(pi*x1)", "width": [1, 1], "grid": 5, "k": 3}],
    })
    summary = [
        SummaryRecord.blank(function="f1", model="relukan", n_seeds=3, time_e4=12.34, steps_e4=450.0, reached_e4=3,
                            step_source="this run"),
        SummaryRecord.blank(function="f1", model="kan", n_seeds=3, time_e4=math.inf, steps_e4=math.inf, reached_e4=1,
                            step_source="this run"),
    ]
    text = _text(target_table(summary, config))
    words = " ".join(text.split())  # the title and caption wrap to the table's width
    assert "Time to validation MSE 1e-4" in words and "logged every 10; step times from this run" in words
    relukan, kan = (line for line in text.splitlines() if line.startswith(("│ relukan", "│ kan")))
    assert "12.3 s" in relukan and "not reached" in kan
    assert "450 steps" in text and "1/3 seeds" in text
    older = SummaryRecord.blank(function="f1", model="kan", n_seeds=3, time_e4=None)  # a summary from before the column
    assert target_table([older], config) is None


def test_a_report_style_table_fits_80_columns_with_every_name_whole():
    """A REPORT.md table (speed peers' per-shape layout: long headers, bracketed ranges) printed in
    a log: split into parts with the model repeated, and the same table as markdown."""
    from relukan_bench.tables import Cell, Column, Table

    names = ["params", "MACs/sample", "effort", "train ms/step (IQR)", "x ReLU-KAN", "x floor", "infer ms",
             "peak MiB train/infer"]
    table = Table("", "", [Column("model", "left")], [Column(name) for name in names])
    for index, model in enumerate(MODELS[:11]):
        table.add_row([f"`{model}`", str(79 + index), "1.2k", "eager", Cell("12.5 (6%)", note="1 failed"),
                       Cell("2.1x", "1.9x to 2.3x", style="bold"), "3.4x [3.1x to 3.9x]", "0.042", "1.2/0.8"])
    lines = _narrow(table)
    _names_whole(lines, [f"`{model}`" for model in MODELS[:11]] + names)
    assert len([line for line in lines if "┃ model" in line]) > 1
    markdown = table.to_markdown().splitlines()
    assert markdown[1] == "|---|" + "---:|" * len(names)
    assert markdown[2].startswith("| `relukan` | 79 | 1.2k | eager | 12.5 (6%) (1 failed) | **2.1x** [1.9x to 2.3x] |")


def test_the_forgetting_table_with_many_models_fits_80_columns_with_every_name_whole():
    from relukan_bench.experiments.forgetting.records import SummaryRecord as ForgettingSummary
    from relukan_bench.experiments.forgetting.tables import summary_table

    rows = [ForgettingSummary.blank(
        model=model, params=79 + index, n_seeds=3, diverged=int(model == "mlp"), learned_mse=4.12e-3, final_mse=4.75e-3,
        forgetting=2.59e-3, forgetting_min=-5.1e-3, forgetting_max=4.6e-2, max_forgetting=7.53e-3, forgotten_fraction=0.021,
        forgotten_fraction_min=0.0033, forgotten_fraction_max=0.35) for index, model in enumerate(MODELS[:11])]
    kinds = {model: "ReLU-KAN" if "relukan" in model else "KAN" for model in MODELS[:11]}
    lines = _narrow(summary_table(rows, 0.176, 5, 250, 0.001, kinds))
    _names_whole(lines, MODELS[:11] + ["ReLU-KAN", "KAN", "params", "[seed range]"])
    assert len([line for line in lines if "┃ model" in line]) > 1  # split, the model and kind in each part
    assert any("-5.10e-03 to 4.60e-02" in line for line in lines) and any("0% to 35%" in line for line in lines)
