"""Which devices a run uses."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

from relukan_bench.errors import DeviceError


def resolve_devices(choice: str) -> list[str]:
    """`cpu` -> [cpu]; `cuda` -> [cuda] or DeviceError when there is none; `auto` -> the CPU
    plus CUDA when present."""
    import torch

    has_cuda = torch.cuda.is_available()
    if choice == "cpu":
        return ["cpu"]
    if choice == "cuda":
        if not has_cuda:
            build = f"torch {torch.__version__}" + ("" if torch.version.cuda else ", a CPU-only build")
            raise DeviceError(f"--device cuda: no CUDA device is available here ({build}); use --device cpu or auto")
        return ["cuda"]
    if choice == "auto":
        return ["cpu", "cuda"] if has_cuda else ["cpu"]
    raise DeviceError(f"--device: expected cpu, cuda or auto (got {choice!r})")


def resolve_device(choice: str) -> str:
    """One device: `cpu`, `cuda` (DeviceError when there is none), or `auto` (CUDA when
    present, else the CPU)."""
    devices = resolve_devices(choice)
    return devices[-1]


#: What every run computes in: float32 in IEEE precision on every device (recorded in env.json).
FLOAT32 = "ieee (TF32 off for CUDA matmuls and cuDNN convolutions)"


def set_ieee_float32() -> Callable[[], None]:
    """Turn TF32 off for CUDA matmuls and cuDNN convolutions; return a function that puts the
    previous settings back.

    PyTorch allows TF32 (a 10-bit mantissa) for cuDNN convolutions by default, so the reference
    ReLU-KAN's Conv2d may compute in TF32 on a recent GPU, depending on the algorithm cuDNN
    picks, while the fast one's matmuls and pykan compute in float32: timings and results would
    then not compare like with like. (On an H200, for f5's shape, cuDNN happened to pick a
    float32 algorithm: the reference agreed with the CPU to 1.3e-6 either way.) This makes it
    certain rather than a matter of luck. Without CUDA it changes nothing."""
    import torch

    cudnn, matmul = torch.backends.cudnn, torch.backends.cuda.matmul
    conv = getattr(cudnn, "conv", None)  # torch 2.9 and later; looked up by name: torch's stubs lack it
    if conv is not None and hasattr(conv, "fp32_precision"):
        previous = (conv.fp32_precision, matmul.fp32_precision)
        conv.fp32_precision = matmul.fp32_precision = "ieee"

        def restore() -> None:
            conv.fp32_precision, matmul.fp32_precision = previous
    else:  # torch before 2.9
        previous = (cudnn.allow_tf32, matmul.allow_tf32)
        cudnn.allow_tf32 = matmul.allow_tf32 = False

        def restore() -> None:
            cudnn.allow_tf32, matmul.allow_tf32 = previous
    return restore


@contextmanager
def ieee_float32() -> Iterator[None]:
    """Run the block with `set_ieee_float32()`'s settings; restore the previous ones afterwards."""
    restore = set_ieee_float32()
    try:
        yield
    finally:
        restore()
