"""The models under comparison. They know nothing of experiments.

`build_model(spec, function, domain, seed)` turns a config entry into a fresh, seeded module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torch import nn

    from relukan_bench.config import FunctionSpec, ModelSpec


def build_model(spec: "ModelSpec", function: "FunctionSpec", domain: tuple[float, float], seed: int) -> "nn.Module":
    """A freshly initialised model for `function`'s width, grid and k, seeded with `seed`.

    The caller's global random state is left as it was.
    """
    from relukan_bench.seeding import seeded

    if spec.kind == "relukan":
        from relukan_bench.models.relukan import ReLUKAN

        with seeded(seed):
            return ReLUKAN(function.width, function.grid, function.k, train_se=spec.train_se, input_range=tuple(domain))
    if spec.kind == "kan":
        from relukan_bench.models.kan import PyKAN

        grid_range = tuple(spec.grid_range) if spec.grid_range is not None else tuple(domain)
        return PyKAN(function.width, function.grid, function.k, grid_range=grid_range, seed=seed)
    raise ValueError(f"unknown model kind {spec.kind!r}")


def count_parameters(model: "nn.Module") -> int:
    """Trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
