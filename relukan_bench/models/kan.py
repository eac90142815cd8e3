"""The original B-spline KAN (Liu et al. 2024), as implemented by the pykan this process
imports: 0.2.8 installed, or an older release in a worker (relukan_bench.pykan_envs).

`PyKAN(width, grid, k, mode=...)` wraps pykan's `KAN` so that it behaves like every other
model here, whichever release it is (the adapter reads the constructor's signature):

- (B, width[0]) -> (B, width[-1]), float32;
- `mode="speed"` (pykan >= 0.2.0): `KAN.speed()`: no symbolic branch (its unused parameters
  frozen, so parameter counts are honest), no saved activations; `"speed-compile"`:
  `KAN.speed(compile=True)`, pykan's own `torch.compile` of its forward; `"default"`: the
  model as `KAN(width, grid, k, ...)` builds it (symbolic branch on, activations saved, in
  0.0.x also its activation statistics at every forward): what a user who never heard of
  `speed()` times, and what the releases before 0.2.0 offer;
- never a checkpoint (`auto_save=False` where the release has it): it writes no file;
- it shows no progress bar, not even in pykan's own `fit()` (see `pykan_fit`);
- pykan reseeds torch, numpy and `random` in its constructor: here that happens inside a
  scope that gives the caller's global random state back;
- pykan turns the `width` list it is given into nested lists: it gets a copy;
- `grid_range` defaults to the data domain, [0, 1] (pykan's own default is [-1, 1]).

- pykan fits spline coefficients with `torch.linalg.lstsq` (its initial noise in the
  constructor; the grid updates of its own `fit()`). The systems are rank-deficient
  (G + 1 points, G + k coefficients), and the default CPU driver, `gelsy` (MKL), is not
  reproducible for them: its result depends on memory alignment, so two models built with the
  same seed differed in `coef` by up to 3e-2, and a 5000-step run of f6 ended with a test MSE
  of 1.2e-1 once and 3.1e-2 the next time. Here pykan's calls run with the `gelsd` driver
  (SVD, the minimum-norm solution), which is deterministic; everything else is pykan's own.

pykan is imported on first construction only; importing it costs seconds (sklearn, sympy).
"""

from __future__ import annotations

import importlib
import inspect
from contextlib import contextmanager
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import torch
from torch import nn

from relukan_bench.pykan_envs import installed
from relukan_bench.seeding import preserved_rng, seeded

MODES = ("default", "speed", "speed-compile")


class PyKAN(nn.Module):
    """pykan's KAN, (B, in) -> (B, out).

    Args:
        width: layer widths, e.g. [2, 5, 1]. Not modified.
        grid: G, grid intervals of every B-spline.
        k: spline order.
        grid_range: (lo, hi) covered by the initial grid; the data domain by default.
        seed: pykan's initialisation seed (the caller's global random state is preserved).
        mode: "speed" (default), "speed-compile" or "default" (see the module docstring).
    """

    def __init__(
        self,
        width: Sequence[int],
        grid: int,
        k: int,
        grid_range: tuple[float, float] = (0.0, 1.0),
        seed: int = 0,
        mode: str = "speed",
    ) -> None:
        super().__init__()
        from kan import KAN  # never `import *`: it injects ~1000 names

        if mode not in MODES:
            raise ValueError(f"expected a pykan mode among {', '.join(MODES)} (got {mode!r})")
        if mode != "default" and not hasattr(KAN, "speed"):
            raise ValueError(f"this pykan ({pykan_version()}) has no speed mode (KAN.speed() came with 0.2.0); use mode: default")
        self.width = list(width)
        self.grid, self.k, self.mode = grid, k, mode
        self.grid_range = (float(grid_range[0]), float(grid_range[1]))
        with preserved_rng(), deterministic_lstsq():
            model = KAN(**_constructor_arguments(KAN, self.width, grid, k, list(self.grid_range), seed, mode))
        self.kan = model if mode == "default" else model.speed(compile=mode == "speed-compile")
        if mode != "default":
            for parameter in model.symbolic_fun.parameters():
                parameter.requires_grad_(False)  # the symbolic branch is off: nothing trains these

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, width[0]) -> (B, width[-1])."""
        return self.kan(x)

    def _apply(self, fn, *args, **kwargs):
        # `.to(device)` on this wrapper moves pykan's parameters but bypasses pykan's own
        # `to()`, which also records the device; record it the same way.
        super()._apply(fn, *args, **kwargs)
        self.inner.device = self.inner.act_fun[0].coef.device
        return self

    @property
    def compiles_on_first_call(self) -> bool:
        """Whether the first forward compiles (speed-compile: torch.compile is lazy)."""
        return self.mode == "speed-compile"

    @property
    def inner(self) -> Any:
        """pykan's own model (`speed(compile=True)` returns a wrapper around it)."""
        return getattr(self.kan, "_orig_mod", self.kan)

    def spline_parameter_count(self) -> int:
        """Trainable B-spline coefficients only (without base and spline scales)."""
        return sum(layer.coef.numel() for layer in self.inner.act_fun if layer.coef.requires_grad)

    def pykan_fit(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        x_test: torch.Tensor,
        y_test: torch.Tensor,
        steps: int,
        options: Mapping[str, object],
        seed: int = 0,
        monitor: Callable[[int], bool] | None = None,
    ) -> torch.Tensor:
        """Train with pykan's own `KAN.fit()`, full batch; return the (steps_done, 2) train
        and test MSE of every step (float64, CPU).

        pykan logs RMSE (the square root of its MSE loss); the values are squared back here.
        `options` are `fit()` keywords (opt, lr, update_grid, grid_update_num, ...).
        `monitor(steps_done)` is called before every step but the first; returning False
        ends training there (pykan itself never stops, even on NaN). `steps_seen` counts the
        steps begun, also when `fit()` raises. pykan's own progress bar is replaced by this
        counter, and the global numpy generator that `fit()` draws its batch order from is
        seeded with `seed` and restored afterwards.
        """
        dataset = {"train_input": x, "train_label": y, "test_input": x_test, "test_label": y_test}
        counter = _StepCounter(monitor)
        self.steps_seen = 0
        try:
            with seeded(seed), _pykan_progress(counter), deterministic_lstsq():
                results = self.inner.fit(dataset, steps=steps, log=max(steps, 1), **dict(options))
        finally:
            self.steps_seen = counter.seen
        rmse = torch.tensor([[float(a), float(b)] for a, b in zip(results["train_loss"], results["test_loss"])], dtype=torch.float64)
        return (rmse**2).reshape(-1, 2)


