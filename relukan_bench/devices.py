"""Which devices a run uses."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

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


@contextmanager
def ieee_float32() -> Iterator[None]:
    """Run the block with TF32 off for CUDA matmuls and cuDNN convolutions; restore the
    previous settings afterwards.

    PyTorch allows TF32 (a 10-bit mantissa) for cuDNN convolutions by default, so the reference
    ReLU-KAN's Conv2d may compute in TF32 on a recent GPU, depending on the algorithm cuDNN
    picks, while the fast one's matmuls and pykan compute in float32: timings and results would
    then not compare like with like. (On an H200, for f5's shape, cuDNN happened to pick a
    float32 algorithm: the reference agreed with the CPU to 1.3e-6 either way.) This makes it
    certain rather than a matter of luck. Without CUDA it changes nothing."""
    import torch

    new_api = hasattr(torch.backends.cudnn, "conv") and hasattr(torch.backends.cudnn.conv, "fp32_precision")
    if new_api:
        previous = (torch.backends.cudnn.conv.fp32_precision, torch.backends.cuda.matmul.fp32_precision)
        torch.backends.cudnn.conv.fp32_precision = "ieee"
        torch.backends.cuda.matmul.fp32_precision = "ieee"
    else:  # torch before 2.9
        previous = (torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32)
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
    try:
        yield
    finally:
        if new_api:
            torch.backends.cudnn.conv.fp32_precision, torch.backends.cuda.matmul.fp32_precision = previous
        else:
            torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = previous
