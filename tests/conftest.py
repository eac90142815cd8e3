import os

import pytest

# Keep the tests' own torch work on one thread: these machines have 2 shared cores.
os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(autouse=True, scope="session")
def ieee_float32():
    """Float32 in IEEE precision on a GPU too (no TF32), as every run computes
    (`devices.ieee_float32`, which the runner enters)."""
    from relukan_bench.devices import ieee_float32

    with ieee_float32():
        yield
