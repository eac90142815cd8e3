"""The original B-spline KAN (Liu et al. 2024) written as a few tensor operations per layer.

pykan is slow for reasons that have nothing to do with B-splines: per step it builds and
clones (batch, out, in) tensors for every layer, keeps a symbolic branch's bookkeeping, and
issues dozens of small operations per layer. `BSplineKAN` computes the same function as pykan's `KAN`
in speed mode, with the same parameters, and nothing else, so that timing it beside pykan shows
how much of pykan's cost is its implementation, and timing it beside ReLU-KAN how much is the
basis.

One layer, n_in -> n_out, grid G, order k, knots t_0 < ... < t_{G+2k} (the grid range cut into
G intervals and extended by k intervals on either side, as pykan does):

    y_j = sum_i  scale_base[i, j] * silu(x_i)  +  scale_sp[i, j] * sum_c coef[i, j, c] * B_c(x_i)

where B_0 .. B_{G+k-1} are the B-splines of order k on the knots (Cox-de Boor recursion,
order 0 the indicator of [t_c, t_{c+1})). The basis is evaluated once per input, for all the
input's edges at once, and the sum over inputs and basis functions is one matmul:

    y = silu(x) @ scale_base + basis(x).reshape(B, n_in * (G + k)) @ W,   W = coef * scale_sp

Parameters, initialisation and the order in which it draws random numbers are pykan 0.2.8's
(noise at the G + 1 grid points fitted by least squares, SVD driver; scale_base uniform in
+-1/sqrt(n_in); scale_sp 1/sqrt(n_in)), so a `BSplineKAN(width, G, k)` built after
`torch.manual_seed(s)` (as `build_model` does) starts from the parameters of
`PyKAN(width, G, k, seed=s)`, to float32 rounding of the least-squares fit. What pykan has and this does not: grid updates
(the grid is fixed and uniform), the symbolic branch, masks and node affines (in speed mode
pykan's are all identities; `copy_from_pykan` folds masks into the scales and refuses
anything else), pruning and plotting.
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Sequence, cast

import torch
from torch import nn
from torch.nn import functional as F


def uniform_knots(grid: int, k: int, grid_range: tuple[float, float], dtype: torch.dtype | None = None) -> torch.Tensor:
    """The G + 2k + 1 knots: [lo, hi] cut into G equal intervals, k more on either side; in
    `dtype`, by default torch's default dtype (as every tensor a model makes at construction)."""
    lo, hi = grid_range
    h = (hi - lo) / grid
    return lo + h * torch.arange(-k, grid + k + 1, dtype=dtype if dtype is not None else torch.get_default_dtype())


def scaled_basis_t(x_t: torch.Tensor, grid: int, k: int, grid_range: tuple[float, float]) -> torch.Tensor:
    """k! times every B-spline of order k on the uniform knots, feature-major: (n, B) inputs
    -> (G + k, n, B).

    Cox-de Boor on uniform knots t_c = t_0 + c h: with d_c = (x - t_c) / h,

        B_{c,0} = [0 <= d_c < 1],    p B_{c,p} = d_c B_{c,p-1} + (p + 1 - d_c) B_{c+1,p-1},

    so p! B_{c,p} = (p-1)! B_{c+1,p-1} (p + 1) + d_c ((p-1)! B_{c,p-1} - (p-1)! B_{c+1,p-1}):
    three tensor operations per order; the 1/k! is left to the caller (one multiplication of
    the small coefficient matrix instead of the basis). The basis index is the leading axis,
    so the shifted slices each order takes are contiguous blocks.
    """
    lo, hi = grid_range
    h = (hi - lo) / grid
    offsets = torch.arange(grid + 2 * k, dtype=x_t.dtype, device=x_t.device).view(-1, *[1] * x_t.dim())
    d = (x_t - lo) * (1.0 / h) + (k - offsets)  # d_c = (x - t_c) / h, t_c = lo + (c - k) h
    basis = ((d >= 0) & (d < 1)).to(x_t.dtype)
    for p in range(1, k + 1):
        below, above = basis[:-1], basis[1:]
        basis = torch.addcmul(above * (p + 1), d[: len(d) - p], below - above)
    return basis


def bspline_basis(x: torch.Tensor, grid: int, k: int, grid_range: tuple[float, float]) -> torch.Tensor:
    """(B, n) inputs -> (B, n, G + k): every B-spline of order k on the uniform grid (pykan's
    `B_batch` layout)."""
    return scaled_basis_t(x.T, grid, k, grid_range).permute(2, 1, 0) / math.factorial(k)


