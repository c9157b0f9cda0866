"""``torch.accelerator`` (``chainrule.accelerator``): which accelerator, if any, is here.

chainrule's only accelerator is CUDA (through CuPy); without it there is none, as in
PyTorch on a CPU-only machine.

>>> import chainrule as torch
>>> acc = torch.accelerator.current_accelerator()
>>> device = acc if torch.accelerator.is_available() else torch.device("cpu")
>>> device.type in ("cpu", "cuda")
True
"""

from __future__ import annotations

from chainrule.backend import device as _device
from chainrule.backend.device import Device, cuda_available, cuda_device_count

__all__ = ["current_accelerator", "device_count", "is_available"]


def is_available() -> bool:
    """True when a CUDA device is usable (through CuPy).

    >>> isinstance(is_available(), bool)
    True
    """
    return cuda_available()


def current_accelerator(check_available: bool = False) -> Device | None:
    """``device(type='cuda')`` when CUDA is usable, else None (RuntimeError instead with
    ``check_available=True``)."""
    if cuda_available():
        return Device("cuda")
    if check_available:
        _device.check_available(Device("cuda"), "chainrule.accelerator.current_accelerator()")
    return None


def device_count() -> int:
    """The number of accelerator devices (0 without one)."""
    return cuda_device_count()
