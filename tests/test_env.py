"""relukan_bench.env: the commit a run records, read or declared; the code of each session of a
run, and what a session running other code is warned of."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from relukan_bench.env import COMMIT_VARIABLE, code_change, commits, describe, git_commit, sessions
from tests.gitrepo import git, repository

REPOSITORY = Path(__file__).resolve().parents[1]


def test_a_checkout_records_its_own_commit_whatever_is_declared(monkeypatch):
    if not (REPOSITORY / ".git").exists():
        pytest.skip("a copy without .git: the next tests cover it")
    monkeypatch.setenv(COMMIT_VARIABLE, "0" * 40)
    found = git_commit(REPOSITORY)
    assert found is not None and found["commit"] != "0" * 40 and "declared" not in found


def test_a_copy_without_git_records_the_declared_commit(tmp_path, monkeypatch):
    monkeypatch.setenv(COMMIT_VARIABLE, "0ED54E3")
    assert git_commit(tmp_path) == {"commit": "0ed54e3", "dirty": None, "declared": True}
    monkeypatch.delenv(COMMIT_VARIABLE)
    assert git_commit(tmp_path) is None


@settings(max_examples=200)
@given(text=st.text(max_size=60))
def test_anything_but_a_commit_hash_is_not_recorded(tmp_path_factory, text):
    import os

    root = tmp_path_factory.getbasetemp()
    os.environ[COMMIT_VARIABLE] = text.replace("\0", "")
    try:
        found = git_commit(root)
    finally:
        del os.environ[COMMIT_VARIABLE]
    cleaned = text.replace("\0", "").strip().lower()
    is_hash = 7 <= len(cleaned) <= 40 and all(c in "0123456789abcdef" for c in cleaned)
    assert (found is not None) == is_hash
    if found is not None:
        assert found["commit"] == cleaned and found["declared"] is True


# ----------------------------------------------------------------------------- the code of each session
def test_a_checkout_records_its_commit_and_whether_a_tracked_file_changed(tmp_path):
    root = repository(tmp_path / "repo")
    first = git("rev-parse", "HEAD", cwd=root)
    assert git_commit(root) == {"commit": first, "dirty": False}
    (root / "notes.txt").write_text("untracked files are not code the run imports\n")
    assert git_commit(root) == {"commit": first, "dirty": False}
    (root / "code.py").write_text("x = 2\n")
    assert git_commit(root) == {"commit": first, "dirty": True}
    git("commit", "-q", "-am", "second", cwd=root)
    second = git("rev-parse", "HEAD", cwd=root)
    assert second != first and git_commit(root) == {"commit": second, "dirty": False}


def test_every_session_of_an_env_json_is_read_old_files_included():
    assert sessions({"start_time": "t0", "git": {"commit": "a" * 40, "dirty": False},
                     "resumed": [{"start_time": "t1", "git": {"commit": "b" * 40, "dirty": True}}]}) == [
        ("t0", {"commit": "a" * 40, "dirty": False}), ("t1", {"commit": "b" * 40, "dirty": True})]
    assert sessions({"start_time": "t0"}) == [("t0", None)]  # a run recorded before commits were
    assert sessions({"resumed": [{"start_time": "t1"}, "not an entry"], "git": "junk"}) == [("", "junk"), ("t1", None)]
    assert sessions(None) == [] and sessions([1, 2]) == []
    assert describe("junk") == describe(None) == describe({"commit": ""}) == "unknown"
    assert describe({"commit": "0e125e5d07782b710985cc348fde132e350c31fb", "dirty": True}) == (
        "0e125e5d0778 (uncommitted changes)")


CODES = st.one_of(st.none(), st.builds(lambda c, d: {"commit": c * 40, "dirty": d},
                                       st.sampled_from("abc"), st.sampled_from([False, True, None])))


@given(recorded=st.lists(CODES, max_size=6), now=CODES)
def test_a_session_warns_unless_it_runs_a_clean_commit_the_run_was_computed_with(recorded, now):
    used = commits([(f"t{i}", code) for i, code in enumerate(recorded)])
    states = [None if code is None else (code["commit"], bool(code["dirty"])) for code in recorded]
    assert [None if code is None else (code["commit"], bool(code["dirty"])) for code in used] == list(
        dict.fromkeys(states))  # each commit and tree state once, in the order first used
    warning = code_change(used, now)
    same = now is not None and not now["dirty"] and (now["commit"], False) in states
    unknown = now is None and all(state is None for state in states)
    assert (warning is None) == (same or unknown)
    if warning is not None:
        assert "\n" not in warning and all(describe(code) in warning for code in used)
        assert (f"this session runs commit {describe(now)}" if now else "this session runs an unknown commit") in warning
        assert ("uncommitted changes" in warning) == any(code and code["dirty"] for code in [*used, now])
