"""ReLU-KAN, paper-faithful.

Qiu et al., "ReLU-KAN: New Kolmogorov-Arnold Networks that Only Need Matrix Addition, Dot
Multiplication, and ReLU", arXiv 2406.02075 (2024), eq. (6) and the reference code
(quiqi/relu_kan).

For an input x and basis i (grid G, order k, i = 0..G+k-1):

    R_i(x) = [ReLU(e_i - x) * ReLU(x - s_i)]^2 * 16 / (e_i - s_i)^4
    s_i = (i - k) / G,   e_i = s_i + (k + 1) / G          (input range [0, 1])

As in the reference code the normalisation is written as (r * ReLU(x - s) * ReLU(e - x))^2 with
r = 4 G^2 / (k + 1)^2 computed ONCE from the initial grid; it is not recomputed when s and e
are trained. For an input range [lo, hi], s and e are scaled by (hi - lo) and shifted by lo,
and r = 4 G^2 / ((k + 1)^2 (hi - lo)^2), so that every basis still peaks at exactly 1.

The reference feeds the (B, in, G+k) basis, reshaped without a permute to (B, 1, G+k, in),
into a Conv2d whose kernel covers the whole plane: that is exactly a Linear over the
flattened basis, and flattening the same memory in the same order means the Conv2d weight
(out, 1, G+k, in) reshaped to (out, in*(G+k)) IS our Linear weight. nn.Linear and that Conv2d
share their default initialisation (kaiming-uniform with fan_in = in*(G+k)), so the models are
the same in distribution from the first step.

No SiLU base branch, no per-edge scale, no grid update, no squashing between layers: hidden
activations that leave [lo - k/G (hi-lo), hi + k/G (hi-lo)] meet all-zero bases, as in the paper.

Three implementations of the same function, with the same parameters (s, e, the Linear's weight
and bias: their state dicts are interchangeable), chosen by `impl`:

- `"reference"` (the default) computes all this with plain PyTorch ops, as written above, the
  contraction as the Linear over the flattened basis; it is the paper-faithful implementation
  every other one is tested against.
- `"fast"` computes it in a feature-major layout with a hand-written backward
  (`models.relukan_fast`); tests/models/test_relukan_fast.py proves it agrees with the
  reference in outputs, gradients and training curves.
- `"conv"` computes the contraction as the reference code does: the basis reshaped without a
  permute to (B, 1, G+k, in) and `torch.nn.functional.conv2d` with the Linear's weight viewed
  as the (out, 1, G+k, in) kernel, the output (B, out, 1, 1) reshaped to (B, out). The same
  numbers as "reference" to float rounding; it exists to time the reference code's Conv2d
  (tests/models/test_relukan_conv.py).
"""

from __future__ import annotations

from typing import Iterable, Literal, Sequence, cast

import torch
import torch.nn.functional as F
from torch import nn

from relukan_bench.models.relukan_fast import relukan_t

Impl = Literal["reference", "fast", "conv"]
IMPLS = ("reference", "fast", "conv")


def _check_impl(impl: str) -> str:
    if impl not in IMPLS:
        raise ValueError(f"impl must be one of {', '.join(map(repr, IMPLS))} (got {impl!r})")
    return impl


