"""The runner's bookkeeping on a fake experiment registered here (tests/fake_experiment.py):
a finished run, a run killed between two writes and resumed, Ctrl-C, failures, refusals. No
training, so these take milliseconds; the real experiments' resume is tested in test_runner.py."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from relukan_bench.errors import UsageError
from relukan_bench.experiments.protocol import experiments
from relukan_bench.runner import Request, run
from tests import fake_experiment
from tests.fake_experiment import INTERRUPT_AT


@pytest.fixture(autouse=True)
def fake():
    fake_experiment.install()
    INTERRUPT_AT.clear()
    yield
    INTERRUPT_AT.clear()
    fake_experiment.uninstall()


def _config(tmp_path: Path, text: str = "seeds: [0, 1, 2]\nitems: [a, b, c]\npoints: 4\n") -> Path:
    (tmp_path / "fake.yaml").write_text(text)
    return tmp_path / "fake.yaml"


def _snapshot(directory: Path, skip: tuple[str, ...] = ("env.json",)) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file() and p.name not in skip}


def test_the_fake_is_one_more_registered_experiment():
    assert list(experiments())[-1] == "fake"


def test_a_finished_run_writes_every_table(tmp_path):
    outcome = run("fake", Request(config=_config(tmp_path), out=tmp_path / "run"))
    assert outcome.units == (9, 9) and not outcome.failed and not outcome.interrupted
    assert len(list(csv.DictReader(open(tmp_path / "run" / "points.csv")))) == 36
    assert [row["n"] for row in csv.DictReader(open(tmp_path / "run" / "summary.csv"))] == ["3", "3", "3"]


@pytest.mark.parametrize("keep", [0, 1, 4, 8])
def test_a_run_killed_between_two_writes_resumes_to_the_same_files(tmp_path, keep):
    config = _config(tmp_path)
    run("fake", Request(config=config, out=tmp_path / "full"))
    shutil.copytree(tmp_path / "full", tmp_path / "part")
    with open(tmp_path / "part" / "units.csv") as handle:
        rows = handle.readlines()[: 1 + keep]
    (tmp_path / "part" / "units.csv").write_text("".join(rows))  # the commit log lost its last units
    (tmp_path / "part" / "summary.csv").unlink()
    (tmp_path / "part" / ".units.csv.abc.tmp").write_text("half a file")
    outcome = run("fake", Request(resume=tmp_path / "part"))
    assert outcome.units == (9, 9)
    assert _snapshot(tmp_path / "part") == _snapshot(tmp_path / "full")


@pytest.mark.parametrize("cut", [1, 7, 20])
def test_a_write_cut_short_leaves_a_partial_line_that_resume_cuts_off(tmp_path, cut):
    """A crash in the middle of an append leaves part of a line at the end of a log: resume
    drops it with the unit it belonged to and finishes to the same files."""
    config = _config(tmp_path)
    run("fake", Request(config=config, out=tmp_path / "full"))
    INTERRUPT_AT.append(4)
    run("fake", Request(config=config, out=tmp_path / "part"))
    INTERRUPT_AT.clear()
    unit = (tmp_path / "full" / "points.csv").read_text().splitlines(keepends=True)[1 + 4 * 4:][:4]
    with open(tmp_path / "part" / "points.csv", "a", encoding="utf-8") as handle:
        handle.write("".join(unit)[:cut])  # the next unit's rows, cut short
    assert run("fake", Request(resume=tmp_path / "part")).units == (9, 9)
    assert _snapshot(tmp_path / "part") == _snapshot(tmp_path / "full")


def test_ctrl_c_keeps_what_finished_and_resume_finishes_it(tmp_path):
    config = _config(tmp_path)
    run("fake", Request(config=config, out=tmp_path / "full"))
    INTERRUPT_AT.append(5)
    outcome = run("fake", Request(config=config, out=tmp_path / "part"))
    assert outcome.interrupted and outcome.units == (5, 9)
    INTERRUPT_AT.clear()
    assert run("fake", Request(resume=tmp_path / "part")).units == (9, 9)
    assert _snapshot(tmp_path / "part") == _snapshot(tmp_path / "full")


def test_a_failing_unit_is_recorded_and_counts_as_finished(tmp_path):
    config = _config(tmp_path, "items: [a, b]\nfail: [b]\n")
    outcome = run("fake", Request(config=config, out=tmp_path / "run"))
    assert outcome.failed == ["b seed 0: RuntimeError: asked to fail", "b seed 1: RuntimeError: asked to fail"]
    assert run("fake", Request(resume=tmp_path / "run")).units == (4, 4)


def test_resume_refuses_another_config_and_another_experiment(tmp_path):
    config = _config(tmp_path)
    run("fake", Request(config=config, out=tmp_path / "run"))
    with pytest.raises(UsageError, match=r"the config differs from the one the run recorded \(offset: 0 -> 1\)"):
        run("fake", Request(resume=tmp_path / "run", overrides=["offset=1"]))
    with pytest.raises(UsageError, match="expected a speed run directory"):
        run("speed", Request(resume=tmp_path / "run"))


def test_the_command_line_has_a_command_for_it(tmp_path, monkeypatch):
    """Only when registered before the CLI builds its commands: the CLI reads the registry."""
    from typer.testing import CliRunner

    from relukan_bench import cli

    cli._experiment_command(fake_experiment.FAKE)
    monkeypatch.chdir(tmp_path)
    _config(tmp_path, "items: [a]\n")
    result = CliRunner().invoke(cli.app, ["fake", "-c", "fake.yaml", "--seeds", "4,5", "--out", "run"])
    assert result.exit_code == 0, result.output
    assert [row["seed"] for row in csv.DictReader(open(tmp_path / "run" / "units.csv"))] == ["4", "5"]


# ----------------------------------------------------------------------------- real processes
REPO = Path(__file__).resolve().parents[1]


def _process(args: list[str], cwd: Path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-m", "tests.fake_experiment", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_rows(log: Path, rows: int, process) -> None:
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not log.exists() or len(log.read_text().splitlines()) <= rows):
        assert process.poll() is None, process.communicate()
        time.sleep(0.01)


def _wait_for_file(path: Path, process) -> None:
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not path.exists():
        assert process.poll() is None, process.communicate()
        time.sleep(0.01)
    assert path.exists(), f"{path} never appeared"


SLOW = "seeds: [0, 1, 2, 3]\nitems: [a, b, c, d, e]\npoints: 50\nsleep: 0.05\n"


STOPS = {"SIGINT": ("", 130), "SIGTERM": (" (SIGTERM)", 143), "SIGHUP": (" (SIGHUP)", 129)}


@pytest.mark.parametrize("stop", list(STOPS))
def test_a_stop_signal_in_a_real_process_keeps_summarises_and_resume_finishes(tmp_path, stop):
    """Ctrl-C, SIGTERM (timeout, SLURM, docker stop) or SIGHUP to a real process: exit 128 + the
    signal with the command that finishes the run, the finished units kept and summarised,
    env.json closed; `--resume` runs only the rest and ends as an uninterrupted run."""
    import json
    import signal

    said, status = STOPS[stop]
    _config(tmp_path, SLOW)
    run("fake", Request(config=tmp_path / "fake.yaml", out=tmp_path / "whole", overrides=["sleep=0"]))
    process = _process(["fake", "-c", "fake.yaml", "--out", "run"], tmp_path)
    _wait_for_rows(tmp_path / "run" / "units.csv", 2, process)
    process.send_signal(getattr(signal, stop))
    out, err = process.communicate(timeout=60)
    assert process.returncode == status, err
    assert "Traceback" not in err and err.splitlines()[-1].endswith("to finish the run: relukan-bench fake --resume run")
    assert out.splitlines()[-1] == "run"
    env = json.loads((tmp_path / "run" / "env.json").read_text())
    assert env["end_time"] is not None and env["interrupted"] is True
    finished = (tmp_path / "run" / "units.csv").read_text().splitlines()
    assert f"interrupted{said}: {len(finished) - 1} of 20 fake units finished" in err
    summary = list(csv.DictReader(open(tmp_path / "run" / "summary.csv")))
    assert sum(int(row["n"]) for row in summary) == len(finished) - 1
    resumed = _process(["fake", "--resume", "run"], tmp_path)
    assert resumed.wait(timeout=60) == 0, resumed.communicate()
    assert (tmp_path / "run" / "units.csv").read_text().splitlines()[: len(finished)] == finished
    assert _snapshot(tmp_path / "run", skip=("env.json", "config.yaml")) == _snapshot(tmp_path / "whole", skip=("env.json", "config.yaml"))
    again = _process(["fake", "--resume", "run", "--seeds", "0,1"], tmp_path)
    out, err = again.communicate(timeout=60)
    assert again.returncode == 2 and "seeds: [0, 1, 2, 3] -> [0, 1]" in err and err.count("\n") == 1


@pytest.mark.parametrize("first,second", [("SIGINT", "SIGINT"), ("SIGTERM", "SIGINT"), ("SIGINT", "SIGHUP")])
def test_a_second_stop_while_the_run_closes_changes_nothing(tmp_path, first, second):
    """A stop, then another 0.4 s later while the figures are drawn: the run still closes
    (env.json has its end), and the exit status and message are the first one's."""
    import json
    import signal
    import time

    _config(tmp_path, SLOW + "figures_sleep: 1.5\n")
    process = _process(["fake", "-c", "fake.yaml", "--out", "run"], tmp_path)
    _wait_for_rows(tmp_path / "run" / "units.csv", 2, process)
    process.send_signal(getattr(signal, first))
    time.sleep(0.4)
    process.send_signal(getattr(signal, second))
    out, err = process.communicate(timeout=60)
    assert process.returncode == STOPS[first][1], err
    assert f"interrupted{STOPS[first][0]}:" in err
    assert "Traceback" not in err and err.splitlines()[-1].endswith("to finish the run: relukan-bench fake --resume run"), err
    env = json.loads((tmp_path / "run" / "env.json").read_text())
    assert env["end_time"] is not None and env["interrupted"] is True


