"""The training every experiment shares: full batch, MSE, one optimizer step at a time.

`make_step` builds one step (what `speed` times) for a model, from `relukan_bench.steps` and
`relukan_bench.fused_step`:

- `TrainStep`, for every model: zero_grad, forward, MSE loss, autograd backward, optimizer step;
- `FusedStep`, for the fast ReLU-KAN (`fused=True`, one model or a `BatchedReLUKAN`): the MSE
  and its gradients in one pure function with a hand-written backward
  (`models.relukan_fast.mse_grads`, no autograd graph), then torch's fused Adam kernel
  (`FusedAdam`);
- `LBFGSStep`, for an entry with `optimizer: lbfgs` (any kind, through autograd): one
  `torch.optim.LBFGS.step(closure)`, its iterations and line search evaluating the loss as
  often as they need.

Either of the first two can be `torch.compile`d (`compile=True`) and, on a GPU, captured once
in a CUDA graph and replayed (`cuda_graph=True`). Compiling and capturing happen in the step's
`prepare()`, which the experiments call, and time, before their clocks start; it leaves the
parameters and the optimizer's state as they were. Both also expose their eager path cut into
phases (`phases()`), which `timing.time_phases` clocks one by one (`speed`, which refuses LBFGS).

`train_logged` runs many steps and records the train and test MSE of every step (what `fit`
plots), stopping early when the loss stops being a finite number. A batched model's loss is
one MSE per seed, each seed's own mean; the training minimises their sum, whose gradient is,
seed by seed, the gradient each seed would get alone.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
from dataclasses import dataclass
from typing import Any, Callable, Protocol, Sequence, cast

import torch
import torch.nn.functional as F

from relukan_bench.fused_step import FusedStep
from relukan_bench.kinds import kind_of, optimizer_of
from relukan_bench.models.batched import BatchedReLUKAN
from relukan_bench.models.relukan import ReLUKAN
from relukan_bench.schema import LBFGSSpec, ModelEntry
from relukan_bench.steps import LBFGSStep, TrainStep, mse_each


class TrainSettings(Protocol):
    """What the steps read of an experiment's `train:` (config.TrainSpec and the experiments' own)."""

    @property
    def optimizer(self) -> str: ...

    @property
    def lr(self) -> float: ...


#: Steps between two reads of the losses from the device (and divergence checks).
CHUNK = 100


def keep_large_allocations() -> bool:
    """Ask glibc's malloc to keep large blocks instead of returning them to the system.

    By default glibc serves every block above 128 KiB (a threshold that adapts, but is reset by
    mixed sizes) with a fresh mmap, and the kernel zero-fills each of its pages on first touch.
    A batched model's temporaries are a few hundred KiB to a few MiB, allocated and freed dozens
    of times per step; measured on f5 with 8 seeds, 1 thread: 15.5 ms per batched step with
    the default, 5.3 ms with this. Process-wide; `fit` and `forgetting` call it (they batch
    seeds), `speed` does not (its timings stay comparable with earlier runs). Returns whether
    it took effect (False where the C library is not glibc)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    return bool(mallopt(M_MMAP_THRESHOLD, 1 << 30)) and bool(mallopt(M_TRIM_THRESHOLD, 1 << 30))


def make_optimizer(model: torch.nn.Module, train: TrainSettings, lr: float | None = None,
                   capturable: bool = False) -> torch.optim.Optimizer:
    """The optimizer the config names, over the model's trainable parameters, at `lr`
    (default: the config's). `capturable`: its step counts live on the parameters' device and
    its step never reads them back, so that a CUDA graph can capture it (CUDA only)."""
    parameters = [p for p in model.parameters() if p.requires_grad]
    if train.optimizer == "adam":
        return torch.optim.Adam(parameters, lr=train.lr if lr is None else lr, capturable=capturable)
    raise ValueError(f"unknown optimizer {train.optimizer!r}")


def make_step(model: torch.nn.Module, train: TrainSettings, x: torch.Tensor, y: torch.Tensor, lr: float | None = None,
              fused: bool = False, compile: bool = False, cuda_graph: bool = False, optimizer: str | None = None,
              lbfgs: LBFGSSpec | None = None) -> "TrainStep | FusedStep | LBFGSStep":
    """The training step for `model` on (x, y): with `optimizer` (default: the config's)
    "lbfgs", an `LBFGSStep` with the settings `lbfgs` (a schema.LBFGSSpec; None: its defaults);
    else with `fused`, a `FusedStep` (a fast ReLU-KAN, one model or a batched one); else a
    `TrainStep` with the config's optimizer. `compile` torch.compiles the step, `cuda_graph`
    captures it in a CUDA graph when x is on a GPU (it is ignored on the CPU); both in the
    step's `prepare()`, neither for LBFGS."""
    if (optimizer or train.optimizer) == "lbfgs":
        if fused or compile or (cuda_graph and x.is_cuda):
            raise ValueError("an LBFGS step runs eagerly through autograd: not fused, compiled or captured")
        return LBFGSStep(model, x, y, lr=train.lr if lr is None else lr, settings=lbfgs)
    if fused:
        fast = cast("ReLUKAN | BatchedReLUKAN", model)  # the only models whose kind asks for the fused step
        return FusedStep(fast, x, y, lr=train.lr if lr is None else lr, compile=compile, cuda_graph=cuda_graph)
    capture = cuda_graph and x.is_cuda
    return TrainStep(model, make_optimizer(model, train, lr=lr, capturable=capture), x, y, compile=compile, cuda_graph=capture)


