"""Compiled (numba) versions of the sampler's heaviest loops, bit for bit the
same as their numpy versions.

- :func:`schur_pass`: the generalised Schur sweep of ``cauker.sampler.toeplitz``,
  one matrix at a time instead of one step at a time over a batch: the same
  operations, in the same order, on each element.
- :func:`khatri_rao_draw`: ``sum_a first[a] * (sum_b mixing[a, b] rest[b])``,
  each sum from 0 in increasing index, as ``cauker.sampler.linalg`` computes it.
- :func:`propagate_nodes`: the non-root nodes of a batch of DAGs, one node at a
  time in level order, as ``Sampler.propagate`` computes them level by level,
  with twins of ``portable_math``'s ``exp``, ``sin`` and ``sigmoid``.
- :func:`exponential_rows`: ``a * exp(b * x)``, the exponential means of
  ``cauker.sampler.means``, with the same twin of ``exp``.

numba compiles without fast-math, so it neither fuses a multiply with an add
nor reorders a sum: the results are the numpy versions' to the last bit (the
tests check it). Importing this module needs numba; ``cauker.sampler.acceleration``
decides whether to use it.

The cached functions (``schur_sweep``, ``khatri_rao_sum``, ``propagate_nodes``,
``exponential_rows``) are plain loops over arrays they are given, with no array
expressions: that halves the time numba takes to compile them on a new machine at the same speed.
Thin Python wrappers prepare their inputs.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numba
import numpy as np

from cauker.sampler import acceleration
from cauker.sampler import portable_math as pm


def schur_pass(
    columns: np.ndarray, normals: np.ndarray, owner: np.ndarray, jitter: float, rescale: int
) -> tuple[np.ndarray, np.ndarray]:
    """Draws ``R_m^T g_d`` (``m = owner[d]``) and which matrices held (see ``_schur_pass``)."""
    columns = np.ascontiguousarray(columns, dtype=np.float64)
    normals = np.ascontiguousarray(normals, dtype=np.float64)
    owner = np.asarray(owner, dtype=np.int64)
    order = np.argsort(owner, kind="stable")
    starts = np.searchsorted(owner[order], np.arange(len(columns) + 1))
    out = np.zeros_like(normals)
    held = np.ones(len(columns), dtype=np.bool_)
    schur_sweep(columns, normals, order, starts, jitter, rescale, out, held)
    return out, held


def khatri_rao_draw(first: np.ndarray, rest: np.ndarray, mixing: np.ndarray) -> np.ndarray:
    """``rowwise_dot(first, combine(mixing, rest))`` of ``cauker.sampler.linalg``."""
    out = np.zeros(first.shape[1])
    first, rest, mixing = (np.ascontiguousarray(a, dtype=np.float64) for a in (first, rest, mixing))
    khatri_rao_sum(first, rest, mixing, out)
    return out


# error_model="numpy": a division by zero (a breakdown) gives inf or nan, as in numpy,
# and is caught by ``held``; numba's default would raise ZeroDivisionError.
@numba.njit(cache=True, nogil=True, error_model="numpy")
def schur_sweep(columns, normals, order, starts, jitter, rescale, out, held):
    """One Schur sweep per matrix ``m``, adding ``R_m^T g_d`` to ``out[d]`` for the draws
    ``d = order[starts[m]:starts[m + 1]]``; ``held[m] = False`` if one is not finite.

    The same operations, in the same order, as each column of ``_schur_pass``.
    """
    count, length = columns.shape
    u = np.empty(length)
    v = np.empty(length)
    for m in range(count):
        root = np.sqrt(columns[m, 0] * (1.0 + jitter))
        for i in range(length):
            u[i] = columns[m, i] / root
        u[0] = root
        for i in range(length - 1):
            v[i] = u[i + 1]
        a = 1.0
        b = 1.0
        for k in range(length):
            n = length - k
            for j in range(starts[m], starts[m + 1]):
                d = order[j]
                t = a * normals[d, k]
                for i in range(n):
                    out[d, k + i] = out[d, k + i] + u[i] * t
            if n == 1:
                break
            rho = (b * v[0]) / (a * u[0])
            c = np.sqrt((1.0 - rho) * (1.0 + rho))
            s = rho * b / a
            a = a / c
            t2 = rho * a / (c * b)
            # u' = u - v s, then v' = v[1:] - u'[1:] t2: one pass, the same operations.
            fresh = u[0] - v[0] * s
            u[0] = fresh
            for i in range(1, n - 1):
                fresh = u[i] - v[i] * s
                u[i] = fresh
                v[i - 1] = v[i] - fresh * t2
            b = b * c
            if k % rescale == rescale - 1:
                for i in range(n - 1):
                    u[i] = u[i] * a
                for i in range(n - 2):
                    v[i] = v[i] * b
                a = 1.0
                b = 1.0
        for j in range(starts[m], starts[m + 1]):
            d = order[j]
            for i in range(length):
                x = out[d, i]
                if x - x != 0.0:  # nan or inf
                    held[m] = False


@numba.njit(cache=True, nogil=True)
def khatri_rao_sum(first, rest, mixing, out):
    """``out += sum_a first[a] * (sum_b mixing[a, b] rest[b])``, each sum from 0 in
    increasing index. Four rows of the inner sum are accumulated at once, each in
    its own array and in the same order as alone, so each row of ``rest`` is read
    once per four."""
    r1, length = first.shape
    r2 = rest.shape[0]
    p0 = np.empty(length)
    p1 = np.empty(length)
    p2 = np.empty(length)
    p3 = np.empty(length)
    a = 0
    while a + 4 <= r1:
        for i in range(length):
            p0[i] = 0.0
            p1[i] = 0.0
            p2[i] = 0.0
            p3[i] = 0.0
        for b in range(r2):
            m0 = mixing[a, b]
            m1 = mixing[a + 1, b]
            m2 = mixing[a + 2, b]
            m3 = mixing[a + 3, b]
            for i in range(length):
                x = rest[b, i]
                p0[i] = p0[i] + m0 * x
                p1[i] = p1[i] + m1 * x
                p2[i] = p2[i] + m2 * x
                p3[i] = p3[i] + m3 * x
        for i in range(length):
            acc = out[i] + first[a, i] * p0[i]
            acc = acc + first[a + 1, i] * p1[i]
            acc = acc + first[a + 2, i] * p2[i]
            out[i] = acc + first[a + 3, i] * p3[i]
        a += 4
    while a < r1:
        for i in range(length):
            p0[i] = 0.0
        for b in range(r2):
            m0 = mixing[a, b]
            for i in range(length):
                p0[i] = p0[i] + m0 * rest[b, i]
        for i in range(length):
            out[i] = out[i] + first[a, i] * p0[i]
        a += 1


def warm_up() -> None:
    """Compile every kernel into numba's cache, for the argument types the sampler
    passes (a test checks that it then compiles nothing), then remove the lock
    file named by ``CAUKER_COMPILE_LOCK``, if any (see ``cauker.sampler.acceleration``)."""
    try:
        column = 0.5 ** np.arange(4.0)
        schur_pass(column[None], np.ones((1, 4)), np.zeros(1, dtype=np.int64), 1e-12, 4)
        khatri_rao_draw(np.ones((1, 4)), np.ones((1, 4)), np.ones((1, 1)))
        one = np.zeros(1, dtype=np.int64)
        propagate_nodes(
            np.ones((2, 4)),
            one,
            one + 1,
            np.array([0, 1]),
            one,
            np.ones(1),
            np.zeros(1),
            one,
            np.zeros((1, 2)),
            0,
            PORTABLE,
        )
        exponential_rows(np.ones(1), np.ones(1), np.ones(4), np.empty((1, 4)), PORTABLE)
        acceleration.mark_fresh(Path(propagate_nodes.stats.cache_path))  # one folder for all
    finally:
        lock = os.environ.get("CAUKER_COMPILE_LOCK")
        if lock:
            Path(lock).unlink(missing_ok=True)


# -- the portable functions, one number at a time -----------------------------
#
# Scalar twins of cauker.sampler.portable_math's exp, sin and sigmoid: the same
# operations in the same order, so the same bits (the tests compare them on
# edge cases and on tens of thousands of inputs). Their constants are passed in
# (``PORTABLE``), not frozen into the compiled code: numba's cache is keyed on
# this file alone, and would not see a change made to portable_math.py. Only
# the number of coefficients of each polynomial is written here (so that the
# compiler unrolls them), and checked against portable_math at import.
# Differences of form, none of value: ``k`` from the 1.5 * 2**52 trick is read
# with ``int(k)`` (exact, |k| < 2**17) rather than from its bits; ``ldexp(m, e)``
# is the product ``m * 2**e1 * 2**e2``, ``e1 + e2 = e``, where ``m * 2**e1`` is
# normal, so exact, and the second product rounds once, as ``ldexp`` does.
# Written without branches (both sine polynomials are computed, as
# portable_math computes them, and one is selected), so that the compiler
# vectorises the loops over a row: in the propagation, sin runs 6.5 and sigmoid
# 4.8 times faster than one number at a time. ``exp`` is split at its table
# look-up (``_exp_head``, ``_exp_tail``), which the compiler does not
# vectorise: a loop of heads, then one of tails.

#: Slots of ``PORTABLE[0]``.
INV_LN2_64, LN2_64_HI, LN2_64_LO, ROUNDER, TWO_OVER_PI, REDUCE_MAX = range(6)
PORTABLE = (
    np.array(
        [pm._INV_LN2_64, pm._LN2_64_HI, pm._LN2_64_LO, pm._ROUNDER, pm._TWO_OVER_PI, pm._REDUCE_MAX]
    ),
    np.array(pm._PI_2_PIECES),
    pm._EXP_TABLE.copy(),
    np.array(pm._EXPM1_COEFFS),
    np.array(pm._SIN_COEFFS[1:]),
    np.array(pm._COS_COEFFS),
)
#: Sizes of ``PORTABLE[1:]`` that :func:`_constants` unpacks.
SIZES = (5, 64, 6, 8, 10)
if tuple(a.size for a in PORTABLE[1:]) != SIZES:  # pragma: no cover (a change to portable_math)
    raise ImportError(
        "cauker.sampler.portable_math's constants changed size: update SIZES and "
        "_constants in cauker/sampler/compiled.py (numpy is used meanwhile)"
    )
#: 2**e for e = -1022..1023, exact.
_POW2 = np.array([math.ldexp(1.0, e) for e in range(-1022, 1024)])

_scalar = numba.njit(nogil=True, error_model="numpy", no_cpython_wrapper=True)


@_scalar
def _constants(portable):
    """``PORTABLE`` as scalars and tuples (which the compiler keeps in registers)."""
    c, pieces, table, e, s, k = portable
    return (
        c[INV_LN2_64],
        c[LN2_64_HI],
        c[LN2_64_LO],
        c[ROUNDER],
        c[TWO_OVER_PI],
        c[REDUCE_MAX],
        (pieces[0], pieces[1], pieces[2], pieces[3], pieces[4]),
        table,
        (e[0], e[1], e[2], e[3], e[4], e[5]),
        (s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]),
        (k[0], k[1], k[2], k[3], k[4], k[5], k[6], k[7], k[8], k[9]),
    )


@_scalar
def _poly(r, coeffs):
    """``portable_math._poly``: Horner's rule from the highest coefficient."""
    n = len(coeffs)
    out = r * coeffs[n - 1]
    out = out + coeffs[n - 2]
    for i in range(n - 3, -1, -1):
        out = out * r
        out = out + coeffs[i]
    return out


