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


def test_ieee_float32_turns_tf32_off_and_restores_what_was_there():
    from relukan_bench.devices import ieee_float32

    conv, matmul = torch.backends.cudnn.conv, torch.backends.cuda.matmul
    before = (conv.fp32_precision, matmul.fp32_precision)
    conv.fp32_precision, matmul.fp32_precision = "tf32", "tf32"
    try:
        with ieee_float32():
            assert (conv.fp32_precision, matmul.fp32_precision) == ("ieee", "ieee")
            assert torch.get_float32_matmul_precision() == "highest"
        assert (conv.fp32_precision, matmul.fp32_precision) == ("tf32", "tf32")
    finally:
        conv.fp32_precision, matmul.fp32_precision = before
