"""The training both experiments share: full batch, MSE, one optimizer step at a time.

`TrainStep` is one step (what `speed` times). `train_logged` runs many of them and records the
train and test MSE of every step (what `fit` plots), stopping early when the loss stops being
a finite number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import torch
import torch.nn.functional as F

if TYPE_CHECKING:
    from relukan_bench.config import TrainSpec

#: Steps between two reads of the losses from the device (and divergence checks).
CHUNK = 100


def make_optimizer(model: torch.nn.Module, train: "TrainSpec", lr: float | None = None) -> torch.optim.Optimizer:
    """The optimizer the config names, over the model's trainable parameters, at `lr`
    (default: the config's)."""
    parameters = [p for p in model.parameters() if p.requires_grad]
    if train.optimizer == "adam":
        return torch.optim.Adam(parameters, lr=train.lr if lr is None else lr)
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


@torch.no_grad()
def mse(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """The model's mean squared error on (x, y), as a Python float."""
    return float(F.mse_loss(model(x), y))


@dataclass
class Curve:
    """Per-step errors of one training run, on the CPU in float64.

    `losses[i] = (train MSE, test MSE)` of step i + 1: the train MSE is that step's loss
    (before its update), the test MSE is measured right after the update (pykan's `fit()`
    logs the same pair). A diverged run ends at its first non-finite step, which is kept.
    """

    losses: torch.Tensor  # (steps_done, 2)
    diverged: bool

    @property
    def steps_done(self) -> int:
        return self.losses.shape[0]


def truncate_at_divergence(losses: torch.Tensor) -> Curve:
    """`losses` (n, 2) cut after the first step whose train or test MSE is NaN or infinite."""
    bad = ~torch.isfinite(losses).all(dim=1)
    if bool(bad.any()):
        first = int(bad.nonzero()[0, 0])
        return Curve(losses[: first + 1], diverged=True)
    return Curve(losses, diverged=False)


def train_logged(
    step: TrainStep,
    x_test: torch.Tensor,
    y_test: torch.Tensor,
    steps: int,
    on_progress: Callable[[int, float], None] | None = None,
) -> Curve:
    """Run `steps` training steps, measuring the test MSE after each.

    The losses stay on the device and are read back every `CHUNK` steps; a chunk holding a
    NaN or infinite loss ends the run there (`Curve.diverged`). `on_progress(steps_done,
    train_mse)` is called after every chunk.
    """
    model = step.model
    losses = torch.empty(steps, 2, dtype=torch.float64, device=step.x.device)  # (steps, [train, test])
    read = []  # the chunks copied to the CPU so far
    for start in range(0, steps, CHUNK):
        end = min(start + CHUNK, steps)
        for i in range(start, end):
            losses[i, 0] = step()
            with torch.no_grad():
                losses[i, 1] = F.mse_loss(model(x_test), y_test)
        read.append(losses[start:end].cpu())
        if not bool(torch.isfinite(read[-1]).all()):
            break
        if on_progress is not None:
            on_progress(end, float(read[-1][-1, 0]))
    return truncate_at_divergence(torch.cat(read) if read else losses.cpu())
