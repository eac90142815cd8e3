"""The speed experiment (docs/paper.md, "Speed"): its declaration. The folder's modules hold
the rest: `records` (raw.csv, summary.csv, decomposition.csv), `plan` (the units and their
execution), `measure` (one timed unit), `summary` (statistics and the decomposition), `paper`
(the paper's claim, speedups and layout), `config`, `figures`, `tables` (terminal),
`compare`, `report` and `peers`.

For every device, function, repeat and model: a freshly initialised model and optimizer,
`timing.warmup_steps` untimed training steps, then `train.steps` timed ones. The whole step is
timed: zero_grad, forward, MSE loss, backward, optimizer step. Inside a repeat every model gets
the same data and the same initialisation seed; models alternate inside a repeat so that slow
drifts of the machine hit all of them alike.

Fixes to the reference script, on purpose: the clock is read after a CUDA synchronise,
runs are seeded, repeated and summarised by median and quartiles, the thread count is pinned
(by the caller, see `relukan_bench.timing.threads`), f2's target is the paper's.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Iterator, Sequence

import relukan_bench.experiments.speed.compare as read
from relukan_bench import pykan_envs, resources
from relukan_bench.devices import resolve_devices
from relukan_bench.experiments.protocol import CompareTable, Experiment, Option, Part
from relukan_bench.experiments.speed.figures import figure
from relukan_bench.experiments.speed.measure import PROBE_FRACTION
from relukan_bench.experiments.speed.paper import CLAIM, TABLE_LAYOUT, paper_speedups, paper_table, table_columns
from relukan_bench.experiments.speed.plan import Unit, _seconds_label, iter_speed, key, plan, samples_of
from relukan_bench.experiments.speed.records import (
    DECOMPOSITION_COLUMNS,
    SUMMARY_COLUMNS,
    DecompositionRecord,
    RawRecord,
    SummaryRecord,
)
from relukan_bench.experiments.speed.summary import decompose, summarize
from relukan_bench.experiments.speed.tables import decomposition_table, inference_table, speed_table
from relukan_bench.kinds import kind_of, roles
from relukan_bench.limits import Demand
from relukan_bench.results import read_csv, write_csv
from relukan_bench.safe_files import present

if TYPE_CHECKING:
    from relukan_bench.experiments.speed.config import SpeedConfig


class Speed(Experiment):
    name, rank, title = "speed", 0, "Speed"
    report = f"{__name__}.report"  # its REPORT.md part: RULE, section, verdict
    claim = CLAIM
    help = ("Time ReLU-KAN and the original KAN on the paper's five speed functions.\n\n"
            "Writes config.yaml, env.json, raw.csv (every repeat), summary.csv (median, quartiles, speedup over the "
            "baseline), table.csv (the paper's layout) and speed.png into results/speed/<UTC timestamp>/.")
    quick_help = "Smoke run: every function and model, a handful of steps, one repeat."
    quick = ("train.steps=5", "timing.repeats=1", "timing.warmup_steps=1")

    @property
    def schema(self) -> type:
        from relukan_bench.experiments.speed.config import SpeedConfig

        return SpeedConfig

    tables = {"raw": RawRecord}
    summaries = {"summary": SummaryRecord, "decomposition": DecompositionRecord}
    parts = (Part("speed-peers", "speed", "speed-peers", "ReLU-KAN among the field's KANs at the paper's shapes", flag="peers"),
             Part("speed-scale", "speed", "speed-scale", "the field's KANs from 64 to 1000 wide", flag="peers"),
             Part("speed-fit-peers", "speed", "speed-fit-peers", "the step times of the field's KANs on the fitting shapes",
                  flag="peers"))
    layouts = {"table": TABLE_LAYOUT}
    units_name = "timed runs"
    workers = True
    parallel = False
    serial_reason = ("timings taken while other units run on the same cores measure their contention for "
                     "cores, caches and memory bandwidth, not the models")
    device_help = "cpu, cuda, or auto (the CPU plus CUDA when present). Default: the config's (cpu)."
    selects = ("functions", "models")
    options = (
        Option("--repeats", "timing.repeats", "Fresh models timed per function, model and device.", int, 1),
        Option("--seed", "seed", "Base seed of data and initialisation.", int, 0),
    )

    def devices(self, choice: str) -> list[str]:
        return resolve_devices(choice)

    compare_keys = ("function", "model", "device")
    compare_metrics = ("ms_per_step", "speedup")
    compare_first_only = True
    higher_is_better = {"ms_per_step": False, "speedup": True}
    tested_metrics = ("ms_per_step",)

    @property
    def compare_tables(self) -> tuple[CompareTable, ...]:
        return (
            CompareTable("raw.csv", frozenset({"function", "model", "device", "repeat", "ms_per_step"}), read.speed_raw),
            CompareTable("summary.csv", frozenset({"function", "model", "device", "median_s", "ms_per_step"}), read.speed_summary),
            CompareTable("speed.csv", frozenset({"function", "expression", "kan_cpu_s", "relukan_cpu_s"}), read.paper_speed, paper=True),
            CompareTable("table.csv", frozenset({"function", "paper_speedup_cpu"}), read.speed_table),
        )

    def compare_candidates(self, paper: bool) -> tuple[str, ...]:
        return ("speedup",) if paper else self.compare_metrics

    def compare_note(self, metrics: Sequence[str], paper: bool) -> str:
        if list(metrics) == ["speedup"]:
            return ("speedup over the baseline (higher is better)"
                    + ("; against the paper speedups are compared, never seconds" if paper else ""))
        return "ms per training step, median over repeats (lower is better)"

    def compare_run(self, side: Any, directory: Any, load_csv: Any) -> None:
        if present(directory / "raw.csv"):  # the raw repeats, for the significance test (read, or refused)
            side.metrics["ms_per_step"] = load_csv(directory / "raw.csv", directory).metrics["ms_per_step"]

    def paper_keys(self, paper_rows: Sequence[dict[str, str]], config_path: Any) -> set[tuple[str, ...]]:
        return read.paper_keys(paper_rows, config_path)

    def reproduce_config(self) -> tuple[Any, str | None]:
        """configs/speed-baselines.yaml when the environments of its pykan versions are
        prepared; else the default config and how to prepare them."""
        from relukan_bench.experiments.speed.config import BASELINES_CONFIG, baseline_versions

        path = resources.configs_dir() / BASELINES_CONFIG
        versions = baseline_versions(path)
        if pykan_envs.missing(versions):
            return None, (f"speed times the installed pykan only; to time it against pykan {', '.join(versions)} too "
                          f"(configs/{BASELINES_CONFIG}), {pykan_envs.install_hint(pykan_envs.missing(versions))}")
        return resources.display_path(path), None

    def context(self, config: SpeedConfig) -> dict[tuple[str, str], float]:
        return paper_speedups(read_csv(resources.paper_dir() / "speed.csv"), config)

    def demand(self, config: SpeedConfig, devices: Sequence[str]) -> Any:
        units = len(devices) * len(config.functions) * config.timing.repeats * len(config.models)
        samples = max(samples_of(config, f) for f in config.functions)
        probe = PROBE_FRACTION if config.timing.max_step_seconds is not None else 1
        return Demand(units, "devices x functions x timing.repeats x models",
                      units * (config.timing.warmup_steps + config.train.steps) * samples,
                      "those units x (timing.warmup_steps + train.steps) x samples (the largest batch)",
                      config.data.samples, "data.samples",
                      units, "devices x functions x timing.repeats x models", probe=probe)

    def plan(self, config: SpeedConfig, devices: Sequence[str]) -> list[Unit]:
        return plan(config, devices)

    def key(self, row: dict[str, Any]) -> Unit:
        return key(row)

    def execute(self, config: SpeedConfig, devices: Sequence[str], units: Sequence[Unit], progress: Any) -> Iterator[dict[str, Any]]:
        return iter_speed(config, devices, units, lambda unit: progress(unit, 0, math.nan))

    def rows(self, result: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
        return {"raw": [result]}

    def rebuild(self, loaded: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
        return list(loaded["raw"])

    def failure(self, result: dict[str, Any]) -> str | None:
        if not result.get("error"):
            return None
        return f"{result['function']} {result['model']} on {result['device']}, repeat {result['repeat'] + 1}: {result['error']}"

    def label(self, unit: Unit) -> str:
        return _seconds_label(unit)

    def summarize(self, run_dir: Any, config: SpeedConfig, results: Sequence[dict[str, Any]], context: Any) -> dict[str, Any]:
        model_names, function_names = [m.name for m in config.models], [f.name for f in config.functions]
        summary = summarize(results, config.baseline)
        write_csv(run_dir / "summary.csv", SUMMARY_COLUMNS, summary)
        write_csv(run_dir / "table.csv", table_columns(model_names, config.baseline),
                  paper_table(summary, function_names, model_names, context))
        efforts = {m.name: kind_of(m).step(m) for m in config.models}
        split = decompose(summary, roles(config.models), config.baseline, efforts)
        if split:
            write_csv(run_dir / "decomposition.csv", DECOMPOSITION_COLUMNS, split)
        return {"summary": summary, "paper": context, "split": split}

    def figures(self, run_dir: Any, config: SpeedConfig, results: Sequence[dict[str, Any]], shown: dict[str, Any]) -> None:
        if any(not r.get("error") for r in results):
            figure(run_dir, config, shown["summary"], shown["paper"])

    def show(self, outcome: Any) -> list[Any]:
        shown, config = outcome.shown, outcome.config
        tables = [speed_table(shown["summary"], config.baseline, shown["paper"], config.train.steps)]
        tables += [table for table in [inference_table(shown["summary"], config.baseline)] if table]
        return tables + ([decomposition_table(shown["split"])] if shown["split"] else [])


EXPERIMENT = Speed()
