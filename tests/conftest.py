import os

import pytest
from hypothesis import settings

# Keep the tests' own torch work on one thread: these machines have 2 shared cores.
os.environ.setdefault("OMP_NUM_THREADS", "1")
# Tables written to a pipe are 160 columns wide unless COLUMNS says otherwise; pytest-xdist's
# workers inherit COLUMNS=80 and LINES=24. Every test sees the same default, however it runs.
for _variable in ("COLUMNS", "LINES"):
    os.environ.pop(_variable, None)

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


@pytest.fixture(autouse=True, scope="session")
def no_pykan_environments(tmp_path_factory):
    """No test sees the pykan environments prepared on this machine: runs and reproduce behave
    the same on a fresh clone (tests that need environments ask for `pykan_home`)."""
    from relukan_bench import pykan_envs

    os.environ[pykan_envs.HOME_VARIABLE] = str(tmp_path_factory.mktemp("no-pykan-environments"))
    yield


@pytest.fixture(autouse=True, scope="session")
def serial_by_default():
    """Commands run their units in this process unless a test asks for workers (`--workers`):
    a test's monkeypatches reach only this process, and two test runs share the machine's two
    cores. Tests of parallel execution say `--workers 2`."""
    from relukan_bench.executors import WORKERS_VARIABLE

    os.environ[WORKERS_VARIABLE] = "1"
    yield


@pytest.fixture(scope="session")
def prepared_pykan_home(tmp_path_factory):
    """A home of pykan environments with 0.0.5 and 0.1.2 prepared (pip, from the package index,
    once per test session: two wheels of ~100 KB)."""
    from relukan_bench import pykan_envs

    home = tmp_path_factory.mktemp("pykan-home")
    previous = os.environ[pykan_envs.HOME_VARIABLE]
    os.environ[pykan_envs.HOME_VARIABLE] = str(home)
    try:
        for version in pykan_envs.BASELINES:
            try:
                pykan_envs.install(version, echo=lambda line: None)
            except RuntimeError as exc:  # no package index reachable: nothing here can be tested
                pytest.skip(f"cannot prepare pykan {version}: {exc}")
    finally:
        os.environ[pykan_envs.HOME_VARIABLE] = previous
    return home


@pytest.fixture
def pykan_home(prepared_pykan_home, monkeypatch):
    """The prepared environments, seen by this test only (RELUKAN_BENCH_PYKAN_HOME)."""
    from relukan_bench import pykan_envs

    monkeypatch.setenv(pykan_envs.HOME_VARIABLE, str(prepared_pykan_home))
    return prepared_pykan_home
