"""What an experiment declares, and the registry every consumer loops over.

An experiment is one module of this package that defines `EXPERIMENT`, an `Experiment`
subclass instance. The runner (plan, execute, write, resume), the CLI (one command per
experiment, with its options), `reproduce`, the report (a section and a verdict per
experiment), `compare` (which tables it reads and how) and the terminal tables all read these
declarations; none of them names an experiment. Tests may `register` more.

The flow of one run (relukan_bench.runner drives it):

    config = validated `schema`            units = plan(config, devices)
    for result in execute(config, devices, todo, progress):   # a pure function of the units
        session.record(rows(result))       # the driver alone writes the run directory
    shown = summarize(run_dir, config, results, context); figures(...)
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType, ModuleType
from typing import TYPE_CHECKING, Any, Callable, Generic, Iterator, Mapping, Protocol, Sequence, TypeVar

import relukan_bench.experiments as package
from relukan_bench.devices import resolve_device
from relukan_bench.errors import UsageError, clip

if TYPE_CHECKING:
    from relukan_bench.kinds import Shape
    from relukan_bench.limits import Demand
    from relukan_bench.records import Record, Row
    from relukan_bench.sides import Side
    from relukan_bench.tables import Table

ConfigT = TypeVar("ConfigT")  # the experiment's validated config (its `schema`)
UnitT = TypeVar("UnitT")  # one unit of work: what `plan` lists and `execute` runs
ResultT = TypeVar("ResultT")  # what `execute` yields per unit
ShownT = TypeVar("ShownT", bound="Shown")  # what `summarize` returns for `show` and `figures`

Progress = Callable[[Any, int, float], None]  # (unit, steps done in it, train loss or NaN)


class Shown(Protocol):
    """What every experiment's `summarize` returns: its own typed object, with the lines the run
    ends with (a figure that could not be drawn)."""

    warnings: list[str]


@dataclass(frozen=True)
class Option:
    """A command-line option of an experiment's command that sets a config key.

    `convert` turns the text into the override's value (UsageError when it cannot)."""

    flag: str
    key: str
    help: str
    type: type = str
    min: int | None = None
    convert: Callable[[Any], Any] | None = None

    @property
    def param(self) -> str:
        """The command function's parameter: `--seeds` -> `seeds`."""
        return self.flag.lstrip("-").replace("-", "_")


@dataclass(frozen=True)
class CompareTable:
    """A table `compare` can read, usually named `file`: it is this experiment's when its
    header holds `columns`; `read(side, path, rows)` fills the side's metrics
    (relukan_bench.compare_sides)."""

    file: str
    columns: frozenset[str]
    read: Callable[[Side, Path, Sequence[dict[str, str]]], None]
    paper: bool = False  # the paper's own numbers


@dataclass(frozen=True)
class Part:
    """A run directory `reproduce` writes beside the experiments' own: `name` (the directory)
    runs the experiment `experiment` with the shipped config `config`, only when the reproduce
    run asks for it (`flag`: "tuned" for `reproduce --tuned`, "peers" for `reproduce --peers`, a
    tuple of them for a part that needs each; "" for an experiment's own directory, always
    run). The report reads it with its experiment's directory (report.LoadedRun.variants)."""

    name: str
    experiment: str
    config: str
    title: str = ""  # what it runs, for the report ("each model at its own best, chosen on validation")
    flag: str | tuple[str, ...] = "tuned"

    @property
    def needs(self) -> tuple[str, ...]:
        """The reproduce flags that must all be given for this part to run (none: always)."""
        return tuple(f for f in ((self.flag,) if isinstance(self.flag, str) else self.flag) if f)


def _metrics_named(metrics: Sequence[str], paper: bool) -> str:
    return ", ".join(metrics)


def _no_paper_rows(paper_rows: Sequence[dict[str, str]], config_path: Path) -> set[tuple[str, ...]]:
    return set()


