"""Exact Gaussian draws with a symmetric positive semi-definite Toeplitz covariance.

``toeplitz_draws`` factors a batch of Toeplitz matrices ``T = R^T R`` with the
generalised Schur algorithm (O(L^2) per matrix instead of O(L^3) for a dense
Cholesky) and returns ``R^T g`` for given standard normal vectors ``g``, without
ever storing ``R``. The sweep itself is :func:`cauker.sampler.loops.schur_pass`
(or its compiled twin, whichever the caller passes).

Why by hand: neither numpy nor scipy offers a Toeplitz Cholesky factor (scipy's
``solve_toeplitz`` only solves systems), and a dense factorisation per root is
what made the published scripts slow.

Numerics. The Schur algorithm breaks down (a hyperbolic rotation with
``|rho| >= 1``) on numerically singular matrices, which products of smooth or
periodic kernels often are. So each matrix is factored with a diagonal jitter
``delta * T[0, 0]``, ``delta`` stepping through ``JITTERS`` until the sweep
holds; the covariance then differs from ``T`` by ``delta`` relative to its
diagonal (1e-12 almost always, 1e-10 at worst, by construction: far below the
float32 resolution of the output). A matrix that breaks down even at 1e-10 is
factored densely with a pivoted Cholesky (``cauker.sampler.linalg``), which never
fails on a semi-definite matrix. Rotations use the "mixed" form, which keeps the
factor's backward error at the level of a dense Cholesky (Bojanczyk, Brent,
de Hoog and Sweet, SIAM J. Matrix Anal. Appl. 16, 1995).

Determinism. Only element-wise IEEE operations (``+ - * / sqrt``) touch the
batch, so each matrix's draws are bit-identical whatever else is in the batch,
and on every CPU (no BLAS, no fused multiply-add).
"""

from __future__ import annotations

from types import ModuleType

import numpy as np

from cauker.sampler import loops
from cauker.sampler.linalg import combine, pivoted_cholesky, toeplitz_column_getter

#: Relative diagonal jitters tried in turn. Starting at 1e-12 rather than 0
#: saves a second sweep for the half of the matrices that are singular; above
#: 1024 points rounding grows and the sweep starts at 1e-11 (see ``jitters``).
JITTERS = (1e-12, 1e-11, 1e-10)
#: Steps between two foldings of the generators' scales into their values (part
#: of the arithmetic: the loops of every backend fold at the same steps).
RESCALE = 8
#: Marks a matrix that was factored densely (all jitters broke down).
DENSE = -1.0


def _dense_draws(column: np.ndarray, normals: np.ndarray) -> np.ndarray:
    rows = pivoted_cholesky(toeplitz_column_getter(column), np.full(column.size, column[0]))
    return combine(normals[:, : rows.shape[0]], rows)


def jitters(length: int) -> tuple[float, ...]:
    """The jitters tried for matrices of size ``length``, smallest first."""
    return JITTERS if length <= 1024 else JITTERS[1:]


def toeplitz_draws(
    columns: np.ndarray,
    normals: np.ndarray,
    owner: np.ndarray | None = None,
    *,
    loops: ModuleType = loops,
) -> tuple[np.ndarray, np.ndarray]:
    """Draws ``R_b^T g_d`` for the Toeplitz matrices with first columns ``columns``.

    Parameters
    ----------
    columns : (B, L) array
        First columns of PSD Toeplitz matrices, with ``columns[:, 0] > 0``.
    normals : (D, L) array
        Standard normal vectors, one per draw.
    owner : (D,) int array, optional
        The matrix of each draw (default: draw ``d`` uses matrix ``d``).
    loops : module, default=cauker.sampler.loops
        Whose Schur sweep runs (``cauker.sampler.backend``): the same bits.

    Returns
    -------
    draws : (D, L) array
    jitter : (B,) array
        The relative jitter each matrix needed, ``DENSE`` if factored densely.
    """
    columns = np.asarray(columns, dtype=np.float64)
    normals = np.asarray(normals, dtype=np.float64)
    owner = np.arange(len(columns)) if owner is None else np.asarray(owner)
    draws = np.empty_like(normals)
    jitter = np.full(len(columns), DENSE)
    todo = np.arange(len(columns))
    for delta in jitters(columns.shape[1]):
        if todo.size == 0:
            break
        mine = np.isin(owner, todo)
        local_owner = np.searchsorted(todo, owner[mine])
        result, held = loops.schur_pass(columns[todo], normals[mine], local_owner, delta, RESCALE)
        done = todo[held]
        keep = np.isin(owner[mine], done)
        draws[np.flatnonzero(mine)[keep]] = result[keep]
        jitter[done] = delta
        todo = todo[~held]
    for b in todo:
        mine = owner == b
        draws[mine] = _dense_draws(columns[b], normals[mine])
    return draws, jitter
