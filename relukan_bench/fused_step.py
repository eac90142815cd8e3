"""The fast ReLU-KAN's training step without autograd: `FusedStep` and its optimizer, `FusedAdam`.

`make_step` (relukan_bench.training) builds it for a model entry whose kind asks for it
(`fused=True`, one model or a `BatchedReLUKAN`): the MSE and its gradients in one pure
function with a hand-written backward (`models.relukan_fast.mse_grads`, no autograd graph),
then torch's fused Adam kernel.
"""

from __future__ import annotations

from typing import cast

import torch

from relukan_bench.models.batched import BatchedReLUKAN
from relukan_bench.models.relukan import ReLUKAN
from relukan_bench.models.relukan_fast import mse_grads
from relukan_bench.steps import Phases, StepBase, compile_step
from relukan_bench.timing import clock


class FusedAdam:
    """Adam with torch's fused kernel (`torch._fused_adam_`, the kernel behind
    `torch.optim.Adam(fused=True)`), its state allocated up front and its per-step Python
    bookkeeping cut to two calls. The same arithmetic as `torch.optim.Adam(fused=True)`, bit
    for bit (tests/test_training.py). State on the parameters' device, so a CUDA graph can
    capture `step`."""

    def __init__(self, params: list[torch.Tensor], lr: float, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        self.params = [p for p in params if p.requires_grad]
        self.lr, self.betas, self.eps = lr, betas, eps
        with torch.no_grad():
            self.exp_avg = [torch.zeros_like(p) for p in self.params]
            self.exp_avg_sq = [torch.zeros_like(p) for p in self.params]
            self.steps = [torch.zeros((), dtype=torch.float32, device=p.device) for p in self.params]

    def step(self, grads: list[torch.Tensor] | None = None) -> None:
        """One Adam step with `grads` (default: the parameters' .grad, which a backward gave every
        one of them), in place."""
        grads = cast("list[torch.Tensor]", [p.grad for p in self.params]) if grads is None else grads
        with torch.no_grad():
            torch._foreach_add_(self.steps, 1)
            torch._fused_adam_(
                self.params, grads, self.exp_avg, self.exp_avg_sq, [], self.steps,
                lr=self.lr, beta1=self.betas[0], beta2=self.betas[1], weight_decay=0.0, eps=self.eps,
                amsgrad=False, maximize=False,
            )

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.params:
            p.grad = None

    def reset(self) -> None:
        """Back to a fresh optimizer's state, in place (a captured CUDA graph keeps working)."""
        with torch.no_grad():
            for tensor in self.state():
                tensor.zero_()

    def state(self) -> list[torch.Tensor]:
        """Every tensor of the optimizer's state (moments and step counts)."""
        return [*self.exp_avg, *self.exp_avg_sq, *self.steps]


class FusedStep(StepBase):
    """One training step of a fast ReLU-KAN without autograd: `mse_grads` then `FusedAdam`.

    x (B, in) and y (B, out), or (S, B, ..) for a `BatchedReLUKAN`; both are copied once into
    the feature-major layout the kernels use. Calling it never reads a value back from the
    device; `last_loss` holds the latest loss (a scalar, or one per seed). A captured step
    returns the same tensor every time, overwritten by the next replay: copy what you keep.

    `compile=True` runs `mse_grads` through `torch.compile` (inductor fuses its elementwise
    work into a few loops); `cuda_graph=True` (CUDA only) captures the whole step, gradients
    and Adam, in a CUDA graph and replays it. Both happen in `prepare()`, which returns the
    seconds it took; the first call prepares if nobody did.

    Its phases (`phases()`) are two: there is no autograd, so no forward apart from the
    gradients; see `phases`.
    """

    def __init__(self, model: ReLUKAN | BatchedReLUKAN, x: torch.Tensor, y: torch.Tensor, lr: float,
                 compile: bool = False, cuda_graph: bool = False):
        self.model = model
        self.r2s, self.params = model.fast_state()
        self.needs = tuple(p.requires_grad for p in self.params)
        # the step's own copies (a transposed (B, 1) is already contiguous: no aliasing the caller's data)
        self.x_t = x.transpose(-1, -2).clone(memory_format=torch.contiguous_format)  # (.., in, B)
        self.y_t = y.transpose(-1, -2).clone(memory_format=torch.contiguous_format)  # (.., out, B)
        self.optimizer = FusedAdam(self.params, lr)
        self.compile = compile
        self.cuda_graph = cuda_graph and self.x_t.is_cuda
        r2s, needs = self.r2s, self.needs

        def loss_and_grads(x_t: torch.Tensor, y_t: torch.Tensor,
                           params: list[torch.Tensor]) -> tuple[torch.Tensor, list[torch.Tensor | None]]:
            return mse_grads(x_t, y_t, r2s, params, needs)

        self._grads = compile_step(loss_and_grads) if compile else loss_and_grads
        self._graph = None
        self._graph_loss = None
        self._pending: tuple[torch.Tensor, list[torch.Tensor | None]] | None = None  # between the two phases
        self.prepared = not (compile or self.cuda_graph)
        self.last_loss: torch.Tensor | None = None

    def set_data(self, x: torch.Tensor, y: torch.Tensor) -> None:
        """Train on (x, y) from now on: copied into the step's own buffers when the shapes are
        the same (so that a captured graph sees them), replacing them otherwise."""
        x_t, y_t = x.transpose(-1, -2), y.transpose(-1, -2)
        if x_t.shape == self.x_t.shape and y_t.shape == self.y_t.shape:
            self.x_t.copy_(x_t)
            self.y_t.copy_(y_t)
        elif self._graph is not None:
            raise ValueError("a captured step keeps its data's shape")
        else:
            self.x_t = x_t.clone(memory_format=torch.contiguous_format)
            self.y_t = y_t.clone(memory_format=torch.contiguous_format)

    def reset_optimizer(self) -> None:
        """Start Adam afresh (moments and step counts zero)."""
        self.optimizer.reset()

    def _loss_and_grads(self) -> None:
        with torch.no_grad():
            self._pending = self._grads(self.x_t, self.y_t, self.params)

    def _update(self) -> torch.Tensor:
        assert self._pending is not None  # the "backward" phase set it
        loss, grads = self._pending
        self._pending = None
        self.optimizer.step([g for g in grads if g is not None])  # mse_grads gives those `needs` asks for
        self.last_loss = loss
        return loss

    def _step(self) -> torch.Tensor:
        self._loss_and_grads()
        return self._update()

    def phases(self) -> Phases:
        """The eager step in its phases, to run in this order (together one training step):
        "backward", the loss and its gradients in one pass (`mse_grads`), then "optimizer", the
        FusedAdam step. There is no "forward": the gradients are computed with the loss, not
        from a recorded forward. A captured step runs its eager path here (a graph cannot be
        cut), compiled when the step is, on the same parameters, optimizer and data; the
        step is prepared first, so no phase compiles."""
        if not self.prepared:
            self.prepare()
        return [("backward", self._loss_and_grads), ("optimizer", self._update)]

    def prepare(self) -> float:
        """Compile and/or capture now, changing nothing the training sees; return the seconds.

        Compiling calls the pure gradient function once. Capturing first runs two whole steps
        on a side stream (CUDA needs its lazily created handles to exist before capture), then
        puts the parameters and the optimizer's state back as they were, then records one step
        into the graph (recording executes nothing)."""
        device = str(self.x_t.device)
        start = clock(device)
        if not self.prepared:
            last_loss = self.last_loss
            with torch.no_grad():
                self._grads(self.x_t, self.y_t, self.params)
            if self.cuda_graph:
                self._capture()
            self.prepared, self.last_loss = True, last_loss
        return clock(device) - start

    def _capture(self) -> None:
        state = [*self.params, *self.optimizer.state()]
        with torch.no_grad():
            saved = [t.detach().clone() for t in state]
        self._warm_up_on_a_side_stream(steps=2)
        with torch.no_grad():
            for tensor, value in zip(state, saved):
                tensor.copy_(value)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            self._graph_loss = self._step()
        self._graph = graph
