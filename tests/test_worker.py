"""Workers: one process per pykan version, JSON calls, failures as one line."""

import pytest

from relukan_bench.errors import ExecutionError
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


def test_a_worker_that_died_is_lost_work_then_started_afresh(pykan_home):
    """A worker that ended is the executor's loss (ExecutionError), never the unit's failure."""
    from relukan_bench.pykan_envs import env_dir

    worker = Worker("0.0.5", env_dir("0.0.5"))
    try:
        worker.process.kill()
        worker.process.wait()
        with pytest.raises(ExecutionError, match=r"the pykan 0.0.5 worker ended \(exit status -9"):
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


LOST = """\
experiment: speed
seed: 0
baseline: old
data: {samples: 64}
train: {steps: 20}
timing: {repeats: 2, warmup_steps: 1}
models:
  - {name: relukan, kind: relukan}
  - {name: old, kind: kan, pykan: "0.0.5", mode: default}
functions:
  - {name: f1, expression: sin(pi*x1), width: [1, 1], grid: 5, k: 3}
"""


def test_a_worker_killed_during_speed_leaves_its_unit_unfinished_and_resume_runs_it(pykan_home, tmp_path):
    """kill -9 of the pykan 0.0.5 worker: the run stops in one line with the resume command,
    stdout still ends with the run directory, no row records the loss; --resume runs the
    lost repeat and the run ends with every repeat and no error."""
    import csv
    import subprocess
    import sys
    import time

    import psutil

    (tmp_path / "speed.yaml").write_text(LOST)
    process = subprocess.Popen([sys.executable, "-m", "relukan_bench", "speed", "-c", "speed.yaml", "--out", "run"],
                               cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline, killed = time.monotonic() + 120, False
    while not killed and time.monotonic() < deadline and process.poll() is None:
        for child in psutil.Process(process.pid).children(recursive=True):
            try:  # a child may end (a zombie for a moment) between the listing and the reading
                if "relukan_bench.worker" in " ".join(child.cmdline()):
                    child.kill()
                    killed = True
            except psutil.Error:
                continue
        time.sleep(0.02)
    out, err = process.communicate(timeout=300)
    assert killed and process.returncode == 1 and "Traceback" not in err, err
    assert err.splitlines()[-1].startswith("error: the pykan 0.0.5 worker ended"), err
    assert err.splitlines()[-1].endswith("to finish the run: relukan-bench speed --resume run"), err
    assert out.splitlines()[-1] == "run"
    with open(tmp_path / "run" / "raw.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert all(row["model"] != "old" and not row["error"] for row in rows)
    resumed = subprocess.run([sys.executable, "-m", "relukan_bench", "speed", "--resume", "run"], cwd=tmp_path,
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    with open(tmp_path / "run" / "raw.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted((row["model"], row["repeat"]) for row in rows) == [("old", "0"), ("old", "1"), ("relukan", "0"),
                                                                     ("relukan", "1")]
    assert not any(row["error"] for row in rows)
