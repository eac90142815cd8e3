"""The one place that owns the clock.

- the thread count is pinned for a block and restored afterwards (`threads`);
- on a GPU, `torch.cuda.synchronize()` runs before every clock read, so queued kernels are
  inside the measurement (`clock`);
- warm-up steps run before the timed region and are never part of it (`time_steps`):
  some parts of PyTorch initialise lazily (allocator pools, kernels, Adam's state);
- `time.perf_counter`, the highest-resolution monotonic clock.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Callable, Iterator


@contextmanager
def threads(n: int) -> Iterator[None]:
    """Run the block with `torch.set_num_threads(n)`; restore the previous count afterwards."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def synchronize(device: str) -> None:
    """Wait for every kernel queued on `device` (a no-op on the CPU)."""
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize(device)


def clock(device: str) -> float:
    """Seconds on a monotonic clock, read after the device has finished its queued work."""
    synchronize(device)
    return time.perf_counter()


def time_steps(step: Callable[[], object], steps: int, warmup: int, device: str) -> float:
    """Run `warmup` untimed calls of `step`, then time `steps` calls; return the seconds."""
    for _ in range(warmup):
        step()
    start = clock(device)
    for _ in range(steps):
        step()
    return clock(device) - start