def step_for(spec: Any, model: torch.nn.Module, train: TrainSettings, x: torch.Tensor, y: torch.Tensor,
             lr: float | None = None) -> "TrainStep | FusedStep | LBFGSStep":
    """`make_step` with what a model entry of a config asks for: its own learning rate and
    optimizer, and the step options its kind gives it (relukan_bench.kinds: fused, compiled,
    captured). The fused step is Adam's: with `optimizer: lbfgs` every kind, the fast ReLU-KAN
    too, trains its model through autograd, uncaptured (its schema refuses `compile: true` and
    `cuda_graph: true` beside it)."""
    options = kind_of(spec).step(spec)
    optimizer = optimizer_of(spec, train.optimizer)
    eager = optimizer == "lbfgs"
    return make_step(model, train, x, y, lr=spec.lr if lr is None else lr, fused=options.fused and not eager,
                     compile=options.compile, cuda_graph=options.cuda_graph and not eager, optimizer=optimizer,
                     lbfgs=getattr(spec, "lbfgs", None))


def prepare(spec: ModelEntry, step: "TrainStep | FusedStep | LBFGSStep | None") -> float:
    """Compile and capture `step` now, before any clock starts (its `prepare()`); return the
    seconds it took when the model entry `spec` asks for torch.compile, else NaN (what the
    experiments record as compile_seconds: a capture alone takes milliseconds)."""
    seconds = step.prepare() if step is not None else math.nan
    return seconds if kind_of(spec).step(spec).compile else math.nan



@torch.no_grad()
def mse(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """The model's mean squared error on (x, y), as a Python float."""
    return float(F.mse_loss(model(x), y))


@dataclass
class Curve:
    """Per-step errors of one training run, on the CPU in float64.

    `losses[i] = (train MSE, test MSE[, validation MSE])` of step i + 1: the train MSE is that
    step's loss (before its update), the others are measured right after the update (pykan's
    `fit()` logs the same pair). A diverged run ends at its first non-finite step, which is kept.
    """

    losses: torch.Tensor  # (steps_done, 2 or more)
    diverged: bool

    @property
    def steps_done(self) -> int:
        return self.losses.shape[0]


def truncate_at_divergence(losses: torch.Tensor) -> Curve:
    """`losses` (n, columns) cut after the first step with a NaN or infinite error."""
    bad = ~torch.isfinite(losses).all(dim=1)
    if bool(bad.any()):
        first = int(bad.nonzero()[0, 0])
        return Curve(losses[: first + 1], diverged=True)
    return Curve(losses, diverged=False)


def train_logged(
    step: TrainStep | FusedStep | LBFGSStep,
    x_test: torch.Tensor,
    y_test: torch.Tensor,
    steps: int,
    on_progress: Callable[[int, float], None] | None = None,
    more: Sequence[tuple[torch.Tensor, torch.Tensor]] = (),
) -> Curve:
    """Run `steps` training steps, measuring the test MSE after each (and the MSE on every
    further set of `more`, such as a validation set: the Curve's next columns).

    The losses stay on the device and are read back every `CHUNK` steps; a chunk holding a
    NaN or infinite loss ends the run there (`Curve.diverged`). `on_progress(steps_done,
    train_mse)` is called after every chunk.
    """
    return _logged(step, [(x_test, y_test), *more], steps, on_progress, seeds=None)[0]


def train_logged_batched(
    step: TrainStep | FusedStep | LBFGSStep,
    x_test: torch.Tensor,
    y_test: torch.Tensor,
    steps: int,
    on_progress: Callable[[int, float], None] | None = None,
    more: Sequence[tuple[torch.Tensor, torch.Tensor]] = (),
) -> list[Curve]:
    """`train_logged` for a batched model, x_test (S, B, in): one Curve per seed, each cut at
    that seed's first non-finite step. Training goes on while any seed is finite (the seeds
    never meet, so one seed's NaN changes nothing for the others); `on_progress` gets the
    median train MSE of the seeds."""
    return _logged(step, [(x_test, y_test), *more], steps, on_progress, seeds=x_test.shape[0])


def _logged(step: TrainStep | FusedStep | LBFGSStep, evaluated: Sequence[tuple[torch.Tensor, torch.Tensor]], steps: int,
            on_progress: Callable[[int, float], None] | None, seeds: int | None) -> list[Curve]:
    model = step.model
    columns = 1 + len(evaluated)
    shape = (steps, columns) if seeds is None else (steps, seeds, columns)
    losses = torch.empty(shape, dtype=torch.float64, device=evaluated[0][0].device)  # (steps, [S,] [train, test, ...])
    read = []  # the chunks copied to the CPU so far
    for start in range(0, steps, CHUNK):
        end = min(start + CHUNK, steps)
        for i in range(start, end):
            losses[i, ..., 0] = step()
            with torch.no_grad():
                for column, (x_eval, y_eval) in enumerate(evaluated, start=1):
                    losses[i, ..., column] = mse_each(model(x_eval), y_eval)
        read.append(losses[start:end].cpu())
        finite = torch.isfinite(torch.cat(read)).all(dim=0).all(dim=-1)  # per seed: finite so far
        if not bool(finite.any()):
            break
        if on_progress is not None:
            on_progress(end, float(read[-1][-1, ..., 0].median()))
    logged = torch.cat(read) if read else losses.cpu()
    if seeds is None:
        return [truncate_at_divergence(logged)]
    return [truncate_at_divergence(logged[:, seed]) for seed in range(seeds)]
