"""The docs say what the code does: docs/outputs.md's columns against every declared table, and
docs/runs.md's count of the bad-input catalogue."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from relukan_bench.experiments.protocol import experiments
from relukan_bench.records import types_of

OUTPUTS = Path(__file__).resolve().parents[1] / "docs" / "outputs.md"


def _documented() -> dict[str, list[tuple[str, str]]]:
    """`### <experiment>/<file>` -> [(column, type)] from the table under the heading."""
    found: dict[str, list[tuple[str, str]]] = {}
    current = None
    for line in OUTPUTS.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"^### (\w+/[\w.]+)\s*$", line)
        if heading:
            current = heading.group(1)
            found[current] = []
        elif line.startswith("### "):
            current = None
        elif current and (cell := re.match(r"^\|\s*`(\w+)`\s*\|\s*(\w+)\s*\|", line)):
            found[current].append((cell.group(1), cell.group(2)))
    return found


def _declared() -> dict[str, list[tuple[str, str]]]:
    """Every table of fixed columns the experiments declare: their record classes."""
    return {f"{name}/{table}.csv": [(c, t.__name__) for c, t in types_of(record).items()]
            for name, exp in experiments().items() for table, record in {**exp.tables, **exp.summaries}.items()}


@pytest.mark.parametrize("table", sorted(_declared()))
def test_every_table_is_documented_column_by_column(table):
    assert _documented().get(table) == _declared()[table]


def test_the_docs_document_no_table_that_does_not_exist():
    assert set(_documented()) <= set(_declared())


def test_the_runs_page_counts_the_bad_input_catalogue_as_it_is():
    from tests.test_bad_input import CASES

    text = (OUTPUTS.parent / "runs.md").read_text(encoding="utf-8")
    assert f"({len(CASES)} inputs," in text
