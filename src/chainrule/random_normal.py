"""PyTorch's vectorised Box-Muller for 16 or more normals, bit for bit, at NumPy speed.

PyTorch fills a tensor of 16 or more normals with uniforms, then turns each block of 16 into
16 normals: the first 8 uniforms ``u1`` give the radius ``sqrt(-2 log(1 - u1))``, the last 8
``u2`` the angle ``2 pi u2``; the block becomes ``radius * cos`` then ``radius * sin``.

* float32 runs PyTorch's AVX2 kernel: the Cephes single-precision ``log`` and ``sincos``,
  evaluated with the fused multiply-adds its compiler emits. A float32 fused multiply-add
  ``a * b + c`` is computed here in float64 (the product of two float32 is exact there) and
  rounded to float32 once; where the product is exact in float32 already (a power of two, a
  short constant) a plain float32 add gives the same bits and is used instead.
* float64 runs the scalar loop: the C library's ``log``, ``cos`` and ``sin``
  (:mod:`chainrule.random_normal64`; ``log_f64`` and ``libm_log_matches`` come from
  :mod:`chainrule.random_log` and are kept here under their old names).

The float32 work goes chunk by chunk (``CHUNK_BLOCKS`` blocks of 16) through buffers
allocated once per call, with in-place ufuncs (``out=``), so the arrays stay in the CPU's
cache and no temporaries are made: about 2x the time of NumPy's own ``standard_normal``
(benchmarks/random_normals.py).

>>> import chainrule as cr
>>> out = np.empty((1, 16), np.float32)  # one block: torch.manual_seed(0); torch.randn(16)
>>> normals_f32(cr.Generator().manual_seed(0).words32, out)
>>> out[0, :3].tolist()
[-1.1258398294448853, -1.152360200881958, -0.2505785822868347]
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from chainrule.random_log import libm_log_matches as libm_log_matches
from chainrule.random_log import log_f64 as log_f64

f32, f64, i32 = np.float32, np.float64, np.int32
CHUNK_BLOCKS = 2048  # 32,768 normals per chunk: each float64 buffer is 128 KiB

# Cephes single-precision log: log(m * 2**e) with m in [sqrt(1/2), sqrt(2)), a degree-8
# polynomial in x = m - 1, and log(2) split into a coarse part and a correction. The
# coefficients are float32 numbers; the fused multiply-adds take them as float64 values.
_LOG_POLY = [f64(f32(c)) for c in (
    7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1,
    -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1)]
_LN2_HI, _LN2_LO = f32(0.693359375), f32(-2.12194440e-4)
_SQRT_HALF_BITS = int(np.array(math.sqrt(0.5), f32).view(i32))
# Cephes single-precision sin and cos: reduce by multiples of pi/4 (pi/4 split in three),
# then one polynomial for sin and one for cos on [-pi/4, pi/4], chosen by the octant.
_PI4_PARTS = (f32(-0.78515625), f32(-2.4187564849853515625e-4), f64(f32(-3.77489497744594108e-8)))
_SIN_POLY = [f64(f32(c)) for c in (-1.9515295891e-4, 8.3321608736e-3, -1.6666654611e-1)]
_COS_POLY = [f64(f32(c)) for c in (2.443315711809948e-5, -1.388731625493765e-3,
                                   4.166664568298827e-2)]
_FOUR_OVER_PI = f32(4 / math.pi)
_TWO_PI_UNIT = f32(2 * math.pi) * f32(2.0**-24)  # 2 pi times the uniform's step, exact
_SIGN = np.array([1 << 31], dtype=np.uint32).view(i32)[0]  # the float32 sign bit


class Buffers:
    """Scratch arrays for one chunk of ``size`` (rows, 8) values each, named by role
    (float32, float64, int32); ``take(rows)`` views them for a chunk of ``rows`` blocks."""

    NAMES = {f32: ("x", "z", "y", "e", "t", "cos", "sin"), f64: ("x64", "z64", "t64"),
             i32: ("bits", "octant", "mask")}

    def __init__(self, size: int) -> None:
        self.blocks = size // 8  # the blocks of 16 of one chunk
        self.arrays = {name: np.empty(size, dtype) for dtype, names in self.NAMES.items()
                       for name in names}

    def take(self, rows: int) -> dict[str, np.ndarray]:
        return {name: array[:rows * 8].reshape(rows, 8) for name, array in self.arrays.items()}


def _round32(t64: np.ndarray, scratch: np.ndarray) -> None:
    """Round float64 ``t64`` to float32 in place (through the float32 ``scratch``; slice
    assignments cast faster than ``np.copyto`` here)."""
    scratch[...] = t64
    t64[...] = scratch


def _horner(t64: np.ndarray, x64: np.ndarray, coefficients: list[np.float64],
            scratch: np.ndarray) -> None:
    """``t64 = fma(t64, x, c)`` for each coefficient ``c``, rounded to float32 after each
    step: the float64 product of float32 values is exact, then the float64 sum rounds before
    the float32 rounding (a tie of the second rounding made by the first is the only way to
    differ from a fused multiply-add: odds about 2**-29 per step)."""
    for coefficient in coefficients:
        _round32(t64, scratch)
        np.multiply(t64, x64, out=t64)
        np.add(t64, coefficient, out=t64)


def _radius_f32(words: np.ndarray, b: dict[str, np.ndarray]) -> np.ndarray:
    """``sqrt(-2 log(1 - u))`` for the uniforms ``u = words * 2**-24``, in b["y"]."""
    bits, e, x, z, y, t = b["bits"], b["e"], b["x"], b["z"], b["y"], b["t"]
    x64, t64 = b["x64"], b["t64"]
    unsigned = bits.view(np.uint32)
    np.subtract(2**24, words, out=unsigned)  # (1 - u) * 2**24, an integer in [1, 2**24]
    mantissa = y  # float32 scratch: 1 - u scaled by 2**24, then its mantissa in [0.5, 1)
    mantissa[...] = unsigned
    mantissa_bits = mantissa.view(i32)
    np.right_shift(mantissa_bits, 23, out=bits)
    np.bitwise_and(mantissa_bits, 0x007FFFFF, out=mantissa_bits)
    np.bitwise_or(mantissa_bits, 0x3F000000, out=mantissa_bits)
    small = b["mask"]  # -1 where the mantissa is below sqrt(1/2) (compared as bits), else 0
    np.subtract(mantissa_bits, _SQRT_HALF_BITS, out=small)
    np.right_shift(small, 31, out=small)
    np.add(bits, small, out=bits)
    np.subtract(bits, 126 + 24, out=e, casting="unsafe")  # the exponent, as float32
    np.subtract(mantissa, f32(1), out=x)
    np.bitwise_and(mantissa_bits, small, out=mantissa_bits)  # x += mantissa where small
    np.add(x, mantissa, out=x)
    np.multiply(x, x, out=z)
    x64[...] = x
    np.multiply(x64, _LOG_POLY[0], out=t64)
    np.add(t64, _LOG_POLY[1], out=t64)
    _horner(t64, x64, _LOG_POLY[2:], y)
    y[...] = t64
    np.multiply(y, x, out=y)
    np.multiply(e, _LN2_LO, out=t)
    t64[...] = y  # y * z + t, fused
    np.multiply(t64, z, out=t64)
    np.add(t64, t, out=y, casting="same_kind")
    np.multiply(z, f32(-0.5), out=z)  # z * -0.5 is exact: the fused form is a plain add
    np.add(y, z, out=y)
    np.add(y, x, out=y)
    np.multiply(e, _LN2_HI, out=e)  # exact: a small integer times a 9-bit constant
    np.add(y, e, out=y)
    np.multiply(y, f32(-2), out=y)
    np.sqrt(y, out=y)
    return y


def _sincos_f32(words: np.ndarray, b: dict[str, np.ndarray]) -> None:
    """cos and sin of ``2 pi u`` for ``u = words * 2**-24``, in b["cos"], b["sin"];
    b["octant"] keeps the octant (0, 2, 4, 6 or 8) that picks their signs."""
    octant, x, z, t = b["octant"], b["x"], b["z"], b["t"]
    x64, z64, t64 = b["x64"], b["z64"], b["t64"]
    x[...] = words
    np.multiply(x, _TWO_PI_UNIT, out=x)  # the angle, 2 pi u rounded once
    np.multiply(x, _FOUR_OVER_PI, out=t)
    octant[...] = t  # truncation, as the kernel's conversion
    np.add(octant, 1, out=octant)
    np.bitwise_and(octant, ~1, out=octant)
    t[...] = octant
    for part in _PI4_PARTS[:2]:  # octant * part is exact in float32 for these two parts
        np.multiply(t, part, out=z)
        np.add(x, z, out=x)
    np.multiply(t, _PI4_PARTS[2], out=t64)
    np.add(t64, x, out=x, casting="same_kind")
    np.multiply(x, x, out=z)
    x64[...] = x
    z64[...] = z
    cos, sin = b["cos"], b["sin"]
    np.multiply(z64, _COS_POLY[0], out=t64)
    np.add(t64, _COS_POLY[1], out=t64)
    _horner(t64, z64, _COS_POLY[2:], cos)
    _round32(t64, cos)
    np.multiply(t64, z64, out=t64)  # exact in float64: rounding it is float32's product
    _round32(t64, cos)
    np.multiply(t64, z64, out=t64)
    np.multiply(z, f32(-0.5), out=t)
    np.add(t64, t, out=cos, casting="same_kind")
    np.add(cos, f32(1), out=cos)
    np.multiply(z64, _SIN_POLY[0], out=t64)
    np.add(t64, _SIN_POLY[1], out=t64)
    _horner(t64, z64, _SIN_POLY[2:], sin)
    _round32(t64, sin)
    np.multiply(t64, z64, out=t64)
    _round32(t64, sin)
    np.multiply(t64, x64, out=t64)
    np.add(t64, x64, out=sin, casting="same_kind")


def _signs_f32(b: dict[str, np.ndarray]) -> None:
    """Swap b["cos"] and b["sin"] in octants 2 and 6, then give each its octant's sign,
    with bit operations on their float32 bits (no masks or ``where``)."""
    octant, mask, diff = b["octant"], b["mask"], b["bits"]
    cos_bits, sin_bits = b["cos"].view(i32), b["sin"].view(i32)
    np.left_shift(octant, 30, out=mask)
    np.right_shift(mask, 31, out=mask)  # -1 where octant & 2, else 0
    np.bitwise_xor(cos_bits, sin_bits, out=diff)
    np.bitwise_and(diff, mask, out=diff)
    np.bitwise_xor(cos_bits, diff, out=cos_bits)
    np.bitwise_xor(sin_bits, diff, out=sin_bits)
    np.left_shift(octant, 29, out=mask)  # the sine is negative in octants 4 and 6
    np.bitwise_and(mask, _SIGN, out=mask)
    np.bitwise_xor(sin_bits, mask, out=sin_bits)
    np.add(octant, 2, out=octant)  # the cosine in octants 2 and 4
    np.left_shift(octant, 29, out=mask)
    np.bitwise_and(mask, _SIGN, out=mask)
    np.bitwise_xor(cos_bits, mask, out=cos_bits)


def normals_f32(draw: Callable[[int], np.ndarray], out: np.ndarray, mean: float = 0.0,
                std: float = 1.0) -> None:
    """Fill the rows of ``out`` (blocks of 16 float32) with PyTorch's AVX2 ``normal_fill_16``
    of 16 raw 32-bit words each, drawn chunk by chunk with ``draw(count)`` (a new array each
    time: it is overwritten), then ``* std + mean`` fused."""
    blocks = out.shape[0]
    buffers = Buffers(8 * min(blocks, CHUNK_BLOCKS))
    for start in range(0, blocks, CHUNK_BLOCKS):
        stop = min(start + CHUNK_BLOCKS, blocks)
        words = draw(16 * (stop - start)).reshape(-1, 16)
        transform_f32(words, out[start:stop], buffers, mean, std)


def transform_f32(words: np.ndarray, out: np.ndarray, buffers: Buffers | None = None,
                  mean: float = 0.0, std: float = 1.0) -> None:
    """Turn the rows of raw 32-bit ``words`` (blocks of 16, overwritten) into the rows of
    ``out`` as :func:`normals_f32` does, chunk by chunk through ``buffers`` (a chunk is
    ``buffers.blocks`` blocks; None: buffers for ``CHUNK_BLOCKS`` blocks are made). Each
    row depends only on its own words, so threads may transform separate row ranges."""
    blocks = out.shape[0]
    if buffers is None:
        buffers = Buffers(8 * min(blocks, CHUNK_BLOCKS))
    scale = mean != 0 or std != 1
    std64, mean64 = f64(f32(std)), f64(f32(mean))
    for start in range(0, blocks, buffers.blocks):
        stop = min(start + buffers.blocks, blocks)
        b = buffers.take(stop - start)
        chunk, target = words[start:stop], out[start:stop]
        np.bitwise_and(chunk, 2**24 - 1, out=chunk)  # the uniforms' 24 bits, in place
        radius = _radius_f32(chunk[:, :8], b)
        _sincos_f32(chunk[:, 8:], b)
        _signs_f32(b)
        for values, half in ((b["cos"], target[:, :8]), (b["sin"], target[:, 8:])):
            if not scale:
                np.multiply(values, radius, out=half)
                continue
            np.multiply(values, radius, out=values)
            np.multiply(values, std64, out=b["t64"])
            np.add(b["t64"], mean64, out=half, casting="same_kind")
