"""The package as a user without the repository gets it: a wheel built from this checkout,
installed into a new virtual environment and run from an empty directory.

The new environment takes its dependencies from the test environment (a `.pth` line naming
its site-packages: a full install of torch and the rest takes minutes), and `pip check` there
proves that the wheel's declared requirements are met by them. The package itself, its shipped
configs and paper numbers, and its console script come from the wheel alone: the checkout's
editable install is not on that environment's path.
"""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, f"{command}: exit {result.returncode}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(the environment's bin directory, an empty working directory, the environment variables)."""
    root = tmp_path_factory.mktemp("wheel")
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(root / "dist"),
          str(REPO)], cwd=root)
    wheel = next((root / "dist").glob("relukan_bench-*.whl"))
    venv = root / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], cwd=root)
    python = venv / "bin" / "python"
    purelib = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], root).stdout.strip())
    ours = [path for path in {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"], *site.getsitepackages()}
            if Path(path).is_dir()]
    (purelib / "test_dependencies.pth").write_text("\n".join(ours) + "\n")
    _run([str(python), "-m", "pip", "uninstall", "-q", "-y", "setuptools"], cwd=root)  # the venv's older one would shadow ours
    _run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], cwd=root)
    _run([str(python), "-m", "pip", "check"], cwd=root)
    work = root / "empty"
    work.mkdir()
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(COLUMNS="200", RELUKAN_BENCH_WORKERS="1")
    return venv / "bin", work, env


def test_the_package_comes_from_the_wheel(installed):
    bin_dir, work, env = installed
    found = _run([str(bin_dir / "python"), "-c", "import relukan_bench, relukan_bench.resources as r; "
                  "print(relukan_bench.__file__); print(r.configs_dir()); print(r.paper_dir())"], work, env).stdout.split()
    assert all(str(REPO) not in line for line in found), found
    assert found[1].endswith("relukan_bench/_data/configs") and found[2].endswith("relukan_bench/_data/paper")


def test_config_list_show_copy_from_an_empty_directory(installed):
    bin_dir, work, env = installed
    cli = str(bin_dir / "relukan-bench")
    listed = _run([cli, "config", "list"], work, env).stdout
    for name in ("fit", "fit-paper-kan", "fit-as-run", "speed", "speed-baselines", "forgetting"):
        assert f" {name} " in listed
    shown = _run([cli, "config", "show", "fit-paper-kan", "train.steps=7"], work, env).stdout
    assert "experiment: fit\n" in shown and "  steps: 7\n" in shown
    copied = work / "copies"
    copied.mkdir()
    written = _run([cli, "config", "copy", "forgetting", str(copied)], work, env).stdout.strip()
    assert Path(written) == copied / "forgetting.yaml"
    assert (copied / "forgetting.yaml").read_text().startswith("#")  # the comments come along
    assert not (work / "results").exists()


def test_a_run_with_a_shipped_config_name_then_compare_paper(installed):
    bin_dir, work, env = installed
    cli = str(bin_dir / "relukan-bench")
    done = _run([cli, "fit", "--config", "fit-paper-kan", "--quick", "--functions", "f1", "--json"], work, env)
    outcome = json.loads(done.stdout)
    assert done.stdout.count("\n") == 1 and outcome["status"] == "complete" and outcome["quick"] is True
    run_dir = work / outcome["run_dir"]
    assert run_dir.is_dir() and run_dir.parent == work / "results" / "fit"
    assert {row["function"] for row in outcome["summary"]} == {"f1"} and outcome["summary"]
    assert "fit: 0/" in done.stderr and " units, " in done.stderr  # progress as log lines: stderr is a pipe
    for args in (["paper", outcome["run_dir"]], [outcome["run_dir"], "paper"]):
        compared = _run([cli, "compare", *args], work, env).stdout
        assert "BASE paper" in compared or "NEW paper" in compared
        assert " f1 " in compared


def test_python_m_and_the_help(installed):
    bin_dir, work, env = installed
    helped = _run([str(bin_dir / "python"), "-m", "relukan_bench", "--help"], work, env).stdout
    assert "<bool>" not in helped and "config" in helped and "Examples" in helped
