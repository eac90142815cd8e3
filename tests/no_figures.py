"""Runs whose tests read their tables, reports or files, never their figures, skip drawing:
drawing is half of a tiny run's time, and the figures are tested where they are the subject
(tests/test_plots.py, the command-line runs of tests/test_cli.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from relukan_bench.experiments.protocol import experiments


@contextmanager
def figures_skipped() -> Iterator[None]:
    """While it lasts, every registered experiment's `figures` hook draws nothing (replaced on
    its class: the declaration itself travels to worker processes as it is)."""
    with pytest.MonkeyPatch.context() as patch:
        for exp in experiments().values():
            patch.setattr(type(exp), "figures", staticmethod(_draw_nothing))
        yield


def _draw_nothing(*args: object) -> None:
    return None
