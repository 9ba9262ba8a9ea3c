"""Elementary functions that give the same bits on every CPU.

numpy's ``exp``, ``log``, ``sin``, ``cos`` and ``tanh`` pick an implementation
by CPU at run time (baseline SSE, AVX2, AVX-512; see
``numpy.lib.introspect.opt_func_info``) and those implementations differ in the
last bit for some inputs; scipy's ``expit`` calls the C library's ``exp``. A
last-bit difference in a kernel column can change a pivot, a rank or a
breakdown of the Schur sweep, and so a whole series. The functions here use
only ``+ - * /``, ``sqrt``, comparisons, ``rint``, ``ldexp`` and table look-ups,
which IEEE 754 defines exactly, so they return the same bits on x86 of any
family, on ARM and in any numpy version.

Why by hand: no library offers bit-reproducible, vectorised elementary
functions for numpy arrays (correctly rounded libraries such as MPFR work one
scalar at a time, far too slowly for the activations).

Accuracy: within a few units in the last place of the true value (the tests
compare against ``decimal`` and numpy), far below what the sampler needs.
Algorithms: table-driven ``exp`` (64 entries) with Cody-Waite reduction;
``log`` through ``frexp`` and the ``atanh`` series; ``sin``/``cos`` by
reduction modulo pi/2 with pi/2 split into 24-bit pieces (exact for
``|x| < 2**28``), and an exact ``decimal`` reduction for larger arguments.
"""

from __future__ import annotations

import decimal
import functools
import math
from fractions import Fraction

import numpy as np


def _split(value: Fraction, bits: int) -> tuple[float, Fraction]:
    """``value`` rounded toward zero to ``bits`` significant bits, and the exact rest."""
    exponent = math.frexp(float(value))[1]
    scale = Fraction(2) ** (bits - exponent)
    high = Fraction(math.floor(value * scale)) / scale
    return float(high), value - high


@functools.cache
def _pi(digits: int) -> decimal.Decimal:
    """pi to ``digits`` significant digits (Machin's formula, exact decimal arithmetic)."""
    context = decimal.Context(prec=digits + 10)
    smallest = decimal.Decimal(10) ** -(digits + 10)

    def arctan_inverse(n: int) -> decimal.Decimal:  # arctan(1/n) by its Taylor series
        total = term = context.divide(1, n)
        k = 1
        while abs(term) > smallest:
            term = context.divide(term, -n * n)
            total = context.add(total, context.divide(term, 2 * k + 1))
            k += 1
        return total

    pi = context.subtract(
        context.multiply(16, arctan_inverse(5)), context.multiply(4, arctan_inverse(239))
    )
    return decimal.Context(prec=digits).plus(pi)


def _ln2() -> Fraction:
    return Fraction(decimal.Context(prec=60).ln(decimal.Decimal(2)))


# -- exp ---------------------------------------------------------------------

#: 2**(j/64) for j = 0..63, correctly rounded (computed with decimal, which is
#: pure software arithmetic).
_EXP_TABLE = np.array(
    [float(decimal.Context(prec=40).power(2, decimal.Decimal(j) / 64)) for j in range(64)]
)
_LN2 = _ln2()
_INV_LN2_64 = float(64 / _LN2)
# ln(2)/64 in two parts; the first has 36 significant bits, so k * high is exact
# for |k| < 2**17 (any finite exp argument).
_LN2_64_HI, _rest = _split(_LN2 / 64, 36)
_LN2_64_LO = float(_rest)
#: 1/n! for the polynomial of exp(r) - 1, |r| <= ln(2)/128.
_EXPM1_COEFFS = (1.0, 1 / 2, 1 / 6, 1 / 24, 1 / 120, 1 / 720)


def _poly(r: np.ndarray, coeffs: tuple[float, ...]) -> np.ndarray:
    """``sum_i coeffs[i] * r**i`` by Horner's rule (a fixed order of operations)."""
    out = r * coeffs[-1]
    out += coeffs[-2]
    for c in coeffs[-3::-1]:
        out *= r
        out += c
    return out


#: Adding 1.5 * 2**52 rounds a double of magnitude below 2**51 to an integer
#: (to nearest, ties to even, like ``rint``) and leaves that integer in the
#: low bits of the sum's representation.
_ROUNDER = 6755399441055744.0
_ROUNDER_BITS = np.float64(_ROUNDER).view(np.int64)