@_scalar
def _exp_head(x, inv_ln2_64, ln2_64_hi, ln2_64_lo, rounder, coeffs):
    """``exp``'s work before its table: ``(expm1(r) / table, k)``, roughly."""
    x = 0.0 if x != x else min(max(x, -746.0), 710.0)
    shifted = x * inv_ln2_64
    shifted = shifted + rounder
    k = shifted - rounder
    r = x - k * ln2_64_hi
    r = r - k * ln2_64_lo
    out = _poly(r, coeffs)
    out = out * r
    return out, np.int64(k)


@_scalar
def _exp_tail(x, head, k, table):
    """``exp(x)`` from ``(head, k) = _exp_head(x, ...)``."""
    entry = table[k & 63]
    out = head * entry
    out = out + entry
    e = k >> 6
    e1 = -1021 if e < -1022 else (1023 if e > 1023 else e)
    out = out * _POW2[e1 + 1022]
    out = out * _POW2[e - e1 + 1022]  # a product by 1 (exact) for a normal 2**e
    return x if x != x else out


@_scalar
def _exp(x, inv_ln2_64, ln2_64_hi, ln2_64_lo, rounder, table, coeffs):
    head, k = _exp_head(x, inv_ln2_64, ln2_64_hi, ln2_64_lo, rounder, coeffs)
    return _exp_tail(x, head, k, table)


