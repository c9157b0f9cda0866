"""PyTorch's float64 Box-Muller for 16 or more normals, bit for bit: the C library's ``log``,
``cos`` and ``sin``, chunk by chunk through buffers allocated once per call.

PyTorch's scalar loop turns each block of 16 float64 uniforms into 16 normals: the first 8
``u1`` give the radius ``sqrt(-2 log(1 - u1))``, the last 8 ``u2`` the angle ``2 pi u2``, and
the block becomes ``radius * cos`` then ``radius * sin``. A uniform is the low 53 bits of a
64-bit word made of two 32-bit words, the first one high, times ``2**-53``.

:func:`transform_f64` takes the raw 32-bit words: one copy through a 64-byte-item view
puts the radii's words of every block first and the angles' after them (so every later
step runs on contiguous arrays), integer operations make the 53-bit numbers ``k``, and
``1 - u1`` is the integer ``2**53 - k`` (the logarithm takes the ``2**-53`` into its table),
``2 pi u2`` is ``k * (2 pi 2**-53)`` (a power-of-two scale commutes with the rounding).
NumPy's ``cos`` and ``sin`` are the C library's; its ``log`` is not on AVX-512 machines, so
:func:`~chainrule.random_log.log_scaled` finds the C library's bits itself.

>>> import chainrule as cr
>>> words = cr.Generator().manual_seed(0).words32(32)  # torch.manual_seed(0)
>>> out = np.empty((1, 16))
>>> transform_f64(words.reshape(1, 32), out)  # torch.randn(16, dtype=torch.float64)
>>> out[0, :3].tolist()
[-2.310411800234176, -0.3732508612577643, -1.0608166785462863]
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from chainrule.random_log import Scratch, log_scaled

CHUNK_BLOCKS = 2048  # blocks of 16 normals per chunk: each float64 buffer is 128 KiB
_LOW53 = np.uint64(2**53 - 1)
_ANGLE_STEP = 2 * math.pi * 2.0**-53  # 2 pi u2 = k * _ANGLE_STEP, rounded once
_BLOCK_HALF = np.dtype("V64")  # the 8 words (uint64) of one half of a block


class Buffers:
    """The arrays one chunk of ``blocks`` blocks of 16 needs: ``words`` (the 64-bit words,
    radii's then angles'), ``values`` (``1 - u1`` scaled, then the angles, then cos and
    sin), ``radius``, the logarithm's :class:`~chainrule.random_log.Scratch` and ``carry``
    (integer scratch, in the logarithm's arrays)."""

    def __init__(self, blocks: int) -> None:
        self.blocks = blocks
        self.words = np.empty((2, 8 * blocks), np.uint64)
        self.values = np.empty((2, 8 * blocks))
        self.radius = np.empty(8 * blocks)
        self.log = Scratch(8 * blocks)
        self.carry = self.log.floats[:2].view(np.uint64)  # free until the logarithm


def normals_f64(draw: Callable[[int], np.ndarray], out: np.ndarray, mean: float = 0.0,
                std: float = 1.0) -> None:
    """Fill the rows of ``out`` (blocks of 16 float64) from 32 raw 32-bit words each, drawn
    chunk by chunk with ``draw(count)`` (a new array each time: it is overwritten)."""
    blocks = out.shape[0]
    buffers = Buffers(min(blocks, CHUNK_BLOCKS))
    for start in range(0, blocks, CHUNK_BLOCKS):
        stop = min(start + CHUNK_BLOCKS, blocks)
        _chunk(draw(32 * (stop - start)).reshape(-1, 32), out[start:stop], buffers, mean, std)


def transform_f64(words: np.ndarray, out: np.ndarray, buffers: Buffers | None = None,
                  mean: float = 0.0, std: float = 1.0) -> None:
    """Turn the rows of raw 32-bit ``words`` (uint32, 32 per block of 16 normals: the
    pairs of 8 radius uniforms, then of 8 angle uniforms) into the rows of float64 ``out``,
    ``* std + mean`` fused, chunk by chunk through ``buffers`` (None: made here). Each row
    depends only on its own words, so threads may transform separate row ranges."""
    blocks = out.shape[0]
    if buffers is None:
        buffers = Buffers(min(blocks, CHUNK_BLOCKS))
    for start in range(0, blocks, buffers.blocks):
        stop = min(start + buffers.blocks, blocks)
        _chunk(words[start:stop], out[start:stop], buffers, mean, std)


def _chunk(words: np.ndarray, out: np.ndarray, b: Buffers, mean: float, std: float) -> None:
    count = 8 * out.shape[0]
    halves = b.words[:, :count]
    # block by block, the radii's 64 bytes to the first row and the angles' to the second
    halves.view(_BLOCK_HALF)[...] = np.ascontiguousarray(words).view(_BLOCK_HALF).reshape(-1, 2).T
    second = b.carry[:, :count]
    np.right_shift(halves, np.uint64(32), out=second)  # each pair's second word (low)
    np.left_shift(halves, np.uint64(32), out=halves)  # the first word (high) moves up
    np.bitwise_or(halves, second, out=halves)
    np.bitwise_and(halves, _LOW53, out=halves)  # k: u = k * 2**-53
    radius, values = b.radius[:count], b.values[:, :count]
    np.subtract(np.uint64(2**53), halves[0], out=halves[0])  # (1 - u1) * 2**53, exact
    values[0] = halves[0].view(np.int64)  # at most 2**53: exact as a float64
    log_scaled(values[0], radius, 53, b.log)  # log(1 - u1)
    np.multiply(radius, -2.0, out=radius)
    np.sqrt(radius, out=radius)
    angle = values[1]
    angle[...] = halves[1].view(np.int64)  # int64 converts faster than uint64
    np.multiply(angle, _ANGLE_STEP, out=angle)
    np.cos(angle, out=values[0])
    np.sin(angle, out=values[1])
    np.multiply(values, radius, out=values)
    if mean != 0 or std != 1:
        values[...] = fma64(values, std, mean)
    out.view(_BLOCK_HALF).reshape(-1, 2)[...] = values.view(_BLOCK_HALF).T


def _split(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Veltkamp's split of float64 ``x`` into two halves of 26 bits whose sum is ``x``."""
    scaled = x * 134217729.0  # 2**27 + 1
    high = scaled - (scaled - x)
    return high, x - high


def fma64(a: np.ndarray, b: Any, c: Any) -> np.ndarray:
    """``a * b + c`` in float64 with one rounding (up to ties of vanishing odds), from the
    exact product (Dekker) and the exact sum (Knuth): what a fused multiply-add returns.

    >>> fma64(np.array([0.1]), 10.0, -1.0).tolist()  # 0.1 * 10 is not 1 exactly
    [5.551115123125783e-17]
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.broadcast_to(np.asarray(b, dtype=np.float64), a.shape)
    product = a * b
    a_high, a_low = _split(a)
    b_high, b_low = _split(b)
    product_error = (((a_high * b_high - product) + a_high * b_low) + a_low * b_high
                     + a_low * b_low)
    total = product + c
    back = total - product
    sum_error = (product - (total - back)) + (c - back)
    return total + (sum_error + product_error)
