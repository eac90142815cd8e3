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