class BSplineKANLayer(nn.Module):
    """(B, n_in) -> (B, n_out): SiLU base branch plus a B-spline of order k on every edge."""

    knots: torch.Tensor  # a buffer

    def __init__(self, n_in: int, n_out: int, grid: int, k: int, grid_range: tuple[float, float] = (0.0, 1.0),
                 noise_scale: float = 0.3) -> None:
        super().__init__()
        if n_in < 1 or n_out < 1 or grid < 1 or k < 0:
            raise ValueError(f"expected n_in, n_out, grid >= 1 and k >= 0 (got {n_in}, {n_out}, {grid}, {k})")
        if not grid_range[0] < grid_range[1]:
            raise ValueError(f"expected grid_range low < high (got {list(grid_range)})")
        self.n_in, self.n_out, self.grid, self.k = n_in, n_out, grid, k
        self.grid_range = (float(grid_range[0]), float(grid_range[1]))
        self.register_buffer("knots", uniform_knots(grid, k, self.grid_range))
        # pykan's initialisation, drawing its random numbers in its order: noise at the grid
        # points, its least-squares coefficients, then scale_base
        points = self.knots[k:len(self.knots) - k]  # the G + 1 grid points
        noise = (torch.rand(grid + 1, n_in, n_out) - 0.5) * noise_scale / grid
        self.coef = nn.Parameter(fit_coefficients(points, noise, grid, k, self.grid_range))
        self.scale_base = nn.Parameter((torch.rand(n_in, n_out) * 2 - 1) / math.sqrt(n_in))
        self.scale_sp = nn.Parameter(torch.ones(n_in, n_out) / math.sqrt(n_in))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, n_in) -> (B, n_out)."""
        basis = scaled_basis_t(x.T, self.grid, self.k, self.grid_range)  # (G + k, n_in, B), times k!
        weight = (self.coef * (self.scale_sp / math.factorial(self.k)).unsqueeze(-1)).permute(2, 0, 1)
        return F.silu(x) @ self.scale_base + basis.flatten(0, 1).T @ weight.reshape(-1, self.n_out)

    def extra_repr(self) -> str:
        return f"{self.n_in}, {self.n_out}, grid={self.grid}, k={self.k}, grid_range={list(self.grid_range)}"


def fit_coefficients(points: torch.Tensor, values: torch.Tensor, grid: int, k: int,
                     grid_range: tuple[float, float]) -> torch.Tensor:
    """(n_in, n_out, G + k) coefficients whose splines take `values` (P, n_in, n_out) at
    `points` (P,), in the least-squares sense; the minimum-norm solution where the system is
    rank-deficient (gelsd: SVD, deterministic, unlike the default gelsy)."""
    n_in, n_out = values.shape[1], values.shape[2]
    design = bspline_basis(points.unsqueeze(-1), grid, k, grid_range)[:, 0, :]  # (P, G + k)
    rhs = values.permute(1, 2, 0).reshape(n_in * n_out, -1, 1)  # one system per edge
    a = design.expand(n_in * n_out, *design.shape)
    solution = torch.linalg.lstsq(a, rhs, driver="gelsd").solution
    return solution[..., 0].reshape(n_in, n_out, -1).contiguous()


class BSplineKAN(nn.Module):
    """(B, width[0]) -> (B, width[-1]): a stack of `BSplineKANLayer`s.

    Args:
        width: layer widths, e.g. [2, 5, 1].
        grid: G, grid intervals of every B-spline.
        k: spline order.
        grid_range: (lo, hi) covered by the grid; the data domain by default, as for PyKAN.
        noise_scale: the initial splines' noise (pykan's KAN default, 0.3).
    """

    def __init__(self, width: Sequence[int], grid: int, k: int, grid_range: tuple[float, float] = (0.0, 1.0),
                 noise_scale: float = 0.3) -> None:
        super().__init__()
        self.width = list(width)
        if len(self.width) < 2:
            raise ValueError(f"width needs at least 2 entries (got {self.width})")
        self.grid, self.k = grid, k
        self.grid_range = (float(grid_range[0]), float(grid_range[1]))
        self.layers = nn.ModuleList(
            BSplineKANLayer(n_in, n_out, grid, k, self.grid_range, noise_scale)
            for n_in, n_out in zip(self.width[:-1], self.width[1:])
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x)
        return x

    def spline_parameter_count(self) -> int:
        """Trainable B-spline coefficients only (without base and spline scales)."""
        return sum(layer.coef.numel() for layer in self.kan_layers())

    def kan_layers(self) -> Iterable[BSplineKANLayer]:
        """The layers as what they are (nn.ModuleList's items are typed as any Module)."""
        return cast("Iterable[BSplineKANLayer]", self.layers)


def copy_from_pykan(model: BSplineKAN, pykan: Any) -> BSplineKAN:
    """Give `model` the parameters of a pykan `KAN` (or our `PyKAN` wrapper) of the same width,
    grid, k and grid range; returns `model`. Masks are folded into the scales. Raises
    ValueError for what this class cannot represent: another shape, a grid that is not the
    uniform one (pykan's grid updates), node affines that are not identities, or multiplication
    nodes."""
    kan = getattr(pykan, "kan", pykan)
    if len(kan.act_fun) != len(model.layers):
        raise ValueError(f"expected a pykan KAN with {len(model.layers)} layers (got {len(kan.act_fun)})")
    with torch.no_grad():
        for index, (ours, theirs) in enumerate(zip(model.kan_layers(), kan.act_fun)):
            where = f"layer {index}"
            if (theirs.in_dim, theirs.out_dim, theirs.num, theirs.k) != (ours.n_in, ours.n_out, ours.grid, ours.k):
                raise ValueError(f"{where}: expected in, out, grid, k = {ours.n_in}, {ours.n_out}, {ours.grid}, {ours.k} "
                                 f"(got {theirs.in_dim}, {theirs.out_dim}, {theirs.num}, {theirs.k})")
            knots = ours.knots.to(theirs.grid.dtype)
            if not torch.allclose(theirs.grid, knots.expand_as(theirs.grid), rtol=0, atol=1e-6 * float(knots.abs().max())):
                raise ValueError(f"{where}: pykan's grid is not the uniform grid over {list(ours.grid_range)} (updated?)")
            for name in ("node_scale", "node_bias", "subnode_scale", "subnode_bias"):
                value = getattr(kan, name)[index]
                if not torch.equal(value, torch.ones_like(value) if "scale" in name else torch.zeros_like(value)):
                    raise ValueError(f"{where}: pykan's {name} is not the identity")
            if getattr(kan, "width", None) is not None and any(w[1] for w in kan.width if isinstance(w, list)):
                raise ValueError("pykan's KAN has multiplication nodes")
            ours.coef.copy_(theirs.coef)
            ours.scale_base.copy_(theirs.scale_base * theirs.mask)
            ours.scale_sp.copy_(theirs.scale_sp * theirs.mask)
    return model
