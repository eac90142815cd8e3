"""What the tests of each model kind share: a small speed config naming the kind, and a short
real training run through the experiments' common step."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import yaml

from relukan_bench.config import TrainSpec
from relukan_bench.experiments.forgetting.config import NetworkSpec
from relukan_bench.kinds import build_model
from relukan_bench.training import make_step


def speed_config(tmp_path: Path, *models: dict[str, Any]) -> Path:
    """A speed config file with a ReLU-KAN and `models`, on one small function."""
    data = {"experiment": "speed", "baseline": "relukan", "train": {"steps": 5},
            "models": [{"name": "relukan", "kind": "relukan"}, *models],
            "functions": [{"name": "f2", "expression": "x1*x2", "width": [2, 1], "grid": 5, "k": 3}]}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def f4_losses(spec: Any, steps: int) -> torch.Tensor:
    """The losses of `steps` Adam steps (lr 1e-2) of the entry's model on 300 samples of f4,
    width [2, 5, 1], grid 5, k 3."""
    x = torch.rand(300, 2, generator=torch.Generator().manual_seed(0))
    y = torch.exp(torch.sin(torch.pi * x[:, :1]) + x[:, 1:] ** 2)
    model = build_model(spec, NetworkSpec(width=[2, 5, 1], grid=5, k=3), (0.0, 1.0), 0)
    step = make_step(model, TrainSpec(lr=1e-2), x, y)
    return torch.stack([step() for _ in range(steps)])
