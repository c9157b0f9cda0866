"""The C library's ``log`` in float64, bit for bit, on whole arrays (NumPy's ``log`` is not
glibc's on AVX-512 machines: the last bit differs for about 0.35% of the values).

glibc's ``log`` is the correctly rounded value except near a rounding tie: its error is
at most 0.519 units in the last place (0.507 for ``x`` within 1/16 of 1), and, away from
1, at most about ``2**-61.5`` in absolute terms (its one rounding of ``r = z * invc - 1``,
``|r| < 2**-8``, plus terms below ``2**-66``). So the exact logarithm is found here to about
``2**-66``, rounded, and the values within ``min(0.026 units, 2**-60)`` of a tie (about 3%
of the normals' radii) are handed to ``math.log`` itself:

* ``x = X * 2**-shift`` with ``X = m * 2**E``, ``m`` in [1, 2); a table indexed by ``E`` and
  the top 9 bits of ``m`` (one shift of ``X``'s bits; 54 exponents by 512 intervals) holds
  a 26-bit ``inv`` near ``1 / m`` (``1`` on the first interval and ``1/2`` on the last, so
  that ``log(x)`` next to 1 comes out with no cancellation) scaled by ``2**-E``, and
  ``C = (E - shift) log 2 - log(inv)`` in two parts, from the decimal module;
* ``r = m * inv - 1`` is exact in two parts: ``X`` split by its bits into 27 and 26 bits,
  each product with ``inv`` exact;
* ``log(x) = C + r + (log1p(r) - r)``, a degree-6 polynomial, summed with the rounding
  errors carried (Knuth's two-sum), rounded once; then rounded again with the sum moved
  by the margin either way: where the two differ, ``math.log`` decides.

>>> x = np.array([1.0, 0.5, 0.3, 2.0**-53])
>>> out = np.empty(4)
>>> log_f64(x, out)
>>> out.tolist() == [math.log(v) for v in x]
True
"""

from __future__ import annotations

import decimal
import functools
import math

import numpy as np

TABLE_BITS = 9  # top bits of the mantissa that pick the table entry: |r| < 2**-9
_EXPONENTS = 54  # x = X * 2**-shift in [2**-53, 1]
_POLY = (1 / 5, -1 / 4, 1 / 3, -1 / 2)  # log1p(r) - r = r**2 (-1/2 + r (1/3 + ... - r / 6))
_LOW26 = np.int64(~(2**26 - 1))  # keeps the top 27 bits of the mantissa
_RELATIVE_MARGIN = 0.026 * 2.0**-52  # 0.026 units in the last place, for |log x| >= 2**-1074
_ABSOLUTE_MARGIN = 2.0**-60


@functools.cache
def _entries() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float, float]:
    """For each top ``TABLE_BITS`` bits of the mantissa: ``inv`` as ``odd * 2**powers`` and
    ``log(odd)`` in two parts; then log 2 in two parts (the first with 45 bits)."""
    tops = np.arange(1 << TABLE_BITS)
    centers = 1 + (tops + 0.5) / (1 << TABLE_BITS)
    inv = np.rint(2**26 / centers) * 2.0**-26
    inv[0], inv[-1] = 1.0, 0.5
    mantissas, powers = np.frexp(inv)  # inv = whole * 2**(powers - 26), whole < 2**26
    whole = np.rint(np.ldexp(mantissas, 26)).astype(np.int64)
    twos = whole & -whole  # whole = odd * twos
    odd, powers = whole // twos, powers - 26 + np.log2(twos).astype(np.int64)
    with decimal.localcontext() as context:
        context.prec = 40
        ln2 = decimal.Decimal(2).ln()
        ln2_high = math.ldexp(math.floor(math.ldexp(float(ln2), 45)), -45)  # times 255: exact
        logs = [decimal.Decimal(value).ln() for value in odd.tolist()]
        log_high = np.array([float(value) for value in logs])
        log_low = np.array([float(value - decimal.Decimal(high))
                            for value, high in zip(logs, log_high.tolist(), strict=True)])
        return inv, powers, log_high, log_low, ln2_high, float(ln2 - decimal.Decimal(ln2_high))


@functools.cache  # made on the first use for each shift, not at import (about 30 ms)
def _tables(shift: int) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """The first index (``X``'s bits shifted right by ``52 - TABLE_BITS``) and, for each
    index, ``inv * 2**-E`` and ``C`` in two parts (see the module's docstring)."""
    inv, powers, log_high, log_low, ln2_high, ln2_low = _entries()
    first_exponent = shift - _EXPONENTS + 1  # X in [2**first_exponent, 2**shift]
    exponents = np.arange(first_exponent, shift + 1)[:, None]
    scaled_inv = np.ldexp(inv, -exponents)
    # C = (E - shift) log 2 - log(odd * 2**powers) = n log 2 - log(odd), in double-double
    n = (exponents - shift - powers).astype(np.float64)
    leading = n * ln2_high  # exact
    high = leading - log_high
    back = high - leading
    error = (leading - (high - back)) + (-log_high - back)  # Knuth's two-sum
    low = error + n * ln2_low - log_low
    c_high = high + low
    c_low = low - (c_high - high)
    first = (first_exponent + 1023) << TABLE_BITS
    return first, scaled_inv.ravel(), c_high.ravel(), c_low.ravel()


