"""Tests of relukan_bench.session's guards: the lock on a run directory, a new run directory
that cannot be written, the config digest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from relukan_bench.errors import UsageError
from relukan_bench.runner import Request, run_reproduce
from relukan_bench.session import RunLock, digest, digest_of, new_run
from tests.no_figures import figures_skipped


@pytest.fixture(autouse=True, scope="module")
def no_figures():
    """These runs are read for their tables and logs: the runs in this process draw no figures."""
    with figures_skipped():
        yield


def test_a_locked_run_directory_cannot_be_locked_again_until_released(tmp_path):
    first = RunLock(tmp_path)
    with pytest.raises(UsageError, match=f"--resume {tmp_path}: another relukan-bench process is writing this run"):
        RunLock(tmp_path)
    first.release()
    first.release()  # twice is harmless
    RunLock(tmp_path).release()
    assert list(tmp_path.iterdir()) == []  # the lock is on the directory itself: no file


def test_a_reproduce_run_being_written_is_not_resumed(tmp_path):
    (tmp_path / "rep").mkdir()
    (tmp_path / "rep" / "env.json").write_text(json.dumps({"experiment": "reproduce", "quick": True}))
    before = (tmp_path / "rep" / "env.json").read_text()
    held = RunLock(tmp_path / "rep")
    try:
        with pytest.raises(UsageError, match="another relukan-bench process is writing this run"):
            run_reproduce(Request(resume=tmp_path / "rep"))
    finally:
        held.release()
    assert (tmp_path / "rep" / "env.json").read_text() == before


def test_a_new_run_that_cannot_be_written_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UsageError, match=r"--out a/b/c: cannot write into the run directory \(No space left on device\)"):
        with new_run("fit", Path("a/b/c")) as (run_dir, _):
            (run_dir / "config.yaml").write_text("x")
            raise OSError(28, "No space left on device")
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "results" / "fit").mkdir(parents=True)
    with pytest.raises(UsageError, match="cannot write into the run directory"):
        with new_run("fit", None):
            raise OSError(30, "Read-only file system")
    assert list((tmp_path / "results" / "fit").iterdir()) == []  # results/fit was there before and stays


def test_the_digest_is_of_the_file_as_written(tmp_path):
    (tmp_path / "config.yaml").write_text("seeds: [0, 1]\n", encoding="utf-8")
    assert digest_of(tmp_path / "config.yaml") == digest("seeds: [0, 1]\n")
    assert digest_of(tmp_path / "missing.yaml") is None


def test_a_new_run_holds_its_directory_so_a_second_process_cannot_start_there(tmp_path):
    (tmp_path / "out").mkdir()
    with new_run("fit", tmp_path / "out") as (run_dir, lock):
        with pytest.raises(UsageError, match="another relukan-bench process is writing this run"):
            with new_run("fit", tmp_path / "out"):
                pass
        (run_dir / "config.yaml").write_text("x")
    lock.release()
    with pytest.raises(UsageError, match="expected a new or empty directory"):
        with new_run("fit", tmp_path / "out"):
            pass


# ----------------------------------------------------------------------------- the code of each session
FAKE_COMMIT = {"commit": "1234567890abcdef" * 2 + "12345678", "dirty": False}


def test_a_run_resumed_under_another_commit_records_both_and_says_so_once(tmp_path, capsys):
    from relukan_bench.env import describe, git_commit
    from relukan_bench.runner import run
    from tests import fake_experiment

    (tmp_path / "fake.yaml").write_text("experiment: fake\nitems: [a]\nseeds: [0]\n")
    fake_experiment.install()
    try:
        run("fake", Request(config=tmp_path / "fake.yaml", out=tmp_path / "run"))
        assert capsys.readouterr().err == ""  # a new run warns of nothing
        env = json.loads((tmp_path / "run" / "env.json").read_text())
        env["git"] = FAKE_COMMIT  # as if an earlier session had run other code
        (tmp_path / "run" / "env.json").write_text(json.dumps(env))
        run("fake", Request(resume=tmp_path / "run"))
    finally:
        fake_experiment.uninstall()
    now = git_commit()
    this = f"commit {describe(now)}" if now else "an unknown commit (no .git, nor $RELUKAN_BENCH_COMMIT)"
    assert capsys.readouterr().err.splitlines() == [
        f"warning: --resume {tmp_path / 'run'}: the run was computed with commit 1234567890ab; this session runs "
        f"{this}, so the run will mix code versions (env.json records each session's commit)"]
    env = json.loads((tmp_path / "run" / "env.json").read_text())
    assert env["git"] == FAKE_COMMIT and [entry["git"] for entry in env["resumed"]] == [now]


def test_a_reproduce_run_warns_once_naming_the_commits_of_its_parts(tmp_path, capsys):
    from relukan_bench.session import record_session

    part = {"start_time": "2026-12-01T10:00:00+00:00", "git": {"commit": "b" * 40, "dirty": True}}
    top = {"experiment": "reproduce", "start_time": "2026-12-01T09:00:00+00:00", "git": FAKE_COMMIT}
    (tmp_path / "rep" / "fit").mkdir(parents=True)
    (tmp_path / "rep" / "fit" / "env.json").write_text(json.dumps(part))
    (tmp_path / "rep" / "env.json").write_text(json.dumps(top))
    now = {"start_time": "2026-12-02T00:00:00+00:00", "git": {"commit": "c" * 40, "dirty": False}, "command": ["x"]}
    record_session(tmp_path / "rep", top, now)
    record_session(tmp_path / "rep" / "fit", part, now, units_done=3)  # its parts say nothing more
    assert capsys.readouterr().err.splitlines() == [
        f"warning: --resume {tmp_path / 'rep'}: the run was computed with commits 1234567890ab, bbbbbbbbbbbb "
        "(uncommitted changes); this session runs commit cccccccccccc, so the run will mix code versions (env.json "
        "records each session's commit)"]
    recorded = json.loads((tmp_path / "rep" / "fit" / "env.json").read_text())
    assert recorded["git"] == part["git"] and recorded["resumed"] == [
        {"start_time": now["start_time"], "units_done": 3, "git": now["git"], "command": ["x"]}]
    record_session(tmp_path / "rep", top, now)  # the same clean commit again: nothing to say
    assert capsys.readouterr().err == ""


def test_a_resume_from_a_checkout_with_uncommitted_changes_records_them_and_warns(tmp_path):
    """The real thing: the package copied into a git repository of its own, a run started at
    its first commit, resumed from a later commit with a tracked file changed."""
    import os
    import shutil
    import subprocess
    import sys

    from tests.gitrepo import git, repository

    root = repository(tmp_path / "checkout")
    shutil.copytree(Path(__file__).resolve().parents[1] / "relukan_bench", root / "relukan_bench",
                    ignore=shutil.ignore_patterns("__pycache__"))
    git("add", "relukan_bench", cwd=root)
    git("commit", "-q", "-m", "the package", cwd=root)
    first = git("rev-parse", "HEAD", cwd=root)
    (tmp_path / "fake.yaml").write_text("experiment: fake\nitems: [a]\nseeds: [0]\n")
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), str(Path(__file__).resolve().parents[1])])}

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "tests.fake_experiment", "fake", *args], cwd=tmp_path,
                              env=environment, capture_output=True, text=True, timeout=300)

    started = cli("-c", "fake.yaml", "--out", "run")
    assert started.returncode == 0 and "warning" not in started.stderr, started.stderr
    (root / "code.py").write_text("x = 2\n")
    git("commit", "-q", "-am", "second", cwd=root)
    second = git("rev-parse", "HEAD", cwd=root)
    (root / "code.py").write_text("x = 3\n")  # not committed
    resumed = cli("--resume", "run")
    assert resumed.returncode == 0, resumed.stderr
    assert [line for line in resumed.stderr.splitlines() if line.startswith("warning:")] == [
        f"warning: --resume run: the run was computed with commit {first[:12]}; this session runs commit "
        f"{second[:12]} (uncommitted changes), so the run will mix code versions (env.json records each session's commit)"]
    env = json.loads((tmp_path / "run" / "env.json").read_text())
    assert env["git"] == {"commit": first, "dirty": False}
    assert [entry["git"] for entry in env["resumed"]] == [{"commit": second, "dirty": True}]
