"""Helpers shared by the course notebooks and the project's tests.

Notebooks start with ``from coursekit import DEVICE, seed_everything, checks``.
``DEVICE`` is resolved lazily from the COURSE_DEVICE environment variable, so that
importing the package never fails on a machine without the requested device.
"""
from .device import get_device
from .seeding import seed_everything
from . import checks
from .selfcheck import self_check

__all__ = ["DEVICE", "get_device", "seed_everything", "checks", "self_check"]


def __getattr__(name):
    # Lazy: an error about a missing GPU belongs to the cell that asks for DEVICE.
    if name == "DEVICE":
        return get_device()
    raise AttributeError(f"module 'coursekit' has no attribute {name!r}")
