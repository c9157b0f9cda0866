"""Recording hooks for step capture (see :mod:`chainrule.compile`).

While a capture is active, ``Function.apply`` appends every op it runs to ``STATE.tape``
and the backward engine appends the nodes it runs, in order.
Ops whose effect cannot be replayed from the tape (random masks, in-place updates of
running statistics) call :func:`unsupported`, which makes the capture give up and the
step run eagerly instead; what changes a recording's meaning between steps (freezing a
parameter, replacing a layer) calls :func:`changed`.
"""

from __future__ import annotations

import weakref
from typing import Any


class _State:
    tape: list[Any] | None = None
    backward: list[Any] | None = None
    unsupported: str | None = None
    # Bumped when something a recording depends on changes between steps (a held tensor's
    # requires_grad, a module's attributes, parts or hooks, the model's dtype): recordings
    # are keyed on it.
    changes = 0


STATE = _State()


def start() -> None:
    STATE.tape, STATE.backward, STATE.unsupported = [], [], None


def stop() -> tuple[list[Any], list[Any], str | None]:
    result = (STATE.tape or [], STATE.backward or [], STATE.unsupported)
    STATE.tape = STATE.backward = None
    STATE.unsupported = None
    return result


def unsupported(reason: str) -> None:
    """Called by ops with side effects a replay would miss; harmless outside a capture."""
    if STATE.tape is not None and STATE.unsupported is None:
        STATE.unsupported = reason


# id -> weak reference of each leaf tensor a recording holds (parameters, buffers): only a
# change of their requires_grad matters to a recording. (Keyed by id: Tensor's == is
# elementwise, so tensors cannot be members of a WeakSet.)
_HELD: dict[int, Any] = {}


def hold(tensor: Any) -> None:
    """A recording reads or fills this leaf tensor."""
    key = id(tensor)
    _HELD[key] = weakref.ref(tensor, lambda _ref: _HELD.pop(key, None))


def is_held(tensor: Any) -> bool:
    ref = _HELD.get(id(tensor))
    return ref is not None and ref() is tensor


def changed() -> None:
    """Something a recorded step depends on changed between steps: later steps record
    afresh. (Inside a step being captured it is the step's own doing: what matters there is
    reported through :func:`unsupported`.)"""
    if STATE.tape is None:
        STATE.changes += 1
