"""Which devices a run uses."""

from __future__ import annotations

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
