"""Several seeds of one ReLU-KAN trained at once, as one model.

`BatchedReLUKAN(models)` stacks the parameters of S same-shaped `ReLUKAN`s along a new leading
seed axis: s and e become (S, in, G+k), a layer's weight (S, out, in*(G+k)), its bias (S, out).
Its input is (S, B, in), each seed its own data, and its output (S, B, out). The seeds never
meet: every operation is per seed (elementwise, or a batched matmul), so the gradient of the
sum of the seeds' losses is, seed by seed, the gradient each would get alone, and Adam, being
elementwise, takes the same step. What changes is the number of operations per training step:
one per layer instead of one per layer and seed, which is what small models spend their time on.

`impl` follows the members: "reference" runs the reference's plain ops with a seed axis,
"fast" the fast kernels (`relukan_fast` takes the seed axis as it is), "conv" the reference
code's Conv2d with the seeds as its groups: each seed's basis one input channel shaped
(G+k, in) as the reference reshapes it, its kernels the `out` channels of its group, so that a
conv entry's batched runs time a Conv2d too, one per layer. `unbatch()` gives the seeds back
as ordinary `ReLUKAN`s, for evaluation and predictions.
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from relukan_bench.models.relukan import ReLUKAN
from relukan_bench.models.relukan_fast import relukan_t


class BatchedReLUKAN(nn.Module):
    """S ReLU-KANs of the same width, grid, k, train_se, input range and impl, as one module:
    (S, B, width[0]) -> (S, B, width[-1])."""

    def __init__(self, models: Sequence[ReLUKAN]) -> None:
        super().__init__()
        models = list(models)
        if not models:
            raise ValueError("BatchedReLUKAN needs at least one model")
        first = models[0]
        shape = _shape(first)
        for other in models[1:]:
            if _shape(other) != shape:
                raise ValueError(f"models differ in shape: {shape} vs {_shape(other)}")
        self.width, self.grid, self.k, self.train_se, self.input_range, self.impl = shape
        self.seeds = len(models)
        self.rs = tuple(layer.r for layer in first.relukan_layers())
        stacked = []
        for index, _ in enumerate(first.layers):
            layers = [m.layers[index] for m in models]
            for name in ("s", "e", "weight", "bias"):
                tensors = [_parameter(layer, name) for layer in layers]
                stacked.append(nn.Parameter(torch.stack([t.detach() for t in tensors]).clone(),
                                            requires_grad=tensors[0].requires_grad))
        self.params = nn.ParameterList(stacked)  # s, e, weight, bias of layer 0, then layer 1, ...

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(S, B, in) -> (S, B, out)."""
        if self.impl == "fast":
            r2s, params = self.fast_state()
            return relukan_t(x.transpose(1, 2).contiguous(), r2s, params).transpose(1, 2)
        if self.impl == "conv":
            return self._conv_forward(x)
        for layer, r in enumerate(self.rs):
            s, e, weight, bias = self.params[4 * layer: 4 * layer + 4]
            xb = x.unsqueeze(-1)  # (S, B, in, 1)
            bump = r * torch.relu(xb - s.unsqueeze(1)) * torch.relu(e.unsqueeze(1) - xb)  # (S, B, in, G+k)
            phi = bump * bump
            x = torch.baddbmm(bias.unsqueeze(1), phi.flatten(2), weight.transpose(1, 2))  # (S, B, out)
        return x

    def _conv_forward(self, x: torch.Tensor) -> torch.Tensor:
        """(S, B, in) -> (S, B, out) through one grouped Conv2d per layer. Activations travel as
        (B, S, features), so that each seed's basis (B, S, in, G+k) is already the (B, S, G+k, in)
        plane the reference reshapes it into, the seeds its channels."""
        n = self.grid + self.k
        x = x.transpose(0, 1)  # (B, S, in)
        for layer, r in enumerate(self.rs):
            s, e, weight, bias = self.params[4 * layer: 4 * layer + 4]
            n_in, n_out = self.width[layer], self.width[layer + 1]
            xb = x.unsqueeze(-1)  # (B, S, in, 1)
            bump = r * torch.relu(xb - s) * torch.relu(e - xb)  # (B, S, in, G+k)
            planes = (bump * bump).reshape(x.shape[0], self.seeds, n, n_in)  # no permute, as the reference
            kernel = weight.reshape(self.seeds * n_out, 1, n, n_in)  # seed-major: group g holds seed g's kernels
            y = F.conv2d(planes, kernel, bias.reshape(-1), groups=self.seeds)  # (B, S*out, 1, 1)
            x = y.reshape(x.shape[0], self.seeds, n_out)
        return x.transpose(0, 1)

    def fast_state(self) -> tuple[tuple[float, ...], list[torch.Tensor]]:
        """Every layer's r^2 and the stacked s, e, weight, bias of every layer, in order."""
        return tuple(r * r for r in self.rs), list(self.params)

    def unbatch(self) -> list[ReLUKAN]:
        """The seeds as separate `ReLUKAN`s holding copies of their current parameters."""
        models = []
        for seed in range(self.seeds):
            model = ReLUKAN(self.width, self.grid, self.k, train_se=self.train_se, input_range=self.input_range,
                            impl=self.impl).to(self.params[0].device, self.params[0].dtype)
            with torch.no_grad():
                for index, layer in enumerate(model.layers):
                    for offset, name in enumerate(("s", "e", "weight", "bias")):
                        _parameter(layer, name).copy_(self.params[4 * index + offset][seed])
            models.append(model)
        return models


def _shape(model: ReLUKAN) -> tuple:
    return (list(model.width), model.grid, model.k, model.train_se, tuple(model.input_range), model.impl)


def _parameter(layer: nn.Module, name: str) -> torch.Tensor:
    return getattr(layer.linear, name) if name in ("weight", "bias") else getattr(layer, name)
