"""The float64 radii's logarithm (chainrule.random_log) against the C library's math.log, bit
for bit: uniforms' ``1 - u``, values next to 1 (where the two exact parts of ``r`` nearly
cancel), the smallest ``k * 2**-53``, powers of two and their neighbours, the edges of the
table's intervals at every exponent, both scalings (``log_f64`` and the normals' ``2**53``
one); the tie band stays narrow; the double-double table is the decimal module's value.
"""

from __future__ import annotations

import decimal
import math

import numpy as np
import pytest

from chainrule import random_log


def _values() -> np.ndarray:
    rng = np.random.default_rng(31)
    unit = rng.integers(0, 2**53, 2**20).astype(np.float64) * 2.0**-53
    near_one = 1.0 - rng.integers(1, 2**24, 2**15).astype(np.float64) * 2.0**-53
    smallest = rng.integers(1, 2**24, 2**15).astype(np.float64) * 2.0**-53
    powers = np.ldexp(1.0, -np.arange(54))
    neighbours = np.concatenate([np.nextafter(powers[1:], 0.0), np.nextafter(powers[1:], 1.0)])
    edges = np.ldexp(1 + np.arange(1, 512)[:, None] / 512, -np.arange(1, 54)[None, :]).ravel()
    edges = np.concatenate([edges, np.nextafter(edges, 0.0), np.nextafter(edges, 1.0)])
    ends = [2.0**-53, 1.0 - 2.0**-53, 0.5 + 2.0**-53, 0.5 - 2.0**-54, math.exp(-0.25)]
    x = np.concatenate([1.0 - unit, near_one, smallest, powers, neighbours, edges, ends])
    return x[(x >= 2.0**-53) & (x <= 1.0)]


@pytest.mark.parametrize("shift", [0, 53])
def test_log_is_math_log_bit_for_bit(shift: int) -> None:
    x = _values()
    out = np.empty_like(x)
    random_log.log_scaled(x * 2.0**shift, out, shift)
    expected = np.fromiter(map(math.log, x.tolist()), np.float64, x.size)
    assert random_log.libm_log_matches()
    wrong = np.flatnonzero(out != expected)
    assert wrong.size == 0, (wrong.size, x[wrong[:5]].tolist())
    assert np.signbit(out[x == 1.0]).sum() == 0  # log(1) is +0.0, as the C library's


def test_log_f64_and_the_tie_band() -> None:
    """log_f64 is log_scaled with no scaling, and math.log outside [2**-53, 1]; about 3%
    of uniforms' radii fall within the margin of a tie and are handed to math.log (the
    rest are found without it)."""
    x = _values()
    out = np.empty_like(x)
    random_log.log_f64(x, out)
    assert np.array_equal(out, np.fromiter(map(math.log, x.tolist()), np.float64, x.size))
    beyond = np.array([1.5, 2.0**53, 3.0, 2.0**-60, 5e-324, 1.0 + 2.0**-52])  # math.log's
    out = np.empty_like(beyond)
    random_log.log_f64(beyond, out)
    assert out.tolist() == [math.log(value) for value in beyond.tolist()]
    radii = 1.0 - np.random.default_rng(5).integers(0, 2**53, 2**18) * 2.0**-53
    scratch = random_log.Scratch(radii.size)
    random_log._log_close(radii, np.empty_like(radii), 0, scratch)
    assert 0.01 < scratch.ties.mean() < 0.04


def test_without_a_matching_c_library_every_value_is_math_log(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(random_log, "libm_log_matches", lambda: False)
    x = np.array([1.0, 0.75, 2.0**-53])
    out = np.empty(3)
    random_log.log_scaled(x * 2.0**53, out, 53)
    assert out.tolist() == [math.log(value) for value in x.tolist()]


def test_table_is_the_decimal_modules_logarithm() -> None:
    """``C = (E - shift) log 2 - log(inv)`` in two parts, to 2**-90 of the exact value, for
    every interval at a few exponents; ``inv`` has at most 26 bits."""
    first, scaled_inv, c_high, c_low = random_log._tables(53)
    assert first == (1023 << random_log.TABLE_BITS)
    with decimal.localcontext() as context:
        context.prec = 50
        for row in (0, 1, 26, 52, 53):
            exponent = row  # X = m * 2**exponent, x = X * 2**-53
            for top in range(0, 1 << random_log.TABLE_BITS, 7):
                index = (row << random_log.TABLE_BITS) + top
                inv = math.ldexp(scaled_inv[index], exponent)
                assert math.ldexp(inv, 26).is_integer()
                exact = (exponent - 53) * decimal.Decimal(2).ln() - decimal.Decimal(inv).ln()
                error = decimal.Decimal(c_high[index]) + decimal.Decimal(c_low[index]) - exact
                assert abs(error) < decimal.Decimal(2) ** -90, (row, top)
