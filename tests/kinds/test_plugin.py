"""`kind: plugin`: a user's own model from a module outside the package, in every experiment,
and every way a factory can be wrong refused before anything is written."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from relukan_bench.cli import app
from relukan_bench.config import load_config
from relukan_bench.experiments.fit.config import FitConfig
from relukan_bench.kinds import build_model, kind_of, kinds
from relukan_bench.results import read_csv
from relukan_bench.runner import Request, run
from tests.tiny import FIT, FORGETTING, SPEED

PLUGIN = '{name: rbf, kind: plugin, factory: "tests.plugins.rbf_kan:make", options: {}}'
DOCS = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"


def _with_plugin(text: str, entry: str = PLUGIN) -> str:
    return text.replace("models:\n", f"models:\n  - {entry}\n", 1)


def test_the_plugin_is_seeded_like_every_kind(tmp_path):
    (tmp_path / "fit.yaml").write_text(_with_plugin(FIT))
    config = load_config(tmp_path / "fit.yaml", [], FitConfig)
    entry = config.models[0]
    a, b, c = (build_model(entry, config.functions[1], (0.0, 1.0), seed) for seed in (3, 3, 4))
    x = torch.rand(5, 2)
    assert a(x).shape == (5, 1)
    assert torch.equal(a(x), b(x)) and not torch.equal(a(x), c(x))
    assert kind_of(entry).batch is None and kind_of(entry).role is None


@pytest.mark.parametrize("name,text", [("speed", SPEED), ("fit", FIT), ("forgetting", FORGETTING)])
def test_a_plugin_runs_in_every_experiment_and_the_report_reads_it(name, text, tmp_path):
    (tmp_path / "c.yaml").write_text(_with_plugin(text))
    outcome = run(name, Request(config=tmp_path / "c.yaml", out=tmp_path / "run"))
    assert not outcome.failed
    rows = read_csv(tmp_path / "run" / "summary.csv")
    assert any(row["model"] == "rbf" for row in rows)
    if name == "fit":
        runs = [r for r in read_csv(tmp_path / "run" / "runs.csv") if r["model"] == "rbf"]
        assert {r["kind"] for r in runs} == {"plugin"} and all(float(r["final_test_mse"]) > 0 for r in runs)


def test_compare_and_the_report_take_a_plugin_row(tmp_path):
    from relukan_bench import compare
    from relukan_bench.compare_sides import load
    from relukan_bench.report import load_experiment

    (tmp_path / "fit.yaml").write_text(_with_plugin(FIT))
    run("fit", Request(config=tmp_path / "fit.yaml", out=tmp_path / "a"))
    run("fit", Request(config=tmp_path / "fit.yaml", out=tmp_path / "b"))
    [comparison] = compare.compare(load(tmp_path / "a"), load(tmp_path / "b"))
    assert any(row.keys[1] == "rbf" and row.mark == "~" for row in comparison.rows)
    exp = load_experiment(tmp_path / "a", "fit")
    assert "rbf" in exp.model_names() and exp.roles()["rbf"] is None


BROKEN = [
    ("not-importable", "no_such_package.module:make", "models[0].factory: cannot import 'no_such_package.module'"),
    ("import-raises", "tests.plugins.fails_on_import:make", "models[0].factory: cannot import 'tests.plugins.fails_on_import' (ImportError"),
    ("no-attribute", "tests.plugins.rbf_kan:nothing", "models[0].factory: 'tests.plugins.rbf_kan' has no attribute 'nothing'"),
    ("not-callable", "tests.plugins.broken:NOT_CALLABLE", "models[0].factory: 'tests.plugins.broken:NOT_CALLABLE' is not callable"),
    ("malformed", "tests/plugins/rbf_kan.py", "models[0].factory: expected 'package.module:callable'"),
    ("raises", "tests.plugins.broken:raises", "models[0].factory: tests.plugins.broken:raises for width [1, 1], grid "), ("raises-why", "tests.plugins.broken:raises", ": RuntimeError: this factory always fails"),
    ("not-a-module", "tests.plugins.broken:not_a_module", "returned str, expected a torch.nn.Module"),
    ("wrong-shape", "tests.plugins.broken:wrong_shape", "expected the model to map (2, 1) inputs to a (2, 1) float tensor (got a (2, 2) torch.float32 tensor)"),
    ("wrong-dtype", "tests.plugins.broken:wrong_dtype", "(got a (2, 1) torch.int64 tensor)"),
    ("missing-option", "tests.plugins.broken:needs_an_option", "TypeError: needs_an_option() missing 1 required positional argument"),
]


@pytest.mark.parametrize("case,factory,message", BROKEN, ids=[c[0] for c in BROKEN])
@pytest.mark.parametrize("command,text", [("speed", SPEED), ("fit", FIT), ("forgetting", FORGETTING)])
def test_a_broken_factory_is_one_line_exit_2_and_nothing_written(case, factory, message, command, text, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.yaml").write_text(_with_plugin(text, f'{{name: mine, kind: plugin, factory: "{factory}"}}'))
    result = CliRunner().invoke(app, [command, "-c", "c.yaml", "--out", "run"])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: c.yaml: models[0].")
    assert message in lines[0]
    assert "Traceback" not in result.output and not (tmp_path / "run").exists() and not (tmp_path / "results").exists()


def test_installed_packages_register_kinds_by_entry_point(tmp_path, monkeypatch):
    """A real distribution on sys.path with a `relukan_bench.models` entry point."""
    dist = tmp_path / "site"
    (dist / "mykinds-1.0.dist-info").mkdir(parents=True)
    (dist / "mykinds-1.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: mykinds\nVersion: 1.0\n")
    (dist / "mykinds-1.0.dist-info" / "entry_points.txt").write_text("[relukan_bench.models]\nmyrbf = mykinds:KIND\n")
    (dist / "mykinds.py").write_text(
        "from typing import Literal\n"
        "from relukan_bench.kinds import ModelKind\n"
        "from relukan_bench.schema import ModelEntry, Name\n"
        "class RBFSpec(ModelEntry):\n"
        "    name: Name\n    kind: Literal['myrbf']\n    lr: float | None = None\n"
        "def build(entry, shape, domain, seed):\n"
        "    from relukan_bench.seeding import seeded\n"
        "    from tests.plugins.rbf_kan import make\n"
        "    with seeded(seed):\n        return make(shape.width, shape.grid, shape.k, domain)\n"
        "KIND = ModelKind('myrbf', RBFSpec, build, label='RBF KAN')\n")
    monkeypatch.syspath_prepend(str(dist))
    kinds.cache_clear()
    try:
        assert "myrbf" in kinds()
        from relukan_bench.kinds import model_union
        from pydantic import TypeAdapter

        entry = TypeAdapter(model_union()).validate_python({"name": "r", "kind": "myrbf"})
        assert build_model(entry, load_config_shape(), (0.0, 1.0), 0)(torch.rand(3, 2)).shape == (3, 1)
    finally:
        kinds.cache_clear()
        sys.modules.pop("mykinds", None)


def load_config_shape():
    from relukan_bench.experiments.forgetting.config import NetworkSpec

    return NetworkSpec(width=[2, 1], grid=5, k=3)


def test_the_docs_show_the_plugin_the_tests_run():
    """docs/plugins.md's example is this very module, so the docs cannot go stale."""
    source = (Path(__file__).resolve().parents[1] / "plugins" / "rbf_kan.py").read_text()
    assert source.strip() in DOCS.read_text()
