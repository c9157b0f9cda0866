"""PyTorch's vectorised Box-Muller for 16 or more normals, bit for bit, at NumPy speed.

PyTorch fills a tensor of 16 or more normals with uniforms, then turns each block of 16 into
16 normals: the first 8 uniforms ``u1`` give the radius ``sqrt(-2 log(1 - u1))``, the last 8
``u2`` the angle ``2 pi u2``; the block becomes ``radius * cos`` then ``radius * sin``.

* float32 runs PyTorch's AVX2 kernel: the Cephes single-precision ``log`` and ``sincos``,
  evaluated with the fused multiply-adds its compiler emits. A float32 fused multiply-add
  ``a * b + c`` is computed here in float64 (the product of two float32 is exact there) and
  rounded to float32 once; where the product is exact in float32 already (a power of two, a
  short constant) a plain float32 add gives the same bits and is used instead.
* float64 runs the scalar loop: the C library's ``log``, ``cos`` and ``sin``. NumPy's
  ``cos`` and ``sin`` are the C library's; its ``log`` is not on AVX-512 machines, so
  :func:`log_f64` finds the C library's bits itself (math.log for the few near a tie).

The float32 work goes chunk by chunk (``CHUNK_BLOCKS`` blocks of 16) through buffers
allocated once per call, with in-place ufuncs (``out=``), so the arrays stay in the CPU's
cache and no temporaries are made: about 2x the time of NumPy's own ``standard_normal``,
float64 about 4x (benchmarks/random_normals.py).

>>> import chainrule as cr
>>> out = np.empty((1, 16), np.float32)  # one block: torch.manual_seed(0); torch.randn(16)
>>> normals_f32(cr.Generator().manual_seed(0).words32, out)
>>> out[0, :3].tolist()
[-1.1258398294448853, -1.152360200881958, -0.2505785822868347]
"""

from __future__ import annotations

import decimal
import functools
import math
from collections.abc import Callable

import numpy as np

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


# The C library's log in float64: glibc's is within 0.519 units in the last place, so it is
# the correctly rounded value wherever the exact logarithm lies more than 0.019 units from a
# rounding tie. That value is found here to about 2**-62 relative, as
# log(m * 2**e) = e log 2 - log(inv) + log1p(m * inv - 1) with m in [sqrt(1/2), sqrt(2)),
# inv a 26-bit number near 1/m from a table (so m * inv splits into two exact parts), and
# -log(inv) and log 2 in two parts each, from the decimal module. The values within
# _TIE_MARGIN units of a tie (about 5%) are handed to math.log itself.
_TIE_MARGIN = 0.475
_LOG1P_POLY = (1 / 7, -1 / 6, 1 / 5, -1 / 4, 1 / 3, -1 / 2)  # log1p(r) - r, over r**2


@functools.cache  # made on the first float64 draw, not at import (about 15 ms)
def _log_tables() -> tuple[float, float, np.ndarray, np.ndarray, np.ndarray]:
    """log 2 in two parts (the first with 41 bits, so an exponent times it is exact) and,
    by round(256 m), the 26-bit ``inv`` and -log(inv) in two parts."""
    with decimal.localcontext() as context:
        context.prec = 50
        ln2 = decimal.Decimal(2).ln()
        ln2_high = math.ldexp(math.floor(math.ldexp(float(ln2), 41)), -41)
        inv, high, low = np.ones(363), np.zeros(363), np.zeros(363)
        for index in range(181, 363):  # round(256 m) for m in [sqrt(1/2), sqrt(2))
            mantissa, exponent = math.frexp(256 / index)
            inv[index] = math.ldexp(round(mantissa * 2**26), exponent - 26)
            value = -decimal.Decimal(inv[index]).ln()
            high[index] = float(value)
            low[index] = float(value - decimal.Decimal(high[index]))
        return ln2_high, float(ln2 - decimal.Decimal(ln2_high)), inv, high, low


_MANTISSA, _ONE_BITS = np.int64(2**52 - 1), np.int64(1023 << 52)
_SQRT2_BITS = int(np.array(math.sqrt(2)).view(np.int64))


def _two_sum(a: np.ndarray, b: np.ndarray, total: np.ndarray, error: np.ndarray,
             scratch: np.ndarray) -> None:
    """``total + error == a + b`` exactly, ``total`` the rounded sum (Knuth); ``a`` and
    ``b`` are kept, ``error`` and ``scratch`` must be other arrays."""
    np.add(a, b, out=total)
    np.subtract(total, a, out=scratch)  # the part of b in total
    np.subtract(total, scratch, out=error)
    np.subtract(a, error, out=error)  # a's rounding error
    np.subtract(b, scratch, out=scratch)  # b's
    np.add(error, scratch, out=error)


