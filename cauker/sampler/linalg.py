"""Linear algebra in a fixed order of IEEE operations, so results never depend on BLAS.

BLAS and LAPACK pick their code by CPU (OpenBLAS: Haswell, SkylakeX, Zen,
...). Their accumulation order, their use of fused multiply-add and the pivots
of LAPACK's pivoted Cholesky all change with it, and with them the
last bits of a result, a rank, or a pivot order (which changes a factor, and so
every draw made with it). Everything here is built from numpy's element-wise
operations, whose results IEEE 754 defines exactly:

- :func:`pivoted_cholesky`: an exact low-rank factor of a positive
  semi-definite matrix, stopping where LAPACK's ``dpstrf`` does
  (residual diagonal at most ``n * eps * max(diag)``);
- :func:`combine`: ``out[d] = sum_j coeffs[d, j] * rows[j]`` accumulated from
  0 in increasing ``j``, each product rounded before it is added;
- :func:`rowwise_dot`: ``out = sum_j a[j] * b[j]`` (element-wise products of
  rows), accumulated the same way;
- :func:`khatri_rao`: the row-wise Kronecker product.

``combine`` and ``rowwise_dot`` are what the draws spend their time in, so they
run through ``numpy.einsum``, whose loops do exactly that sum (numpy compiles
them for the baseline CPU, without fused multiply-add on x86), after checking
once that this numpy does not fuse; on a build that does (for example on ARM),
an explicit loop of ``multiply`` and ``add`` gives the same bits more slowly.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np


def _combine_loop(coeffs: np.ndarray, rows: np.ndarray) -> np.ndarray:
    out = np.zeros((coeffs.shape[0], rows.shape[1]))
    term = np.empty_like(out)
    for j in range(rows.shape[0]):
        np.multiply(coeffs[:, j, None], rows[j], out=term)
        out += term
    return out


def _rowwise_dot_loop(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = np.zeros(a.shape[1])
    for j in range(a.shape[0]):
        out += a[j] * b[j]
    return out


@functools.cache
def einsum_is_sequential() -> bool:
    """Whether ``einsum`` rounds each product before adding it (no fused multiply-add),
    for the two patterns used here.

    With ``a = 1 + 2**-30`` the product ``a * a`` is ``1 + 2**-29 + 2**-60``:
    rounded first, ``-(1 + 2**-29) + a * a`` is exactly 0; fused, it is ``2**-60``.
    """
    a = 1.0 + 2.0**-30
    first = np.array([[-(1.0 + 2.0**-29)] * 8, [a] * 8])
    combined = np.einsum("dj,jl->dl", np.array([[1.0, a]]), first)
    dotted = np.einsum("jl,jl->l", np.array([[1.0] * 8, [a] * 8]), first)
    return bool((combined == 0.0).all() and (dotted == 0.0).all())


def combine(coeffs: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``coeffs @ rows`` (``(D, J) @ (J, L)``), summed from 0 in increasing ``j``.

    Each output row depends only on its own coefficients: the same bits
    whatever else is in the batch.
    """
    coeffs = np.ascontiguousarray(coeffs, dtype=np.float64)
    rows = np.ascontiguousarray(rows, dtype=np.float64)
    if rows.shape[0] == 0:
        return np.zeros((coeffs.shape[0], rows.shape[1]))
    if einsum_is_sequential():
        return np.einsum("dj,jl->dl", coeffs, rows)
    return _combine_loop(coeffs, rows)


def rowwise_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``sum_j a[j] * b[j]`` for ``(J, L)`` arrays, summed from 0 in increasing ``j``."""
    a = np.ascontiguousarray(a, dtype=np.float64)
    b = np.ascontiguousarray(b, dtype=np.float64)
    if einsum_is_sequential():
        return np.einsum("jl,jl->l", a, b)
    return _rowwise_dot_loop(a, b)


def pivoted_cholesky(column: Callable[[int], np.ndarray], diagonal: np.ndarray) -> np.ndarray:
    """Rows ``R`` (``rank x n``) with ``R.T @ R == A`` within ``n * eps * max(diag(A))``.

    Parameters
    ----------
    column : callable
        ``column(p)`` returns column ``p`` of the positive semi-definite matrix ``A``.
    diagonal : (n,) array
        The diagonal of ``A``.

    The pivot is the first index of the largest residual diagonal entry
    (LAPACK's rule); the residual is updated with element-wise operations in a
    fixed order, so the rank, the pivots and every bit of ``R`` are the same on
    every machine.
    """
    d = np.array(diagonal, dtype=np.float64)
    n = d.size
    if n == 0 or not (d > 0).any():
        return np.zeros((0, n))
    tol = n * np.finfo(np.float64).eps * d.max()
    rows = np.zeros((n, n))
    rank = 0
    for k in range(n):
        p = int(np.argmax(d))
        if not d[p] > tol:
            break
        c = np.array(column(p), dtype=np.float64)
        if k:
            c -= combine(rows[None, :k, p], rows[:k])[0]
        c /= np.sqrt(d[p])
        rows[k] = c
        d -= c * c
        d[p] = 0.0
        rank = k + 1
    return rows[:rank].copy()


def toeplitz_column_getter(first_column: np.ndarray) -> Callable[[int], np.ndarray]:
    """``column(p)`` of the symmetric Toeplitz matrix with first column ``first_column``."""
    index = np.arange(first_column.size)
    return lambda p: first_column[np.abs(index - p)]


def khatri_rao(factors: list[np.ndarray]) -> np.ndarray:
    """Row-wise Kronecker product of factors (``n x r_i``) with the same number of rows."""
    out = factors[0]
    for f in factors[1:]:  # a single factor is returned as is, not copied
        out = (out[:, :, None] * f[:, None, :]).reshape(out.shape[0], -1)
    return out
