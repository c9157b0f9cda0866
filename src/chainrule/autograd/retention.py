"""Warn about the ``total_loss += loss`` bug: every step's graph kept alive by the loop.

In the usual loop each step's graph becomes garbage as soon as ``loss`` is bound to the next
step's loss. Summing the loss *tensors* breaks that: ``total_loss += loss`` records an add
whose input is the step's loss, so ``total_loss`` holds a chain of adds that reaches every
step's graph (one node more per step), and memory grows for as long as the loop runs
(``losses.append(loss)`` does the same). PyTorch says nothing; chainrule warns once.

The signature is a graph that ``backward()`` has freed and that something still holds. Every
``PERIOD``-th ``backward()`` that frees its graph, the engine hands its root here
(:func:`note`), which keeps weak references to the last ``WINDOW`` such roots and asks
whether the one from ``WINDOW`` samples ago (``PERIOD * WINDOW`` calls ago) is still alive:

* in the usual loop it died long ago, and nothing happens;
* the first one found alive becomes the *anchor*; once ``SAMPLES`` samples (the anchor's
  included) have been taken, at least half of them found their old root alive (half: a loop may call
  ``backward()`` on two losses per step and keep only one) and the anchor is still alive
  too (the graphs pile up; they are not merely the last few kept in a bounded window), one
  ``UserWarning`` says what happened and what to write instead, and the watch stops. An
  anchor that dies starts the count over.

With ``PERIOD = 5``, ``WINDOW = 4`` and ``SAMPLES = 12`` the warning comes at the 80th step of
such a loop. Calls with ``retain_graph=True`` (their graph is meant to be used again),
``autograd.grad`` and the replays of a captured step (:mod:`chainrule.compile` runs no
engine) are not watched. The cost is a counter per ``backward()`` and, every ``PERIOD``-th
call, one weak reference and a few list operations.
"""

from __future__ import annotations

import warnings
import weakref
from typing import Any

PERIOD = 5  # odd: with two backward() calls per step the samples alternate between them
WINDOW = 4
SAMPLES = 12

MESSAGE = (
    "the graphs of the last {calls} backward() calls stayed in memory after backward: "
    "something keeps every step's loss tensor, typically `total_loss += loss` (each sum "
    "links to that step's graph) or `losses.append(loss)`, so memory grows with every step. "
    "Accumulate a Python number instead: `total_loss += loss.item()` (or keep "
    "`loss.detach()` where a tensor is needed)"
)


class _Watch:
    """The weak references and counters (one per process; :func:`reset` starts over).

    ``countdown`` is what the engine decrements on each ``backward()``; it calls
    :func:`note` when it reaches 0, and it is negative (never 0 again) once the warning
    has been given.
    """

    __slots__ = ("countdown", "roots", "position", "anchor", "samples", "alive")

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.countdown = PERIOD
        self.roots: list[Any] = [None] * WINDOW
        self.position = 0
        self.anchor: Any = None
        self.samples = 0
        self.alive = 0


WATCH = _Watch()


def note(root: Any) -> None:
    """Sample the root tensor of a ``backward()`` that freed its graph; warn once when the
    sampled graphs pile up. Called by the engine when ``WATCH.countdown`` reaches 0."""
    watch = WATCH
    watch.countdown = PERIOD
    node = root.grad_fn
    if node is None:  # backward() on a leaf: no graph
        return
    position = watch.position
    old = watch.roots[position]
    watch.roots[position] = weakref.ref(node)
    watch.position = (position + 1) % WINDOW
    kept = old is not None and old() is not None
    if watch.anchor is None:
        if kept:
            watch.anchor, watch.samples, watch.alive = old, 1, 1
        return
    if watch.anchor() is None:  # the kept graphs are let go: a bounded window, not a pile
        watch.anchor = None
        return
    watch.samples += 1
    watch.alive += kept
    if watch.samples < SAMPLES:
        return
    if 2 * watch.alive < watch.samples:
        watch.anchor = None
        return
    watch.countdown = -1
    watch.roots = [None] * WINDOW
    watch.anchor = None
    warnings.warn(MESSAGE.format(calls=PERIOD * (WINDOW + SAMPLES)), UserWarning, stacklevel=4)


def reset() -> None:
    """Forget what was seen and watch again (the warning is given once per process)."""
    WATCH.reset()
