"""Devices and the array module (``xp``) behind them.

Ops never import CuPy. They ask for the module that owns an array::

    xp = array_module(x)      # numpy for NumPy arrays, cupy for CuPy arrays
    y = xp.exp(x)

CuPy is imported here only, and only when a CUDA device is asked for.
"""

from __future__ import annotations

import importlib
from functools import lru_cache
from types import ModuleType
from typing import Any

import numpy as np

_cupy: ModuleType | None = None


def _import_cupy() -> ModuleType:
    global _cupy
    if _cupy is None:
        try:
            _cupy = importlib.import_module("cupy")
        except ImportError as exc:  # pragma: no cover - depends on the machine
            raise RuntimeError(
                "CUDA device requested but CuPy is not installed: "
                "install the extra with `pip install 'chainrule[gpu]'`"
            ) from exc
    return _cupy


@lru_cache(maxsize=1)
def cuda_available() -> bool:
    """Return True when CuPy imports and sees at least one CUDA device (asked once).

    >>> isinstance(cuda_available(), bool)
    True
    """
    return cuda_device_count() > 0


@lru_cache(maxsize=1)
def cuda_device_count() -> int:
    """How many CUDA devices CuPy sees (0 without CuPy or without a GPU)."""
    try:
        cp = _import_cupy()
        return int(cp.cuda.runtime.getDeviceCount())
    except Exception:
        return 0


NO_CUDA = ("{what}: CUDA is not available here. chainrule runs on a GPU through CuPy "
           "(pip install 'chainrule[gpu]' on a machine with an NVIDIA GPU), and {reason}. "
           "Use device='cpu', or choose the device with chainrule.cuda.is_available()")


def check_available(device: Device, what: str) -> None:
    """Raise RuntimeError (as PyTorch does on a machine without CUDA) when ``device`` is a
    CUDA device that this machine lacks; ``what`` names the request in the message."""
    if device.type != "cuda" or cuda_available():
        return
    try:
        importlib.import_module("cupy")
        reason = "CuPy sees no CUDA device"
    except ImportError:
        reason = "CuPy is not installed"
    raise RuntimeError(NO_CUDA.format(what=what, reason=reason))


# array types that are not NumPy's or CuPy's, with the module of functions that takes them:
# chainrule.autograd.traced registers its recorded arrays here (no lookup cost otherwise)
NAMESPACES: dict[type, Any] = {}


def array_module(array: Any) -> ModuleType:
    """Return ``numpy`` or ``cupy``, whichever owns ``array``.

    >>> array_module(np.zeros(2)).__name__
    'numpy'
    """
    if isinstance(array, np.ndarray):
        return np
    namespace = NAMESPACES.get(type(array))  # a recorded gradient (autograd.traced)
    if namespace is not None:
        return namespace
    if type(array).__module__.split(".")[0] != "cupy":
        return np
    return _import_cupy()


class Device:
    """Where a tensor's data lives: ``Device("cpu")``, ``Device("cuda")``, ``Device("cuda:1")``
    or ``Device("cuda", 1)`` (``chainrule.device``, PyTorch's ``torch.device``).

    Making a CUDA device needs no GPU (as in PyTorch); putting a tensor there does.

    >>> Device("cpu")
    device(type='cpu')
    >>> Device("cuda", 1), str(Device("cuda"))
    (device(type='cuda', index=1), 'cuda')
    >>> Device("cpu").xp.__name__
    'numpy'
    """

    __slots__ = ("type", "index")
    type: str
    index: int | None

    def __init__(self, type: str | Device | int = "cpu",  # noqa: A002 - PyTorch's name
                 index: int | None = None) -> None:
        if isinstance(type, Device):
            self.type, self.index = type.type, type.index
            return
        if isinstance(type, int) and not isinstance(type, bool):
            self.type, self.index = "cuda", int(type)  # torch.device(0) is cuda:0
            return
        name, _, idx = str(type).partition(":")
        if name not in ("cpu", "cuda"):
            raise ValueError(f"unknown device {type!r}: chainrule runs on 'cpu', or on 'cuda' "
                             "/ 'cuda:N' (an NVIDIA GPU, through CuPy)")
        if idx and not idx.isdigit():
            raise ValueError(f"bad device index in {type!r}: expected an integer after ':'")
        if idx and index is not None:
            raise ValueError(f"device {type!r} has an index already; do not pass index={index}")
        self.type = name
        self.index = int(idx) if idx else index
        if name == "cpu" and self.index not in (None, 0, -1):
            raise ValueError(f"the CPU device has no index {self.index}")
        if name == "cpu":
            self.index = None

    @property
    def xp(self) -> ModuleType:
        """The array module for this device."""
        return np if self.type == "cpu" else _import_cupy()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            other = Device(other)
        if not isinstance(other, Device):
            return NotImplemented
        return self.type == other.type and (self.index or 0) == (other.index or 0)

    def __hash__(self) -> int:
        return hash((self.type, self.index or 0))

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"