def pykan_version() -> str | None:
    """The version of the pykan this process imports."""
    return installed()


def _constructor_arguments(KAN: type[nn.Module], width: list[int], grid: int, k: int, grid_range: list[float], seed: int,
                           mode: str) -> dict[str, object]:
    """The keywords this release's constructor takes for our model: the same grid, range and
    seed everywhere; no checkpoints where it can write them (0.1.x writes ./model by default);
    in the speed modes, what `speed()` switches off, off from the start too."""
    accepted = inspect.signature(KAN.__init__).parameters
    arguments: dict[str, object] = {"width": list(width), "grid": grid, "k": k, "grid_range": grid_range, "seed": seed}
    if "auto_save" in accepted:
        arguments["auto_save"] = False
    if mode != "default":
        arguments.update({name: False for name in ("symbolic_enabled", "save_act") if name in accepted})
    return arguments


class _StepCounter:
    """Stands in for the tqdm bar pykan's `fit()` wraps its step loop in: silent, counting,
    and able to end the loop early."""

    def __init__(self, monitor: Callable[[int], bool] | None) -> None:
        self.iterable: Iterable[object] = ()
        self.monitor, self.seen = monitor, 0

    def __call__(self, iterable: Iterable[object], *args: object, **kwargs: object) -> "_StepCounter":
        """What `tqdm(iterable, desc=..., ncols=...)` is replaced by."""
        self.iterable = iterable
        return self

    def __iter__(self) -> Iterator[object]:
        for done, item in enumerate(self.iterable):
            if done and self.monitor is not None and not self.monitor(done):
                return
            self.seen = done + 1
            yield item

    def set_description(self, *args: object, **kwargs: object) -> None:
        pass


@contextmanager
def _pykan_progress(counter: _StepCounter) -> Iterator[None]:
    """While active, pykan's `fit()` iterates over `counter` instead of a tqdm bar."""
    multkan = importlib.import_module("kan.MultKAN")  # the module (`kan.MultKAN` the attribute is the class)
    original = getattr(multkan, "tqdm")  # by name: a module object has no typed attributes
    setattr(multkan, "tqdm", counter)
    try:
        yield
    finally:
        setattr(multkan, "tqdm", original)


@contextmanager
def deterministic_lstsq() -> Iterator[None]:
    """While active, `torch.linalg.lstsq` on the CPU uses the `gelsd` driver unless the caller
    names one. pykan calls it without a driver, which on the CPU means `gelsy`: not
    reproducible on rank-deficient systems (see the module docstring)."""
    original = torch.linalg.lstsq

    def lstsq(a: torch.Tensor, b: torch.Tensor, rcond: float | None = None, *, driver: str | None = None) -> object:
        if driver is None and a.device.type == "cpu":
            driver = "gelsd"
        return original(a, b, rcond=rcond, driver=driver)

    torch.linalg.lstsq = lstsq
    try:
        yield
    finally:
        torch.linalg.lstsq = original
