"""The sampler's four heaviest loops of :mod:`cauker.sampler.loops`, compiled by
numba: the same functions, with the same signatures and the same bits.

- :func:`schur_pass`: the Schur sweep one matrix at a time instead of one step
  at a time over a batch (the same operations, in the same order, on each value);
- :func:`khatri_rao_draws`: each sum from 0 in increasing index, as
  :mod:`cauker.sampler.linalg` computes it;
- :func:`propagate`: the non-root nodes one at a time in level order, with
  twins of ``portable_math``'s ``exp``, ``sin`` and ``sigmoid``; activations
  outside the paper's bank, and sines of arguments too large to reduce here,
  are handed back to :mod:`cauker.sampler.loops`' numpy;
- :func:`exponential_rows`, with the same twin of ``exp``.

numba compiles without fast-math, so it neither fuses a multiply with an add
nor reorders a sum: the results are numpy's to the last bit (the tests check
it). Importing this module needs numba; :mod:`cauker.sampler.backend` decides
whether a batch runs these loops.

The functions numba compiles and caches on disk (:data:`CACHED`) are plain
loops over the arrays they are given, with no array expressions, which halves
the time numba takes to compile them on a new machine at the same speed; the
functions above prepare their inputs.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numba
import numpy as np

from cauker.sampler import loops
from cauker.sampler import portable_math as pm


def schur_pass(
    columns: np.ndarray, normals: np.ndarray, owner: np.ndarray, jitter: float, rescale: int
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`cauker.sampler.loops.schur_pass`, compiled."""
    columns = np.ascontiguousarray(columns, dtype=np.float64)
    normals = np.ascontiguousarray(normals, dtype=np.float64)
    owner = np.asarray(owner, dtype=np.int64)
    order = np.argsort(owner, kind="stable")
    starts = np.searchsorted(owner[order], np.arange(len(columns) + 1))
    out = np.zeros_like(normals)
    held = np.ones(len(columns), dtype=np.bool_)
    schur_sweep(columns, normals, order, starts, jitter, rescale, out, held)
    return out, held


def khatri_rao_draws(first: np.ndarray, rest: np.ndarray, normals: np.ndarray) -> np.ndarray:
    """:func:`cauker.sampler.loops.khatri_rao_draws`, compiled."""
    out = np.zeros((len(normals), first.shape[1]))
    mixing = np.ascontiguousarray(normals).reshape(len(normals), len(first), len(rest))
    khatri_rao_sum(np.ascontiguousarray(first), np.ascontiguousarray(rest), mixing, out)
    return out


def exponential_rows(a: np.ndarray, b: np.ndarray, x: np.ndarray) -> np.ndarray:
    """:func:`cauker.sampler.loops.exponential_rows`, compiled."""
    out = np.empty((a.size, x.size))
    exponential_fill(a, b, x, out, PORTABLE)
    return out


def propagate(values: np.ndarray, nodes: loops.Nodes, activations: tuple) -> None:
    """:func:`cauker.sampler.loops.propagate`, compiled: one node at a time in level
    order (the same operations on each value)."""
    codes = np.array([ACTIVATION_CODES.get(name, NUMPY) for name, _ in activations])
    order = np.argsort(nodes.depth, kind="stable")
    lags = np.zeros(nodes.weights.size, dtype=np.int64) if nodes.lags is None else nodes.lags
    start = 0
    while start < order.size:
        start = propagate_nodes(
            values,
            order,
            nodes.row,
            nodes.first_parent,
            nodes.parent_rows,
            nodes.weights,
            nodes.biases,
            codes[nodes.kinds],
            nodes.params,
            lags,
            start,
            PORTABLE,
        )
        if start < order.size:  # an activation left to numpy
            k = order[start]
            row = values[nodes.row[k] : nodes.row[k] + 1]
            row[:] = activations[nodes.kinds[k]][1](row, nodes.params[k : k + 1])
            start += 1


def cached() -> bool:
    """Whether numba's cache (where numba's own locator puts it) holds every function
    of :data:`CACHED`, written after this file. numba checks an entry only when it
    loads it, compiling it again if it is stale, so freshness is read from dates
    here: an older entry may still be valid (numba keys its cache on this file's
    content, and a reinstall makes the file newer), and :func:`warm_up`, which
    loads it, dates it now."""
    written = os.stat(__file__).st_mtime
    try:
        return all(
            any(index.stat().st_mtime >= written for index in _indexes(function))
            for function in CACHED
        )
    except OSError:  # an index removed meanwhile
        return False


