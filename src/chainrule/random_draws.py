"""How PyTorch's CPU generator turns raw Mersenne Twister words into numbers, in NumPy.

Every function takes a :class:`~chainrule.random.Generator`, draws its raw words
(``generator.words32(n)`` / ``words64(n)``) and transforms them with whole-array NumPy
operations, so the same seed gives the numbers PyTorch 2.x prints on a CPU:

* a float32 uniform keeps the low 24 bits of one 32-bit word, a float64 one the low 53 bits
  of a 64-bit word (two 32-bit words, the first one high): ``bits * 2**-digits``, scaled
  to ``[low, high)`` as ``u * (high - low) + low`` in the tensor's dtype;
* normals of 16 or more elements are Box-Muller over blocks of 16 uniforms (the first 8 give
  the radius, the last 8 the angle), the ragged end recomputed from 16 fresh uniforms;
  float32 runs PyTorch's AVX2 kernel (:mod:`chainrule.random_normal`, chunk by chunk),
  float64 the C library's log, cos and sin; fewer than 16 elements use the
  double-precision Box-Muller pair, whose sine is kept for the next draw;
* integers in ``[low, high)`` are ``word % (high - low) + low`` (64-bit words when the range
  needs more than 32 bits); ``randperm`` is PyTorch's forward Fisher-Yates swap, its
  result found without a loop over the swaps;
* ``bernoulli_(p)`` compares uniforms with ``p``, ``exponential_`` is ``-log1p(-u) / lambd``.

>>> import chainrule as cr
>>> g = cr.Generator().manual_seed(0)
>>> uniform(g, (3,), np.float32).tolist()
[0.49625658988952637, 0.7682217955589294, 0.08847743272781372]
"""

from __future__ import annotations

import math
import os
import queue
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np

from chainrule import random_log1p, random_normal, random_normal64
from chainrule.random_normal64 import fma64 as _fma64

if TYPE_CHECKING:
    from chainrule.random import Generator

f32 = np.float32
# Randperm swaps with 32-bit words below this size, with the inside-out shuffle above it.
RANDPERM_SMALL = (2**32 - 1) // 20
CHUNK_BLOCKS = random_normal64.CHUNK_BLOCKS  # float64 blocks of 16 transformed at a time
PARALLEL_MIN = 2**20  # normals from which the transform is spread over worker threads
SLAB_BLOCKS = 8192  # blocks of 16 normals per worker task (2**17 normals)


def _digits(dtype: Any) -> int:
    return 24 if np.dtype(dtype) == np.float32 else 53


def draw_dtype(dtype: Any) -> Any:
    """The dtype PyTorch draws for a tensor of ``dtype``: float64 for float64, else float32."""
    return np.float64 if np.dtype(dtype) == np.float64 else np.float32


def unit_uniform(generator: Generator, count: int, dtype: Any) -> np.ndarray:
    """``count`` uniforms in [0, 1) of ``dtype`` (float32: 24 bits, float64: 53 bits)."""
    if np.dtype(dtype) == np.float32:
        bits = generator.words32(count) & np.uint32(2**24 - 1)
        return bits.astype(f32) * f32(2.0**-24)
    return _unit64(generator.words64(count))


def join_pairs(pairs: np.ndarray) -> np.ndarray:
    """64-bit words from pairs of 32-bit ``pairs`` (uint32, even length, overwritten), the
    first of each pair high: the pairs viewed as 64 bits, their halves swapped if need be."""
    if sys.byteorder == "big":
        return pairs.view(np.uint64)
    words = pairs.view(np.uint64)
    low = np.right_shift(words, np.uint64(32))
    np.left_shift(words, np.uint64(32), out=words)
    np.bitwise_or(words, low, out=words)
    return words


def _unit64(words: np.ndarray) -> np.ndarray:
    """float64 uniforms in [0, 1) from 64-bit ``words`` (their low 53 bits, overwritten)."""
    np.bitwise_and(words, np.uint64(2**53 - 1), out=words)
    return words.astype(np.float64) * 2.0**-53


def _fused(a: np.ndarray, b: Any, c: Any, dtype: Any) -> np.ndarray:
    """``a * b + c`` rounded once (a fused multiply-add, as PyTorch's compiled kernels do)."""
    if np.dtype(dtype) == np.float32:  # the float64 product of two float32 is exact
        return (a.astype(np.float64) * np.float64(b) + np.float64(c)).astype(f32)
    return _fma64(a, b, c)