def test_figures_that_fail_are_a_warning_and_the_run_is_closed(tmp_path):
    outcome = run("fake", Request(config=_config(tmp_path), out=tmp_path / "run", overrides=["figures_fail=true"]))
    assert outcome.units == (9, 9) and not outcome.interrupted
    assert outcome.warnings == [f"figures of {tmp_path / 'run'} not drawn (ValueError: Data cannot be log-scaled because "
                                "all values are <= 0.)"]
    import json

    assert json.loads((tmp_path / "run" / "env.json").read_text())["end_time"] is not None


def test_two_resumes_at_once_the_second_is_refused_and_the_run_stays_whole(tmp_path):
    """While one process finishes a run, a second `--resume` of it exits 2 without writing;
    the first ends with every unit exactly once."""
    gate = tmp_path / "gate"
    _config(tmp_path, SLOW + f"pause_while: {gate}\n")
    INTERRUPT_AT.append(3)
    run("fake", Request(config=tmp_path / "fake.yaml", out=tmp_path / "run"))
    INTERRUPT_AT.clear()
    gate.touch()  # the first process's next unit waits until the gate goes: it holds the run until then
    first = _process(["fake", "--resume", "run"], tmp_path)
    _wait_for_file(Path(f"{gate}.waiting"), first)
    second = _process(["fake", "--resume", "run"], tmp_path)
    out, err = second.communicate(timeout=60)
    gate.unlink()
    assert second.returncode == 2, err
    assert err == "error: --resume run: another relukan-bench process is writing this run; wait for it to end (or stop it) and try again\n"
    assert first.wait(timeout=60) == 0, first.communicate()
    units = [(row["item"], row["seed"]) for row in csv.DictReader(open(tmp_path / "run" / "units.csv"))]
    assert len(units) == len(set(units)) == 20
    again = _process(["fake", "--resume", "run"], tmp_path)  # the lock went with the process
    assert again.wait(timeout=60) == 0, again.communicate()


