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
chainrule raises the third one so that a full collection comes about once every
:data:`STEPS_PER_FULL` such backward passes: ``STEPS_PER_FULL`` times the generation-1
collections since the previous backward, at least :data:`RELAXED_FULL` (100) and at most
:data:`MOST_RELAXED` (2000). It follows the program as it goes: each large backward sets it
again from its own step. The first two thresholds stay as they are: larger young
generations measured slower here (walking them misses the CPU caches), and they are what
finds garbage cycles early. Nothing else changes: reference cycles are still found and freed
by the younger generations and by the (rarer) full collections, and ``gc.collect()`` works
as always; only garbage that survives two younger collections waits longer for the full
one, at most about ``STEPS_PER_FULL`` steps. When the program stops recording large graphs
(:data:`RESTORE_AFTER` backward passes in a row below :data:`LARGE`), Python's defaults come
back. Thresholds the user has set are never touched,
and :func:`set_gc_policy` turns the policy off (``$CHAINRULE_GC=python`` does too), putting
the defaults back if chainrule had changed them.

>>> POLICY.enabled in (True, False), RELAXED_FULL, STEPS_PER_FULL
(True, 100, 20)
"""

from __future__ import annotations

import gc
import os

PYTHON_DEFAULT = (700, 10, 10)  # gc.get_threshold() of CPython 3.9 to 3.13
RELAXED_FULL = 100
MOST_RELAXED = 2000
STEPS_PER_FULL = 20  # large backward passes per full collection, about
LARGE = 20_000  # nodes recorded since the previous backward
RESTORE_AFTER = 100  # small backward passes in a row that give Python its thresholds back


class _Policy:
    """Whether chainrule may relax the full collections, and the threshold it set."""

    def __init__(self) -> None:
        self.enabled = os.environ.get("CHAINRULE_GC", "relaxed").strip().lower() != "python"
        self.applied = 0  # the third threshold chainrule set, 0 while it has set none
        self.last_seq = 0
        self.last_young = _young_collections()
        self.small_in_a_row = 0


def _young_collections() -> int:
    """Generation-1 collections since the last full one (``gc.get_count()[2]``: cheap, it
    runs at every backward; ``gc.get_stats()`` costs ten times more)."""
    return gc.get_count()[2]


POLICY = _Policy()


def note_backward(seq_now: int) -> None:
    """Called by the engine at each backward with the current node counter; relaxes the
    full collections while steps record :data:`LARGE` nodes (see the module's text)."""
    recorded = seq_now - POLICY.last_seq
    POLICY.last_seq = seq_now
    young = _young_collections()
    # a full collection since the previous backward restarted the count: count from there
    per_step = young - POLICY.last_young if young >= POLICY.last_young else young
    POLICY.last_young = young
    if recorded < LARGE:
        POLICY.small_in_a_row += 1
        if POLICY.applied and POLICY.small_in_a_row >= RESTORE_AFTER:
            _restore()  # no large graphs lately: Python's own thresholds again
        return
    POLICY.small_in_a_row = 0
    if not POLICY.enabled:
        return
    first, second, third = gc.get_threshold()
    if (first, second) != PYTHON_DEFAULT[:2] or third not in (PYTHON_DEFAULT[2],
                                                               POLICY.applied):
        return  # thresholds the user chose
    wanted = min(max(STEPS_PER_FULL * per_step, RELAXED_FULL), MOST_RELAXED)
    if wanted != third:
        gc.set_threshold(first, second, wanted)
    POLICY.applied = wanted


def set_gc_policy(policy: str) -> None:
    """``"relaxed"`` (the default): full collections about once every ``STEPS_PER_FULL``
    backward passes of large graphs; ``"python"``: leave the collector as Python sets it
    (and undo chainrule's change, when the thresholds are still the ones chainrule set).

    >>> import chainrule as cr
    >>> cr.autograd.set_gc_policy("python")
    >>> cr.autograd.set_gc_policy("relaxed")
    """
    if policy not in ("relaxed", "python"):
        raise ValueError(f"set_gc_policy: {policy!r}: expected 'relaxed' or 'python'")
    POLICY.enabled = policy == "relaxed"
    if not POLICY.enabled and POLICY.applied:
        _restore()


def _restore() -> None:
    """Python's default thresholds back, when the ones in force are still chainrule's."""
    first, second, third = gc.get_threshold()
    if third == POLICY.applied and (first, second) == PYTHON_DEFAULT[:2]:
        gc.set_threshold(*PYTHON_DEFAULT)
    POLICY.applied = 0
