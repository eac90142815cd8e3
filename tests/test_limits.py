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
    return Demand(units=1, units_from="units", sample_steps=batch, sample_steps_from="steps",
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
    result = CliRunner().invoke(app, ["fit", "--workers", "8", "--functions", "f1", "--models", "relukan", "--seeds", "0",
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