def test_sigkill_twice_leaves_whole_files_and_resume_finishes_bit_for_bit(tmp_path):
    """SIGKILL a real process at random moments twice (resuming in between): every CSV is
    whole after each kill, no unit is half-written, and the finished run is the uninterrupted one."""
    import random
    import signal
    import time

    from relukan_bench.results import read_records

    _config(tmp_path, SLOW.replace("sleep: 0.05", "sleep: 0.02"))
    run("fake", Request(config=tmp_path / "fake.yaml", out=tmp_path / "whole", overrides=["sleep=0.02"]))
    units, chance = tmp_path / "run" / "units.csv", random.Random()
    for kill in range(2):
        args = ["fake", "-c", "fake.yaml", "--out", "run"] if kill == 0 else ["fake", "--resume", "run"]
        process = _process(args, tmp_path)
        before = len(units.read_text().splitlines()) - 1 if units.exists() else 0
        _wait_for_rows(units, before + chance.randint(1, 4), process)
        time.sleep(chance.uniform(0, 0.05))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        assert process.returncode == -signal.SIGKILL
        for name, table in fake_experiment.FAKE.tables.items():  # the logs read back whole and typed
            read_records(tmp_path / "run" / f"{name}.csv", table)
        assert 0 < len(units.read_text().splitlines()) - 1 < 20
    finish = _process(["fake", "--resume", "run"], tmp_path)
    assert finish.wait(timeout=60) == 0, finish.communicate()
    assert not list((tmp_path / "run").glob(".*.tmp"))
    assert _snapshot(tmp_path / "run", skip=("env.json",)) == _snapshot(tmp_path / "whole", skip=("env.json",))
    import json

    assert len(json.loads((tmp_path / "run" / "env.json").read_text())["resumed"]) == 2


def test_a_stop_signal_ignored_at_start_stays_ignored(tmp_path):
    """Under `nohup` SIGHUP is ignored when the command starts: the run goes on to its end."""
    import os
    import signal
    import subprocess
    import sys

    _config(tmp_path, "seeds: [0, 1]\nitems: [a, b]\npoints: 4\nsleep: 0.2\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen([sys.executable, "-m", "tests.fake_experiment", "fake", "-c", "fake.yaml", "--out", "run"],
                               cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN))
    _wait_for_rows(tmp_path / "run" / "units.csv", 1, process)
    process.send_signal(signal.SIGHUP)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert len((tmp_path / "run" / "units.csv").read_text().splitlines()) == 1 + 4
