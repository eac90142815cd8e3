"""Parallel execution (relukan_bench.executors): the same results as a serial run, to the last
bit, whatever executes the units; Ctrl-C, a dead worker and bad options handled like the rest
of a run. Small real runs: ReLU-KAN batched over seeds, pykan's KAN by our loop and by its own
`fit()`, a forgetting run."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from relukan_bench.runner import Request, run
from tests.no_figures import figures_skipped
from tests.tiny import FIT, FORGETTING

ROOT = Path(__file__).resolve().parent.parent
LOGS = ("curves.csv", "predictions.csv", "table.csv")


def _runs_less_seconds(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    drop = {rows[0].index(c) for c in ("seconds", "compile_seconds") if c in rows[0]}
    return [[cell for i, cell in enumerate(row) if i not in drop] for row in rows]


def _same_run(one: Path, other: Path, logs: tuple[str, ...] = LOGS, timed: tuple[str, ...] = ("runs.csv",)) -> None:
    """The same files, byte for byte; those with a `seconds` column without it."""
    for name in logs:
        assert (one / name).read_bytes() == (other / name).read_bytes(), name
    for name in timed:
        assert _runs_less_seconds(one / name) == _runs_less_seconds(other / name), name


@pytest.fixture(autouse=True, scope="module")
def no_figures():
    """These runs are compared by their files' bytes: the runs in this process draw no figures."""
    with figures_skipped():
        yield


@pytest.fixture(scope="module")
def fit_serial(tmp_path_factory):
    home = tmp_path_factory.mktemp("fit")
    (home / "fit.yaml").write_text(FIT)
    run("fit", Request(config=home / "fit.yaml", out=home / "serial", workers=1))
    return home


def test_two_local_workers_give_a_serial_runs_files(fit_serial):
    result = run("fit", Request(config=fit_serial / "fit.yaml", out=fit_serial / "local", workers=2))
    assert result.units == (12, 12) and not result.failed and not result.interrupted
    _same_run(fit_serial / "local", fit_serial / "serial")
    assert json.loads((fit_serial / "local" / "env.json").read_text())["execution"] == {"executor": "local", "workers": 2}
    assert json.loads((fit_serial / "serial" / "env.json").read_text())["execution"] == {"executor": "serial", "workers": 1}


def test_a_local_dask_cluster_of_two_workers_gives_a_serial_runs_files(fit_serial):
    pytest.importorskip("distributed")
    result = run("fit", Request(config=fit_serial / "fit.yaml", out=fit_serial / "dask", workers=2, executor="dask"))
    assert result.units == (12, 12) and not result.failed
    _same_run(fit_serial / "dask", fit_serial / "serial")
    assert json.loads((fit_serial / "dask" / "env.json").read_text())["execution"] == {"executor": "dask", "workers": 2}


def test_forgetting_in_parallel_gives_a_serial_runs_files(tmp_path):
    (tmp_path / "forgetting.yaml").write_text(FORGETTING)
    for workers in (1, 2):
        run("forgetting", Request(config=tmp_path / "forgetting.yaml", out=tmp_path / str(workers), workers=workers))
    _same_run(tmp_path / "2", tmp_path / "1", ("curves.csv", "matrix.csv"), ("runs.csv", "summary.csv"))


def test_tasks_keep_a_batched_models_seeds_together_and_start_with_the_costliest(fit_serial):
    from relukan_bench.config import load_config
    from relukan_bench.experiments.fit import EXPERIMENT as FIT_EXPERIMENT
    from relukan_bench.experiments.fit.config import FitConfig
    from relukan_bench.experiments.fit.plan import plan

    config = load_config(fit_serial / "fit.yaml", [], FitConfig)
    units = plan(config)
    tasks = FIT_EXPERIMENT.tasks(config, units)
    assert sorted((u for task in tasks for u in task), key=units.index) == units  # every unit once
    assert [len(task) for task in tasks if task[0].model == "relukan"] == [2, 2]  # its two seeds train as one model
    assert all(len(task) == 1 for task in tasks if task[0].model != "relukan")
    assert {task[0].model for task in tasks[:4]} == {"kan", "kan-pykan-fit"}  # pykan's costlier steps first
    half = FIT_EXPERIMENT.tasks(config, [u for u in units if u.seed == 1])
    assert all(len(task) == 1 for task in half)  # a finished seed is not asked for again


def _cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> Any:
    """The command line in this process (CliRunner), run in `cwd`: exit_code, stdout, stderr."""
    import os

    from typer.testing import CliRunner

    from relukan_bench.cli import app

    here = os.getcwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(app, list(args), env=env)
    finally:
        os.chdir(here)