class Scratch:
    """The scratch arrays :func:`log_scaled` needs for up to ``size`` values at a time."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.floats = np.empty((8, size))
        self.index = np.empty(size, np.int64)
        self.ties = np.empty(size, bool)


def log_scaled(scaled: np.ndarray, out: np.ndarray, shift: int, scratch: Scratch | None = None
               ) -> None:
    """``out = log(scaled * 2**-shift)``, bit for bit the C library's ``math.log``, for
    float64 ``scaled * 2**-shift`` in [2**-53, 1] (1-D contiguous arrays; ``scaled`` is
    kept). ``scratch`` holds the work arrays (None: made here)."""
    if not libm_log_matches():
        out[:] = [math.log(value) for value in (scaled * 2.0**-shift).tolist()]
        return
    size = scaled.size
    if scratch is None or scratch.size < size:
        scratch = Scratch(size)
    _log_close(scaled, out, shift, scratch)
    ties = np.flatnonzero(scratch.ties[:size])
    if ties.size:
        x = scaled[ties] * 2.0**-shift
        out[ties] = np.fromiter(map(math.log, x.tolist()), np.float64, ties.size)


def _log_close(scaled: np.ndarray, out: np.ndarray, shift: int, scratch: Scratch) -> None:
    """``out``: the rounded sum; ``scratch.ties``: True where the sum lies within the
    margin of a rounding tie (those values are to be found by ``math.log``)."""
    first, scaled_inv, c_high, c_low = _tables(shift)
    size = scaled.size
    inv, high, low, x_high, x_low, r, rest, margin = (row[:size] for row in scratch.floats)
    index = scratch.index[:size]
    np.right_shift(scaled.view(np.int64), 52 - TABLE_BITS, out=index)
    np.subtract(index, first, out=index)
    np.take(scaled_inv, index, out=inv, mode="clip")
    np.take(c_high, index, out=high, mode="clip")
    np.take(c_low, index, out=low, mode="clip")
    np.bitwise_and(scaled.view(np.int64), _LOW26, out=x_high.view(np.int64))
    np.subtract(scaled, x_high, out=x_low)
    np.multiply(x_high, inv, out=x_high)  # exact: 27 bits times 26
    np.subtract(x_high, 1.0, out=x_high)  # exact: within 2**-8 of 1
    np.multiply(x_low, inv, out=x_low)  # exact: 26 bits times 26, below 2**-26
    np.add(x_high, x_low, out=r)  # r + r_low = m * inv - 1 exactly (a fast two-sum; the
    r_low = inv  # sum is exact anyway where the second part is the larger)
    np.subtract(r, x_high, out=r_low)
    np.subtract(x_low, r_low, out=r_low)
    np.multiply(r, -1 / 6, out=rest)
    for coefficient in _POLY:
        np.add(rest, coefficient, out=rest)
        np.multiply(rest, r, out=rest)
    np.multiply(rest, r, out=rest)  # log1p(r) - r, to about 2**-66
    np.add(rest, r_low, out=rest)
    np.add(rest, low, out=rest)
    leading = x_high
    np.add(high, r, out=leading)  # |C| > |r| unless C is 0: a fast two-sum
    np.subtract(leading, high, out=high)
    np.subtract(r, high, out=high)  # its rounding error
    np.add(rest, high, out=rest)  # everything below the leading sum
    np.add(leading, rest, out=out)
    np.multiply(leading, -_RELATIVE_MARGIN, out=margin)  # log x <= 0
    np.minimum(margin, _ABSOLUTE_MARGIN, out=margin)
    np.add(rest, margin, out=high)
    np.add(leading, high, out=high)
    np.subtract(rest, margin, out=low)
    np.add(leading, low, out=low)
    np.not_equal(high, low, out=scratch.ties[:size])


def log_f64(x: np.ndarray, out: np.ndarray) -> None:
    """``out = log(x)`` for float64 ``x``, bit for bit the C library's ``math.log`` (glibc's;
    :func:`libm_log_matches` checks), 1-D contiguous arrays: the values in [2**-53, 1] (the
    normals' radii) through the table, any others through ``math.log`` itself.

    >>> out = np.empty(2)
    >>> log_f64(np.array([3.0, 0.25]), out)
    >>> out.tolist() == [math.log(3.0), math.log(0.25)]
    True
    """
    outside = np.flatnonzero(~((x >= 2.0**-53) & (x <= 1.0)))
    log_scaled(x, out, 0)
    if outside.size:
        out[outside] = [math.log(value) for value in x[outside].tolist()]


@functools.cache
def libm_log_matches() -> bool:
    """Whether :func:`log_scaled` agrees with this C library's ``log`` on 65,536 spread
    values (a C library less accurate than glibc's makes it call ``math.log`` for each).
    """
    probe = np.random.default_rng(20).integers(1, 2**53, 2**16).astype(np.float64) * 2.0**-53
    probe[:54] = np.ldexp(1.0, -np.arange(54))  # 1, 1/2, ..., 2**-53
    fast, scratch = np.empty_like(probe), Scratch(probe.size)
    _log_close(probe, fast, 0, scratch)
    ties = np.flatnonzero(scratch.ties)
    fast[ties] = [math.log(value) for value in probe[ties].tolist()]
    return all(map(float.__eq__, fast.tolist(), map(math.log, probe.tolist())))
