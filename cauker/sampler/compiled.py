"""Compiled (numba) versions of the sampler's two heaviest loops, bit for bit the
same as their numpy versions.

- :func:`schur_pass`: the generalised Schur sweep of ``cauker.sampler.toeplitz``,
  one matrix at a time instead of one step at a time over a batch: the same
  operations, in the same order, on each element.
- :func:`khatri_rao_draw`: ``sum_a first[a] * (sum_b mixing[a, b] rest[b])``,
  each sum from 0 in increasing index, as ``cauker.sampler.linalg`` computes it.

numba compiles without fast-math, so it neither fuses a multiply with an add
nor reorders a sum: the results are the numpy versions' to the last bit (the
tests check it). Importing this module needs numba; ``cauker.sampler.acceleration``
decides whether to use it.

The compiled functions (``schur_sweep``, ``khatri_rao_sum``) are plain loops
over arrays they are given, with no array expressions: that halves the time
numba takes to compile them on a new machine (about 2.5 s instead of 5 s on a
2-core AMD EPYC) at the same speed. Thin Python wrappers prepare their inputs.
"""

from __future__ import annotations

import numba
import numpy as np


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
