"""Which device the course runs on: COURSE_DEVICE = cpu | cuda | auto (default auto)."""
import functools
import os

import torch

CHOICES = ("cpu", "cuda", "auto")


class DeviceError(RuntimeError):
    """COURSE_DEVICE asks for something this machine cannot give."""


@functools.cache
def _resolve(requested: str) -> torch.device:
    if requested not in CHOICES:
        raise DeviceError(
            f"COURSE_DEVICE={requested!r} is not a device the course knows. Use one of "
            f"{', '.join(CHOICES)} (auto picks the GPU when PyTorch can see one), for example "
            "`COURSE_DEVICE=cpu make test`, or unset the variable."
        )
    if requested == "cpu":
        return torch.device("cpu")
    if torch.cuda.is_available():
        return torch.device("cuda", torch.cuda.current_device())
    if requested == "cuda":
        raise DeviceError(
            "COURSE_DEVICE=cuda, but PyTorch sees no CUDA GPU on this machine "
            f"(torch {torch.__version__}, torch.version.cuda={torch.version.cuda}). Check `nvidia-smi`, "
            "install a CUDA build of torch, or run on the CPU with COURSE_DEVICE=cpu (or auto)."
        )
    return torch.device("cpu")


def get_device() -> torch.device:
    """The device under test, read from COURSE_DEVICE each time (tests change it)."""
    return _resolve(os.environ.get("COURSE_DEVICE", "auto").strip().lower() or "auto")


def describe_device(device: torch.device | None = None) -> str:
    device = device or get_device()
    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    return f"cpu ({torch.get_num_threads()} threads)"


def synchronize(device: torch.device | None = None) -> None:
    """Wait for queued GPU work; a no-op on the CPU. Needed before reading a timer."""
    device = device or get_device()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