def uniform(generator: Generator, shape: tuple[int, ...], dtype: Any, low: float = 0.0,
            high: float = 1.0) -> np.ndarray:
    """``Tensor.uniform_(low, high)``: ``u * (high - low) + low`` in ``dtype``."""
    dtype = np.dtype(dtype)
    count = math.prod(shape)
    unit = unit_uniform(generator, count, dtype)
    lo, hi = dtype.type(low), dtype.type(high)
    if lo == 0 and hi == 1:
        return unit.reshape(shape)
    return _fused(unit, hi - lo, lo, dtype).reshape(shape)


def normal(generator: Generator, shape: tuple[int, ...], dtype: Any, mean: float = 0.0,
           std: float = 1.0) -> np.ndarray:
    """``Tensor.normal_(mean, std)`` on a contiguous tensor of ``shape`` and ``dtype``."""
    dtype = np.dtype(dtype)
    count = math.prod(shape)
    if count < 16:
        return _normal_pairs(generator, count, mean, std).astype(dtype).reshape(shape)
    blocks = count // 16
    out = np.empty(count, dtype)
    grid = out[:blocks * 16].reshape(blocks, 16)
    if count >= PARALLEL_MIN and _workers.pool() is not None:
        _normals_threaded(generator, grid, mean, std)
    elif dtype == np.float32:
        random_normal.normals_f32(generator.words32, grid, mean, std)
    else:
        random_normal64.normals_f64(generator.words32, grid, mean, std)
    if count % 16:  # the ragged end's uniforms are drawn, unused: the last 16 normals
        unit_uniform(generator, count % 16, dtype)  # are made again from 16 fresh ones
        tail = out[count - 16:].reshape(1, 16)
        if dtype == np.float32:
            random_normal.normals_f32(generator.words32, tail, mean, std)
        else:
            random_normal64.transform_f64(generator.words32(32).reshape(1, 32), tail, None,
                                          mean, std)
    return out.reshape(shape)


class _Workers:
    """The worker threads that transform large normal draws (NumPy's ufuncs release the
    GIL): a ``ThreadPoolExecutor`` made on first use and kept, remade after a fork (the
    child has none of the parent's threads), each worker with its own scratch buffers."""

    def __init__(self, threads: int) -> None:
        self.threads = threads
        self._pool: ThreadPoolExecutor | None = None
        self._pool_threads = 0
        self._lock = threading.Lock()
        self.local = threading.local()

    def pool(self) -> ThreadPoolExecutor | None:
        """The pool, or None when the draws stay in the calling thread (1 thread)."""
        if self.count() <= 1:
            return None
        with self._lock:
            if self._pool is not None and self._pool_threads != self.threads:
                self._pool.shutdown(wait=False)  # idle: its threads end
                self._pool = None
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.threads - 1, "chainrule-randn")
                self._pool_threads = self.threads
            return self._pool

    def count(self) -> int:
        """The thread count: :func:`set_normal_threads`'s, else (0) the default, resolved
        at the first large draw (:func:`default_normal_threads`)."""
        if not self.threads:
            self.threads = default_normal_threads()
        return self.threads

    def set_threads(self, threads: int) -> int:
        """Use ``threads`` workers from the next draw on; returns the previous count (the
        pool is kept while ``threads`` is 1, for the next draw on as many threads)."""
        previous, self.threads = self.count(), max(1, int(threads))
        return previous

    def forget(self) -> None:
        """In a forked child: drop the parent's pool (its threads do not exist here)."""
        self._pool, self._lock, self.local = None, threading.Lock(), threading.local()


# 0: default_normal_threads() at the first large draw. With a core to spare the threads
# take float64 10^7 normals from 3.4x to 1.9x NumPy's standard_normal (float32: 2.0x ->
# 1.0x); with every core busy they cost float64 about 7% and float32 nothing measurable
# (benchmarks/README.md, "Random normals")
_workers = _Workers(0)
os.register_at_fork(after_in_child=_workers.forget)


def set_normal_threads(threads: int) -> int:
    """Transform normal draws of ``PARALLEL_MIN`` or more numbers on ``threads`` threads
    (1: in the calling thread only; the default is :func:`default_normal_threads`); returns
    the previous count. The numbers and the generator's state afterwards are the same bits
    for every count.

    >>> previous = set_normal_threads(1)
    >>> set_normal_threads(previous) == 1
    True
    """
    return _workers.set_threads(threads)


def default_normal_threads() -> int:
    """The default thread count of large normal draws: chainrule's
    (:func:`chainrule.backend.parallel.get_threads`: ``CHAINRULE_THREADS``, else the usable
    cores), at most 4 (the words are drawn in one thread: more transform threads wait).

    >>> 1 <= default_normal_threads() <= 4
    True
    """
    from chainrule.backend.parallel import get_threads

    return min(get_threads(), 4)


