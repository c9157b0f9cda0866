"""Anomaly detection: find the first op that makes a NaN or Inf.

With ``detect_anomaly()`` on, every op checks its forward output and every
backward step checks the gradients it returns. The first non-finite value
raises :class:`AnomalyError` naming the op, its input shapes and dtypes, and
the module path (``layers.2``) that called it. The checks cost one
``isfinite`` per array, so the mode is off by default.

>>> import chainrule as cr
>>> x = cr.tensor([-1.0, 1.0], requires_grad=True)
>>> with cr.autograd.detect_anomaly():
...     try:
...         cr.log(x)
...     except cr.autograd.AnomalyError as err:
...         print(str(err).splitlines()[0])
Log produced nan in its forward output
"""

from __future__ import annotations

from typing import Any

from chainrule.backend import array_module


class AnomalyError(RuntimeError):
    """A NaN or Inf appeared; the message names the op, shapes, dtypes and module."""


class _State:
    enabled = False
    module_stack: list[str] = []


STATE = _State()


def is_anomaly_enabled() -> bool:
    """Return True when NaN/Inf checks are on."""
    return STATE.enabled


class detect_anomaly:  # noqa: N801 - PyTorch's spelling
    """Context manager turning the NaN/Inf guard on (``detect_anomaly(False)`` turns it off)."""

    def __init__(self, mode: bool = True) -> None:
        self.mode = mode

    def __enter__(self) -> None:
        self._prev = STATE.enabled
        STATE.enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        STATE.enabled = self._prev


def set_detect_anomaly(mode: bool) -> None:
    """Turn the NaN/Inf guard on or off for good (the flag form of :class:`detect_anomaly`)."""
    STATE.enabled = bool(mode)


def current_module_path() -> str | None:
    """The dotted path of the innermost module running forward, if any."""
    return STATE.module_stack[-1] if STATE.module_stack else None


def push_module(path: str) -> None:
    STATE.module_stack.append(path)


def pop_module() -> None:
    STATE.module_stack.pop()


def bad_value(array: Any) -> str | None:
    """Return 'nan' or 'inf' when a floating array holds one, else None."""
    kind = getattr(getattr(array, "dtype", None), "kind", "")
    if kind not in "fc" or kind == "":
        return None
    xp = array_module(array)
    if bool(xp.isfinite(array).all()):
        return None
    return "nan" if bool(xp.isnan(array).any()) else "inf"


def describe_arrays(arrays: Any) -> str:
    """'(32, 10) float32, scalar 2.0' for an op's inputs, used in error messages."""
    parts = []
    for a in arrays:
        if hasattr(a, "shape") and hasattr(a, "dtype"):
            parts.append(f"{tuple(a.shape)} {a.dtype}")
        else:
            parts.append(f"constant {a!r}")
    return ", ".join(parts) if parts else "no inputs"


def raise_forward(op: str, inputs: Any, what: str, module: str | None) -> None:
    where = f" in module '{module}'" if module else ""
    raise AnomalyError(
        f"{op} produced {what} in its forward output{where}\n"
        f"  inputs: {describe_arrays(inputs)}\n"
        f"  fix: check the inputs of {op} (log of <= 0? division by zero? overflow?); "
        f"lower the learning rate or use a numerically stable fused op"
    )


def raise_backward(node_name: str, index: int, what: str, shapes: str, module: str | None) -> None:
    where = f" (created in module '{module}')" if module else ""
    raise AnomalyError(
        f"{node_name} returned {what} in its gradient for input {index}{where}\n"
        f"  inputs of the forward op: {shapes}\n"
        f"  fix: the gradient of this op blew up; check its inputs and the upstream gradient"
    )
