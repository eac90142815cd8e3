"""relukan_bench.env: the commit a run records, read or declared."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from relukan_bench.env import COMMIT_VARIABLE, git_commit

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
