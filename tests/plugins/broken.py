"""Factories that go wrong in every way the harness must refuse before it writes anything."""

import torch
from torch import nn

NOT_CALLABLE = 42


def raises(width, grid, k, domain, **options):
    raise RuntimeError("this factory always fails")


def not_a_module(width, grid, k, domain, **options):
    return "a model"


def wrong_shape(width, grid, k, domain, **options):
    return nn.Linear(width[0], width[-1] + 1)


def wrong_dtype(width, grid, k, domain, **options):
    class Ints(nn.Module):
        def forward(self, x):
            return torch.zeros(x.shape[0], width[-1], dtype=torch.long)

    return Ints()


def needs_an_option(width, grid, k, domain, scale):
    return nn.Linear(width[0], width[-1])