@pytest.mark.parametrize("stop,status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_stop_signal_stops_the_workers_keeps_what_finished_and_resume_ends_as_a_serial_run(tmp_path, stop, status,
                                                                                            request):
    """Ctrl-C (from a terminal) or SIGTERM (from `timeout`, SLURM, systemd) reaches the driver
    and its workers at once, sent to the whole process group: sent as the first unit is written,
    it finds eleven to do."""
    import os

    (tmp_path / "fit.yaml").write_text(FIT)
    process = subprocess.Popen([sys.executable, "-m", "relukan_bench", "fit", "-c", "fit.yaml", "--workers", "2",
                                "--out", "run"], cwd=tmp_path, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    runs = tmp_path / "run" / "runs.csv"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and (not runs.exists() or len(runs.read_text().splitlines()) < 2):
        time.sleep(0.05)
    os.killpg(process.pid, stop)
    _, err = process.communicate(timeout=180)
    assert process.returncode == status and "Traceback" not in err, err
    assert "to finish the run: relukan-bench fit --resume run" in err.splitlines()[-1]
    kept = len(runs.read_text().splitlines()) - 1
    assert 1 <= kept < 12
    assert json.loads((tmp_path / "run" / "env.json").read_text())["interrupted"] is True
    if stop != signal.SIGINT:
        return  # what follows a stop does not depend on which signal it was
    assert run("fit", Request(resume=tmp_path / "run", workers=2)).units == (12, 12)
    _same_run(tmp_path / "run", request.getfixturevalue("fit_serial") / "serial")
    env = json.loads((tmp_path / "run" / "env.json").read_text())
    assert env["execution"]["workers"] == 2 and env["resumed"][0]["execution"]["workers"] == 2


def test_a_worker_that_dies_ends_the_run_in_one_line_keeping_what_finished(tmp_path):
    (tmp_path / "fake.yaml").write_text("experiment: fake\nitems: [a, b, c, d]\ndie: [c]\nsleep: 0.2\n")
    result = subprocess.run([sys.executable, "-m", "tests.fake_experiment", "fake", "-c", str(tmp_path / "fake.yaml"),
                             "--workers", "2", "--out", str(tmp_path / "run")],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and "worker process died" in last and "fake --resume" in last
    assert result.stdout.splitlines()[-1] == str(tmp_path / "run")  # stdout still ends with the run directory
    env = json.loads((tmp_path / "run" / "env.json").read_text())
    assert env["interrupted"] is True and env["end_time"]
    with open(tmp_path / "run" / "units.csv", newline="") as handle:
        assert all(row["item"] != "c" for row in csv.DictReader(handle))


def test_a_worker_that_dies_under_json_ends_with_the_status_line(tmp_path):
    (tmp_path / "fake.yaml").write_text("experiment: fake\nitems: [a, b, c, d]\ndie: [c]\nsleep: 0.2\n")
    result = subprocess.run([sys.executable, "-m", "tests.fake_experiment", "fake", "-c", str(tmp_path / "fake.yaml"),
                             "--workers", "2", "--out", str(tmp_path / "run"), "--json"],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    status = json.loads(result.stdout.splitlines()[-1])
    assert status["status"] == "lost" and "worker process died" in status["error"]
    assert status["units"]["finished"] < status["units"]["planned"]


def test_speed_stays_serial_unless_asked_and_then_says_why(tmp_path):
    from tests.tiny import SPEED

    (tmp_path / "speed.yaml").write_text(SPEED)
    quiet = _cli("speed", "-c", "speed.yaml", "--out", "one", "--functions", "f1", cwd=tmp_path,
                 env={"RELUKAN_BENCH_WORKERS": "2"})  # the variable never makes speed parallel
    assert quiet.exit_code == 0, quiet.stderr
    assert json.loads((tmp_path / "one" / "env.json").read_text())["execution"] == {"executor": "serial", "workers": 1}
    insisted = _cli("speed", "-c", "speed.yaml", "--out", "two", "--functions", "f1", "--workers", "2", cwd=tmp_path)
    assert insisted.exit_code == 0, insisted.stderr
    execution = json.loads((tmp_path / "two" / "env.json").read_text())["execution"]
    assert execution["workers"] == 2 and "contention" in execution["warning"]
    assert "warning: speed ran with 2 parallel workers" in insisted.stderr


def test_the_default_is_every_usable_core_over_the_threads():
    from relukan_bench.executors import Execution, resolve, usable_cores
    from relukan_bench.experiments.protocol import experiment

    assert resolve(experiment("fit"), Execution(workers=None), 1)[0].workers == usable_cores()
    assert resolve(experiment("fit"), Execution(workers=None), 10**4)[0].workers == 1
    assert resolve(experiment("speed"), Execution(workers=None), 1) == (Execution(workers=1), None)


def test_a_local_dask_cluster_listens_on_the_loopback_address_only():
    pytest.importorskip("distributed")
    import psutil

    from relukan_bench.executors_dask import DaskPool

    with DaskPool(2, None):
        processes = [psutil.Process(), *psutil.Process().children(recursive=True)]
        listening = [c.laddr for p in processes for c in p.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN]
    assert listening and all(address.ip == "127.0.0.1" for address in listening), listening


@pytest.mark.parametrize("args, message", [
    (["--workers", "0"], "--workers"),
    (["--workers", "257"], "--workers: expected 1 to 256 (got 257)"),
    (["--executor", "ray"], "'ray' is not one of 'local', 'dask'"),
    (["--address", "tcp://127.0.0.1:8786"], "a scheduler address needs --executor dask"),
    (["--executor", "dask", "--address", "tcp://127.0.0.1:1"], "no Dask scheduler answers there"),
    (["--executor", "dask", "--address", "not an address::"], "expected a scheduler address"),
    (["--executor", "dask", "--address", "tcp://127.0.0.1:99999999999"], "port 99999999999 is not 1 to 65535"),
    (["--executor", "dask", "--address", "tcp://127.0.0.1:0"], "port 0 is not 1 to 65535"),
])
def test_execution_options_that_cannot_run_are_refused_in_one_line_before_anything_is_written(tmp_path, args, message):
    pytest.importorskip("distributed")
    result = _cli("fit", "--quick", "--out", "run", *args, cwd=tmp_path)
    assert result.exit_code == 2 and message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (tmp_path / "run").exists()


def test_dask_asked_for_where_it_is_not_installed_is_one_line(tmp_path):
    code = ("import sys; sys.modules['distributed'] = None; sys.argv = ['relukan-bench', 'fit', '--quick', "
            "'--executor', 'dask', '--out', 'run']; from relukan_bench.cli import main; main()")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and result.stderr.strip() == (
        "error: --executor dask: Dask is not installed; install it with pip install 'relukan-bench[dask]'")
    assert not (tmp_path / "run").exists()


def test_any_address_where_no_scheduler_answers_is_refused_in_one_line_naming_it():
    """The class of bad addresses: any text, control characters and line breaks included, that
    names no port (one that does might reach something listening here; nothing listening at a
    port is tested above), and every port outside 1 to 65535."""
    pytest.importorskip("distributed")
    from hypothesis import given, strategies as st

    from relukan_bench.errors import UsageError
    from relukan_bench.executors import Execution, resolve
    from relukan_bench.experiments.protocol import experiment

    def with_port(text: str) -> bool:  # such an address might reach something that listens on this machine
        try:
            int(text.rsplit(":", 1)[-1])
            return True
        except ValueError:
            return False

    @given(st.one_of(st.one_of(st.text(max_size=200).map(lambda tail: "tcp://127.0.0.1:" + tail),
                               st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["L"]), max_size=200))
                     .filter(lambda address: not with_port(address)),
                     st.integers().filter(lambda port: not 1 <= port <= 65535).map(lambda port: f"tcp://127.0.0.1:{port}")))
    def refused(address: str) -> None:
        with pytest.raises(UsageError) as caught:
            resolve(experiment("fit"), Execution(2, "dask", address), 1)
        message = str(caught.value)
        assert message.startswith("--address ") and "\n" not in message and len(message) < 400

    refused()


def test_any_worker_count_out_of_bounds_is_refused():
    from hypothesis import given, strategies as st

    from relukan_bench.errors import UsageError
    from relukan_bench.executors import MAX_WORKERS, Execution, resolve
    from relukan_bench.experiments.protocol import experiment

    @given(st.one_of(st.integers(max_value=0), st.integers(min_value=MAX_WORKERS + 1)))
    def refused(workers: int) -> None:
        with pytest.raises(UsageError, match=r"^--workers: expected 1 to \d+ \(got -?\d+\)$"):
            resolve(experiment("fit"), Execution(workers), 1)

    refused()


def test_a_worker_whose_driver_died_before_it_started_watching_ends_at_once():
    """The watch compares the parent with the driver's process id, given by the driver: a driver
    killed while the worker still started up (its parent is then another process) ends it too."""
    code = "import os; from relukan_bench.executors import _end_with; _end_with(os.getppid() + 1)"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 70, done.stderr


def test_local_workers_end_when_the_driver_is_killed(tmp_path):
    """`kill -9` gives the driver no chance to stop its workers: they notice and end themselves."""
    psutil = pytest.importorskip("psutil")

    (tmp_path / "fit.yaml").write_text(FIT.replace("steps: 12", "steps: 2000"))
    driver = subprocess.Popen([sys.executable, "-m", "relukan_bench", "fit", "-c", "fit.yaml", "--workers", "2", "--out",
                               "run"], cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    workers: list = []
    while time.monotonic() < deadline and len(workers) < 2:
        workers = [p for p in psutil.Process(driver.pid).children() if "spawn_main" in " ".join(p.cmdline())]
        time.sleep(0.2)
    assert len(workers) == 2
    driver.kill()
    driver.wait()
    gone, alive = psutil.wait_procs(workers, timeout=10)
    assert not alive, alive
