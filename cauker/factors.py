"""Exact low-rank factors of positive semi-definite matrices.

``pivoted_cholesky(A)`` returns ``F`` with ``F @ F.T == A`` up to LAPACK's
default tolerance (``n * eps * max(diag(A))`` on the residual diagonal, so at
most that in any entry, since the residual is semi-definite). Unlike a plain
Cholesky it never fails on a singular matrix, and it stops at the numerical
rank, which is small for most bank kernels (about 30 of 512 for a periodic one).

``khatri_rao(factors)`` is the row-wise Kronecker product: a factor of the
element-wise (Schur) product of the matrices the factors stand for.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import lapack


def pivoted_cholesky(matrix: np.ndarray) -> np.ndarray:
    """Factor ``F`` (n x rank) with ``F @ F.T`` equal to ``matrix`` within tolerance."""
    n = matrix.shape[0]
    if not np.any(np.diag(matrix) > 0):
        return np.zeros((n, 0))
    lower, pivots, rank, info = lapack.dpstrf(matrix, lower=1, tol=-1.0)
    if info < 0:
        raise RuntimeError(f"LAPACK dpstrf rejected argument {-info}")
    factor = np.empty((n, rank))
    factor[pivots - 1] = np.tril(lower)[:, :rank]
    return factor


def khatri_rao(factors: list[np.ndarray]) -> np.ndarray:
    """Row-wise Kronecker product of factors with the same number of rows."""
    out = factors[0]
    for f in factors[1:]:  # a single factor is returned as is, not copied
        out = (out[:, :, None] * f[:, None, :]).reshape(out.shape[0], -1)
    return out