def _normals_threaded(generator: Generator, grid: np.ndarray, mean: float, std: float
                      ) -> None:
    """Fill the rows of ``grid`` (blocks of 16) as the serial loops do: the calling thread
    draws the raw words slab by slab (the stream is sequential) and queues each slab; the
    workers transform the queued slabs into their rows while the next slab is drawn, and the
    calling thread joins them once all are drawn (so ``threads`` threads run in all)."""
    pool = _workers.pool()
    assert pool is not None
    slabs: queue.SimpleQueue[tuple[Any, ...] | None] = queue.SimpleQueue()
    helpers = [pool.submit(_transform_slabs, slabs) for _ in range(_workers.threads - 1)]
    transform = _slab_f32 if grid.dtype == np.float32 else _slab_f64
    words_per_block = 16 if grid.dtype == np.float32 else 32  # float64: pairs of words
    for start in range(0, grid.shape[0], SLAB_BLOCKS):
        stop = min(start + SLAB_BLOCKS, grid.shape[0])
        words = generator.words32(words_per_block * (stop - start))
        slabs.put((transform, words, grid[start:stop], mean, std))
    for _ in range(len(helpers) + 1):  # one end mark for each thread, after all the slabs
        slabs.put(None)
    _transform_slabs(slabs)
    for helper in helpers:
        helper.result()


def _transform_slabs(slabs: queue.SimpleQueue[tuple[Any, ...] | None]) -> None:
    """Transform queued slabs until an end mark."""
    while (slab := slabs.get()) is not None:
        transform, *arguments = slab
        transform(*arguments)


def _slab_f32(words: np.ndarray, rows: np.ndarray, mean: float, std: float) -> None:
    buffers = getattr(_workers.local, "buffers", None)
    if buffers is None:
        buffers = _workers.local.buffers = random_normal.Buffers(8 * SLAB_BLOCKS)
    random_normal.transform_f32(words.reshape(-1, 16), rows, buffers, mean, std)


def _slab_f64(words: np.ndarray, rows: np.ndarray, mean: float, std: float) -> None:
    buffers = getattr(_workers.local, "buffers64", None)
    if buffers is None:
        buffers = _workers.local.buffers64 = random_normal64.Buffers(CHUNK_BLOCKS)
    random_normal64.transform_f64(words.reshape(-1, 32), rows, buffers, mean, std)


def _normal_pairs(generator: Generator, count: int, mean: float, std: float) -> np.ndarray:
    """Double-precision Box-Muller one value at a time: each pair of uniforms gives a cosine
    value now and a sine value kept in the generator for the next normal draw."""
    values = []
    cached = generator.next_double_normal
    if cached is not None and count > 0:
        values.append(cached)
        generator.next_double_normal = None
    pairs = (count - len(values) + 1) // 2
    if pairs:
        unit = unit_uniform(generator, 2 * pairs, np.float64).reshape(pairs, 2)
        for angle_unit, radius_unit in unit.tolist():  # at most 8 pairs
            radius = math.sqrt(-2.0 * math.log1p(-radius_unit))
            theta = 2.0 * math.pi * angle_unit
            values += [radius * math.cos(theta), radius * math.sin(theta)]
        if len(values) > count:
            generator.next_double_normal = values.pop()
    return _fma64(np.array(values, dtype=np.float64), std, mean)


def integers(generator: Generator, low: int, high: int, shape: tuple[int, ...]) -> np.ndarray:
    """``randint(low, high)`` / ``random_(low, high)``: ``word % (high - low) + low`` (int64)."""
    span = high - low
    if span <= 0:
        raise ValueError(f"randint: expected low < high, found low={low}, high={high}")
    count = math.prod(shape)
    if span >= 2**32:
        words = generator.words64(count) % np.uint64(span)
    else:
        words = generator.words32(count).astype(np.uint64) % np.uint64(span)
    return (words.astype(np.int64) + np.int64(low)).reshape(shape)


def random_int64(generator: Generator, shape: tuple[int, ...]) -> np.ndarray:
    """``Tensor.random_()`` of an int64 tensor: a 64-bit word modulo 2**63."""
    words = generator.words64(math.prod(shape)) & np.uint64(2**63 - 1)
    return words.astype(np.int64).reshape(shape)


