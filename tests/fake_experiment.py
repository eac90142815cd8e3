"""A fast fake experiment, registered by the tests that need one: the runner's bookkeeping
(run directories, resume, Ctrl-C, failures) without any training. It is also the proof that
adding an experiment takes one module and no edit of the package: its config class, tables,
plan and summaries are all here. Its records travel as record objects until the writer."""

from __future__ import annotations

import math
import sys
import time
import zlib
from dataclasses import dataclass, field
from typing import Annotated, Any, Iterator, Literal, Sequence

from pydantic import Field

from relukan_bench.experiments.protocol import (
    Command, Experiment, Option, Report, register, rows_by_unit, seed_list, unregister,
)
from relukan_bench.records import Record
from relukan_bench.results import write_csv
from relukan_bench.schema import NonNegativeInt, PositiveInt, Seeds, Strict

#: set by a test: raise KeyboardInterrupt before the unit with this index (a Ctrl-C)
INTERRUPT_AT: list[int] = []


class FakeConfig(Strict):
    experiment: Literal["fake"] = "fake"
    seeds: Seeds = [0, 1]
    items: Annotated[list[str], Field(min_length=1)] = ["a", "b"]
    points: PositiveInt = 3
    threads: PositiveInt = 1
    device: Literal["cpu", "cuda", "auto"] = "cpu"
    fail: list[str] = []  # items whose units raise
    offset: NonNegativeInt = 0
    sleep: Annotated[float, Field(ge=0)] = 0.0  # seconds per unit, so that a test can interrupt a run
    figures_sleep: Annotated[float, Field(ge=0)] = 0.0  # seconds the figures take, so that a test can interrupt them
    figures_fail: bool = False  # the figures raise, as matplotlib can
    die: list[str] = []  # items whose units end their process at once (a worker killed; never run these serially)
    pause_while: str | None = None  # while this file exists, each unit waits (and marks it waiting with <file>.waiting)


def _value(item: str, seed: int, index: int, offset: int) -> float:
    return (zlib.crc32(f"{item}/{seed}/{index}".encode()) % 10_000) / 1000.0 + offset


def _pause(gate: str | None) -> None:
    """Wait while the file `gate` exists, so that a test decides when a unit may go on."""
    from pathlib import Path

    if gate is None or not Path(gate).exists():
        return
    Path(gate + ".waiting").touch()
    deadline = time.monotonic() + 120
    while Path(gate).exists() and time.monotonic() < deadline:
        time.sleep(0.01)


@dataclass
class PointRecord(Record):
    """points.csv: one point of a unit."""

    item: str
    seed: int
    index: int
    value: float


@dataclass
class UnitRecord(Record):
    """units.csv: one unit (the commit log: a unit is finished once its row is on disk)."""

    item: str
    seed: int
    total: float
    error: str | None


@dataclass
class SummaryRecord(Record):
    """summary.csv: one item over its seeds."""

    item: str
    n: int
    total: float


@dataclass
class FakeResult:
    """What one unit produced: its record and its points' records."""

    unit: UnitRecord
    points: list[PointRecord] = field(default_factory=list)


@dataclass
class FakeShown:
    """What the fake's summarize returns: its summary records (and no warnings)."""

    summary: list[SummaryRecord]
    warnings: list[str] = field(default_factory=list)


CLAIM = "the runner keeps its books"
RULE = ""  # its REPORT.md part (this module): it decides nothing, so states no rule and no section


def section(run: Any, run_dir: Any) -> str:
    return ""


def verdict(run: Any) -> Any:
    from relukan_bench.report import UNTESTED, Verdict

    return Verdict("fake", CLAIM, UNTESTED, "A fake experiment decides nothing.")


class Fake(Experiment):
    name, rank = "fake", 50
    command = Command("A fake experiment for the tests.\n\nWrites points.csv, units.csv and summary.csv.",
                      options=(Option("--seeds", "seeds", "Seeds.", convert=seed_list),), units_name="fake units",
                      quick=("points=1",))
    report = Report("A fake experiment", CLAIM, sys.modules[__name__])
    schema = FakeConfig
    tables = {"points": PointRecord, "units": UnitRecord}

    def shapes(self, config: FakeConfig) -> list[Any]:
        return []

    def domain(self, config: FakeConfig) -> tuple[float, float]:
        return (0.0, 1.0)

    def demand(self, config: FakeConfig, devices: Sequence[str]) -> Any:
        from relukan_bench.limits import Demand

        units = len(config.items) * len(config.seeds)
        return Demand(units, "items x seeds", units * config.points, "items x seeds x points", config.points, "points")

    def plan(self, config: FakeConfig, devices: Sequence[str]) -> list[tuple[str, int]]:
        return [(item, seed) for item in config.items for seed in config.seeds]

    def key(self, row: dict[str, Any]) -> tuple[str, int]:
        return (row["item"], int(row["seed"]))

    def execute(self, config: FakeConfig, devices: Sequence[str], units: Sequence[Any], progress: Any
                ) -> Iterator[FakeResult]:
        for number, (item, seed) in enumerate(units):
            if INTERRUPT_AT and number == INTERRUPT_AT[0]:
                raise KeyboardInterrupt
            progress((item, seed), 0, math.nan)
            _pause(config.pause_while)
            time.sleep(config.sleep)
            if item in config.die:
                import os

                os._exit(3)
            if item in config.fail:
                yield FakeResult(UnitRecord(item, seed, math.nan, "RuntimeError: asked to fail"))
                continue
            points = [PointRecord(item, seed, i, _value(item, seed, i, config.offset)) for i in range(config.points)]
            yield FakeResult(UnitRecord(item, seed, sum(p.value for p in points), None), points)

    def rows(self, result: FakeResult) -> dict[str, list[Record]]:
        """The records as they are: the writer makes rows of them."""
        return {"points": list(result.points), "units": [result.unit]}

    def rebuild(self, loaded: dict[str, list[dict[str, Any]]]) -> list[FakeResult]:
        """Rows read back from the logs, as records again."""
        return [FakeResult(UnitRecord.from_row(unit), [PointRecord.from_row(p) for p in rows["points"]])
                for unit, rows in rows_by_unit(loaded, "units", self.key)]

    def failure(self, result: FakeResult) -> str | None:
        unit = result.unit
        return f"{unit.item} seed {unit.seed}: {unit.error}" if unit.error else None

    def summarize(self, run_dir: Any, config: FakeConfig, results: Sequence[FakeResult], context: Any) -> FakeShown:
        totals: dict[str, list[float]] = {}
        for result in results:
            totals.setdefault(result.unit.item, []).append(result.unit.total)
        summary = [SummaryRecord(item, len(values), sum(values)) for item, values in totals.items()]
        write_csv(run_dir / "summary.csv", SummaryRecord.columns(), summary)
        return FakeShown(summary)

    def figures(self, run_dir: Any, config: FakeConfig, results: Sequence[FakeResult], shown: FakeShown) -> None:
        time.sleep(config.figures_sleep)
        if config.figures_fail:
            raise ValueError("Data cannot be log-scaled because all values are <= 0.")


FAKE = Fake()


def install() -> None:
    register(FAKE)


def uninstall() -> None:
    unregister(FAKE.name)


def main() -> None:
    """`python -m tests.fake_experiment ARGS`: the command line with the fake registered."""
    install()
    from relukan_bench.cli import main as cli

    sys.argv = ["relukan-bench", *sys.argv[1:]]
    cli()


if __name__ == "__main__":
    main()