class ReLUKANLayer(nn.Module):
    """One ReLU-KAN layer: (B, in_features) -> (B, out_features).

    Args:
        in_features: inputs per sample.
        out_features: outputs per sample.
        grid: G, the number of grid intervals over the input range.
        k: the order; each input gets G + k bases, each spanning k + 1 intervals.
        train_se: make the starts `s` and ends `e` trainable (the paper's figures did).
        input_range: (lo, hi), the range the initial grid covers.
        impl: "reference" (plain ops, paper-faithful), "fast" (same math, `relukan_fast`) or
            "conv" (the reference code's Conv2d over the basis plane).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        grid: int,
        k: int,
        train_se: bool = True,
        input_range: tuple[float, float] = (0.0, 1.0),
        impl: Impl = "reference",
    ) -> None:
        super().__init__()
        self.impl = _check_impl(impl)
        if in_features < 1 or out_features < 1 or grid < 1 or k < 0:
            raise ValueError(f"need in_features, out_features, grid >= 1 and k >= 0 (got {in_features}, {out_features}, {grid}, {k})")
        lo, hi = float(input_range[0]), float(input_range[1])
        if not hi > lo:
            raise ValueError(f"input_range must have low < high (got {input_range})")
        self.in_features, self.out_features = in_features, out_features
        self.grid, self.k = grid, k
        self.train_se = train_se
        self.input_range = (lo, hi)
        span = hi - lo
        starts = lo + span * (torch.arange(grid + k, dtype=torch.float64) - k) / grid  # (G+k,)
        ends = starts + span * (k + 1) / grid  # (G+k,)
        dtype = torch.get_default_dtype()  # as nn.Linear's parameters: one dtype for the whole layer
        self.s = nn.Parameter(starts.to(dtype).expand(in_features, -1).clone(), requires_grad=train_se)  # (in, G+k)
        self.e = nn.Parameter(ends.to(dtype).expand(in_features, -1).clone(), requires_grad=train_se)  # (in, G+k)
        # Fixed once from the initial grid, as in the reference code.
        self.r = 4.0 * grid**2 / ((k + 1) ** 2 * span**2)
        self.linear = nn.Linear(in_features * (grid + k), out_features)

    def basis(self, x: torch.Tensor) -> torch.Tensor:
        """(B, in) -> (B, in, G+k): R_i(x_j) for every input j and basis i."""
        x = x.unsqueeze(-1)  # (B, in, 1)
        bump = self.r * torch.relu(x - self.s) * torch.relu(self.e - x)  # (B, in, G+k)
        return bump * bump

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, in) -> (B, out)."""
        if self.impl == "fast":
            return self.forward_t(x.t().contiguous()).t()
        phi = self.basis(x)  # (B, in, G+k)
        if self.impl == "conv":
            return self.conv(phi)
        return self.linear(phi.flatten(1))  # (B, in*(G+k)) -> (B, out)

    def conv(self, phi: torch.Tensor) -> torch.Tensor:
        """The reference code's contraction: the (B, in, G+k) basis reshaped, without a permute,
        to (B, 1, G+k, in), a Conv2d whose kernel covers the whole plane, (B, out, 1, 1) -> (B, out).
        The kernel is the Linear's weight viewed as (out, 1, G+k, in): the same memory."""
        batch, n = phi.shape[0], self.grid + self.k
        kernel = self.linear.weight.view(self.out_features, 1, n, self.in_features)
        planes = phi.reshape(batch, 1, n, self.in_features)
        return F.conv2d(planes, kernel, self.linear.bias).reshape(batch, self.out_features)

    def forward_t(self, x_t: torch.Tensor) -> torch.Tensor:
        """The fast path on feature-major activations: (in, B) -> (out, B)."""
        return relukan_t(x_t, (self.r * self.r,), self.fast_parameters())

    def fast_parameters(self) -> list[torch.Tensor]:
        """s, e, weight, bias: the order `relukan_fast` takes them in."""
        return [self.s, self.e, self.linear.weight, self.linear.bias]

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, grid={self.grid}, "
            f"k={self.k}, train_se={self.train_se}, input_range={self.input_range}, impl={self.impl!r}"
        )


class ReLUKAN(nn.Module):
    """A stack of ReLU-KAN layers: (B, width[0]) -> (B, width[-1]).

    Every layer's initial grid covers `input_range`, as the reference code does with [0, 1].
    With `impl="fast"` the activations stay feature-major from the first layer to the last:
    one transpose in, one out. With `impl="conv"` every layer runs the reference code's Conv2d.
    """

    def __init__(
        self,
        width: Sequence[int],
        grid: int,
        k: int,
        train_se: bool = True,
        input_range: tuple[float, float] = (0.0, 1.0),
        impl: Impl = "reference",
    ) -> None:
        super().__init__()
        self.impl = _check_impl(impl)
        self.grid, self.k, self.train_se, self.input_range = grid, k, train_se, tuple(input_range)
        width = list(width)
        if len(width) < 2:
            raise ValueError(f"width needs at least 2 entries (got {width})")
        self.width = width
        self.layers = nn.ModuleList(
            ReLUKANLayer(n_in, n_out, grid, k, train_se=train_se, input_range=input_range, impl=impl)
            for n_in, n_out in zip(width[:-1], width[1:])
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, width[0]) -> (B, width[-1])."""
        if self.impl == "fast":
            r2s, params = self.fast_state()
            return relukan_t(x.t().contiguous(), r2s, params).t()  # (in, B) -> (out, B) -> (B, out)
        for layer in self.layers:
            x = layer(x)
        return x

    def fast_state(self) -> tuple[tuple[float, ...], list[torch.Tensor]]:
        """What `relukan_fast` computes with: every layer's r^2, and s, e, weight, bias of
        every layer in order (the parameters themselves, not copies)."""
        layers = self.relukan_layers()
        r2s = tuple(layer.r * layer.r for layer in layers)
        return r2s, [p for layer in layers for p in layer.fast_parameters()]

    def relukan_layers(self) -> Iterable[ReLUKANLayer]:
        """The layers as what they are (nn.ModuleList's items are typed as any Module)."""
        return cast("Iterable[ReLUKANLayer]", self.layers)


def relukan_parameter_count(width: Sequence[int], grid: int, k: int, train_se: bool = True) -> int:
    """Trainable parameters of `ReLUKAN(width, grid, k, train_se)`, without building it:
    per layer a Linear(in*(G+k) -> out) and, when trained, s and e of shape (in, G+k)."""
    total = 0
    for n_in, n_out in zip(list(width)[:-1], list(width)[1:]):
        bases = n_in * (grid + k)
        total += bases * n_out + n_out + (2 * bases if train_se else 0)
    return total