@dataclass(frozen=True)
class Command:
    """What the command line reads of an experiment: its command's help (first line, blank
    line, what it writes), the options that set config keys, which of --functions / --models
    it takes, how it counts its units, and its `--quick` smoke run."""

    help: str
    options: tuple[Option, ...] = ()
    selects: tuple[str, ...] = ("models",)
    units_name: str = "runs"  # "timed runs", "training runs"
    quick: tuple[str, ...] = ()  # `--quick`: overrides for a smoke run (the session applies them)
    quick_help: str = "Smoke run: a handful of steps."
    device_help: str = "cpu, cuda, or auto (CUDA when present, else the CPU). Default: the config's (cpu)."


@dataclass(frozen=True)
class Comparison:
    """What `compare` reads of an experiment: the tables it knows (`tables`), what matches two
    rows (`keys`), the metrics in order of preference and which way each is better, those
    decided with a significance test where raw repeats allow (`tested`), and the floors below
    which a ratio is taken of the floor. Its functions say which metrics to compare against the
    paper's numbers or another run (`candidates`), what the numbers are (`note`), which of the
    paper's rows a run ran (`paper_rows`) and what else a run directory adds to its side
    (`extra`: speed's raw repeats)."""

    keys: tuple[str, ...]
    metrics: tuple[str, ...]
    tables: tuple[CompareTable, ...]
    higher_is_better: Mapping[str, bool]
    first_only: bool = False  # compare only the first metric both sides have
    tested: tuple[str, ...] = ()
    floors: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    candidates: Callable[[bool], tuple[str, ...]] | None = None  # None: `metrics`, whoever the sides are
    note: Callable[[Sequence[str], bool], str] = _metrics_named
    paper_rows: Callable[[Sequence[dict[str, str]], Path], set[tuple[str, ...]]] = _no_paper_rows
    extra: Callable[[Side, Path, Callable[[Path, Path], Side]], None] | None = None

    def chosen(self, paper: bool) -> tuple[str, ...]:
        """The metrics to compare (one side being the paper's numbers, or not)."""
        return self.candidates(paper) if self.candidates is not None else self.metrics


@dataclass(frozen=True)
class Report:
    """What `reproduce` and REPORT.md read of an experiment: its section's title, the paper's
    claim it tests, the module that writes its section and decides its verdict (`RULE`,
    `section(run, run_dir)`, `verdict(run)` and optionally `verdicts(run)`, one per way the
    claim is stated), the further run directories `reproduce` writes for it, and its summary's
    rows as the paper's comparison reads them (`comparison_rows`: each model once)."""

    title: str
    claim: str
    module: ModuleType | None = None
    parts: tuple[Part, ...] = ()
    comparison_rows: Callable[[Sequence[dict[str, Any]]], list[dict[str, Any]]] = list

    @property
    def rule(self) -> str:
        """How its verdict is decided."""
        return str(self.module.RULE) if self.module is not None else ""

    def section(self, run: Any, run_dir: Path) -> str:
        """Its section (markdown) from a run directory read back (report.LoadedRun)."""
        return str(self.module.section(run, run_dir)) if self.module is not None else ""

    def verdicts(self, run: Any) -> list[Any]:
        """Its verdicts (report.Verdict): the module's `verdicts(run)` where it has one, else
        `[verdict(run)]`; none without a module."""
        if self.module is None:
            return []
        return list(self.module.verdicts(run)) if hasattr(self.module, "verdicts") else [self.module.verdict(run)]


@dataclass
class Outcome(Generic[ConfigT, ShownT]):
    """A finished (or interrupted) run of an experiment, ready to render: its directory, config,
    what `summarize` returned to show, and how it ended."""

    experiment: str
    run_dir: Path
    config: ConfigT
    shown: ShownT
    interrupted: bool = False
    failed: list[str] = field(default_factory=list)  # "what: why", one per failed unit
    units: tuple[int, int] = (0, 0)  # (finished, planned)
    warnings: list[str] = field(default_factory=list)  # what went wrong beside the units (a figure not drawn)
    quick: bool = False  # a `--quick` smoke run: its numbers are no result
    lost: str | None = None  # why the executor lost units (a worker died): the run closed as interrupted


