"""A Gaussian-RBF KAN: FastKAN's layer (Li 2024, github.com/ZiyaoLi/fast-kan), written here
from its definition.

One layer, n_in -> n_out, with `num_grids` = n centres c_0 < ... < c_{n-1} spread uniformly
over [grid_min, grid_max] (FastKAN's defaults -2 and 2) and width h = (grid_max - grid_min) / (n - 1):

    z = LayerNorm(x)                               (FastKAN's default; optional)
    phi_j(z_i) = exp(-((z_i - c_j) / h)^2)
    y = phi(z).reshape(B, n_in * n) @ W^T  +  Linear(silu(x))

W (n_out, n_in * n) has no bias and starts truncated-normal with std `init_scale` (0.1), cut at
-2 and 2 (torch's default bounds, absolute: at std 0.1 in effect untruncated); the base branch
`Linear(n_in, n_out)` (with bias, PyTorch's default initialisation) sees the raw input, the
LayerNorm only the RBF branch. The grid is fixed. A seeded layer draws its random numbers in
FastKAN's order (W, then the base weight and bias).

With a single input (n_in = 1) the LayerNorm maps every x to its bias, so the RBF branch is a
constant: FastKAN's own layer refuses that case (it asserts n_in > 1 and asks for
use_layernorm=False); we keep the definition and let it compute what it defines.
With n = 1 (G + k = 1 in the benchmark's mapping) FastKAN's width divides by zero; ours takes
h = grid_max - grid_min there.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn
from torch.nn import functional as F


def rbf_basis(z: torch.Tensor, centres: torch.Tensor, h: float) -> torch.Tensor:
    """(..., n_in) -> (..., n_in, n): the Gaussian of every centre at every input."""
    return torch.exp(-((z.unsqueeze(-1) - centres) / h).square())


class RBFKANLayer(nn.Module):
    """(B, n_in) -> (B, n_out): FastKAN's layer (module docstring)."""

    centres: torch.Tensor  # a buffer

    def __init__(self, n_in: int, n_out: int, num_grids: int = 8, grid_range: tuple[float, float] = (-2.0, 2.0),
                 layernorm: bool = True, use_base_update: bool = True, init_scale: float = 0.1) -> None:
        super().__init__()
        if n_in < 1 or n_out < 1 or num_grids < 1:
            raise ValueError(f"expected n_in, n_out, num_grids >= 1 (got {n_in}, {n_out}, {num_grids})")
        if not grid_range[0] < grid_range[1]:
            raise ValueError(f"expected grid_range low < high (got {list(grid_range)})")
        if not init_scale > 0:
            raise ValueError(f"expected init_scale > 0 (got {init_scale})")
        self.n_in, self.n_out, self.num_grids = n_in, n_out, num_grids
        self.grid_range = (float(grid_range[0]), float(grid_range[1]))
        lo, hi = self.grid_range
        self.h = (hi - lo) / (num_grids - 1) if num_grids > 1 else hi - lo
        self.layernorm = nn.LayerNorm(n_in) if layernorm else None
        self.register_buffer("centres", torch.linspace(lo, hi, num_grids))
        self.spline_weight = nn.Parameter(torch.empty(n_out, n_in * num_grids))
        nn.init.trunc_normal_(self.spline_weight, mean=0.0, std=init_scale)  # torch's cut at -2, 2, as FastKAN's
        self.base = nn.Linear(n_in, n_out) if use_base_update else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, n_in) -> (B, n_out)."""
        z = self.layernorm(x) if self.layernorm is not None else x
        y = rbf_basis(z, self.centres, self.h).flatten(-2) @ self.spline_weight.T
        return y + self.base(F.silu(x)) if self.base is not None else y

    def extra_repr(self) -> str:
        return (f"{self.n_in}, {self.n_out}, num_grids={self.num_grids}, grid_range={list(self.grid_range)}, "
                f"layernorm={self.layernorm is not None}, use_base_update={self.base is not None}")


class RBFKAN(nn.Module):
    """(B, width[0]) -> (B, width[-1]): a stack of `RBFKANLayer`s (FastKAN's `FastKAN`).

    Args:
        width: layer widths, e.g. [2, 5, 1].
        num_grids: RBF centres per input (8 in FastKAN; the benchmark gives G + k).
        grid_range: (grid_min, grid_max) the centres span; FastKAN's (-2, 2).
        layernorm: a LayerNorm over each layer's inputs before the RBFs (FastKAN's default).
        use_base_update: the Linear(silu(x)) branch (FastKAN's default).
        init_scale: std of the RBF weights' truncated normal (FastKAN's 0.1).
    """

    def __init__(self, width: Sequence[int], num_grids: int = 8, grid_range: tuple[float, float] = (-2.0, 2.0),
                 layernorm: bool = True, use_base_update: bool = True, init_scale: float = 0.1) -> None:
        super().__init__()
        self.width = list(width)
        if len(self.width) < 2:
            raise ValueError(f"width needs at least 2 entries (got {self.width})")
        self.layers = nn.ModuleList(
            RBFKANLayer(n_in, n_out, num_grids, grid_range, layernorm, use_base_update, init_scale)
            for n_in, n_out in zip(self.width[:-1], self.width[1:])
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x)
        return x
