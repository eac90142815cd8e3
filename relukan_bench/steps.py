"""The training steps that run through autograd, and what every step shares.

- `TrainStep`, for every model: zero_grad, forward, MSE loss, autograd backward, optimizer step;
- `LBFGSStep`, for an entry with `optimizer: lbfgs` (any kind): one
  `torch.optim.LBFGS.step(closure)`, its iterations and line search evaluating the loss as
  often as they need.

What they share with the fused step (`relukan_bench.fused_step`): the loss (`mse_each`), a
step's phases (`Phases`), the call that prepares, replays a captured graph or runs one eager
step (`StepBase`), and torch.compile as the steps use it (`compile_step`). `relukan_bench.training`
builds the step a model entry asks for (`make_step`, `step_for`).
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Callable, Iterator, ParamSpec, TypeVar

import torch
import torch.nn.functional as F

from relukan_bench.schema import LBFGSSpec
from relukan_bench.timing import clock

#: A step's phases, in the order they run: each is (name, the function that runs it).
Phases = list[tuple[str, Callable[[], object]]]


def mse_each(prediction: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The MSE: a scalar for (B, out), one per seed for a batched model's (S, B, out)."""
    if prediction.dim() == 3:
        return F.mse_loss(prediction, y, reduction="none").mean(dim=(1, 2))
    return F.mse_loss(prediction, y)



class StepBase:
    """What both training steps share: a call that prepares on first use and then replays the
    captured graph, if any, else runs one eager step (`_step`); warm-up steps on a side stream
    before a capture (CUDA needs its lazily created handles to exist first)."""

    prepared: bool
    _graph: torch.cuda.CUDAGraph | None
    _graph_loss: torch.Tensor | None
    last_loss: torch.Tensor | None

    def _step(self) -> torch.Tensor:
        raise NotImplementedError

    def prepare(self) -> float:
        raise NotImplementedError

    def __call__(self) -> torch.Tensor:
        if not self.prepared:
            self.prepare()
        if self._graph is not None:
            self._graph.replay()
            assert self._graph_loss is not None  # captured with the graph
            self.last_loss = self._graph_loss
            return self._graph_loss
        return self._step()

    def _warm_up_on_a_side_stream(self, steps: int) -> None:
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(steps):
                self._step()
        torch.cuda.current_stream().wait_stream(side)


#: Shapes compiled per function before torch.compile gives up (its defaults: 8 and 256).
RECOMPILE_LIMIT = 4096


_P = ParamSpec("_P")
_R = TypeVar("_R")


