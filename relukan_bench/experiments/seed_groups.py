"""Which runs of `fit` and `forgetting` train together, and the loop that trains them.

A model entry's seeds train at once, as one batched model (a ReLU-KAN's: `models.batched`),
when its kind can batch them, the plan puts them next to each other and the config's `train.batch_seeds` is on; every other run
trains alone. `run_groups` drives both experiments: per group it calls the experiment's
`train(group, spec, progress) -> results` and yields the results of the wanted runs, or one
failed record per wanted run when training raised.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator, Sequence

from relukan_bench.errors import failure


def batchable(config: Any, spec: Any) -> bool:
    """Whether a model entry's seeds train as one batched model: when its kind can batch them
    (relukan_bench.kinds) and the config's `train.batch_seeds` is on."""
    from relukan_bench.kinds import kind_of

    return kind_of(spec).batch is not None and config.train.batch_seeds


def groups(units: Sequence[Any], config: Any, models: dict[str, Any], same: Callable[[Any], Any]) -> list[list[Any]]:
    """`units` cut into what trains at once: runs next to each other that `same` puts together
    and whose model is `batchable`, and every other run alone."""
    out: list[list[Any]] = []
    for unit in units:
        if out and batchable(config, models[unit.model]) and same(out[-1][-1]) == same(unit):
            out[-1].append(unit)
        else:
            out.append([unit])
    return out


def groups_to_run(planned: Sequence[Any], units: Sequence[Any] | None, config: Any, models: dict[str, Any],
                  same: Callable[[Any], Any]) -> list[tuple[list[Any], list[Any]]]:
    """(group, wanted) pairs: the plan's `groups` that hold any of `units` (default: all of
    the plan), each with the units of it that are wanted. A group trains whole even when some
    of its seeds finished in an earlier session, so that a resumed run computes exactly what an
    uninterrupted one would (a batch of two seeds rounds differently from a batch of three);
    only the wanted seeds are kept."""
    wanted = set(planned) if units is None else set(units)
    return [
        (group, [u for u in group if u in wanted])
        for group in groups(planned, config, models, same)
        if any(u in wanted for u in group)
    ]


def run_groups(planned: Sequence[Any], units: Sequence[Any] | None, config: Any, same: Callable[[Any], Any],
               train: Callable[[list[Any], Any, Any], list[Any]], failed: Callable[[Any, Any, str], Any],
               on_progress: Callable[[Any, int, float], None] | None) -> Iterator[Any]:
    """Train the groups holding `units` (default: the whole plan); yield a result per wanted
    run, in plan order. `train(group, spec, progress)` returns one result per member;
    `failed(unit, spec, error)` makes a failed run's record. Progress is reported under the
    group's first wanted unit."""
    from relukan_bench.training import keep_large_allocations

    keep_large_allocations()  # batched seeds allocate large temporaries every step
    models = {m.name: m for m in config.models}
    for group, wanted in groups_to_run(planned, units, config, models, same):
        spec = models[group[0].model]
        progress = (lambda done, loss, unit=wanted[0]: on_progress(unit, done, loss)) if on_progress else None
        try:
            results = train(group, spec, progress)
            yield from (result for member, result in zip(group, results) if member in wanted)
        except Exception as exc:  # noqa: BLE001 - one failed run is recorded, the others go on
            for member in wanted:
                yield failed(member, spec, failure(exc))
