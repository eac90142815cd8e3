"""A Chebyshev KAN: ChebyKAN's layer (github.com/SynodicMonth/ChebyKAN), written here from its
definition.

One layer, n_in -> n_out, degree d: every input is squashed into [-1, 1] by tanh and every edge
is a combination of the Chebyshev polynomials T_0 .. T_d of it,

    t_i = tanh(x_i),    y_o = sum_i sum_{n=0..d} c[i, o, n] T_n(t_i),    T_n(cos u) = cos(n u),

with no base branch and no bias; c starts normal with mean 0 and std 1 / (n_in (d + 1)).

The polynomials are computed by the three-term recurrence T_0 = 1, T_1 = t,
T_{n+1} = 2 t T_n - T_{n-1} (d - 1 tensor operations over all the inputs at once), not as
cos(n acos t), ChebyKAN's own method: acos's derivative is infinite at |t| = 1, which tanh
reaches in float32 for |x| above about 9 (a NaN gradient there), while the recurrence is
polynomial in t and stable on [-1, 1] (every |T_n| <= 1). The sum over inputs and polynomials
is one matmul.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn


def chebyshev_basis(t: torch.Tensor, degree: int) -> torch.Tensor:
    """(..., n_in) -> (..., n_in, degree + 1): T_0(t) .. T_degree(t) by the recurrence."""
    polys = [torch.ones_like(t), t]
    for _ in range(2, degree + 1):
        polys.append(2 * t * polys[-1] - polys[-2])
    return torch.stack(polys[:degree + 1], dim=-1)


class ChebyshevKANLayer(nn.Module):
    """(B, n_in) -> (B, n_out): ChebyKAN's layer (module docstring)."""

    def __init__(self, n_in: int, n_out: int, degree: int) -> None:
        super().__init__()
        if n_in < 1 or n_out < 1 or degree < 0:
            raise ValueError(f"expected n_in, n_out >= 1 and degree >= 0 (got {n_in}, {n_out}, {degree})")
        self.n_in, self.n_out, self.degree = n_in, n_out, degree
        self.coef = nn.Parameter(torch.empty(n_in, n_out, degree + 1))
        nn.init.normal_(self.coef, mean=0.0, std=1 / (n_in * (degree + 1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, n_in) -> (B, n_out)."""
        basis = chebyshev_basis(torch.tanh(x), self.degree).flatten(-2)  # (B, n_in * (d + 1)), input-major
        return basis @ self.coef.transpose(1, 2).reshape(-1, self.n_out)

    def extra_repr(self) -> str:
        return f"{self.n_in}, {self.n_out}, degree={self.degree}"


class ChebyshevKAN(nn.Module):
    """(B, width[0]) -> (B, width[-1]): a stack of `ChebyshevKANLayer`s.

    Args:
        width: layer widths, e.g. [2, 5, 1].
        degree: d, the highest polynomial degree (the benchmark gives G + k - 1: G + k
            coefficients per edge).
    """

    def __init__(self, width: Sequence[int], degree: int) -> None:
        super().__init__()
        self.width = list(width)
        if len(self.width) < 2:
            raise ValueError(f"width needs at least 2 entries (got {self.width})")
        self.degree = degree
        self.layers = nn.ModuleList(ChebyshevKANLayer(n_in, n_out, degree) for n_in, n_out in zip(self.width[:-1], self.width[1:]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x)
        return x
