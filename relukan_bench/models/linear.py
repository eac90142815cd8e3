"""The `linear` floor: a KAN layer's contraction with a basis that costs nothing.

A ReLU-KAN layer spends its time in two parts: the basis, (B, in) -> (B, in, G+k), and the
contraction of that basis with an (out, in*(G+k)) weight. `LinearFloor(width, copies)` keeps
the second and makes the first as cheap as a basis can be: each layer repeats its input
`copies` times (`x.repeat(1, copies)`, a copy) and applies `nn.Linear(in * copies, out)`. With
copies = G + k its multiply-adds per sample, sum of in*(G+k)*out over the layers, are ReLU-KAN's,
so its step time is what a KAN layer of that shape would take if its basis were free: the
floor of a speed table.

It is a floor for time, not a model to fit: there is no activation between the layers, so the
whole stack is one affine map of its input (its repeated weights only sum), and its accuracy
means nothing. PyTorch's default initialisation.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn


class LinearFloor(nn.Module):
    """(B, width[0]) -> (B, width[-1]): per layer (in, out) of `width`, the input repeated
    `copies` times and an `nn.Linear(in * copies, out)`, nothing between the layers."""

    def __init__(self, width: Sequence[int], copies: int) -> None:
        super().__init__()
        width = list(width)
        if len(width) < 2 or any(w < 1 for w in width):
            raise ValueError(f"width needs at least 2 positive entries (got {width})")
        if copies < 1:
            raise ValueError(f"copies must be at least 1 (got {copies})")
        self.width, self.copies = width, copies
        self.layers = nn.ModuleList(nn.Linear(n_in * copies, n_out) for n_in, n_out in zip(width[:-1], width[1:]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, width[0]) -> (B, width[-1])."""
        for layer in self.layers:
            x = layer(x.repeat(1, self.copies))  # (B, in) -> (B, in * copies) -> (B, out)
        return x

    def extra_repr(self) -> str:
        return f"width={self.width}, copies={self.copies}"


def linear_floor_parameter_count(width: Sequence[int], copies: int) -> int:
    """Trainable parameters of `LinearFloor(width, copies)`, without building it: per layer
    an (out, in * copies) weight and an out bias."""
    return sum(n_in * copies * n_out + n_out for n_in, n_out in zip(list(width)[:-1], list(width)[1:]))
