"""What the course needs, checked in one place: versions, device, data."""
from __future__ import annotations

import platform
import sys
from importlib import metadata

import torch

from . import data
from .device import describe_device, get_device

PACKAGES = ("torch", "torchvision", "nbgrader", "jupyterlab", "ipywidgets", "matplotlib")


def report(verbose: bool = True) -> dict:
    """Versions, device and data status as a dict; printed as a table when ``verbose``."""
    info = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            info[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            info[name] = "not installed"
    info["device"] = describe_device(get_device())
    info["cuda available"] = str(torch.cuda.is_available())
    problems = data.problems()
    info["MNIST"] = "present and verified" if not problems else f"NOT READY ({problems[0]}; run `make data`)"
    if verbose:
        width = max(map(len, info))
        for key, value in info.items():
            print(f"{key:<{width}}  {value}")
    return info


if __name__ == "__main__":
    report()
    sys.exit(0 if data.is_ready() else 1)
