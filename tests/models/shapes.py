"""The network shapes of every function the shipped configs train, for model tests."""

from pathlib import Path

import pytest

from relukan_bench.config import load_config
from relukan_bench.experiments.fit.config import FitConfig
from relukan_bench.experiments.forgetting.config import ForgettingConfig
from relukan_bench.experiments.speed.config import SpeedConfig

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def paper_shapes():
    """pytest params (width, grid, k, domain), one per distinct shape, labelled by where it is
    first trained."""
    shapes = {}
    for name, schema in (("speed.yaml", SpeedConfig), ("fit.yaml", FitConfig), ("fit-as-run.yaml", FitConfig)):
        config = load_config(CONFIGS / name, [], schema)
        for f in config.functions:
            shapes.setdefault((tuple(f.width), f.grid, f.k, tuple(config.data.domain)), f"{name[:-5]}:{f.name}")
    forgetting = load_config(CONFIGS / "forgetting.yaml", [], ForgettingConfig)
    net = forgetting.network
    shapes.setdefault((tuple(net.width), net.grid, net.k, tuple(forgetting.data.domain)), "forgetting")
    return [pytest.param(list(w), g, k, d, id=label) for (w, g, k, d), label in shapes.items()]