@_scalar
def _sigmoid_tail(x, head, k, table):
    """``sigmoid(x)`` from ``_exp_head(-abs(x), ...)``."""
    e = _exp_tail(-abs(x), head, k, table)
    return (1.0 if x >= 0 else e) / (1.0 + e)


@_scalar
def _sin(x, two_over_pi, rounder, limit, pieces, sin_coeffs, cos_coeffs):
    ok = abs(x) < limit  # not nan, inf, or too large to reduce here: then nan
    x = x if ok else 0.0
    shifted = x * two_over_pi
    shifted = shifted + rounder
    k = shifted - rounder
    quadrant = np.int64(k) & 3
    r = x - k * pieces[0]
    r = r - k * pieces[1]
    r = r - k * pieces[2]
    r = r - k * pieces[3]
    r = r - k * pieces[4]
    r2 = r * r
    sin_r = r + (r * r2) * _poly(r2, sin_coeffs)
    cos_r = _poly(r2, cos_coeffs)
    out = sin_r if quadrant == 0 or quadrant == 2 else cos_r
    out = out if quadrant < 2 else -out
    return out if ok else np.nan


@_scalar
def portable_exp(x, portable):
    """``portable_math.exp`` of one number."""
    inv, hi, lo, rounder, _, _, _, table, e, _, _ = _constants(portable)
    return _exp(x, inv, hi, lo, rounder, table, e)


