"""A plain MLP, the control every KAN is measured against.

`MLP([n_in, h, ..., n_out])` is Linear layers with an activation between them, PyTorch's
default initialisation. When a config gives no hidden widths, `matched_hidden` chooses them
so that the MLP has as many trainable parameters as the paper's ReLU-KAN of the same width,
grid and k (trainable s and e, the paper's setting):

- as many hidden layers as the KAN has (len(width) - 2), but at least one (a KAN [1, 1]
  is a sum of univariate functions; an MLP without a hidden layer is a straight line);
- all hidden layers equally wide, h;
- h is the width whose parameter count is closest to the ReLU-KAN's (the smaller on a tie).

For [1, 1], G = 25, k = 1 that is h = 26: 3h + 1 = 79 parameters, the ReLU-KAN's 79.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

ACTIVATIONS = {"relu": nn.ReLU, "silu": nn.SiLU, "tanh": nn.Tanh}


class MLP(nn.Module):
    """(B, sizes[0]) -> (B, sizes[-1]): Linear, activation, ..., Linear."""

    def __init__(self, sizes: Sequence[int], activation: str = "relu") -> None:
        super().__init__()
        sizes = list(sizes)
        if len(sizes) < 2 or any(s < 1 for s in sizes):
            raise ValueError(f"sizes needs at least 2 positive entries (got {sizes})")
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r} (expected one of {', '.join(ACTIVATIONS)})")
        self.sizes, self.activation = sizes, activation
        layers: list[nn.Module] = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            if i:
                layers.append(ACTIVATIONS[activation]())
            layers.append(nn.Linear(n_in, n_out))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, sizes[0]) -> (B, sizes[-1])."""
        return self.net(x)


def mlp_parameter_count(sizes: Sequence[int]) -> int:
    """Weights and biases of an MLP with these layer sizes."""
    return sum(n_in * n_out + n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))


def matched_hidden(width: Sequence[int], target: int) -> list[int]:
    """Hidden widths [h] * max(1, len(width) - 2) whose MLP parameter count is closest to
    `target` (the smaller h on a tie)."""
    layers = max(1, len(width) - 2)

    def count(h: int) -> int:
        return mlp_parameter_count([width[0], *[h] * layers, width[-1]])

    h = 1
    while count(h + 1) <= target:  # count grows with h: stop at the last h not above target
        h += 1
    if abs(count(h + 1) - target) < abs(count(h) - target):
        h += 1
    return [h] * layers
