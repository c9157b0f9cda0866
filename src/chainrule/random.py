"""Seeded random numbers: one :class:`Generator` object, never NumPy's global state.

>>> import chainrule as cr
>>> _ = cr.manual_seed(0)
>>> a = cr.rand(3)
>>> _ = cr.manual_seed(0)
>>> bool((cr.rand(3) == a).all())
True
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from chainrule import random_draws
from chainrule.autograd import capture

DEFAULT_SEED = 67280421310721  # what torch.Generator().initial_seed() reports
MT_WORDS = 624


def _mt_key(seed: int) -> np.ndarray:
    """The 624-word Mersenne Twister state of ``seed`` (Matsumoto and Nishimura's
    ``init_genrand``, which PyTorch applies to the seed's low 32 bits)."""
    key = np.empty(MT_WORDS, dtype=np.uint32)
    word = seed & 0xFFFFFFFF
    key[0] = word
    for index in range(1, MT_WORDS):  # once per seeding, not per number
        word = (1812433253 * (word ^ (word >> 30)) + index) & 0xFFFFFFFF
        key[index] = word
    return key


class Generator:
    """PyTorch's CPU random source: a 32-bit Mersenne Twister (MT19937) seeded as
    ``torch.manual_seed`` seeds it, so the same seed draws the same numbers.

    NumPy's ``MT19937`` bit generator produces the raw 32-bit words; the transformations to
    floats, normals, integers and permutations live in :mod:`chainrule.random_draws`. The
    state (words, position, the kept Box-Muller sine) is a plain dict of ints and floats, so
    checkpoints store it as JSON.

    >>> g = Generator().manual_seed(42)
    >>> state = g.get_state()
    >>> x = g.random(())
    >>> _ = g.set_state(state)
    >>> bool(g.random(()) == x)
    True
    """

    def __init__(self, seed: int = DEFAULT_SEED) -> None:
        self.manual_seed(seed)

    def manual_seed(self, seed: int) -> Generator:
        """Reset to the stream of ``seed``; returns self like PyTorch.

        Negative seeds wrap to 64 bits as in PyTorch; only the low 32 bits pick the stream.
        """
        seed = int(seed)
        if not -2**63 <= seed < 2**64:
            raise ValueError(f"manual_seed: expected a seed in [-2**63, 2**64), found {seed}")
        self._seed = seed % 2**64
        self.next_double_normal: float | None = None
        self._bits = np.random.MT19937()
        self._bits.state = {"bit_generator": "MT19937",
                            "state": {"key": _mt_key(self._seed), "pos": MT_WORDS}}
        self._words = np.random.Generator(self._bits)  # its full-range uint32 draws are raw
        return self

    def seed(self) -> int:
        """Reseed from the operating system's entropy, as ``torch.seed``; returns the seed."""
        seed = int(np.random.SeedSequence().generate_state(1, np.uint64)[0]) & (2**63 - 1)
        self.manual_seed(seed)
        return seed

    def initial_seed(self) -> int:
        return self._seed

    def words32(self, count: int) -> np.ndarray:
        """The next ``count`` raw 32-bit words of the stream (uint32)."""
        return self._words.integers(0, 2**32, size=count, dtype=np.uint32)

    def words64(self, count: int) -> np.ndarray:
        """The next ``count`` 64-bit words, each two 32-bit words, the first one high."""
        return random_draws.join_pairs(self.words32(2 * count))

    # numpy.random.Generator-shaped draws, the way PyTorch makes them (dtype matters:
    # float32 values come from one 32-bit word, float64 ones from a 64-bit word).
    def random(self, size: Any = (), dtype: Any = np.float32) -> np.ndarray:
        return random_draws.uniform(self, _shape(size), dtype)

    def uniform(self, low: float = 0.0, high: float = 1.0, size: Any = (),
                dtype: Any = np.float32) -> np.ndarray:
        return random_draws.uniform(self, _shape(size), dtype, low, high)

    def normal(self, loc: float = 0.0, scale: float = 1.0, size: Any = (),
               dtype: Any = np.float32) -> np.ndarray:
        return random_draws.normal(self, _shape(size), dtype, loc, scale)

    def standard_normal(self, size: Any = (), dtype: Any = np.float32) -> np.ndarray:
        return random_draws.normal(self, _shape(size), dtype)

    def integers(self, low: int, high: int | None = None, size: Any = ()) -> np.ndarray:
        if high is None:
            low, high = 0, low
        return random_draws.integers(self, int(low), int(high), _shape(size))

    def permutation(self, n: int) -> np.ndarray:
        return random_draws.permutation(self, int(n))

    def numpy(self) -> np.random.Generator:
        """A NumPy generator seeded by one 64-bit word of this stream, for the draws
        chainrule does not take from PyTorch (multinomial, weighted sampling)."""
        return np.random.default_rng(int(self.words64(1)[0]))

    def get_state(self) -> dict[str, Any]:
        """JSON-serializable snapshot of the stream position."""
        state = self._bits.state["state"]
        return {"seed": self._seed, "key": [int(word) for word in state["key"]],
                "pos": int(state["pos"]), "next_double_normal": self.next_double_normal}

    def set_state(self, state: dict[str, Any]) -> Generator:
        """Restore a snapshot from :meth:`get_state`.

        The snapshot is checked first (:func:`check_state`): a wrong one raises ValueError
        naming the field and leaves the generator as it was.
        """
        check_state(state)
        bits = np.random.MT19937()
        bits.state = {"bit_generator": "MT19937",
                      "state": {"key": np.array(state["key"], dtype=np.uint32),
                                "pos": state["pos"]}}
        self._seed, self._bits = state["seed"], bits
        self._words = np.random.Generator(bits)
        self.next_double_normal = state["next_double_normal"]
        return self

    def spawn(self) -> Generator:
        """A new generator seeded from this one, the way PyTorch's samplers seed theirs
        (``torch.empty((), dtype=torch.int64).random_(generator=self)``)."""
        return Generator(int(random_draws.random_int64(self, ())))


def _shape(size: Any) -> tuple[int, ...]:
    if isinstance(size, (int, np.integer)):
        return (int(size),)
    return tuple(int(n) for n in size)


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


def _check_int(name: str, value: Any, low: int, high: int) -> None:
    if not _is_int(value) or not low <= value < high:
        raise ValueError(f"{name}: expected an integer in [{low}, {high}), found {value!r:.60}")


def check_state(state: Any, name: str = "state") -> None:
    """Raise ValueError, naming the field, unless ``state`` is a :meth:`Generator.get_state`.

    >>> check_state({"seed": -1, "key": [], "pos": 0, "next_double_normal": None}, "rng")
    Traceback (most recent call last):
    ...
    ValueError: rng.seed: expected an integer in [0, 18446744073709551616), found -1
    """
    _check_keys(name, state, {"seed", "key", "pos", "next_double_normal"})
    _check_int(f"{name}.seed", state["seed"], 0, 2**64)
    key = state["key"]
    if not isinstance(key, list) or len(key) != MT_WORDS:
        raise ValueError(f"{name}.key: expected a list of {MT_WORDS} 32-bit words, found "
                         f"{type(key).__name__} {key!r:.60}")
    for index, word in enumerate(key):
        _check_int(f"{name}.key[{index}]", word, 0, 2**32)
    if not any(key):
        raise ValueError(f"{name}.key: all {MT_WORDS} words are 0, which no seed gives")
    _check_int(f"{name}.pos", state["pos"], 0, MT_WORDS + 1)
    cached = state["next_double_normal"]
    if cached is not None and (not isinstance(cached, (int, float)) or isinstance(cached, bool)
                               or not math.isfinite(cached)):
        raise ValueError(f"{name}.next_double_normal: expected None or a finite float, found "
                         f"{cached!r:.60}")


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


def numpy_generator(generator: Generator | None) -> Generator:
    """The generator to draw from: ``generator`` or the default one.

    Every random draw of chainrule goes through here, so a training step being captured
    learns here that it draws random numbers (input noise, dropout): a replay would repeat
    the recorded draws, so such a step stays eager.
    """
    capture.unsupported("the step draws random numbers (randn, rand, dropout, ...): a "
                        "replay would repeat the same draws")
    return generator or default_generator

