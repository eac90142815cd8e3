"""The training every experiment shares: full batch, MSE, one optimizer step at a time.

`make_step` builds one step (what `speed` times) for a model:

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

from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

import torch
import torch.nn.functional as F

if TYPE_CHECKING:
    from relukan_bench.config import TrainSpec

#: Steps between two reads of the losses from the device (and divergence checks).
CHUNK = 100

#: A step's phases, in the order they run: each is (name, the function that runs it).
Phases = list[tuple[str, Callable[[], object]]]


def keep_large_allocations() -> bool:
    """Ask glibc's malloc to keep large blocks instead of returning them to the system.

    By default glibc serves every block above 128 KiB (a threshold that adapts, but is reset by
    mixed sizes) with a fresh mmap, and the kernel zero-fills each of its pages on first touch.
    A batched model's temporaries are a few hundred KiB to a few MiB, allocated and freed dozens
    of times per step; measured on f5 with 8 seeds, 1 thread: 15.5 ms per batched step with
    the default, 5.3 ms with this. Process-wide; `fit` and `forgetting` call it (they batch
    seeds), `speed` does not (its timings stay comparable with earlier runs). Returns whether
    it took effect (False where the C library is not glibc)."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    return bool(mallopt(M_MMAP_THRESHOLD, 1 << 30)) and bool(mallopt(M_TRIM_THRESHOLD, 1 << 30))


def make_optimizer(model: torch.nn.Module, train: "TrainSpec", lr: float | None = None,
                   capturable: bool = False) -> torch.optim.Optimizer:
    """The optimizer the config names, over the model's trainable parameters, at `lr`
    (default: the config's). `capturable`: its step counts live on the parameters' device and
    its step never reads them back, so that a CUDA graph can capture it (CUDA only)."""
    parameters = [p for p in model.parameters() if p.requires_grad]
    if train.optimizer == "adam":
        return torch.optim.Adam(parameters, lr=train.lr if lr is None else lr, capturable=capturable)
    raise ValueError(f"unknown optimizer {train.optimizer!r}")


def make_step(model: torch.nn.Module, train: "TrainSpec", x: torch.Tensor, y: torch.Tensor, lr: float | None = None,
              fused: bool = False, compile: bool = False, cuda_graph: bool = False, optimizer: str | None = None,
              lbfgs: Any = None) -> "TrainStep | FusedStep | LBFGSStep":
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
        return FusedStep(model, x, y, lr=train.lr if lr is None else lr, compile=compile, cuda_graph=cuda_graph)
    capture = cuda_graph and x.is_cuda
    return TrainStep(model, make_optimizer(model, train, lr=lr, capturable=capture), x, y, compile=compile, cuda_graph=capture)


def step_for(spec: Any, model: torch.nn.Module, train: "TrainSpec", x: torch.Tensor, y: torch.Tensor,
             lr: float | None = None) -> "TrainStep | FusedStep | LBFGSStep":
    """`make_step` with what a model entry of a config asks for: its own learning rate and
    optimizer, and the step options its kind gives it (relukan_bench.kinds: fused, compiled,
    captured). The fused step is Adam's: with `optimizer: lbfgs` every kind, the fast ReLU-KAN
    too, trains its model through autograd, uncaptured (its schema refuses `compile: true` and
    `cuda_graph: true` beside it)."""
    from relukan_bench.kinds import kind_of, optimizer_of

    options = kind_of(spec).step(spec)
    optimizer = optimizer_of(spec, train.optimizer)
    eager = optimizer == "lbfgs"
    return make_step(model, train, x, y, lr=spec.lr if lr is None else lr, fused=options.fused and not eager,
                     compile=options.compile, cuda_graph=options.cuda_graph and not eager, optimizer=optimizer,
                     lbfgs=getattr(spec, "lbfgs", None))


