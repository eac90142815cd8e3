"""Figures: what they draw, read back from matplotlib's own objects."""

import pytest

from relukan_bench import plots


def _row(function, model, median, device="cpu"):
    return {"function": function, "model": model, "device": device, "median_s": median, "q1_s": median * 0.9,
            "q3_s": median * 1.1, "speedup": 1.0}


def test_the_papers_speedups_are_markers_where_relukan_would_end(tmp_path):
    """A diamond at our baseline's median over the paper's speedup, on the paper's ReLU-KAN's
    bar of every function the paper measured (none where it did not, or without a baseline)."""
    pyplot = pytest.importorskip("matplotlib.pyplot")
    summary = [_row("f1", "kan", 8.0), _row("f1", "relukan", 2.0), _row("f2", "kan", 6.0), _row("f2", "relukan", 3.0),
               _row("g", "kan", 1.0), _row("g", "relukan", 1.0), _row("f1", "relukan", 1.0, device="cuda")]
    by_key = {(r["device"], r["function"], r["model"]): r for r in summary}
    figure, ax = pyplot.subplots()
    plots._paper_markers(ax, by_key, "cpu", ["f1", "f2", "g"], [0.2, 1.2, 2.2], "relukan", "kan",
                         {("f1", "cpu"): 4.0, ("f2", "cpu"): 2.0, ("f1", "gpu"): 20.0})
    (markers,) = ax.collections
    assert markers.get_offsets().tolist() == [[0.2, 2.0], [1.2, 3.0]]
    assert "paper's speedup" in markers.get_label()
    figure2, ax2 = pyplot.subplots()
    plots._paper_markers(ax2, by_key, "cuda", ["f1"], [0.2], "relukan", "kan", {("f1", "gpu"): 20.0})
    assert len(ax2.collections) == 0  # no kan row on that device: nothing to place a marker by
    pyplot.close(figure)
    pyplot.close(figure2)
    path = plots.plot_speed(summary, "kan", tmp_path / "speed.png", paper={("f1", "cpu"): 4.0}, relukan="relukan")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
