"""Tests of relukan_bench.session's guards: the lock on a run directory, a new run directory
that cannot be written, the config digest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from relukan_bench.errors import UsageError
from relukan_bench.runner import Request, run_reproduce
from relukan_bench.session import RunLock, digest, digest_of, new_run


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
