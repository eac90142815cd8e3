"""The models under comparison. They know nothing of experiments.

`build_model(spec, function, domain, seed)` turns a config entry into a fresh, seeded module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torch import nn

    from relukan_bench.config import FunctionSpec, MLPSpec, ModelSpec, NetworkSpec


def build_model(spec: "ModelSpec", function: "FunctionSpec | NetworkSpec", domain: tuple[float, float], seed: int) -> "nn.Module":
    """A freshly initialised model of `function`'s (or a network spec's) width, grid and k,
    seeded with `seed`.

    The caller's global random state is left as it was.
    """
    from relukan_bench.seeding import seeded

    if spec.kind == "relukan":
        from relukan_bench.models.relukan import ReLUKAN

        with seeded(seed):
            return ReLUKAN(function.width, function.grid, function.k, train_se=spec.train_se, input_range=tuple(domain),
                           impl=spec.impl)
    if spec.kind == "kan":
        from relukan_bench.models.kan import PyKAN

        grid_range = tuple(spec.grid_range) if spec.grid_range is not None else tuple(domain)
        return PyKAN(function.width, function.grid, function.k, grid_range=grid_range, seed=seed)
    if spec.kind == "bspline":
        from relukan_bench.models.bspline import BSplineKAN

        grid_range = tuple(spec.grid_range) if spec.grid_range is not None else tuple(domain)
        with seeded(seed):  # pykan's seeding: the same seed gives pykan's initial parameters
            return BSplineKAN(function.width, function.grid, function.k, grid_range=grid_range)
    if spec.kind == "mlp":
        from relukan_bench.models.mlp import MLP

        with seeded(seed):
            return MLP(mlp_sizes(spec, function), activation=spec.activation)
    raise ValueError(f"unknown model kind {spec.kind!r}")


def mlp_sizes(spec: "MLPSpec", function: "FunctionSpec | NetworkSpec") -> list[int]:
    """The layer sizes of an `mlp` entry: its `hidden` widths, or when it gives none, widths
    matched to the parameter count of the paper's ReLU-KAN on `function` (models/mlp.py)."""
    from relukan_bench.models.mlp import matched_hidden
    from relukan_bench.models.relukan import relukan_parameter_count

    width = list(function.width)
    hidden = list(spec.hidden) if spec.hidden is not None else matched_hidden(width, relukan_parameter_count(width, function.grid, function.k))
    return [width[0], *hidden, width[-1]]


def count_parameters(model: "nn.Module") -> int:
    """Trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
