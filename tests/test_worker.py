"""Workers: one process per pykan version, JSON calls, failures as one line."""

import pytest

from relukan_bench.worker import Worker, WorkerError, Workers


def test_a_worker_imports_its_own_pykan(pykan_home):
    with Workers() as workers:
        assert workers.call("0.0.5", "relukan_bench.pykan_envs:installed") == "0.0.5"
        assert workers.call("0.1.2", "relukan_bench.pykan_envs:installed") == "0.1.2"
        assert len(workers.running) == 2
    assert workers.running == {}


@pytest.mark.parametrize("name", ["os:system", "subprocess:run", "relukan_bench", "relukan_bench.worker:", "builtins:eval",
                                  "relukan_bench_evil.x:y", "relukan_bench.pykan_envs:installed()"])
def test_only_this_packages_functions_can_be_called(pykan_home, name):
    with Workers() as workers:
        with pytest.raises(WorkerError, match="expected a function of this package"):
            workers.call("0.0.5", name)


def test_an_exception_in_the_worker_comes_back_as_one_line(pykan_home):
    with Workers() as workers:
        with pytest.raises(WorkerError, match=r"^pykan 0.0.5: ValueError: invalid literal"):
            workers.call("0.0.5", "relukan_bench.pykan_envs:version_tuple", version="x")
        assert workers.call("0.0.5", "relukan_bench.pykan_envs:version_tuple", version="0.1") == [0, 1]


def test_a_worker_that_died_is_reported_then_started_afresh(pykan_home):
    from relukan_bench.pykan_envs import env_dir

    worker = Worker("0.0.5", env_dir("0.0.5"))
    try:
        worker.process.kill()
        worker.process.wait()
        with pytest.raises(WorkerError, match=r"the pykan 0.0.5 worker ended \(exit status -9"):
            worker.call("relukan_bench.pykan_envs:installed")
    finally:
        worker.close()
    with Workers() as workers:
        workers.call("0.0.5", "relukan_bench.pykan_envs:installed")
        first = workers.running["0.0.5"].process
        first.kill()
        first.wait()
        assert workers.call("0.0.5", "relukan_bench.pykan_envs:installed") == "0.0.5"
        assert workers.running["0.0.5"].process is not first


def test_an_unprepared_version_says_how_to_prepare_it(tmp_path, monkeypatch):
    monkeypatch.setenv("RELUKAN_BENCH_PYKAN_HOME", str(tmp_path))
    with Workers() as workers:
        with pytest.raises(WorkerError, match="relukan-bench pykan install 0.0.5"):
            workers.call("0.0.5", "relukan_bench.pykan_envs:installed")
