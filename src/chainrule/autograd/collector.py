"""Python's cyclic garbage collector and large recorded graphs.

A recorded graph is many small Python objects: per op a Tensor, a node and a list or two.
They form no reference cycles (the engine is written so), so reference counting frees
them the moment ``backward`` and the user's variables let go. Python's cyclic collector
cannot know that. Its full collection (generation 2) walks every live object, and it runs
after every 10 collections of generation 1 once the objects that survived since the last
one have grown by a quarter. A micrograd-style program, which builds about 60,000 scalar
nodes per step, has its whole live graph walked 4 to 6 times per step, finding nothing:
measured on this project's 2-core machine, those walks were half of the step's time
(``benchmarks/scalar_programs.py``). PyTorch's graph lives in C++, out of the collector's
sight, so its users never pay this.

What chainrule does: when a ``backward`` follows a graph of at least :data:`LARGE` recorded
nodes, and the collector still has the interpreter's default thresholds (700, 10, 10),
chainrule raises the third one to :data:`RELAXED_FULL` (100), once, for the rest of the
process: full collections run about ten times less often. Nothing else changes: reference
cycles are still found and freed by the younger generations and by the (rarer) full
collections, and ``gc.collect()`` works as always; only garbage that survives two younger
collections waits longer for the full one. Thresholds the user has set are never touched,
and :func:`set_gc_policy` turns the policy off (``$CHAINRULE_GC=python`` does too),
putting the defaults back if chainrule had changed them.

>>> POLICY.enabled in (True, False), RELAXED_FULL
(True, 100)
"""

from __future__ import annotations

import gc
import os

PYTHON_DEFAULT = (700, 10, 10)  # gc.get_threshold() of CPython 3.9 to 3.13
RELAXED_FULL = 100
LARGE = 20_000  # nodes recorded since the previous backward


class _Policy:
    """Whether chainrule may relax the full collections, and whether it has."""

    def __init__(self) -> None:
        self.enabled = os.environ.get("CHAINRULE_GC", "relaxed").strip().lower() != "python"
        self.applied = False
        self.last_seq = 0


POLICY = _Policy()


def note_backward(seq_now: int) -> None:
    """Called by the engine at each backward with the current node counter; relaxes the
    full collections once a step records :data:`LARGE` nodes (see the module's text)."""
    recorded = seq_now - POLICY.last_seq
    POLICY.last_seq = seq_now
    if recorded < LARGE or POLICY.applied or not POLICY.enabled:
        return
    first, second, third = gc.get_threshold()
    if (first, second, third) == PYTHON_DEFAULT:
        gc.set_threshold(first, second, RELAXED_FULL)
        POLICY.applied = True


def set_gc_policy(policy: str) -> None:
    """``"relaxed"`` (the default): full collections ten times rarer once large graphs are
    recorded; ``"python"``: leave the collector as Python sets it (and undo chainrule's
    change, when the thresholds are still the ones chainrule set).

    >>> import chainrule as cr
    >>> cr.autograd.set_gc_policy("python")
    >>> cr.autograd.set_gc_policy("relaxed")
    """
    if policy not in ("relaxed", "python"):
        raise ValueError(f"set_gc_policy: {policy!r}: expected 'relaxed' or 'python'")
    POLICY.enabled = policy == "relaxed"
    if not POLICY.enabled and POLICY.applied:
        first, second, third = gc.get_threshold()
        if third == RELAXED_FULL and (first, second) == PYTHON_DEFAULT[:2]:
            gc.set_threshold(*PYTHON_DEFAULT)
        POLICY.applied = False
