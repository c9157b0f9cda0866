"""Seeded random numbers: one :class:`Generator` object, never NumPy's global state.

>>> import chainrule as cr
>>> _ = cr.manual_seed(0)
>>> a = cr.rand(3)
>>> _ = cr.manual_seed(0)
>>> bool((cr.rand(3) == a).all())
True
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from chainrule.autograd import capture

DEFAULT_SEED = 0


class Generator:
    """A seeded random source (PCG64) with PyTorch's ``manual_seed``/``get_state`` API.

    The state is a plain dict of ints and strings, so checkpoints store it as JSON.

    >>> g = Generator().manual_seed(42)
    >>> state = g.get_state()
    >>> x = g.np.random()
    >>> _ = g.set_state(state)
    >>> g.np.random() == x
    True
    """

    def __init__(self, seed: int = DEFAULT_SEED) -> None:
        self.manual_seed(seed)

    def manual_seed(self, seed: int) -> Generator:
        """Reset to the stream of ``seed``; returns self like PyTorch."""
        self._seed = int(seed)
        self.np = np.random.Generator(np.random.PCG64(self._seed))
        return self

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> dict[str, Any]:
        """JSON-serializable snapshot of the stream position."""
        return {"seed": self._seed, "bit_generator": copy.deepcopy(self.np.bit_generator.state)}

    def set_state(self, state: dict[str, Any]) -> Generator:
        """Restore a snapshot from :meth:`get_state`."""
        self._seed = int(state["seed"])
        bit_generator = np.random.PCG64()
        bit_generator.state = copy.deepcopy(state["bit_generator"])
        self.np = np.random.Generator(bit_generator)
        return self

    def spawn(self) -> Generator:
        """A new generator seeded from this one (for per-worker streams)."""
        return Generator(int(self.np.integers(0, 2**63 - 1)))


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed the default generator (used when no ``generator=`` is passed)."""
    return default_generator.manual_seed(seed)


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state() -> dict[str, Any]:
    return default_generator.get_state()


def set_rng_state(state: dict[str, Any]) -> None:
    default_generator.set_state(state)


def numpy_generator(generator: Generator | None) -> np.random.Generator:
    """The NumPy generator behind ``generator`` (or the default one).

    Every random draw of chainrule goes through here, so a training step being captured
    learns here that it draws random numbers (input noise, dropout): a replay would repeat
    the recorded draws, so such a step stays eager.
    """
    capture.unsupported("the step draws random numbers (randn, rand, dropout, ...): a "
                        "replay would repeat the same draws")
    return (generator or default_generator).np
