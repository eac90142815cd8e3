"""The fit experiment's statistics over seeds: the summary (a row per function and model entry,
a tuned model's candidates chosen among on validation), the rows the paper's comparison reads,
each model's representative seed, and the curves' median and range across seeds."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import replace
from typing import Any, Callable, Sequence

from relukan_bench.experiments.fit.records import RunRecord, RunResult, SummaryRecord
from relukan_bench.experiments.seed_groups import over_seeds
from relukan_bench.experiments.seed_groups import representative_seed as median_seed
from relukan_bench.experiments.seed_groups import unbounded as _final
from relukan_bench.stats import median


def summarize(runs: Sequence[RunRecord], baseline: str | None,
              origin: Callable[[str], tuple[str, str]] = lambda name: (name, ""),
              tune_seeds: Sequence[int] | None = None) -> list[SummaryRecord]:
    """One record per (function, model entry), medians across seeds. Diverged runs count in
    `diverged` and as an infinite final error; runs that raised count in `failed` (with the
    diverged ones) and are left out of the numbers. `origin(entry)`: (tuned model, candidate);
    the candidates of a tuned model are chosen among on validation MSE alone
    (experiments/fit/tuning.py: select), on `tune_seeds` alone when given. gain = the baseline's
    median final test MSE (its selected candidate's, when tuned) / this one's."""
    # lazy: tuning imports pydantic (relukan_bench.schema), kept out of the CLI's start
    from relukan_bench.experiments.fit.tuning import choice_scores, select

    groups = over_seeds(runs, lambda run: (run.function, run.model))
    summary = []
    for (function, model), group in groups.items():
        rows, some = group.rows, group.first
        finals = [_final(r, "final_test_mse") for r in rows]
        tuned_model, candidate = origin(model)
        summary.append(SummaryRecord.blank(
            function=function, model=model, tuned_model=tuned_model, candidate=candidate or None, selected=False,
            kind=some.kind, trainer=some.trainer, n_seeds=len(rows), failed=group.failed,
            diverged=sum(bool(r.diverged) for r in rows),
            final_train_mse=median([_final(r, "final_train_mse") for r in rows]),
            final_test_mse=median(finals),
            final_test_mse_min=min(finals, default=math.nan),
            final_test_mse_max=max(finals, default=math.nan),
            best_test_mse=median([r.best_test_mse for r in rows if r.best_test_mse == r.best_test_mse]),
            final_test_rmse=median([_final(r, "final_test_rmse") for r in rows]),
            final_val_mse=median([_final(r, "final_val_mse") for r in rows]),
            seconds=median([r.seconds for r in rows]),
            params=rows[0].params if rows else None,
            spline_params=rows[0].spline_params if rows else None,
            macs=some.macs, sized=some.sized,
        ))
    chosen = select(summary, None if tune_seeds is None else choice_scores(runs, tune_seeds))
    base = {r.function: r.final_test_mse for r in summary if r.tuned_model == baseline and (r.function, r.model) in chosen}
    for record in summary:
        record.selected = (record.function, record.model) in chosen
        record.gain = ratio(base.get(record.function), record.final_test_mse) if baseline else math.nan
    return summary


def selected_rows(summary: Sequence[SummaryRecord]) -> list[SummaryRecord]:
    """The summary as the paper's comparison reads it: each model once per function, a tuned
    one by its selected candidate (under the tuned model's name)."""
    return [replace(record, model=record.tuned_model or record.model) for record in summary if record.selected]


def comparison_rows(summary: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """summary.csv's rows, read back, as the paper's comparison reads them: a tuned run's
    selected candidates (as `selected_rows` picks them), any other run's rows as they are."""
    if not summary or "selected" not in summary[0]:
        return list(summary)
    return [{**row, "model": row["tuned_model"] or row["model"]} for row in summary if row["selected"] in (True, "True")]


def ratio(numerator: float | None, denominator: float | None) -> float:
    """numerator / denominator; NaN when either is missing or not a finite positive ratio."""
    if numerator is None or denominator is None or numerator != numerator or denominator != denominator:
        return math.nan
    if math.isinf(numerator) and math.isinf(denominator):
        return math.nan
    if denominator == 0:
        return math.inf if numerator > 0 else math.nan
    return numerator / denominator


def representative_seed(runs: Sequence[RunRecord], function: str, model: str) -> int | None:
    """The seed whose final test MSE is the median of its (function, model) (the lower of the
    two middle ones for an even count); None when every run diverged."""
    return median_seed(runs, "final_test_mse", function=function, model=model)


def curve_bands(results: Sequence[RunResult]) -> dict[tuple[str, str], dict[str, list[float]]]:
    """Per (function, model): at every logged step, the median, minimum and maximum across
    seeds of the train and test MSE. Runs that diverged early count until they stop."""
    by_key: dict[tuple[str, str], list[RunResult]] = defaultdict(list)
    for result in results:
        by_key[(result.run.function, result.run.model)].append(result)
    bands = {}
    for key, group in by_key.items():
        columns: dict[float, dict[str, list[float]]] = defaultdict(lambda: {"train": [], "test": []})  # by logged step
        for result in group:
            for step, train, test in zip(result.steps, result.train_mse, result.test_mse):
                columns[step]["train"].append(train)
                columns[step]["test"].append(test)
        steps = sorted(columns)
        band: dict[str, list[float]] = {"step": steps}
        for which in ("train", "test"):
            values = [[v for v in columns[s][which] if math.isfinite(v)] for s in steps]
            band[f"{which}_median"] = [median(v) for v in values]
            band[f"{which}_min"] = [min(v) if v else math.nan for v in values]
            band[f"{which}_max"] = [max(v) if v else math.nan for v in values]
        bands[key] = band
    return bands
