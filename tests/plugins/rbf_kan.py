"""A Gaussian-RBF KAN ("FastKAN"-style) as a relukan-bench plugin: every edge is a weighted
sum of Gaussian bumps on a fixed grid of centres, plus a SiLU base branch.

    models:
      - {name: rbf-kan, kind: plugin, factory: "rbf_kan:make", options: {}}
"""

import torch
from torch import nn


class RBFKANLayer(nn.Module):
    def __init__(self, n_in, n_out, grid, domain):
        super().__init__()
        lo, hi = domain
        self.register_buffer("centers", torch.linspace(lo, hi, grid + 1))
        self.width = (hi - lo) / grid
        self.spline = nn.Linear(n_in * (grid + 1), n_out)
        self.base = nn.Linear(n_in, n_out, bias=False)

    def forward(self, x):  # (B, in) -> (B, out)
        phi = torch.exp(-(((x[..., None] - self.centers) / self.width) ** 2))  # (B, in, grid + 1)
        return self.spline(phi.flatten(1)) + self.base(nn.functional.silu(x))


def make(width, grid, k, domain, **options):
    """The factory relukan-bench calls: `k` has no meaning for Gaussian bumps."""
    layers = [RBFKANLayer(a, b, grid, domain) for a, b in zip(width[:-1], width[1:])]
    return nn.Sequential(*layers)
