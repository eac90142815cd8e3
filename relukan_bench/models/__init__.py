"""The models under comparison: plain `nn.Module`s that know nothing of configs or
experiments. `relukan_bench.kinds` turns a config entry into one of them."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torch import nn


def count_parameters(model: "nn.Module") -> int:
    """Trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