@_scalar
def portable_sigmoid(x, portable):
    """``portable_math.sigmoid`` of one number."""
    inv, hi, lo, rounder, _, _, _, table, e, _, _ = _constants(portable)
    head, k = _exp_head(-abs(x), inv, hi, lo, rounder, e)
    return _sigmoid_tail(x, head, k, table)


@_scalar
def portable_sin(x, portable):
    """``portable_math.sin`` of one number with ``|x| < 2**28`` (``nan`` otherwise,
    which ``portable_math`` reduces in exact decimal arithmetic)."""
    _, _, _, rounder, two_over_pi, limit, pieces, _, _, s, k = _constants(portable)
    return _sin(x, two_over_pi, rounder, limit, pieces, s, k)


# -- propagation through the DAG ------------------------------------------------

#: The activations :func:`propagate_nodes` applies itself (the paper's bank), by
#: code; it hands any other back to numpy.
ACTIVATION_CODES = {"linear": 0, "relu": 1, "sigmoid": 2, "sin": 3, "mod": 4, "leaky_relu": 5}
LINEAR, RELU, SIGMOID, SIN, MOD, LEAKY_RELU = ACTIVATION_CODES.values()
#: The code of an activation applied by numpy.
NUMPY = -1


@numba.njit(cache=True, nogil=True, error_model="numpy")
def propagate_nodes(
    values,
    order,
    own_row,
    first_parent,
    parent_rows,
    weights,
    biases,
    kinds,
    params,
    start,
    portable,
):
    """Nodes ``order[start:]``, in turn: ``values[own_row[k]] = act(sum_j w_j
    values[parent_j] + b_k)``, with parents ``parent_rows[first_parent[k]:first_parent[k
    + 1]]`` and their ``weights``, activation code ``kinds[k]`` and its
    ``params[k]`` (:func:`cauker.sampler.activations.parameters`); ``portable`` is
    ``PORTABLE``.

    The operations and their order are those of ``Sampler.propagate``'s numpy path
    and of :mod:`cauker.sampler.portable_math`. Returns ``order.size``, or the place
    in ``order`` of a node whose activation numpy must apply (code ``NUMPY``, or a
    sine of an argument too large to reduce here): its pre-activation is in
    ``values``, and the caller calls again from the next place.
    """
    length = values.shape[1]
    a = np.empty(length)
    ks = np.empty(length, dtype=np.int64)
    constants = _constants(portable)
    inv_ln2_64, ln2_64_hi, ln2_64_lo, rounder, two_over_pi, limit = constants[:6]
    pieces, table, expm1_coeffs, sin_coeffs, cos_coeffs = constants[6:]
    for t in range(start, order.size):
        k = order[t]
        q = first_parent[k]
        row = parent_rows[q]
        w = weights[q]
        for i in range(length):
            a[i] = values[row, i] * w
        for q in range(first_parent[k] + 1, first_parent[k + 1]):
            row = parent_rows[q]
            w = weights[q]
            for i in range(length):
                a[i] = a[i] + values[row, i] * w
        b = biases[k]
        for i in range(length):
            a[i] = a[i] + b
        out = values[own_row[k]]
        kind = kinds[k]
        p0 = params[k, 0]
        p1 = params[k, 1]
        if kind == SIN:
            for i in range(length):
                if limit <= abs(a[i]) < np.inf:
                    kind = NUMPY
                    break
        if kind == NUMPY:
            for i in range(length):
                out[i] = a[i]
            return t
        if kind == LINEAR:
            for i in range(length):
                out[i] = p0 * a[i] + p1
        elif kind == RELU:
            for i in range(length):
                out[i] = a[i] if a[i] > 0.0 else 0.0
        elif kind == SIGMOID:
            for i in range(length):
                out[i], ks[i] = _exp_head(
                    -abs(a[i]), inv_ln2_64, ln2_64_hi, ln2_64_lo, rounder, expm1_coeffs
                )
            for i in range(length):
                out[i] = _sigmoid_tail(a[i], out[i], ks[i], table)
        elif kind == SIN:
            for i in range(length):
                out[i] = _sin(a[i], two_over_pi, rounder, limit, pieces, sin_coeffs, cos_coeffs)
        elif kind == MOD:  # numpy's remainder: fmod, then the divisor's sign
            for i in range(length):
                m = np.fmod(a[i], p0)
                if m != 0.0:
                    if (p0 < 0.0) != (m < 0.0):
                        m = m + p0
                else:
                    m = math.copysign(0.0, p0)
                out[i] = m
        else:  # LEAKY_RELU
            for i in range(length):
                out[i] = a[i] if a[i] > 0.0 else p0 * a[i]
    return order.size


# -- means ------------------------------------------------------------------------


@numba.njit(cache=True, nogil=True, error_model="numpy")
def exponential_rows(a, b, x, out, portable):
    """``out[r] = a[r] * exp(b[r] * x)``, as ``cauker.sampler.means`` computes it with
    ``portable_math.exp`` (``portable`` is ``PORTABLE``)."""
    inv_ln2_64, ln2_64_hi, ln2_64_lo, rounder, _, _, _, table, coeffs, _, _ = _constants(portable)
    ks = np.empty(x.size, dtype=np.int64)
    for r in range(a.size):
        ar = a[r]
        br = b[r]
        row = out[r]
        for i in range(x.size):
            row[i], ks[i] = _exp_head(br * x[i], inv_ln2_64, ln2_64_hi, ln2_64_lo, rounder, coeffs)
        for i in range(x.size):
            row[i] = ar * _exp_tail(br * x[i], row[i], ks[i], table)
