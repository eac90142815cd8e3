"""The package's layout rules, measured as benchmarks/architecture.py measures them: no module
over the line bound, no import cycle (imports inside functions counted), and the package's own
modules imported at the top of the file unless importing one imports a heavy library."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import architecture  # noqa: E402


def test_no_module_over_the_bound_and_no_import_cycle():
    layout = architecture.measure()
    assert len(layout.paths) > 50 and not layout.over_bound()
    assert architecture.cycles(layout.graph) == []


def test_own_modules_are_imported_inside_a_function_only_where_they_are_heavy():
    layout = architecture.measure()
    assert layout.light_inner() == []
    assert {"relukan_bench.models.relukan", "relukan_bench.config", "relukan_bench.training"} <= layout.heavy
    assert not {"relukan_bench.cli", "relukan_bench.records", "relukan_bench.experiments.protocol"} & layout.heavy


def test_an_import_inside_a_function_of_a_light_module_is_found(tmp_path, monkeypatch):
    """The check can fail: a module that imports a light package module inside a function."""
    package = tmp_path / "relukan_bench"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "light.py").write_text("import re\n")
    (package / "heavy.py").write_text("import torch\n")
    (package / "user.py").write_text("def f():\n    from relukan_bench import heavy\n    from relukan_bench.light import re\n")
    monkeypatch.setattr(architecture, "PACKAGE", package)
    layout = architecture.measure()
    assert layout.heavy == {"relukan_bench.heavy"}
    assert layout.light_inner() == [("relukan_bench.user", ["relukan_bench.light"])]
