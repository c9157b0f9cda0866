"""Grad mode: whether ops record the graph.

``no_grad`` is what you wrap evaluation and optimizer updates in; ``enable_grad``
turns recording back on inside it. All three work as context managers and as
decorators::

    >>> import chainrule as cr
    >>> x = cr.ones(2, requires_grad=True)
    >>> with cr.no_grad():
    ...     y = x * 2
    >>> y.requires_grad
    False
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class _State:
    """The process-wide grad-mode flag (kept on one small object so ops read one attribute)."""

    enabled = True


STATE = _State()


def is_grad_enabled() -> bool:
    """Return True when operations are being recorded for backward."""
    return STATE.enabled


class _GradModeContext:
    """Base of the context managers: sets the flag, restores it on exit."""

    mode: bool = True

    def __enter__(self) -> None:
        self._prev = STATE.enabled
        STATE.enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        STATE.enabled = self._prev

    def __call__(self, func: F) -> F:
        mode = self.mode

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with set_grad_enabled(mode):
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class no_grad(_GradModeContext):  # noqa: N801 - PyTorch's spelling
    """Context manager / decorator that disables graph recording.

    >>> import chainrule as cr
    >>> @cr.no_grad()
    ... def evaluate(x):
    ...     return x * 2
    >>> evaluate(cr.ones(1, requires_grad=True)).requires_grad
    False
    """

    mode = False


class enable_grad(_GradModeContext):  # noqa: N801
    """Context manager / decorator that enables graph recording (inside ``no_grad``)."""

    mode = True


class set_grad_enabled(_GradModeContext):  # noqa: N801
    """Set grad mode to ``mode``; as a plain call it sets it for good.

    >>> import chainrule as cr
    >>> with cr.set_grad_enabled(False):
    ...     cr.is_grad_enabled()
    False
    """

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self._prev = STATE.enabled
        STATE.enabled = self.mode

    def __enter__(self) -> None:
        STATE.enabled = self.mode

    def __call__(self, func: F) -> F:
        STATE.enabled = self._prev  # used as a decorator: do not change the mode now
        return super().__call__(func)
