"""Terminal tables: rendered to text at a fixed width and read back."""

import math

from rich.console import Console

from relukan_bench.config import FitConfig
from relukan_bench.render import fit_table


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
        {"function": "f3", "model": "relukan", "final_test_mse": 1.04e-4, "final_test_mse_min": 8.1e-5,
         "final_test_mse_max": 1.8e-4, "n_seeds": 3, "diverged": 0},
        {"function": "f3", "model": "kan", "final_test_mse": 1.04e-5, "final_test_mse_min": 2.5e-6,
         "final_test_mse_max": math.inf, "n_seeds": 3, "diverged": 1},
    ]
    table = [{"function": "f3", "relukan_test_mse": 1.04e-4, "kan_test_mse": 1.04e-5, "relukan_gain": 0.1,
              "paper_gain": 0.5986, "paper_gain_as_plotted": 125.98, "paper_note": "paper's ReLU-KAN ran x1**2 + x1 + 1"}]
    text = _text(fit_table(summary, table, config))
    assert "Final test MSE after 5000 steps" in text
    assert "1.04e-04" in text and "8.1e-05-1.8e-04" in text
    assert "1.04e-05" in text and "2.5e-06-inf" in text and "1 diverged" in text
    assert "1/10x" in text and "1/1.67x*" in text and "126x*" in text  # below 1: 1/N x, N times worse


def test_forgetting_table_shows_medians_ranges_fractions_and_divergence():
    from relukan_bench.experiments.forgetting import summary_table
    from relukan_bench.tables import to_markdown, to_rich

    row = {"model": "relukan", "params": 79, "n_seeds": 3, "diverged": 0, "learned_mse": 4.12e-3, "final_mse": 4.75e-3,
           "forgetting": 2.59e-3, "forgetting_min": -5.1e-3, "forgetting_max": 4.6e-2, "max_forgetting": 7.53e-3,
           "forgotten_fraction": 0.021, "forgotten_fraction_min": 0.0033, "forgotten_fraction_max": 0.35}
    diverged = {**row, "model": "mlp", "diverged": 1, "forgetting": math.inf, "forgetting_max": math.inf,
                "forgotten_fraction": math.inf, "forgotten_fraction_max": math.inf}
    table = summary_table([row, diverged], 0.176, 5, 250, 0.001, {"relukan": "ReLU-KAN", "mlp": "MLP"})
    for text in (_text(to_rich(table)), to_markdown(table)):  # one table, two renderings
        assert "Sequential learning of 5 segments, 250 steps each" in _text(to_rich(table))
        assert "Predicting 0 on a segment gives MSE 0.176" in _text(to_rich(table))
        assert "ReLU-KAN" in text and "MLP" in text
        assert "2.59e-03" in text and "-5.10e-03 to 4.60e-02" in text and "2%" in text and "0% to 35%" in text
        assert "-5.10e-03 to diverged" in text and "1 diverged" in text and "79" in text