def prepare(spec: Any, step: "TrainStep | FusedStep | LBFGSStep | None") -> float:
    """Compile and capture `step` now, before any clock starts (its `prepare()`); return the
    seconds it took when the model entry `spec` asks for torch.compile, else NaN (what the
    experiments record as compile_seconds: a capture alone takes milliseconds)."""
    import math

    from relukan_bench.kinds import kind_of

    seconds = step.prepare() if step is not None else math.nan
    return seconds if kind_of(spec).step(spec).compile else math.nan


def mse_each(prediction: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The MSE: a scalar for (B, out), one per seed for a batched model's (S, B, out)."""
    if prediction.dim() == 3:
        return F.mse_loss(prediction, y, reduction="none").mean(dim=(1, 2))
    return F.mse_loss(prediction, y)


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
        """One Adam step with `grads` (default: the parameters' .grad), in place."""
        grads = [p.grad for p in self.params] if grads is None else grads
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


class _Step:
    """What both training steps share: a call that prepares on first use and then replays the
    captured graph, if any, else runs one eager step (`_step`); warm-up steps on a side stream
    before a capture (CUDA needs its lazily created handles to exist first)."""

    prepared: bool
    _graph: Any
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


class FusedStep(_Step):
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

    def __init__(self, model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, lr: float,
                 compile: bool = False, cuda_graph: bool = False):
        from relukan_bench.models.relukan_fast import mse_grads

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

        def loss_and_grads(x_t: torch.Tensor, y_t: torch.Tensor, params: list[torch.Tensor]):
            return mse_grads(x_t, y_t, r2s, params, needs)

        self._grads = _compile(loss_and_grads) if compile else loss_and_grads
        self._graph = None
        self._graph_loss: torch.Tensor | None = None
        self._pending: tuple[torch.Tensor, list[torch.Tensor]] | None = None  # between the two phases
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

    def _update(self) -> None:
        loss, grads = self._pending
        self._pending = None
        self.optimizer.step([g for g, need in zip(grads, self.needs) if need])
        self.last_loss = loss

    def _step(self) -> torch.Tensor:
        self._loss_and_grads()
        self._update()
        return self.last_loss

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
        from relukan_bench.timing import clock

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


#: Shapes compiled per function before torch.compile gives up (its defaults: 8 and 256).
RECOMPILE_LIMIT = 4096


def _compile(function: Callable) -> Callable:
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

    def filter(self, record: Any) -> bool:
        return not str(record.msg).startswith("Profiler record function")


def _silence_profiler_note() -> None:
    import logging

    logger = logging.getLogger("torch._dynamo.variables.ctx_manager")
    if not any(isinstance(f, _ProfilerNote) for f in logger.filters):
        logger.addFilter(_ProfilerNote())


class TrainStep(_Step):
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

        self._loss = _compile(loss) if compile else loss
        self._update = _compile(update) if compile else optimizer.step
        self._graph = None
        self._graph_loss: torch.Tensor | None = None
        self._pending: torch.Tensor | None = None  # the loss, between the phases
        self.prepared = not (compile or self.cuda_graph)
        self.last_loss: torch.Tensor | None = None

    def _forward(self) -> None:
        # a captured step zeroes its gradients in place: they stay the tensors its graph writes
        self.optimizer.zero_grad(set_to_none=self._graph is None)
        self._pending = self._loss(self.x, self.y)

    def _backward(self) -> None:
        loss = self._pending
        (loss.sum() if loss.dim() else loss).backward()

    def _optimize(self) -> None:
        self._update()
        self.last_loss = self._pending.detach()
        self._pending = None

    def _step(self) -> torch.Tensor:
        self._forward()
        self._backward()
        self._optimize()
        return self.last_loss

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
        from relukan_bench.timing import clock

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

    def __init__(self, model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, lr: float, settings: Any = None):
        from relukan_bench.schema import LBFGSSpec

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
    step: "TrainStep | FusedStep",
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
    step: "TrainStep | FusedStep",
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


def _logged(step, evaluated, steps, on_progress, seeds: int | None) -> list[Curve]:
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
