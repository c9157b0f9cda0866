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
        """Restore a snapshot from :meth:`get_state`.

        The snapshot is checked first (:func:`check_state`): a wrong one raises ValueError
        naming the field and leaves the generator as it was.
        """
        check_state(state)
        self._seed = state["seed"]
        bit_generator = np.random.PCG64()
        bit_generator.state = copy.deepcopy(state["bit_generator"])
        self.np = np.random.Generator(bit_generator)
        return self

    def spawn(self) -> Generator:
        """A new generator seeded from this one (for per-worker streams)."""
        return Generator(int(self.np.integers(0, 2**63 - 1)))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_keys(name: str, value: Any, keys: set[str]) -> None:
    if not isinstance(value, dict):
        raise ValueError(f"{name}: expected a dict with keys {sorted(keys)}, found "
                         f"{type(value).__name__} {value!r:.60}")
    if set(value) != keys:
        missing, unknown = sorted(keys - set(value)), sorted(set(value) - keys)
        raise ValueError(f"{name}: expected the keys {sorted(keys)}, found "
                         f"{sorted(map(str, value))} (missing {missing}, unknown {unknown})")


def _check_int(name: str, value: Any, low: int, high: int, odd: bool = False) -> None:
    if not _is_int(value) or not low <= value < high or (odd and value % 2 == 0):
        kind = "an odd integer" if odd else "an integer"
        raise ValueError(f"{name}: expected {kind} in [{low}, {high}), found {value!r:.60}")


def check_state(state: Any, name: str = "state") -> None:
    """Raise ValueError, naming the field, unless ``state`` is a :meth:`Generator.get_state`.

    >>> check_state({"seed": -1, "bit_generator": {}}, "rng")
    Traceback (most recent call last):
    ...
    ValueError: rng.seed: expected an integer >= 0, found -1
    """
    _check_keys(name, state, {"seed", "bit_generator"})
    if not _is_int(state["seed"]) or state["seed"] < 0:
        raise ValueError(f"{name}.seed: expected an integer >= 0, found {state['seed']!r:.60}")
    bits, where = state["bit_generator"], f"{name}.bit_generator"
    _check_keys(where, bits, {"bit_generator", "state", "has_uint32", "uinteger"})
    if bits["bit_generator"] != "PCG64":
        raise ValueError(f"{where}.bit_generator: expected 'PCG64', found "
                         f"{bits['bit_generator']!r:.60}")
    _check_keys(f"{where}.state", bits["state"], {"state", "inc"})
    _check_int(f"{where}.state.state", bits["state"]["state"], 0, 2**128)
    _check_int(f"{where}.state.inc", bits["state"]["inc"], 0, 2**128, odd=True)
    _check_int(f"{where}.has_uint32", bits["has_uint32"], 0, 2)
    _check_int(f"{where}.uinteger", bits["uinteger"], 0, 2**32)


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
