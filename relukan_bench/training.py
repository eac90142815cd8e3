"""The training step every experiment shares: full batch, MSE, one optimizer step."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

if TYPE_CHECKING:
    from relukan_bench.config import TrainSpec


def make_optimizer(model: torch.nn.Module, train: "TrainSpec") -> torch.optim.Optimizer:
    """The optimizer the config names, over the model's trainable parameters."""
    parameters = [p for p in model.parameters() if p.requires_grad]
    if train.optimizer == "adam":
        return torch.optim.Adam(parameters, lr=train.lr)
    raise ValueError(f"unknown optimizer {train.optimizer!r}")


class TrainStep:
    """One full training step on (x, y): zero_grad, forward, MSE loss, backward, step.

    Calling it never reads a value back from the device (no `.item()`), so on a GPU the
    steps queue up and only the clock's synchronisation waits for them. `last_loss` holds
    the loss tensor of the latest step (computed before that step's update).
    """

    def __init__(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor):
        self.model, self.optimizer, self.x, self.y = model, optimizer, x, y
        self.last_loss: torch.Tensor | None = None

    def __call__(self) -> torch.Tensor:
        self.optimizer.zero_grad(set_to_none=True)
        loss = F.mse_loss(self.model(self.x), self.y)  # (B, out) vs (B, out)
        loss.backward()
        self.optimizer.step()
        self.last_loss = loss.detach()
        return self.last_loss