def permutation(generator: Generator, n: int) -> np.ndarray:
    """``randperm(n)``: PyTorch's forward Fisher-Yates, step ``k`` (k = 0 .. n-2) swapping
    positions ``k`` and ``j[k] = k + word % (n - k)``, without a loop over the steps.

    Step ``k`` fixes position ``k`` for good: it takes the value at ``j[k]`` and leaves there
    the value ``a[k]`` that position ``k`` held just before. A position's value before step
    ``k`` is the one the latest earlier step aimed at it left there, or its own index if no
    step did; so ``a[k]`` is ``a[m]`` for the latest step ``m < k`` with ``j[m] == k`` (else
    ``k``), which pointer jumping resolves for all ``k`` at once, and position ``k`` ends with
    ``a[m]`` for the latest ``m < k`` with ``j[m] == j[k]`` (else ``j[k]``).

    >>> import chainrule as cr
    >>> permutation(cr.Generator().manual_seed(0), 6).tolist()  # torch.randperm(6)
    [2, 5, 3, 0, 1, 4]
    """
    if n >= RANDPERM_SMALL:
        raise ValueError(f"randperm: n={n} is beyond the sizes chainrule reproduces "
                         f"(below {RANDPERM_SMALL})")
    if n <= 1:
        return np.arange(n, dtype=np.int64)
    steps = np.arange(n - 1, dtype=np.int64)
    offsets = generator.words32(n - 1) % np.arange(n, 1, -1, dtype=np.uint32)
    targets = steps + offsets.astype(np.int64)
    keys = targets * n + steps  # by target, then by step: unique
    order = np.argsort(keys)
    sorted_keys, sorted_targets = keys[order], targets[order]
    # for each step, the latest earlier step with the same target (-1: none)
    same = sorted_targets[1:] == sorted_targets[:-1]
    previous = np.full(n - 1, -1, dtype=np.int64)
    previous[order[1:][same]] = order[:-1][same]
    # for each position p, the latest step m < p aimed at p: a[p] = a[m] (else p)
    positions = np.arange(n, dtype=np.int64)
    latest = np.searchsorted(sorted_keys, positions * n + positions) - 1
    found = latest >= 0
    found[found] = sorted_targets[latest[found]] == positions[found]
    held = positions.copy()
    held[found] = order[latest[found]]
    while True:  # pointer jumping: about log2 of the longest chain of such steps
        jumped = held[held]
        if np.array_equal(jumped, held):
            break
        held = jumped
    result = np.empty(n, dtype=np.int64)
    result[:-1] = np.where(previous >= 0, held[np.maximum(previous, 0)], targets)
    result[-1] = held[-1]
    return result


def bernoulli(generator: Generator, p: Any, shape: tuple[int, ...],
              dtype: Any = np.float32) -> np.ndarray:
    """``Tensor.bernoulli_(p)``, ``torch.bernoulli``: 1 where a uniform is below ``p``.

    A number ``p`` (``bernoulli_(0.3)``, dropout's ``bernoulli_(1 - p)``) compares one
    float64 uniform (one 64-bit word) per element, whatever the dtype filled: torch 2.13's
    CPU wheel draws these from its Mersenne Twister too, not from MKL's VSL stream (checked
    on an Intel CPU, 1 and 2 threads). ``p`` may also be an array broadcast to ``shape``; an
    array of float32 probabilities compares float32 uniforms, as PyTorch does.
    """
    p_array = np.asarray(p)
    draw_dtype = np.float32 if p_array.dtype == np.float32 else np.float64
    unit = unit_uniform(generator, math.prod(shape), draw_dtype).reshape(shape)
    return (unit < p_array).astype(dtype)


def exponential(generator: Generator, lambd: float, shape: tuple[int, ...],
                dtype: Any = np.float32) -> np.ndarray:
    """``Tensor.exponential_(lambd)``: ``-1 / lambd * log1p(-u)`` in float64, one float64
    uniform ``u`` per element, rounded to ``dtype`` at the end.

    The logarithm is the C library's ``log1p``, as PyTorch's scalar CPU loop calls it
    (NumPy's ``log1p`` differs in the last bit for about 7% of the arguments): fdlibm's
    algorithm run on the whole array (:mod:`chainrule.random_log1p`), ``math.log1p`` for the
    few elements its fused multiply-adds could round otherwise.
    """
    count = math.prod(shape)
    negated = np.negative(unit_uniform(generator, count, np.float64))
    logs = np.empty(count)
    random_log1p.log1p_negative(negated, logs)
    values = (-1.0 / lambd) * logs
    if np.dtype(dtype).itemsize < 4:  # PyTorch's half rounds the double to float first
        values = values.astype(np.float32)
    return values.astype(dtype).reshape(shape)
