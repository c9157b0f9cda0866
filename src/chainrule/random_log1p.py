"""The C library's ``log1p`` on whole arrays, bit for bit, for ``exponential_``.

PyTorch's ``exponential_`` computes ``-1 / lambd * log1p(-u)`` one element at a time with
the C library's ``log1p``; NumPy's vectorised ``log1p`` differs from it in the last bit for
about 7% of the arguments. glibc's ``log1p`` is
fdlibm's algorithm, a fixed sequence of float64 operations, built with fused multiply-adds
on CPUs with FMA (this glibc 2.36 chooses that build at load time): :func:`log1p_negative`
runs the sequence on arrays, for the arguments ``exponential_`` makes (``-u``, ``u`` a
53-bit uniform in [0, 1)), its multiply-adds unfused, and hands the few results that the
fused ones could change (and the rare branches) to ``math.log1p``.
:func:`libm_log1p_matches` checks it against ``math.log1p`` once, on spread values and the
branches' edges; a C library that differs gets ``math.log1p`` for every element.

>>> x = np.array([0, 1, 2**23, 3 * 2**49, 2**52 + 5, 2**53 - 1]) * -2.0**-53  # -u
>>> out = np.empty_like(x)
>>> log1p_negative(x, out)
>>> out.tolist() == [math.log1p(value) for value in x.tolist()]
True
"""

from __future__ import annotations

import functools
import math

import numpy as np

# fdlibm's constants: log 2 in two parts and the polynomial in s**2 (Lp1 .. Lp7)
_LN2_HI, _LN2_LO = 6.93147180369123816490e-01, 1.90821492927058770002e-10
_LP = (6.666666666666735130e-01, 3.999999999940941908e-01, 2.857142874366239149e-01,
       2.222219843214978396e-01, 1.818357216161805012e-01, 1.531383769920937332e-01,
       1.479819860511658591e-01)
CHUNK = 8192  # elements per pass
_UPPER = (1 + 0x6A09E * 2.0**-20) / 2  # frexp mantissas from here: 1 + f is the mantissa
_LOWEST, _HIGHEST = 0.5 + 2.0**-21, (1 + 0xFFFFD * 2.0**-20) / 2  # |f| < 2**-20 beyond


def log1p_negative(x: np.ndarray, out: np.ndarray) -> None:
    """``out = log1p(x)`` for float64 ``x`` in (-1, 0], multiples of 2**-53 (``-u`` for the
    53-bit uniforms ``u``), bit for bit this C library's ``math.log1p``
    (:func:`libm_log1p_matches` checks; otherwise math.log1p is called for each)."""
    if libm_log1p_matches():
        flat_x, flat_out = x.reshape(-1), out.reshape(-1)
        for start in range(0, flat_x.size, CHUNK):  # temporaries that stay in the cache
            _fdlibm_log1p(flat_x[start:start + CHUNK], flat_out[start:start + CHUNK])
    else:
        out[...] = np.fromiter(map(math.log1p, x.ravel().tolist()), np.float64, x.size
                               ).reshape(x.shape)


def _fdlibm_log1p(x: np.ndarray, out: np.ndarray) -> None:
    """fdlibm's log1p for ``x`` in (-1, 0], multiples of 2**-53 (so ``1 + x`` is exact and
    the correction term fdlibm adds for its rounding is 0)."""
    u = 1.0 + x
    mantissa, exponent = np.frexp(u)  # u = mantissa * 2**exponent, mantissa in [0.5, 1)
    # fdlibm writes u = 2**k (1 + f) with 1 + f in [sqrt(1/2), sqrt(2)) as its high word
    # decides; for |x| <= 0.2929 it takes f = x, k = 0 directly, which this gives as well
    upper = mantissa >= _UPPER
    f = np.where(upper, mantissa, mantissa + mantissa)
    f -= 1.0
    k = (exponent - 1 + upper).astype(np.float64)
    # |f| < 2**-20 (fdlibm's shorter branch), |x| < 2**-29 or x = 0: math.log1p
    special = (mantissa < _LOWEST) | (mantissa >= _HIGHEST)
    hfsq = 0.5 * f * f
    s = f / (2.0 + f)
    z = s * s
    r = z * _LP[6]
    for coefficient in _LP[5::-1]:
        r += coefficient
        r *= z
    # The C library's build fuses the polynomial's multiply-adds, which rounds r otherwise
    # by at most 3 units in its last place; every later step is monotone in r, so where r
    # moved by 2**-50 r (4 units or more) either way gives one result, that is the C
    # library's. The rest are its own operations in its order (k ln2_hi is exact).
    step = r * 2.0**-50
    k_high, k_low = k * _LN2_HI, k * _LN2_LO
    low, high = (k_high - ((hfsq - (s * (hfsq + bound) + k_low)) - f)
                 for bound in (r - step, r + step))
    out[...] = low
    ties = np.flatnonzero(special | (low != high))
    out[ties] = np.fromiter(map(math.log1p, x[ties].tolist()), np.float64, ties.size)


@functools.cache
def libm_log1p_matches() -> bool:
    """Whether :func:`_fdlibm_log1p` agrees with this C library's ``log1p`` on ``-u`` for
    2**15 uniforms ``u`` (multiples of 2**-53), as many near 0, near 1 and near the powers
    of two (fdlibm's branches), and 0."""
    steps = np.random.default_rng(17).integers(0, 2**53, 2**15, dtype=np.int64)
    powers = np.left_shift(np.int64(1), np.arange(54, dtype=np.int64))
    near_powers = (powers[:, None] + np.arange(-40, 41)).ravel()
    multiples = np.concatenate([steps, steps >> 26, 2**53 - 1 - (steps >> 26), near_powers])
    multiples = multiples[(multiples >= 0) & (multiples < 2**53)]
    probe = multiples.astype(np.float64) * -2.0**-53
    fast = np.empty_like(probe)
    _fdlibm_log1p(probe, fast)
    expected = np.fromiter(map(math.log1p, probe.tolist()), np.float64, probe.size)
    return bool(np.array_equal(fast.view(np.int64), expected.view(np.int64)))
