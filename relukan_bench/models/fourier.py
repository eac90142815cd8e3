"""A Fourier KAN: the layer of GistNoesis's FourierKAN (github.com/GistNoesis/FourierKAN,
`NaiveFourierKANLayer`), written here from its definition.

One layer, n_in -> n_out, M frequencies: every edge is a truncated Fourier series without its
constant term, the constants gathered in one bias per output,

    y_o = sum_i sum_{m=1..M} (a[o, i, m] cos(m x_i) + b[o, i, m] sin(m x_i))  +  bias_o.

a and b are drawn together, (2, n_out, n_in, M) standard normals divided by sqrt(n_in) sqrt(M)
(with `smooth_initialization`, by sqrt(n_in) m^2 instead, the original's option that damps high
frequencies); the bias starts at zero (`bias=False`: none, the original's addbias). The cosines
and sines of every input are computed once, for all its edges, and summed over inputs and
frequencies by one matmul.
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import nn


def fourier_basis(x: torch.Tensor, frequencies: torch.Tensor) -> torch.Tensor:
    """(..., n_in) -> (..., n_in, 2, M): cos(m x_i) then sin(m x_i) for m in `frequencies`."""
    mx = x.unsqueeze(-1) * frequencies
    return torch.stack((torch.cos(mx), torch.sin(mx)), dim=-2)


class FourierKANLayer(nn.Module):
    """(B, n_in) -> (B, n_out): FourierKAN's layer (module docstring); `coef[0]` is a, `coef[1]` b."""

    freqs: torch.Tensor  # a buffer

    def __init__(self, n_in: int, n_out: int, frequencies: int, bias: bool = True, smooth_initialization: bool = False) -> None:
        super().__init__()
        if n_in < 1 or n_out < 1 or frequencies < 1:
            raise ValueError(f"expected n_in, n_out, frequencies >= 1 (got {n_in}, {n_out}, {frequencies})")
        self.n_in, self.n_out, self.frequencies = n_in, n_out, frequencies
        self.register_buffer("freqs", torch.arange(1, frequencies + 1, dtype=torch.get_default_dtype()))
        norm = self.freqs.square() if smooth_initialization else math.sqrt(frequencies)
        self.coef = nn.Parameter(torch.randn(2, n_out, n_in, frequencies) / (math.sqrt(n_in) * norm))
        self.bias = nn.Parameter(torch.zeros(n_out)) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, n_in) -> (B, n_out)."""
        basis = fourier_basis(x, self.freqs).flatten(-3)  # (B, n_in * 2 * M): input, cos/sin, frequency
        y = basis @ self.coef.permute(2, 0, 3, 1).reshape(-1, self.n_out)
        return y + self.bias if self.bias is not None else y

    def extra_repr(self) -> str:
        return f"{self.n_in}, {self.n_out}, frequencies={self.frequencies}, bias={self.bias is not None}"


class FourierKAN(nn.Module):
    """(B, width[0]) -> (B, width[-1]): a stack of `FourierKANLayer`s.

    Args:
        width: layer widths, e.g. [2, 5, 1].
        frequencies: M, the highest frequency (FourierKAN's gridsize; the benchmark gives
            max(1, (G + k) // 2): 2M <= G + k coefficients per edge).
        bias: one bias per output (the original's addbias, on by default).
        smooth_initialization: coefficients divided by m^2 rather than sqrt(M) at the start.
    """

    def __init__(self, width: Sequence[int], frequencies: int, bias: bool = True, smooth_initialization: bool = False) -> None:
        super().__init__()
        self.width = list(width)
        if len(self.width) < 2:
            raise ValueError(f"width needs at least 2 entries (got {self.width})")
        self.layers = nn.ModuleList(FourierKANLayer(n_in, n_out, frequencies, bias, smooth_initialization)
                                    for n_in, n_out in zip(self.width[:-1], self.width[1:]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x)
        return x
