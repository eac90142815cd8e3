"""Device resolution: auto, cuda without a GPU."""

import pytest
import torch

from relukan_bench.devices import resolve_devices
from relukan_bench.errors import DeviceError


def test_cpu_and_auto_without_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_devices("cpu") == ["cpu"]
    assert resolve_devices("auto") == ["cpu"]
    with pytest.raises(DeviceError, match="--device cuda: no CUDA device"):
        resolve_devices("cuda")


def test_auto_with_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_devices("auto") == ["cpu", "cuda"]
    assert resolve_devices("cuda") == ["cuda"]
