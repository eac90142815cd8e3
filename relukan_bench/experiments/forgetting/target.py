"""The forgetting experiment's target: `segments` Gaussian bumps side by side, one per segment
of evenly spaced points, and the MSE on a segment of a model that predicts 0 there."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

    from relukan_bench.experiments.forgetting.config import ForgettingDataSpec


def target(data: ForgettingDataSpec) -> tuple["torch.Tensor", "torch.Tensor"]:
    """x (points, 1) and y (points, 1), float32: x_j = low + (high - low) j / points; in each
    segment x is rescaled to u in [-1, 1] (by the segment's own min and max, as the paper's
    code does) and y = exp(-(sigma u)^2 / 2) / (sigma sqrt(2 pi)) / scale."""
    import torch

    low, high = data.domain
    x = low + (high - low) * torch.arange(data.points, dtype=torch.float64) / data.points
    pieces = x.view(data.segments, -1)  # (S, n)
    lo, hi = pieces.min(dim=1, keepdim=True).values, pieces.max(dim=1, keepdim=True).values
    u = 2 * (pieces - lo) / (hi - lo) - 1
    y = torch.exp(-((data.sigma * u) ** 2) / 2) / (data.sigma * math.sqrt(2 * math.pi)) / data.scale
    return x.float().unsqueeze(1), y.reshape(-1).float().unsqueeze(1)


def zero_mse(data: ForgettingDataSpec) -> float:
    """The MSE on one segment of a model that predicts 0 there (all segments are alike)."""
    _, y = target(data)
    return float((y.view(data.segments, -1)[0].double() ** 2).mean())
