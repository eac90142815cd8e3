import os

import pytest
from hypothesis import settings

# Keep the tests' own torch work on one thread: these machines have 2 shared cores.
os.environ.setdefault("OMP_NUM_THREADS", "1")

# Property tests: the same 300 examples every run by default, so that CI is never red by chance
# (a failure is a bug, found again by the next run); HYPOTHESIS_PROFILE=explore searches afresh.
settings.register_profile("default", max_examples=300, deadline=None, derandomize=True, database=None)
settings.register_profile("explore", max_examples=20_000, deadline=None, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(autouse=True, scope="session")
def ieee_float32():
    """Float32 in IEEE precision on a GPU too (no TF32), as every run computes
    (`devices.ieee_float32`, which the runner enters)."""
    from relukan_bench.devices import ieee_float32

    with ieee_float32():
        yield
