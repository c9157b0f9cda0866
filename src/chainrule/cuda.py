"""``torch.cuda``'s everyday names (``chainrule.cuda``): thin answers from the CuPy backend.

Without CuPy or without a GPU they answer as PyTorch does on a machine with no CUDA:
``is_available()`` is False, ``device_count()`` is 0, and asking for the current device
raises RuntimeError. Random numbers on every device come from chainrule's one generator,
so ``manual_seed`` here does nothing (``chainrule.manual_seed`` seeds everything).

>>> import chainrule as torch
>>> device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
>>> torch.zeros(2, device=device).device == device
True
"""

from __future__ import annotations

from typing import Any

from chainrule.backend.device import (
    Device,
    _import_cupy,
    check_available,
    cuda_available,
    cuda_device_count,
)

__all__ = ["current_device", "device_count", "empty_cache", "get_device_name", "is_available",
           "manual_seed", "manual_seed_all", "synchronize"]


def is_available() -> bool:
    """True when CuPy is installed and sees a CUDA device.

    >>> isinstance(is_available(), bool)
    True
    """
    return cuda_available()


def device_count() -> int:
    """The number of CUDA devices (0 without CuPy or a GPU).

    >>> device_count() >= 0
    True
    """
    return cuda_device_count()


def current_device() -> int:
    """The index of the current CUDA device (RuntimeError where there is none)."""
    check_available(Device("cuda"), "chainrule.cuda.current_device()")
    return int(_import_cupy().cuda.runtime.getDevice())


def get_device_name(device: Any = None) -> str:
    """The name of a CUDA device, e.g. 'NVIDIA H100 80GB HBM3'."""
    index = Device("cuda" if device is None else device).index or 0
    check_available(Device("cuda", index), "chainrule.cuda.get_device_name()")
    name = _import_cupy().cuda.runtime.getDeviceProperties(index)["name"]
    return name.decode() if isinstance(name, bytes) else str(name)


def synchronize(device: Any = None) -> None:
    """Wait for the GPU's queued work (timing); RuntimeError where there is no GPU."""
    check_available(Device("cuda"), "chainrule.cuda.synchronize()")
    _import_cupy().cuda.Device(Device("cuda" if device is None else device).index or 0
                               ).synchronize()


def empty_cache() -> None:
    """Give CuPy's cached, unused GPU memory back (nothing to do without a GPU)."""
    if cuda_available():
        _import_cupy().get_default_memory_pool().free_all_blocks()


def manual_seed(seed: int) -> None:
    """Accepted for PyTorch programs; GPU tensors draw from chainrule's one generator,
    which ``chainrule.manual_seed`` seeds, so there is nothing else to seed."""


def manual_seed_all(seed: int) -> None:
    """As :func:`manual_seed`."""