def _round(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``rint(x)`` as floats and as int64, for ``|x| < 2**51`` (garbage, no warning, for nan)."""
    shifted = x + _ROUNDER
    return shifted - _ROUNDER, shifted.view(np.int64) - _ROUNDER_BITS


def exp(x: np.ndarray) -> np.ndarray:
    """``e**x``, elementwise, with the same bits on every machine."""
    x = np.asarray(x, dtype=np.float64)
    # Outside [-746, 710] exp underflows to 0 or overflows to inf; clamping keeps
    # k small, and ldexp then rounds to 0 or inf by itself. nan passes through.
    x = np.minimum(np.maximum(x, -746.0), 710.0)
    k, ki = _round(x * _INV_LN2_64)
    r = x - k * _LN2_64_HI
    r -= k * _LN2_64_LO
    table = _EXP_TABLE[ki & 63]
    expm1_r = _poly(r, _EXPM1_COEFFS)
    expm1_r *= r
    expm1_r *= table
    expm1_r += table
    with np.errstate(over="ignore", under="ignore"):
        return np.ldexp(expm1_r, (ki >> 6).astype(np.int32), out=expm1_r)


#: 1/n! for n = 1..13: exp(r) - 1 for |r| <= ln(2)/2, accurate near 0.
_EXPM1_SMALL = tuple(1 / math.factorial(n) for n in range(1, 14))


def expm1(x: np.ndarray) -> np.ndarray:
    """``e**x - 1``, accurate near 0."""
    x = np.asarray(x, dtype=np.float64)
    small = np.abs(x) < 0.34657359027997264  # ln(2)/2
    out = exp(x) - 1.0
    if small.any():
        r = x[small]
        out[small] = r * _poly(r, _EXPM1_SMALL)
    return out


# -- log ---------------------------------------------------------------------

_LN2_HI, _rest = _split(_LN2, 32)
_LN2_LO = float(_rest)
#: 2/(2i+1): log(m) = 2 atanh(s) = sum_i 2 s^(2i+1) / (2i+1), |s| <= 0.1716.
_ATANH_COEFFS = tuple(2 / (2 * i + 1) for i in range(12))
_SQRT_HALF = math.sqrt(0.5)  # IEEE sqrt is correctly rounded


def _log_parts(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``u = m * 2**e`` with ``m`` in [sqrt(1/2), sqrt(2)); returns ``(log m, e)``."""
    m, e = np.frexp(u)  # m in [0.5, 1)
    low = m < _SQRT_HALF
    m = np.where(low, m * 2.0, m)
    e = (e - low).astype(np.float64)
    s = (m - 1.0) / (m + 1.0)
    return s * _poly(s * s, _ATANH_COEFFS), e


def log(x: np.ndarray) -> np.ndarray:
    """Natural logarithm (``nan`` below 0, ``-inf`` at 0)."""
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(all="ignore"):
        log_m, e = _log_parts(np.where(x > 0, x, 1.0))
        out = (e * _LN2_HI + log_m) + e * _LN2_LO
    out[x == 0] = -np.inf
    out[(x < 0) | np.isnan(x)] = np.nan
    out[x == np.inf] = np.inf
    return out


def log1p(x: np.ndarray) -> np.ndarray:
    """``log(1 + x)``, accurate near 0."""
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(all="ignore"):
        u = 1.0 + x
        # u rounds 1 + x; (x - (u - 1)) / u is the first-order correction.
        correction = np.where(u > 0, (x - (u - 1.0)) / np.where(u > 0, u, 1.0), 0.0)
        log_m, e = _log_parts(np.where(u > 0, u, 1.0))
        out = ((e * _LN2_HI + log_m) + e * _LN2_LO) + correction
    out[u == 0] = -np.inf
    out[(u < 0) | np.isnan(x)] = np.nan
    out[x == np.inf] = np.inf
    return out


# -- sin, cos ----------------------------------------------------------------


_PI_2 = Fraction(_pi(60)) / 2


def _pi_2_pieces(count: int, bits: int) -> tuple[float, ...]:
    pieces, rest = [], _PI_2
    for _ in range(count):
        high, rest = _split(rest, bits)
        pieces.append(high)
    return tuple(pieces)


#: pi/2 in 24-bit pieces: k * piece is exact for |k| < 2**29.
_PI_2_PIECES = _pi_2_pieces(5, 24)
_TWO_OVER_PI = float(1 / _PI_2)
#: Below this |x| the reduction with the pieces above is accurate.
_REDUCE_MAX = 2.0**28
_SIN_COEFFS = tuple((-1) ** i / math.factorial(2 * i + 1) for i in range(9))
_COS_COEFFS = tuple((-1) ** i / math.factorial(2 * i) for i in range(10))


def _reduce_exact(x: float) -> tuple[float, int]:
    """``x - k pi/2`` and ``k mod 4`` for a huge ``x``, in exact decimal arithmetic."""
    value = decimal.Decimal(x)  # exact
    digits = len(str(int(abs(value)))) + 40
    context = decimal.Context(prec=digits)
    pi_2 = context.divide(_pi(digits), 2)
    k = context.divide(value, pi_2).to_integral_value(rounding=decimal.ROUND_HALF_EVEN)
    return float(context.subtract(value, context.multiply(k, pi_2))), int(k) % 4


def _sin_cos(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(sin r, cos r, k mod 4)`` with ``x = k pi/2 + r``, ``|r| <= pi/4``."""
    x = np.asarray(x, dtype=np.float64)
    finite = np.isfinite(x)
    safe = np.where(finite & (np.abs(x) < _REDUCE_MAX), x, 0.0)
    k, ki = _round(safe * _TWO_OVER_PI)
    r = safe - k * _PI_2_PIECES[0]
    for piece in _PI_2_PIECES[1:]:
        r -= k * piece
    quadrant = ki & 3
    huge = finite & (np.abs(x) >= _REDUCE_MAX)
    if huge.any():
        reduced = [_reduce_exact(float(v)) for v in x[huge]]
        r[huge] = [v for v, _ in reduced]
        quadrant[huge] = [q for _, q in reduced]
    r2 = r * r
    sin_r = r + (r * r2) * _poly(r2, _SIN_COEFFS[1:])
    cos_r = _poly(r2, _COS_COEFFS)
    return sin_r, cos_r, quadrant


def sin(x: np.ndarray) -> np.ndarray:
    """Sine (``nan`` for infinite or nan input)."""
    sin_r, cos_r, q = _sin_cos(x)
    out = np.where(q == 0, sin_r, np.where(q == 1, cos_r, np.where(q == 2, -sin_r, -cos_r)))
    out[~np.isfinite(np.asarray(x, dtype=np.float64))] = np.nan
    return out


def cos(x: np.ndarray) -> np.ndarray:
    """Cosine (``nan`` for infinite or nan input)."""
    sin_r, cos_r, q = _sin_cos(x)
    out = np.where(q == 0, cos_r, np.where(q == 1, -sin_r, np.where(q == 2, -cos_r, sin_r)))
    out[~np.isfinite(np.asarray(x, dtype=np.float64))] = np.nan
    return out


# -- functions of exp ----------------------------------------------------------


def tanh(x: np.ndarray) -> np.ndarray:
    """Hyperbolic tangent, from ``expm1(2|x|)``."""
    x = np.asarray(x, dtype=np.float64)
    a = np.minimum(np.abs(x), 40.0)  # tanh(40) rounds to 1; avoids inf / inf
    t = expm1(2.0 * a)
    out = t / (t + 2.0)
    out = np.where(x < 0, -out, out)
    nan = np.isnan(x)
    if nan.any():
        out[nan] = np.nan
    return out


def sigmoid(x: np.ndarray) -> np.ndarray:
    """``1 / (1 + e**-x)``, computed without overflow."""
    x = np.asarray(x, dtype=np.float64)
    e = exp(-np.abs(x))  # in (0, 1]
    return np.where(x >= 0, 1.0, e) / (1.0 + e)  # 1 / (1 + e) or e / (1 + e)


def softplus(x: np.ndarray) -> np.ndarray:
    """``log(1 + e**x)``, computed without overflow."""
    x = np.asarray(x, dtype=np.float64)
    return np.maximum(x, 0.0) + log1p(exp(-np.abs(x)))