def log_f64(x: np.ndarray, out: np.ndarray) -> None:
    """``out = log(x)`` for float64 ``x`` in (0, 1], bit for bit the C library's
    ``math.log`` (glibc's; :func:`libm_log_matches` checks), 1-D contiguous arrays.

    >>> x = np.array([1.0, 0.5, 0.3, 2.0**-53])
    >>> out = np.empty(4)
    >>> log_f64(x, out)
    >>> out.tolist() == [math.log(v) for v in x]
    True
    """
    if libm_log_matches():
        _fast_log(x, out)
    else:
        out[:] = list(map(math.log, x.tolist()))


def _fast_log(x: np.ndarray, out: np.ndarray) -> None:
    ln2_high, ln2_low, inverses, minus_log_high, minus_log_low = _log_tables()
    n = x.size
    m, e, inv, t_high, t_low, a, b, c, d = np.empty((9, n))
    index = np.empty(n, np.int64)
    np.right_shift(x.view(np.int64), 52, out=index)
    np.subtract(index, 1023, out=e, casting="unsafe")  # x = m * 2**e, m in [1, 2)
    m_bits = m.view(np.int64)
    np.bitwise_and(x.view(np.int64), _MANTISSA, out=m_bits)
    np.bitwise_or(m_bits, _ONE_BITS, out=m_bits)
    np.subtract(_SQRT2_BITS - 1, m_bits, out=index)
    np.right_shift(index, 63, out=index)  # -1 where m >= sqrt(2): halve m, one more to e
    np.subtract(e, index, out=e, casting="unsafe")
    np.left_shift(index, 52, out=index)
    np.add(m_bits, index, out=m_bits)
    np.multiply(m, 256.0, out=a)
    np.rint(a, out=a)
    np.copyto(index, a, casting="unsafe")
    np.take(inverses, index, out=inv)
    np.take(minus_log_high, index, out=t_high)
    np.take(minus_log_low, index, out=t_low)
    np.multiply(m, 134217729.0, out=a)  # Veltkamp: m = a + b, each 26 bits
    np.subtract(a, m, out=b)
    np.subtract(a, b, out=a)
    np.subtract(m, a, out=b)
    np.multiply(m, inv, out=c)  # m * inv = c + err exactly (Dekker), err in a
    np.multiply(a, inv, out=a)
    np.subtract(a, c, out=a)
    np.multiply(b, inv, out=b)
    np.add(a, b, out=a)
    np.subtract(c, 1.0, out=c)  # r = c + err, |r| < 2**-8
    np.multiply(c, _LOG1P_POLY[0], out=d)
    for coefficient in _LOG1P_POLY[1:]:
        np.add(d, coefficient, out=d)
        np.multiply(d, c, out=d)
    np.multiply(d, c, out=d)  # log1p(r) - r, to about 2**-70
    np.multiply(a, c, out=b)
    np.subtract(a, b, out=a)  # err / (1 + r)
    np.add(a, d, out=a)
    np.multiply(e, ln2_low, out=b)
    np.add(t_low, b, out=t_low)
    np.multiply(e, ln2_high, out=e)  # exact: 41 bits times at most 11
    _two_sum(e, t_high, d, m, b)
    _two_sum(d, c, e, t_high, b)
    np.add(m, t_high, out=m)  # everything below the leading sum e, then the result
    np.add(m, t_low, out=m)
    np.add(m, a, out=m)
    np.add(e, m, out=out)
    np.subtract(e, out, out=e)
    np.add(e, m, out=e)  # what the rounding to out left out
    np.abs(e, out=e)
    np.abs(out, out=b)
    np.spacing(b, out=b)
    np.multiply(b, _TIE_MARGIN, out=b)
    near_tie = np.greater_equal(e, b)
    near_tie |= (out.view(np.int64) & _MANTISSA) == 0  # a power of 2: a finer unit below
    ties = np.flatnonzero(near_tie)
    out[ties] = list(map(math.log, x[ties].tolist()))


@functools.cache
def libm_log_matches() -> bool:
    """Whether :func:`log_f64` agrees with this C library's ``log`` on 65,536 spread
    values (a C library less accurate than glibc's makes log_f64 call it for every value).
    """
    probe = np.random.default_rng(20).integers(1, 2**53, 2**16).astype(np.float64) * 2.0**-53
    probe[:64] = np.ldexp(1.0, -np.arange(64) % 54)
    fast = np.empty_like(probe)
    _fast_log(probe, fast)
    return all(map(float.__eq__, fast.tolist(), map(math.log, probe.tolist())))
