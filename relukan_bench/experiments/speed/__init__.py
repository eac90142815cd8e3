"""The speed experiment (docs/paper.md, "Speed"): its declaration. The folder's modules hold
the rest: `records` (raw.csv, summary.csv, decomposition.csv), `plan` (the units and their
execution), `run` (the runner's hooks), `measure` (one timed unit), `summary` (statistics and
the decomposition), `paper` (the paper's claim, speedups and layout), `shown` (what a finished
run writes and shows), `config`, `figures`, `tables` (terminal), `compare`, `report` and `peers`.

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

from types import MappingProxyType
from typing import TYPE_CHECKING

import relukan_bench.experiments.speed.compare as read
from relukan_bench.devices import resolve_devices
from relukan_bench.experiments.protocol import Command, Experiment, Option, Part, Report
from relukan_bench.experiments.speed import report, run, shown
from relukan_bench.experiments.speed.paper import CLAIM, TABLE_LAYOUT
from relukan_bench.experiments.speed.plan import Unit, key, plan, seconds_label
from relukan_bench.experiments.speed.records import DecompositionRecord, RawRecord, SummaryRecord
from relukan_bench.experiments.speed.shown import SpeedShown

if TYPE_CHECKING:
    from relukan_bench.experiments.speed.config import SpeedConfig


class Speed(Experiment["SpeedConfig", Unit, RawRecord, SpeedShown]):
    name, rank = "speed", 0
    command = Command(
        help=("Time ReLU-KAN and the original KAN on the paper's five speed functions.\n\n"
              "Writes config.yaml, env.json, raw.csv (every repeat), summary.csv (median, quartiles, speedup over the "
              "baseline), table.csv (the paper's layout) and speed.png into results/speed/<UTC timestamp>/."),
        options=(Option("--repeats", "timing.repeats", "Fresh models timed per function, model and device.", int, 1),
                 Option("--seed", "seed", "Base seed of data and initialisation.", int, 0)),
        selects=("functions", "models"), units_name="timed runs",
        quick=("train.steps=5", "timing.repeats=1", "timing.warmup_steps=1"),
        quick_help="Smoke run: every function and model, a handful of steps, one repeat.",
        device_help="cpu, cuda, or auto (the CPU plus CUDA when present). Default: the config's (cpu).")
    comparison = read.COMPARISON
    report = Report(
        "Speed", CLAIM, report,
        parts=(Part("speed-peers", "speed", "speed-peers", "ReLU-KAN among the field's KANs at the paper's shapes",
                    flag="peers"),
               Part("speed-scale", "speed", "speed-scale", "the field's KANs from 64 to 1000 wide", flag="peers"),
               Part("speed-fit-peers", "speed", "speed-fit-peers",
                    "the step times of the field's KANs on the fitting shapes", flag="peers")))
    tables = MappingProxyType({"raw": RawRecord})
    summaries = MappingProxyType({"summary": SummaryRecord, "decomposition": DecompositionRecord})
    layouts = MappingProxyType({"table": TABLE_LAYOUT})
    workers = True
    parallel = False
    serial_reason = ("timings taken while other units run on the same cores measure their contention for "
                     "cores, caches and memory bandwidth, not the models")

    @property
    def schema(self) -> type[SpeedConfig]:
        from relukan_bench.experiments.speed.config import SpeedConfig  # here: pydantic would slow --help

        return SpeedConfig

    # the runner's hooks (run.py), the summary and what is shown (shown.py)
    devices = staticmethod(resolve_devices)
    shapes, domain, context = staticmethod(run.shapes), staticmethod(run.domain), staticmethod(run.context)
    reproduce_config, demand = staticmethod(run.reproduce_config), staticmethod(run.demand)
    plan, key, label = staticmethod(plan), staticmethod(key), staticmethod(seconds_label)
    execute, rows, rebuild, failure = staticmethod(run.execute), staticmethod(run.rows), staticmethod(run.rebuild), \
        staticmethod(run.failure)
    summarize, figures, show = staticmethod(shown.summarize), staticmethod(shown.figures), staticmethod(shown.show)


EXPERIMENT = Speed()
