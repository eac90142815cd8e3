"""scripts/: the GPU reference run's arguments are checked before anything runs."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from hypothesis import given, settings, strategies as st

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "gpu-reference.sh"
STAGE = re.compile(r"(reproduce|tests|baselines)(:[0-9]{1,6})?")


def _call(*args: str, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, timeout=30,
                          env={"PATH": "/usr/bin:/bin", "OUT": str(out), "PYTHON": "/nonexistent/python"})


def test_help_names_the_stages(tmp_path):
    result = _call("--help", out=tmp_path / "out")
    assert result.returncode == 0 and "reproduce" in result.stdout and "baselines" in result.stdout
    assert not (tmp_path / "out").exists()


@settings(max_examples=60, deadline=None)
@given(stage=st.text(alphabet=st.characters(blacklist_characters="\0", blacklist_categories=("Cs",)), max_size=20)
       .filter(lambda s: not STAGE.fullmatch(s)))
def test_any_other_stage_is_refused_in_one_line_before_anything_runs(tmp_path_factory, stage):
    out = tmp_path_factory.mktemp("out") / "out"
    result = _call("100", stage, out=out)
    assert result.returncode == 2, result
    assert result.stderr.startswith("error: STAGE: ") and result.stderr.count("\n") == 1, result.stderr
    assert not out.exists()


@settings(max_examples=30, deadline=None)
@given(seconds=st.text(max_size=10).filter(lambda s: "\0" not in s and not re.fullmatch(r"[0-9]{1,6}", s)
                                            and s not in ("-h", "--help")))
def test_seconds_must_be_a_whole_number(tmp_path_factory, seconds):
    out = tmp_path_factory.mktemp("out") / "out"
    result = _call(seconds, out=out)
    assert result.returncode == 2 and result.stderr.startswith("error: SECONDS: "), result
    assert not out.exists()
