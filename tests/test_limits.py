"""relukan_bench.limits: what a run may ask of the machine, workers included."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from relukan_bench.cli import app
from relukan_bench.errors import ConfigError
from relukan_bench.limits import Demand, check_demand, device_memory, network_bytes

SHAPE = SimpleNamespace(name="f1", width=[1000, 1], grid=5, k=3)


def _batch_for(share: float) -> int:
    """A batch whose one network takes about `share` of this machine's memory."""
    have = device_memory("cpu")
    if have is None:
        pytest.skip("this machine's memory cannot be read")
    return max(1, int(share * have / network_bytes(SHAPE, 1)))


def _demand(batch: int) -> Demand:
    return Demand(units=100, units_from="units", sample_steps=batch, sample_steps_from="steps",
                  batch=batch, batch_from="data.train_samples")


def test_memory_counts_every_worker_training_at_once():
    demand = _demand(_batch_for(0.25))
    check_demand(demand, [SHAPE], ["cpu"], Path("fit.yaml"), workers=1)  # one network fits
    with pytest.raises(ConfigError) as info:
        check_demand(demand, [SHAPE], ["cpu"], Path("fit.yaml"), workers=8)
    message = str(info.value)
    assert message.startswith("fit.yaml: data.train_samples (") and "\n" not in message
    assert "(8 workers at once, " in message and message.endswith("ask for fewer samples, a smaller network or fewer workers")


def test_one_network_too_large_is_refused_whatever_the_workers():
    with pytest.raises(ConfigError, match=r"more than the .* of cpu; ask for fewer samples or a smaller network$"):
        check_demand(_demand(_batch_for(2.0)), [SHAPE], ["cpu"], Path("fit.yaml"), workers=1)


def test_fit_with_more_workers_than_memory_is_refused_before_anything_is_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    samples = _batch_for(0.25)
    result = CliRunner().invoke(app, ["fit", "--workers", "8", "--functions", "f1", "--models", "relukan", "--seeds",
                                      "0,1,2,3,4,5,6,7", "train.batch_seeds=false",
                                      "functions.f1.width=[1000, 1]", f"data.train_samples={samples}"])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert "(8 workers at once, " in result.stderr and "fewer workers" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_shape_is_checked_at_its_own_batch_and_a_probed_run_at_the_probe_batch():
    """A speed shape's own `samples` is its batch; with a probe (timing.max_step_seconds) the
    check is at a tenth of it, since no unit runs a full step the probe finds too large."""
    batch = _batch_for(2.0)  # twice the machine at full size, a fifth of it at the probe's batch
    shape = SimpleNamespace(name="L1000-b", width=[1000, 1], grid=5, k=3, samples=batch)
    small = _demand(1)
    with pytest.raises(ConfigError) as info:
        check_demand(small, [shape], ["cpu"], Path("speed-scale.yaml"))
    assert str(info.value).startswith(f"speed-scale.yaml: functions[0].samples ({batch:,}) through the network of functions[0]")
    probed = Demand(**{**small.__dict__, "probe": 10})
    check_demand(probed, [shape], ["cpu"], Path("speed-scale.yaml"))  # a fifth of the memory: fits
    with pytest.raises(ConfigError, match=r"functions\[0\]\.samples / 10 \(the probe's batch\)"):
        check_demand(probed, [SimpleNamespace(**{**shape.__dict__, "samples": 10 * batch})], ["cpu"], Path("speed-scale.yaml"))


def _refused(tmp_path, monkeypatch, *argv: str):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, list(argv))
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1 and "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []
    return result.stderr


TUNED_LBFGS = "models.relukan.tune=[{optimizer: lbfgs, lr: 1, lbfgs: {max_eval: 100000, max_iter: 1000}}]"


@pytest.mark.parametrize("argv,names", [
    # every data set a fit evaluates grows the demand, the validation set too
    (["fit", "data.validation_samples=1000000000"], "data.validation_samples"),
    (["fit", "data.test_samples=1000000000"], "data.test_samples"),
    (["fit", "data.train_samples=1000000000"], "data.train_samples"),
    (["fit", "train.steps=1000000000"], "train.steps"),
    # every loss evaluation an optimizer makes per step
    (["fit", "--models", "relukan", "data.train_samples=100000", "train.steps=100000", "models.relukan.optimizer=lbfgs",
      "models.relukan.lbfgs={max_eval: 100000, max_iter: 1000}"], "max_eval"),
    (["fit", "--config", "fit-tuned", "data.train_samples=100000", "train.steps=100000", TUNED_LBFGS], "max_eval"),
    (["forgetting", "data.points=1000000000"], "data.points"),
    (["speed", "data.samples=1000000000"], "samples"),
])
def test_every_quantity_a_config_can_grow_enters_the_demand(tmp_path, monkeypatch, argv, names):
    """Grown alone, each of these is refused in one line before anything is written."""
    assert names in _refused(tmp_path, monkeypatch, *argv)


def _fit(*overrides: str):
    from relukan_bench import resources
    from relukan_bench.config import load_config
    from relukan_bench.experiments.fit.config import FitConfig

    return load_config(resources.default_config("fit"), list(overrides), FitConfig)


def test_lbfgs_evaluations_per_step_multiply_the_training_counted():
    from relukan_bench.experiments.protocol import experiment

    fit = experiment("fit")
    adam = _fit("train.steps=1000")
    lbfgs = _fit("train.steps=1000", "models.relukan.optimizer=lbfgs", "models.relukan.lbfgs={max_eval: 1000}")
    grown = fit.demand(lbfgs, ["cpu"]).sample_steps - fit.demand(adam, ["cpu"]).sample_steps
    runs = len(adam.functions) * len(adam.seeds)
    assert grown == runs * 1000 * 999 * adam.data.train_samples


def test_seeds_multiply_the_batch_only_for_kinds_that_batch_them():
    from relukan_bench.experiments.protocol import experiment

    fit = experiment("fit")
    kan_only = _fit("models=[{name: kan, kind: kan}]", "baseline=kan")
    with_relukan = _fit()
    assert kan_only.train.batch_seeds and fit.demand(kan_only, ["cpu"]).batch == kan_only.data.train_samples
    assert fit.demand(with_relukan, ["cpu"]).batch == with_relukan.data.train_samples * len(with_relukan.seeds)


def test_worker_processes_count_their_own_memory(tmp_path, monkeypatch):
    """Each spawned worker holds Python and torch before it trains: at least WORKER_FLOOR."""
    from relukan_bench.limits import WORKER_FLOOR, worker_bytes

    assert worker_bytes() >= WORKER_FLOOR
    have = device_memory("cpu")
    workers = have // WORKER_FLOOR + 1
    if have is None or workers > 256:
        pytest.skip("this machine has memory for 256 workers")
    stderr = _refused(tmp_path, monkeypatch, "fit", "--workers", str(workers), "--seeds", ",".join(map(str, range(40))),
                      "train.batch_seeds=false")
    assert f"--workers {workers}: the worker processes alone need about" in stderr
