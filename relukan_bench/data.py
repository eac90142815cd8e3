"""Data sets: inputs uniform in [low, high)^n and the target function evaluated on them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from relukan_bench.config import FunctionSpec


def uniform_inputs(samples: int, n_inputs: int, domain: tuple[float, float], seed: int) -> torch.Tensor:
    """(samples, n_inputs) float32, uniform in [low, high), from a private generator."""
    generator = torch.Generator().manual_seed(seed)
    low, high = domain
    return low + (high - low) * torch.rand(samples, n_inputs, generator=generator)


def make_dataset(function: "FunctionSpec", samples: int, domain: tuple[float, float], seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """x of shape (samples, width[0]) and y = f(x) of shape (samples, 1), on the CPU; for a
    speed function whose expression is `random`, y standard normal of shape (samples, width[-1]).

    The global random state is not touched.
    """
    x = uniform_inputs(samples, function.width[0], domain, seed)
    if function.bare:  # a bare shape (speed only): standard-normal targets
        generator = torch.Generator().manual_seed(seed + 1)
        return x, torch.randn(samples, function.width[-1], generator=generator)
    y = function.target()(x.double()).float()  # evaluate in float64, store float32
    return x, y
