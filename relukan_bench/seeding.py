"""Random state in a scope: seed what a block uses, give the caller back what it had."""

from __future__ import annotations

import random
import zlib
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def preserved_rng() -> Iterator[None]:
    """Restore the global torch (CPU and initialised CUDA), numpy and `random` states on exit."""
    import numpy as np
    import torch

    torch_state = torch.get_rng_state()
    cuda_states = torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None
    numpy_state = np.random.get_state()
    python_state = random.getstate()
    try:
        yield
    finally:
        torch.set_rng_state(torch_state)
        if cuda_states is not None:
            torch.cuda.set_rng_state_all(cuda_states)
        np.random.set_state(numpy_state)
        random.setstate(python_state)


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed torch, numpy and `random` for the block; restore the caller's states afterwards."""
    import numpy as np
    import torch

    with preserved_rng():
        torch.manual_seed(seed)
        np.random.seed(seed % 2**32)
        random.seed(seed)
        yield


def derive_seed(seed: int, *keys: object) -> int:
    """A seed for one unit of work, stable across runs and Python processes.

    `derive_seed(0, "data", "f1")` always gives the same number; different keys give
    unrelated ones, so adding a function to a config does not change the others' data.
    """
    text = "/".join([str(seed), *map(str, keys)])
    return zlib.crc32(text.encode("utf-8"))