def _indexes(function) -> list[Path]:
    """numba's index files of ``function`` (``compiled.<name>-<line>.<python>.nbi``)."""
    return list(Path(function.stats.cache_path).glob(f"compiled.{function.__name__}-*.nbi"))


def warm_up() -> None:
    """Compile every function of :data:`CACHED` into numba's cache, for the argument
    types the sampler passes (a test checks that it then compiles nothing), or load
    them from it, and date their cache now (for :func:`cached`)."""
    column = 0.5 ** np.arange(4.0)
    schur_pass(column[None], np.ones((1, 4)), np.zeros(1, dtype=np.int64), 1e-12, 4)
    khatri_rao_draws(np.ones((1, 4)), np.ones((1, 4)), np.ones((1, 1)))
    exponential_rows(np.ones(1), np.ones(1), np.ones(4))
    one = np.zeros(1, dtype=np.int64)
    nodes = loops.Nodes(one, np.arange(2), one, np.ones(1), np.zeros(1), one, np.zeros((1, 2)), one)
    propagate(np.ones((2, 4)), nodes, (("linear", None),))
    for function in CACHED:
        for index in _indexes(function):
            os.utime(index)


# -- the Schur sweep and the Khatri-Rao draw ---------------------------------------


# error_model="numpy": a division by zero (a breakdown) gives inf or nan, as in numpy,
# and is caught by ``held``; numba's default would raise ZeroDivisionError.
@numba.njit(cache=True, nogil=True, error_model="numpy")
def schur_sweep(columns, normals, order, starts, jitter, rescale, out, held):
    """One Schur sweep per matrix ``m``, adding ``R_m^T g_d`` to ``out[d]`` for the draws
    ``d = order[starts[m]:starts[m + 1]]``; ``held[m] = False`` if one is not finite.

    The same operations, in the same order, on each value as
    :func:`cauker.sampler.loops.schur_pass`; the first draw of each step and the
    rotation of the generators run in one pass over them.
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
        first = order[starts[m]]
        for k in range(length):
            n = length - k
            for j in range(starts[m] + 1, starts[m + 1]):  # further draws of this matrix
                d = order[j]
                t = a * normals[d, k]
                for i in range(n):
                    out[d, k + i] = out[d, k + i] + u[i] * t
            t = a * normals[first, k]
            o = out[first, k:]
            if n == 1:
                o[0] = o[0] + u[0] * t
                break
            rho = (b * v[0]) / (a * u[0])
            c = np.sqrt((1.0 - rho) * (1.0 + rho))
            s = rho * b / a
            a = a / c
            t2 = rho * a / (c * b)
            # The draw, and u' = u - v s, then v' = v[1:] - u'[1:] t2, in one pass.
            x = u[0]
            o[0] = o[0] + x * t
            u[0] = x - v[0] * s
            for i in range(1, n - 1):
                x = u[i]
                o[i] = o[i] + x * t
                fresh = x - v[i] * s
                u[i] = fresh
                v[i - 1] = v[i] - fresh * t2
            o[n - 1] = o[n - 1] + u[n - 1] * t
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
    """``out[j] += sum_a first[a] * (sum_b mixing[j, a, b] rest[b])``, each sum from 0 in
    increasing index. Four rows ``a`` of the inner sum are accumulated at once, each
    in its own array, and four terms ``b`` are added in each pass over them (one
    after the other, as alone: a value is the same kept in a register or stored),
    so that each row of ``rest`` is read once per four rows, and each accumulator
    once per four terms."""
    r1, length = first.shape
    r2 = rest.shape[0]
    p0 = np.empty(length)
    p1 = np.empty(length)
    p2 = np.empty(length)
    p3 = np.empty(length)
    for j in range(mixing.shape[0]):
        m = mixing[j]
        o = out[j]
        a = 0
        while a + 4 <= r1:
            for i in range(length):
                p0[i] = 0.0
                p1[i] = 0.0
                p2[i] = 0.0
                p3[i] = 0.0
            q0, q1, q2, q3 = m[a], m[a + 1], m[a + 2], m[a + 3]
            b = 0
            while b + 4 <= r2:
                for i in range(length):
                    x, y, z, w = rest[b, i], rest[b + 1, i], rest[b + 2, i], rest[b + 3, i]
                    p0[i] = p0[i] + q0[b] * x + q0[b + 1] * y + q0[b + 2] * z + q0[b + 3] * w
                    p1[i] = p1[i] + q1[b] * x + q1[b + 1] * y + q1[b + 2] * z + q1[b + 3] * w
                    p2[i] = p2[i] + q2[b] * x + q2[b + 1] * y + q2[b + 2] * z + q2[b + 3] * w
                    p3[i] = p3[i] + q3[b] * x + q3[b + 1] * y + q3[b + 2] * z + q3[b + 3] * w
                b += 4
            while b < r2:
                for i in range(length):
                    x = rest[b, i]
                    p0[i] = p0[i] + q0[b] * x
                    p1[i] = p1[i] + q1[b] * x
                    p2[i] = p2[i] + q2[b] * x
                    p3[i] = p3[i] + q3[b] * x
                b += 1
            for i in range(length):
                acc = o[i] + first[a, i] * p0[i]
                acc = acc + first[a + 1, i] * p1[i]
                acc = acc + first[a + 2, i] * p2[i]
                o[i] = acc + first[a + 3, i] * p3[i]
            a += 4
        while a < r1:
            for i in range(length):
                p0[i] = 0.0
            for b in range(r2):
                m0 = m[a, b]
                for i in range(length):
                    p0[i] = p0[i] + m0 * rest[b, i]
            for i in range(length):
                o[i] = o[i] + first[a, i] * p0[i]
            a += 1


# -- the portable functions, one number at a time -----------------------------
#
# Twins of portable_math's exp, sin and sigmoid: the same operations in the same
# order, so the same bits. (``k`` is read with ``int(k)`` rather than from the
# bits of the 1.5 * 2**52 trick, and ``ldexp(m, e)`` is ``m * 2**e1 * 2**e2``
# with ``m * 2**e1`` exact: the same values.) Their constants are passed in
# (``PORTABLE``) because numba's cache is keyed on this file alone and would not
# see a change to portable_math.py; only their sizes are written here, so that
# the compiler unrolls the polynomials. They have no branches (both sine
# polynomials are computed and one selected, as portable_math does), so that
# numba vectorises the loops over a row; ``exp`` is split at its table look-up,
# which does not vectorise, into a loop of heads and one of tails.

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


# -- propagation through the DAG, and the exponential means ----------------------

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
    lags,
    start,
    portable,
):
    """Nodes ``order[start:]``, in turn: ``values[own_row[k]] = act(sum_j w_j
    values[parent_j] + b_k)``, with parents ``parent_rows[first_parent[k]:first_parent[k
    + 1]]`` and their ``weights``, activation code ``kinds[k]`` and its
    ``params[k]`` (:func:`cauker.sampler.activations.parameters`); ``portable`` is
    ``PORTABLE``. Parent ``q`` is read ``lags[q]`` points earlier (point ``i``
    reads ``max(i - lag, 0)``, as :func:`cauker.sampler.loops.lagged`).

    The operations and their order are those of :func:`cauker.sampler.loops.propagate`
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
        lag = lags[q]
        for i in range(length):
            a[i] = values[row, max(i - lag, 0)] * w
        for q in range(first_parent[k] + 1, first_parent[k + 1]):
            row = parent_rows[q]
            w = weights[q]
            lag = lags[q]
            if lag == 0:
                for i in range(length):
                    a[i] = a[i] + values[row, i] * w
            else:
                for i in range(length):
                    a[i] = a[i] + values[row, max(i - lag, 0)] * w
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


@numba.njit(cache=True, nogil=True, error_model="numpy")
def exponential_fill(a, b, x, out, portable):
    """``out[r] = a[r] * exp(b[r] * x)``, as :func:`cauker.sampler.loops.exponential_rows`
    computes it (``portable`` is ``PORTABLE``)."""
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


#: The functions numba compiles and keeps in its cache, all compiled by :func:`warm_up`.
CACHED = (schur_sweep, khatri_rao_sum, propagate_nodes, exponential_fill)
