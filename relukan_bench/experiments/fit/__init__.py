"""The fitting experiment (docs/paper.md, "Fitting accuracy"): its declaration.

For every function, seed and model: fresh training and test sets (uniform in the domain,
drawn from the seed), a freshly initialised model, `train.steps` full-batch steps, and the
train and test MSE of every step. Inside a seed every model gets the same data and the same
initialisation seed. A model is trained by our loop (`relukan_bench.training`, the same for
every kind) unless its config asks for pykan's own `fit()`.

A ReLU-KAN's seeds train at once, as one batched model (`models.batched`), when there are
several and `train.batch_seeds` is on: the same numbers as separate runs (to float rounding,
tests/models/test_batched.py) for a fraction of the time. Such runs record `batched` = the
number of seeds trained together and, as `seconds`, their equal share of the group's time.

Every error here is an MSE. pykan's `fit()` logs RMSE; it is squared back on the way in, and
the only RMSE in the outputs is the column named `final_test_rmse`.

    for result in iter_fit(config, "cpu"): ...      # plan.py: one RunResult per finished run
    summary = summarize([r.run for r in results], baseline="kan")      # summary.py

The modules: `config` (FitConfig), `tuning` (`tune:` candidates and the choice among them),
`records` (the tables), `plan` (units and their execution), `summary` (statistics over seeds),
`targets` (time to a target), `paper` (the paper's numbers, table.csv), `figures`, `tables`
(terminal), `compare`, `report` and `peers` (REPORT.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator, Sequence

from relukan_bench import resources
from relukan_bench.experiments.fit import compare as read
from relukan_bench.experiments.fit import targets
from relukan_bench.experiments.fit.figures import _renamed, plot_tuning
from relukan_bench.experiments.fit.figures import figures as draw_figures
from relukan_bench.experiments.fit.paper import TABLE_LAYOUT, PaperFit, compared, paper_fits, paper_table, table_columns
from relukan_bench.experiments.fit.plan import Unit, iter_fit, key, together
from relukan_bench.experiments.fit.plan import plan as full_plan
from relukan_bench.experiments.fit.records import (
    SUMMARY_COLUMNS,
    CurveRecord,
    PredictionRecord,
    RunRecord,
    RunResult,
    SummaryRecord,
)
from relukan_bench.experiments.fit.summary import selected_rows, summarize
from relukan_bench.experiments.fit.tables import fit_table, target_table
from relukan_bench.experiments.protocol import CompareTable, Experiment, Option, Part, rows_by_unit, seed_list
from relukan_bench.experiments.seed_groups import tasks
from relukan_bench.kinds import kind_of
from relukan_bench.limits import Demand
from relukan_bench.results import read_csv, write_csv

if TYPE_CHECKING:
    from relukan_bench.experiments.fit.config import FitConfig


class Fit(Experiment):
    name, rank, title = "fit", 1, "Fitting accuracy"
    report = f"{__name__}.report"  # its REPORT.md part: RULE, section, verdict
    claim = "ReLU-KAN is two orders of magnitude more accurate than KAN"
    help = ("Train ReLU-KAN and the original KAN on the paper's six fitting functions and record their errors.\n\n"
            "Writes config.yaml, env.json, runs.csv (one row per training run), curves.csv (train and test MSE per step), "
            "predictions.csv, summary.csv (medians over seeds), table.csv (beside the paper's numbers, all in MSE) and "
            "PNG figures into results/fit/<UTC timestamp>/.")
    quick_help = "Smoke run: every function and model, 20 steps, one seed."
    quick = ("train.steps=20", "seeds=[0]")
    # `reproduce --tuned`: every model again at its own best, chosen on validation (REPORT.md states the claim both ways)
    parts = (Part("fit-tuned", "fit", "fit-tuned", "each model at its best, chosen on validation"),
             Part("fit-peers", "fit", "fit-peers", "ReLU-KAN among the field's KANs, at the same grid and at equal size",
                  flag="peers"),
             Part("fit-peers-tuned", "fit", "fit-peers-tuned", "the field's KANs at equal size, each at its best",
                  flag=("peers", "tuned")))

    @property
    def schema(self) -> type:
        from relukan_bench.experiments.fit.config import FitConfig

        return FitConfig

    tables = {"curves": CurveRecord, "predictions": PredictionRecord, "runs": RunRecord}
    summaries = {"summary": SummaryRecord}
    layouts = {"table": TABLE_LAYOUT}
    units_name = "training runs"
    selects = ("functions", "models")
    options = (Option("--seeds", "seeds", "Seeds of data and initialisation, e.g. 0,1,2: one training run per seed.",
                      convert=seed_list),)

    compare_keys = ("function", "model")
    compare_metrics = ("test_mse",)
    higher_is_better = {"test_mse": False}

    @property
    def compare_tables(self) -> tuple[CompareTable, ...]:
        return (
            CompareTable("summary.csv", frozenset({"function", "model", "final_test_mse", "n_seeds"}), read.fit_summary),
            CompareTable("fit.csv", frozenset({"function", "kan_test_final_mse", "relukan_test_final_mse"}), read.paper_fit, paper=True),
            CompareTable("table.csv", frozenset({"function", "paper_gain"}), read.fit_table),
        )

    def comparison_rows(self, summary: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        return selected_rows(summary) if summary and "selected" in summary[0] else list(summary)

    def compare_note(self, metrics: Sequence[str], paper: bool) -> str:
        return "final test MSE, median over seeds (lower is better), compared as ratios on a log scale"

    def paper_keys(self, paper_rows: Sequence[dict[str, str]], config_path: Any) -> set[tuple[str, ...]]:
        return read.paper_keys(paper_rows, config_path)

    def context(self, config: FitConfig) -> dict[str, PaperFit]:
        return paper_fits(read_csv(resources.paper_dir() / "fit.csv"), config)

    def demand(self, config: FitConfig, devices: Sequence[str]) -> Any:
        data, train = config.data, config.train
        runs = len(config.functions) * len(config.seeds)
        units = runs * len(config.models)
        evaluations = sum(kind_of(model).evaluations(model) for model in config.models)
        at_once = len(config.seeds) if train.batch_seeds and any(kind_of(m).batch for m in config.models) else 1
        largest = max((data.train_samples, "data.train_samples"), (data.test_samples, "data.test_samples"),
                      (data.validation_samples, "data.validation_samples"))
        return Demand(units, "functions x models x seeds",
                      runs * train.steps * (evaluations * data.train_samples + len(config.models)
                                            * (data.test_samples + data.validation_samples)),
                      "functions x seeds x train.steps x (each model's loss evaluations per step (LBFGS: max_eval) "
                      "x data.train_samples + models x (data.test_samples + data.validation_samples))",
                      largest[0] * at_once, largest[1] + (" x seeds (trained at once)" if at_once > 1 else ""),
                      units * (train.steps // train.log_every + 1 + data.test_samples),
                      "those units x (train.steps / train.log_every + data.test_samples)")

    def plan(self, config: FitConfig, devices: Sequence[str]) -> list[Unit]:
        return full_plan(config)

    def due(self, config: FitConfig, units: Sequence[Unit], finished: Sequence[RunResult]) -> list[Unit]:
        from relukan_bench.experiments.fit.tuning import due

        return due(config, units, [result.run for result in finished])

    def key(self, row: dict[str, Any]) -> Unit:
        return key(row)

    def steps(self, config: FitConfig) -> int:
        return config.train.steps

    def execute(self, config: FitConfig, devices: Sequence[str], units: Sequence[Unit], progress: Any) -> Iterator[RunResult]:
        return iter_fit(config, devices[0], progress, units)

    def tasks(self, config: FitConfig, units: Sequence[Unit]) -> list[list[Unit]]:
        return tasks(full_plan(config), units, config, together)

    def rows(self, result: RunResult) -> dict[str, list[dict[str, Any]]]:
        return {"curves": list(result.curve_rows()), "predictions": result.predictions, "runs": [result.run]}

    def rebuild(self, loaded: dict[str, list[dict[str, Any]]]) -> list[RunResult]:
        return [RunResult(run, steps=[r["step"] for r in rows["curves"]], train_mse=[r["train_mse"] for r in rows["curves"]],
                          test_mse=[r["test_mse"] for r in rows["curves"]], predictions=rows["predictions"],
                          val_mse=[r["val_mse"] for r in rows["curves"]])
                for run, rows in rows_by_unit(loaded, "runs", key)]

    def failure(self, result: RunResult) -> str | None:
        run = result.run
        return f"{run['function']} {run['model']} seed {run['seed']}: {run['error']}" if run.get("error") else None

    def label(self, unit: Unit) -> str:
        return f"{unit.function} {unit.model} seed {unit.seed}"

    def summarize(self, run_dir: Any, config: FitConfig, results: Sequence[RunResult], context: Any) -> dict[str, Any]:
        summary = summarize([r.run for r in results], config.baseline, config.origin, config.tune_seeds)
        speed_run, warning = targets.speed_run(config, run_dir)
        targets.summary_columns(results, summary, targets.speed_step_times(config, speed_run))
        chosen = selected_rows(summary)
        shown = compared(config)
        model_names, function_names = [m.name for m in shown.models], [f.name for f in config.functions]
        table = paper_table(chosen, function_names, model_names, config.baseline, context)
        write_csv(run_dir / "summary.csv", SUMMARY_COLUMNS, summary)
        write_csv(run_dir / "table.csv", table_columns(model_names, config.baseline), table)
        return {"summary": chosen, "all": summary, "table": table, "paper": context, "config": shown,
                "warnings": [warning] if warning else []}

    def figures(self, run_dir: Any, config: FitConfig, results: Sequence[RunResult], shown: dict[str, Any]) -> None:
        chosen = {(r["function"], r["tuned_model"] or r["model"]): r["model"] for r in shown["all"] if r["selected"]}
        kept = [_renamed(r, config) for r in results
                if r.steps and chosen.get((r.run["function"], config.origin(r.run["model"])[0])) == r.run["model"]]
        if kept:
            draw_figures(run_dir, shown["config"], kept, shown["paper"], shown["summary"])
        if config.tuned:
            plot_tuning(config.functions, shown["all"], [m.name for m in shown["config"].models],
                              run_dir / "tuning.png")

    def show(self, outcome: Any) -> list[Any]:
        shown = outcome.shown
        times = target_table(shown["summary"], shown["config"])
        return [fit_table(shown["summary"], shown["table"], shown["config"]), *([times] if times else [])]



EXPERIMENT = Fit()