_CPU = Device("cpu")


def get_device(array: Any) -> Device:
    """Return the :class:`Device` that holds ``array``."""
    if isinstance(array, np.ndarray):
        return _CPU
    if array_module(array) is np:
        return _CPU
    return Device("cuda", int(array.device.id))


def to_device(array: Any, device: Device | str) -> Any:
    """Copy ``array`` to ``device`` (no copy when it is already there)."""
    device = Device(device)
    if device.type == "cpu":
        if isinstance(array, np.ndarray):
            return array
        if array_module(array) is np:
            return np.asarray(array)
        return array.get()
    check_available(device, f"putting a tensor on '{device}'")
    cp = _import_cupy()
    with cp.cuda.Device(device.index or 0):
        return cp.asarray(array)


class _DefaultDevice:
    device = _CPU


DEFAULT = _DefaultDevice()


def default_device() -> Device:
    """The device new tensors are made on when no ``device=`` is given (the CPU)."""
    return DEFAULT.device


def set_default_device(device: Device | str | int | None) -> None:
    """Make new tensors (``zeros``, ``tensor``, layers' parameters, ...) on ``device`` by
    default; None means the CPU. Asking for CUDA where there is none raises RuntimeError.

    >>> set_default_device("cpu"); get_default_device()
    device(type='cpu')
    """
    new = _CPU if device is None else Device(device)
    check_available(new, f"set_default_device({str(new)!r})")
    DEFAULT.device = new


def get_default_device() -> Device:
    """The default device of new tensors (``cuda:N`` with its index, as PyTorch says).

    >>> get_default_device()
    device(type='cpu')
    """
    device = DEFAULT.device
    return Device("cuda", device.index or 0) if device.type == "cuda" else device


def smallest(a: Any) -> Any:
    """The smallest element of a non-empty array as a scalar (NaN if any element is NaN).

    On NumPy, ``argmin`` skips the reduction machinery and costs a fifth of ``a.min()``
    on small arrays; the ops' range checks (stable sigmoid, class targets) run every step.

    >>> smallest(np.array([[3.0, -1.0], [2.0, 5.0]]))
    -1.0
    """
    if type(a) is np.ndarray:
        return a.item(int(a.argmin()))
    return a.min()


def largest(a: Any) -> Any:
    """The largest element of a non-empty array as a scalar (see :func:`smallest`).

    >>> largest(np.array([[3, -1], [2, 5]]))
    5
    """
    if type(a) is np.ndarray:
        return a.item(int(a.argmax()))
    return a.max()


def writeable(a: Any) -> bool:
    """Whether ``a``'s memory may be written in place (CuPy arrays have no such flag: always).

    >>> a = np.zeros(2)
    >>> writeable(a), writeable(np.broadcast_to(a, (3, 2)))
    (True, False)
    """
    return bool(getattr(a.flags, "writeable", True))


@lru_cache(maxsize=64)
def _ones(n: int, dtype: Any) -> Any:
    ones = np.ones(n, dtype)
    ones.flags.writeable = False
    return ones


def column_sums(a: Any) -> Any:
    """``a.sum(axis=0)`` of a 2-D array (one total per column), e.g. a bias gradient.

    For float32/float64 NumPy arrays this is ``ones @ a``, one BLAS call that is 2-5x faster
    than the reduction at the sizes of a training step. NumPy sums along axis 0 row
    after row (no pairwise summation there), so the accuracy is of the same order.
    A 1-D array gives its total.

    >>> column_sums(np.arange(6.0).reshape(3, 2)).tolist()
    [6.0, 9.0]
    """
    if type(a) is np.ndarray and a.dtype.char in "fd" and a.shape[0]:
        return np.dot(_ones(a.shape[0], a.dtype), a)  # np.dot: less overhead than @ here
    return a.sum(axis=0)


def row_sums(a: Any) -> Any:
    """``a.sum(axis=1)`` of a 2-D array (one total per row) as ``a @ ones`` (see
    :func:`column_sums`), e.g. the softmax denominators.

    >>> row_sums(np.arange(6.0).reshape(3, 2)).tolist()
    [1.0, 5.0, 9.0]
    """
    if type(a) is np.ndarray and a.dtype.char in "fd" and a.shape[1]:
        return np.dot(a, _ones(a.shape[1], a.dtype))
    return a.sum(axis=1)