class Experiment(Generic[ConfigT, UnitT, ResultT, ShownT]):
    """The declaration every experiment fills in: what each consumer reads (`command`,
    `comparison`, `report`), what a run writes, then the hooks.

    A declaration subclasses `Experiment[Config, Unit, Result, Shown]` and points each hook it
    needs at the module function that does the work (`plan = staticmethod(run.plan)`); the
    signatures below are what those functions take and return."""

    name: str = ""
    rank: int = 100  # the order of commands, of reproduce and of the report
    command: Command = Command("")  # what the CLI reads
    comparison: Comparison | None = None  # what `compare` reads (None: it reads none of its tables)
    report: Report = Report("", "")  # what reproduce and REPORT.md read
    # per-unit logs (record classes) in the order a unit is written; the last commits it
    tables: Mapping[str, type[Record]] = MappingProxyType({})
    # the derived tables of fixed columns (record classes), rewritten after every unit
    summaries: Mapping[str, type[Record]] = MappingProxyType({})
    # the derived tables whose columns depend on the config: column templates in order (`{M}`:
    # a model's name) -> str, int, float or bool, as docs/outputs.md gives them (relukan_bench.loading)
    layouts: Mapping[str, Mapping[str, type]] = MappingProxyType({})
    workers: bool = False  # runs pykan versions other than the installed one in workers (relukan_bench.worker)
    parallel: bool = True  # its units run in parallel workers by default (relukan_bench.executors)
    serial_reason: str = ""  # why not, when `parallel` is False (recorded when someone insists)


    @property
    def schema(self) -> type[ConfigT]:
        """The config class (a property: pydantic is imported when a command needs it, not for --help)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ running
    def devices(self, choice: str) -> list[str]:
        return [resolve_device(choice)]

    def shapes(self, config: ConfigT) -> Sequence[Shape]:
        """The network shapes its models are built for (what a plugin is checked on)."""
        raise NotImplementedError

    def domain(self, config: ConfigT) -> tuple[float, float]:
        raise NotImplementedError

    def reproduce_config(self) -> tuple[Path | None, str | None]:
        """The config `reproduce` runs (None: the default one), and a note for the user when a
        fuller one exists but cannot run here (what to prepare for it)."""
        return None, None

    def context(self, config: ConfigT) -> object:
        """What the run needs beside its config, read before anything is written (the paper's numbers)."""
        return None

    def demand(self, config: ConfigT, devices: Sequence[str]) -> Demand:
        """What `config` asks of the machine, computed by arithmetic alone (never by building
        the plan): refused before anything is written when it is more than a run may ask for."""
        raise NotImplementedError

    def plan(self, config: ConfigT, devices: Sequence[str]) -> list[UnitT]:
        raise NotImplementedError

    def due(self, config: ConfigT, units: Sequence[UnitT], finished: Sequence[ResultT]) -> list[UnitT]:
        """Of the planned `units`, those wanted once the `finished` results are in (a run in
        stages: fit's `tune_seeds` trains a chosen candidate's other seeds after the choice).
        The runner asks again after each stage, until nothing new is due."""
        return list(units)

    def key(self, row: Mapping[str, Any], /) -> UnitT:
        """The unit a row of any of its per-unit logs belongs to."""
        raise NotImplementedError

    def steps(self, config: ConfigT) -> int:
        """Progress steps per unit (1: progress counts units)."""
        return 1

    def execute(self, config: ConfigT, devices: Sequence[str], units: Sequence[UnitT], progress: Progress
                ) -> Iterator[ResultT]:
        """Run `units`; yield one result per unit as it finishes. Writes nothing."""
        raise NotImplementedError

    def tasks(self, config: ConfigT, units: Sequence[UnitT]) -> list[list[UnitT]]:
        """`units` cut into pieces that share nothing, for parallel workers, the longest
        expected first: each piece's `execute` gives the results a serial run gives them."""
        return [[unit] for unit in units]

    def rows(self, result: ResultT) -> Mapping[str, Sequence[Row]]:
        """A finished unit's records, per table of `tables` (the writer makes rows of them)."""
        raise NotImplementedError

    def rebuild(self, loaded: dict[str, list[dict[str, Any]]]) -> list[ResultT]:
        """The results of units an earlier session finished, from their logs."""
        raise NotImplementedError

    def failure(self, result: ResultT) -> str | None:
        """`what: why` when the unit failed, else None."""
        raise NotImplementedError

    def label(self, unit: UnitT) -> str:
        return str(unit)

    def summarize(self, run_dir: Path, config: ConfigT, results: Sequence[ResultT], context: Any) -> ShownT:
        """Write the derived tables (after every unit); return what `show` needs (and, as its
        `warnings`, lines the run ends with, as for figures that failed)."""
        raise NotImplementedError

    def figures(self, run_dir: Path, config: ConfigT, results: Sequence[ResultT], shown: ShownT) -> None:
        """Draw the run's figures (at the end), with what the last `summarize` returned."""

    # ------------------------------------------------------------------ showing
    def show(self, outcome: Outcome[ConfigT, ShownT]) -> list[Table]:
        """Its tables for the terminal."""
        return []


_extra: dict[str, Experiment] = {}


@functools.lru_cache(maxsize=None)
def _declared() -> tuple[Experiment, ...]:
    found = []
    for module in pkgutil.iter_modules(package.__path__):
        declared = getattr(importlib.import_module(f"{package.__name__}.{module.name}"), "EXPERIMENT", None)
        if isinstance(declared, Experiment):
            found.append(declared)
    return tuple(found)


def experiments() -> dict[str, Experiment]:
    """Every experiment by name, in rank order."""
    found = [*_declared(), *_extra.values()]
    return {exp.name: exp for exp in sorted(found, key=lambda exp: exp.rank)}


def experiment(name: str) -> Experiment:
    return experiments()[name]


def register(declared: Experiment) -> Experiment:
    """Add an experiment that lives outside this package (tests do)."""
    _extra[declared.name] = declared
    return declared


def unregister(name: str) -> None:
    _extra.pop(name, None)


#: the options of `reproduce` that ask for further parts (Part.flag)
REPRODUCE_FLAGS = ("tuned", "peers")


def reproduce_parts(tuned: bool = False, peers: bool = False) -> dict[str, Part]:
    """The run directories of a `reproduce` run by name, in the order they run: each
    experiment's own (its name, its reproduce config: `config` ""), each followed by the
    further parts it declares that the run asks for (`tuned`: `reproduce --tuned`; `peers`:
    `reproduce --peers`; a part needing both runs with both)."""
    asked = {"tuned": tuned, "peers": peers}
    found: dict[str, Part] = {}
    for exp in experiments().values():
        found[exp.name] = Part(exp.name, exp.name, "", exp.report.title, flag="")
        found.update((part.name, part) for part in exp.report.parts if all(asked.get(flag, False) for flag in part.needs))
    return found


def rows_by_unit(loaded: dict[str, list[dict[str, Any]]], commit: str, key: Callable[[dict[str, Any]], Any]
                 ) -> list[tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]]:
    """The units earlier sessions finished, from their logs: per row of the commit log, that
    row and the unit's rows of every other log, in the logs' order."""
    from collections import defaultdict

    others = [name for name in loaded if name != commit]
    by_unit: dict[Any, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: {name: [] for name in others})
    for name in others:
        for row in loaded[name]:
            by_unit[key(row)][name].append(row)
    return [(run, by_unit[key(run)]) for run in loaded[commit]]


def seed_list(value: str) -> str:
    """`--seeds 0,1,2` as the YAML list `[0, 1, 2]`; UsageError unless decimal integers >= 0
    without leading zeros (`010` is not read as 10, nor as YAML's octal 8)."""
    from relukan_bench.schema import MAX_SEED  # pydantic: imported when a command runs

    parts = [part.strip() for part in value.split(",") if part.strip()]
    if not parts or not all(re.fullmatch(r"[0-9]{1,11}", part) for part in parts):
        raise UsageError(f"--seeds: expected comma-separated integers >= 0, e.g. 0,1,2 (got {clip(value, 40)!r})")
    padded = [part for part in parts if len(part) > 1 and part.startswith("0")]
    if padded:
        raise UsageError(f"--seeds: expected decimal integers without leading zeros (got {padded[0]!r}: "
                         f"write {int(padded[0])} if that is what you mean)")
    largest = max(map(int, parts))
    if largest > MAX_SEED:
        raise UsageError(f"--seeds: expected seeds of at most {MAX_SEED} (got {largest})")
    return "[" + ", ".join(parts) + "]"