def compile_step(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """`torch.compile(function)` for one step's fixed shapes (`dynamic=False`).

    Every step's compiled functions are closures sharing one code object per kind (FusedStep's
    gradient function; TrainStep's loss and optimizer step), and dynamo counts what it
    compiled per code object: after 8 (a run with several models, functions, seeds and repeats
    reaches that), it silently runs the function eagerly, and a "compiled" timing would be an
    eager one. The limits are raised, and hitting one is made an error instead of a fallback."""
    import torch._dynamo.config as dynamo

    for name in ("recompile_limit", "cache_size_limit", "accumulated_recompile_limit", "accumulated_cache_size_limit"):
        if hasattr(dynamo, name):
            setattr(dynamo, name, max(getattr(dynamo, name), RECOMPILE_LIMIT))
    if hasattr(dynamo, "fail_on_recompile_limit_hit"):
        dynamo.fail_on_recompile_limit_hit = True
    _silence_profiler_note()
    return torch.compile(function, dynamic=False)


class _ProfilerNote:
    """Drops dynamo's note that it ignores a profiler's record_function (every torch optimizer's
    step is wrapped in one: compiling it says so once per process, on the user's terminal)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Profiler record function")


def _silence_profiler_note() -> None:
    logger = logging.getLogger("torch._dynamo.variables.ctx_manager")
    if not any(isinstance(f, _ProfilerNote) for f in logger.filters):
        logger.addFilter(_ProfilerNote())


class TrainStep(StepBase):
    """One full training step on (x, y): zero_grad, forward, MSE loss, backward, step.

    Calling it never reads a value back from the device (no `.item()`), so on a GPU the
    steps queue up and only the clock's synchronisation waits for them. `last_loss` holds
    the loss tensor of the latest step (computed before that step's update).

    `compile=True` runs the model's forward and the MSE through `torch.compile` (AOTAutograd
    compiles their backward too) and compiles the optimizer's step. `cuda_graph=True` (CUDA
    only; the optimizer built with `capturable=True`, as `make_step` does) captures the whole
    step, forward, loss, backward and optimizer step, in a CUDA graph and replays it, following
    PyTorch's whole-network capture: the step trains on its own copies of x and y, keeps its
    gradients allocated (the graph writes them in place), and returns the same loss tensor
    every time, overwritten by the next replay: copy what you keep. Both happen in `prepare()`,
    which returns the seconds it took; the first call prepares if nobody did.

    A compiled or captured step keeps its optimizer's state tensors for good (the compiled
    step is specialised to them, the graph reads their addresses): `prepare()` and
    `reset_optimizer()` set them in place, so the optimizer must be an Adam, whose fresh state
    is all zeros.
    """

    def __init__(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor,
                 compile: bool = False, cuda_graph: bool = False):
        self.cuda_graph = cuda_graph and x.is_cuda
        if (compile or self.cuda_graph) and not isinstance(optimizer, torch.optim.Adam):
            raise ValueError(f"a compiled or captured step resets its optimizer to zeros, Adam's fresh state "
                             f"(got {type(optimizer).__name__})")
        self.model, self.optimizer, self.compile = model, optimizer, compile
        self.x, self.y = (x.clone(), y.clone()) if self.cuda_graph else (x, y)

        def loss(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            return mse_each(model(x), y)  # (B, out) vs (B, out): a scalar; batched: (S,)

        def update() -> None:
            optimizer.step()

        self._loss = compile_step(loss) if compile else loss
        self._update = compile_step(update) if compile else optimizer.step
        self._graph = None
        self._graph_loss = None
        self._pending: torch.Tensor | None = None  # the loss, between the phases
        self.prepared = not (compile or self.cuda_graph)
        self.last_loss: torch.Tensor | None = None

    def _forward(self) -> None:
        # a captured step zeroes its gradients in place: they stay the tensors its graph writes
        self.optimizer.zero_grad(set_to_none=self._graph is None)
        self._pending = self._loss(self.x, self.y)

    def _backward(self) -> None:
        loss = self._pending
        assert loss is not None  # the forward phase set it
        (loss.sum() if loss.dim() else loss).backward()

    def _optimize(self) -> torch.Tensor:
        loss = self._pending
        assert loss is not None  # the forward phase set it
        self._update()
        self.last_loss = loss.detach()
        self._pending = None
        return self.last_loss

    def _step(self) -> torch.Tensor:
        self._forward()
        self._backward()
        return self._optimize()

    def phases(self) -> Phases:
        """The eager step in its phases, to run in this order (together one training step):
        "forward" (zero_grad, forward, loss), "backward" (the loss's autograd backward),
        "optimizer" (the optimizer's step). A captured step runs its eager path here (a graph
        cannot be cut), compiled when the step is, on the same parameters, optimizer and data;
        the step is prepared first, so no phase compiles."""
        if not self.prepared:
            self.prepare()
        return [("forward", self._forward), ("backward", self._backward), ("optimizer", self._optimize)]

    def prepare(self) -> float:
        """Compile and/or capture now, changing nothing the training sees; return the seconds.

        Compiling runs one whole step: dynamo compiles the forward and loss at their first
        call, AOTAutograd their backward at the first backward, dynamo the optimizer's step at
        its first call. Capturing first runs three whole steps on a side stream (compiling
        them, and creating CUDA's lazy handles and the optimizer's state before capture), then
        records one step, forward to optimizer step, into the graph (recording executes
        nothing). Either way the parameters, buffers and optimizer state are put back, in
        place, as they were before (state the optimizer created here is zeroed: fresh)."""
        device = str(self.x.device)
        start = clock(device)
        if not self.prepared:
            last_loss = self.last_loss
            with _put_back([*self.model.parameters(), *self.model.buffers()], self.optimizer):
                if self.cuda_graph:
                    self._warm_up_on_a_side_stream(steps=3)
                else:
                    self._step()
            if self.cuda_graph:
                self._capture()
            self.prepared, self.last_loss = True, last_loss
        return clock(device) - start

    def _capture(self) -> None:
        self.optimizer.zero_grad(set_to_none=True)  # backward allocates them from the graph's pool
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            loss = self._loss(self.x, self.y)
            (loss.sum() if loss.dim() else loss).backward()
            self._update()
        self._graph_loss = loss.detach()
        self._graph = graph

    def set_data(self, x: torch.Tensor, y: torch.Tensor) -> None:
        """Train on (x, y) from now on: a captured step copies them into its own buffers (its
        graph reads those) and refuses another shape; a step to be captured keeps its own
        copies; any other uses them as given."""
        if self._graph is not None:
            if x.shape != self.x.shape or y.shape != self.y.shape:
                raise ValueError("a captured step keeps its data's shape")
            self.x.copy_(x)
            self.y.copy_(y)
        elif self.cuda_graph:
            self.x, self.y = x.clone(), y.clone()
        else:
            self.x, self.y = x, y

    def reset_optimizer(self) -> None:
        """Start the optimizer afresh: torch's optimizers build their state at the next step; a
        compiled or captured step zeroes the state it has, in place (Adam's fresh state)."""
        if self.prepared and (self.compile or self.cuda_graph):
            with torch.no_grad():
                for tensor in _state_tensors(self.optimizer):
                    tensor.zero_()
        else:
            self.optimizer.state.clear()


def _state_tensors(optimizer: torch.optim.Optimizer) -> list[torch.Tensor]:
    """Every tensor of the optimizer's state (Adam: per parameter, its moments and step count)."""
    return [value for state in optimizer.state.values() for value in state.values() if torch.is_tensor(value)]


@contextmanager
def _put_back(tensors: list[torch.Tensor], optimizer: torch.optim.Optimizer) -> Iterator[None]:
    """Run the block, then copy back, in place, the values `tensors` and the optimizer's state
    had before it: what the block trained is undone, and every tensor keeps its address (a
    compiled step is specialised to them, a graph reads them). State the optimizer created in
    the block (torch's build theirs at their first step) is zeroed: Adam's fresh state."""
    with torch.no_grad():
        saved = [t.detach().clone() for t in tensors]
        saved_state = {id(p): {k: v.clone() for k, v in state.items() if torch.is_tensor(v)}
                       for p, state in optimizer.state.items()}
    yield
    with torch.no_grad():
        for tensor, value in zip(tensors, saved):
            tensor.copy_(value)
        for p, state in optimizer.state.items():
            before = saved_state.get(id(p), {})
            for key, value in state.items():
                if torch.is_tensor(value) and key in before:
                    value.copy_(before[key])
                elif torch.is_tensor(value):
                    value.zero_()


class _NonFinite(Exception):
    """The loss before an LBFGS step is NaN or infinite: the run has diverged."""


class LBFGSStep:
    """One training step with torch.optim.LBFGS on (x, y): one `LBFGS.step(closure)`, whose
    closure (zero_grad, forward, MSE loss, backward) runs `settings.max_iter` iterations, each
    searching along its direction (a strong-Wolfe line search evaluates the loss several
    times; `settings` a schema.LBFGSSpec, None: its defaults). `lr` is the first step length
    tried. LBFGS keeps its history from step to step.

    Called like a `TrainStep`: it returns (and keeps in `last_loss`) the loss of the model
    before the step's update, the closure's first evaluation. That loss is read back every
    step (LBFGS compares losses on the host). A NaN or infinite loss before the step ends the
    step there, untouched, and is returned: the loop records the run as diverged. An error
    LBFGS raises after a non-finite evaluation (its line search on NaN) is a divergence too
    (a NaN loss returned); any other error is raised.

    Nothing to compile or capture: `prepare()` returns 0 seconds. A batched model's loss is
    one MSE per seed, minimised as their sum; but one line search for all the seeds couples
    them, so the experiments train an LBFGS entry's seeds one by one (seed_groups.batchable).
    """

    def __init__(self, model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, lr: float,
                 settings: LBFGSSpec | None = None):
        settings = LBFGSSpec() if settings is None else settings
        self.model, self.x, self.y = model, x, y
        self.optimizer = torch.optim.LBFGS(
            [p for p in model.parameters() if p.requires_grad], lr=lr, max_iter=settings.max_iter,
            max_eval=settings.evaluations(), tolerance_grad=settings.tolerance_grad,
            tolerance_change=settings.tolerance_change, history_size=settings.history_size,
            line_search_fn=None if settings.line_search == "none" else settings.line_search,
        )
        self.prepared = True
        self.last_loss: torch.Tensor | None = None
        self._evaluated: list[torch.Tensor] = []  # the losses the current step's closure computed

    def _closure(self) -> torch.Tensor:
        self.optimizer.zero_grad(set_to_none=True)
        each = mse_each(self.model(self.x), self.y)  # a scalar; batched: (S,)
        self._evaluated.append(each.detach())
        if len(self._evaluated) == 1 and not bool(torch.isfinite(each).all()):
            raise _NonFinite
        loss = each.sum() if each.dim() else each
        loss.backward()
        return loss

    def __call__(self) -> torch.Tensor:
        self._evaluated = []
        try:
            self.optimizer.step(self._closure)
        except _NonFinite:
            pass
        except Exception:  # noqa: BLE001 - whatever LBFGS raises on NaN is a divergence; the rest is raised
            if not self._evaluated or all(bool(torch.isfinite(loss).all()) for loss in self._evaluated):
                raise
            self._evaluated[0] = torch.full_like(self._evaluated[0], float("nan"))
        self.last_loss = self._evaluated[0]
        return self.last_loss

    def prepare(self) -> float:
        return 0.0
