"""The sampler's four heaviest loops, in numpy: the Schur sweep, the Khatri-Rao
draw, the exponential means and the propagation through the DAG.

:mod:`cauker.sampler.compiled` holds the same four functions compiled by numba,
with the same signatures and the same bits; :mod:`cauker.sampler.backend`
chooses, once per batch, which of the two modules runs. This one is what runs
where numba would not pay (a small job) or cannot (no numba), and the
reference the tests hold the compiled loops to.

Each loop uses element-wise IEEE operations only, in a fixed order (sums from
0 in increasing index, each product rounded before it is added), so a value
never depends on what else is in the batch, nor on the CPU.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cauker.sampler import portable_math
from cauker.sampler.linalg import combine, rowwise_dot


def schur_pass(
    columns: np.ndarray, normals: np.ndarray, owner: np.ndarray, jitter: float, rescale: int
) -> tuple[np.ndarray, np.ndarray]:
    """One generalised Schur sweep of every Toeplitz matrix (first columns
    ``columns``, diagonal times ``1 + jitter``): the draws ``R_m^T g_d`` for the
    normals ``g_d = normals[d]`` of matrix ``m = owner[d]`` (each matrix has one
    draw or more), and which matrices held (see :mod:`cauker.sampler.toeplitz`).

    Arrays are laid out (position, matrix) so that each step works on one
    contiguous block and per-matrix scalars broadcast along rows. The first
    draw of each matrix uses its generator in place; further draws of the same
    matrix (rare) gather it.
    """
    count, length = columns.shape
    root = np.sqrt(columns[:, 0] * (1.0 + jitter))
    # Generators of T - Z T Z^T = u u^T - v v^T. At step k, u holds positions
    # k..L-1 of row k of R; v holds positions k+1..L-1 (its leading zero dropped).
    u = np.ascontiguousarray((columns / root[:, None]).T)
    u[0] = root
    v = u[1:].copy()
    first = np.unique(owner, return_index=True)[1]
    extra = np.setdiff1d(np.arange(len(owner)), first)
    g = np.ascontiguousarray(normals[first].T)
    g_extra = np.ascontiguousarray(normals[extra].T)
    extra_owner = owner[extra]
    draws = np.zeros_like(g)
    draws_extra = np.zeros_like(g_extra)
    scratch = np.empty_like(u)
    # The generators are kept as u = a * u_hat and v = b * v_hat with per-matrix
    # scales a and b, so that a rotation costs two passes over each array
    # instead of three; the scales are folded back every ``rescale`` steps so
    # they neither overflow nor underflow.
    a = np.ones(count)
    b = np.ones(count)
    with np.errstate(all="ignore"):
        for k in range(length):
            n = length - k
            draws[k:] += np.multiply(u, a * g[k], out=scratch[:n])
            if extra.size:
                draws_extra[k:] += u[:, extra_owner] * (a[extra_owner] * g_extra[k])
            if n == 1:
                break
            rho = (b * v[0]) / (a * u[0])
            # A breakdown (|rho| >= 1) makes c nan or 0; the nan or inf then
            # spreads through that matrix's column only, and is caught below.
            c = np.sqrt((1.0 - rho) * (1.0 + rho))
            # Mixed form: u' = (u - rho v) / c, then v' = c v - rho u'.
            u = u[:-1]  # shifted by one position
            u -= np.multiply(v, rho * b / a, out=scratch[: n - 1])
            a = a / c
            v = v[1:]
            v -= np.multiply(u[1:], rho * a / (c * b), out=scratch[: n - 2])
            b = b * c
            if k % rescale == rescale - 1:
                u *= a
                v *= b
                a = np.ones(count)
                b = np.ones(count)
    out = np.empty_like(normals)
    out[first] = draws.T
    out[extra] = draws_extra.T
    held = np.ones(count, dtype=bool)
    held[owner[~np.isfinite(out).all(axis=1)]] = False
    return out, held


def khatri_rao_draws(first: np.ndarray, rest: np.ndarray, normals: np.ndarray) -> np.ndarray:
    """``sum_a first[a] * (sum_b M_j[a, b] rest[b])`` for each ``M_j = normals[j]``
    (``(first rows, rest rows)``, or flat), each sum from 0 in increasing index:
    a draw through the Khatri-Rao product of ``first`` and ``rest``, never formed."""
    draws = np.empty((len(normals), first.shape[1]))
    for j, g in enumerate(normals):
        draws[j] = rowwise_dot(first, combine(g.reshape(len(first), len(rest)), rest))
    return draws


def exponential_rows(a: np.ndarray, b: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``a[r] * exp(b[r] * x)`` for each ``r``, with :func:`portable_math.exp`."""
    return a[:, None] * portable_math.exp(b[:, None] * x)


@dataclass(frozen=True)
class Nodes:
    """The non-root nodes of a batch of graphs, as :func:`propagate` takes them:
    node ``k`` writes row ``row[k]`` of the values from its parents' rows
    ``parent_rows[first_parent[k]:first_parent[k + 1]]`` and their ``weights``."""

    row: np.ndarray  # (nodes,)
    first_parent: np.ndarray  # (nodes + 1,)
    parent_rows: np.ndarray  # (parents,)
    weights: np.ndarray  # (parents,)
    biases: np.ndarray  # (nodes,)
    kinds: np.ndarray  # (nodes,) activation, as an index in the bank
    params: np.ndarray  # (nodes, 2) its parameters (cauker.sampler.activations.parameters)
    depth: np.ndarray  # (nodes,) edges on the longest path from a root
    lags: np.ndarray | None = None  # (parents,) lag of each edge, in grid steps; None: all 0


def lagged(row: np.ndarray, lag: np.ndarray) -> np.ndarray:
    """``row`` read ``lag`` steps earlier: point ``t`` is ``row[max(t - lag, 0)]``
    (rows ``(n, length)``, one lag per row). The sampler's burn-in keeps the
    repeated first points out of every kept point."""
    index = np.maximum(np.arange(row.shape[-1]) - lag[:, None], 0)
    return np.take_along_axis(row, index, axis=-1)


def _parents(values: np.ndarray, rows: np.ndarray, lags: np.ndarray | None, j: int) -> np.ndarray:
    """The ``j``-th parents' values (a copy: the caller writes to it), each read its
    edge's lag earlier if there are lags."""
    if lags is None:
        return values[rows[:, j]]
    return lagged(values[rows[:, j]], lags[:, j])


def propagate(values: np.ndarray, nodes: Nodes, activations: tuple) -> None:
    """``values[row[k]] = act_k(w_0 v_0 + w_1 v_1 + ... + b_k)`` for every node, in
    place, ``activations`` the bank (``(name, function)`` pairs); with ``lags``,
    ``v_j`` is parent ``j`` read its edge's lag earlier (:func:`lagged`).

    Level by level (a node's depth is one more than its deepest parent's), the
    pre-activations of nodes with the same number of parents are computed
    together, then each activation is applied once per level to all the nodes
    that drew it. Per node the operations and their order are those of the
    formula, so the bits do not depend on what else is in the batch.
    """
    counts = np.diff(nodes.first_parent)
    for level in np.unique(nodes.depth).tolist():
        at_level = np.flatnonzero(nodes.depth == level)
        for count in np.unique(counts[at_level]).tolist():
            same = at_level[counts[at_level] == count]
            parents = nodes.first_parent[same, None] + np.arange(count)
            rows, w = nodes.parent_rows[parents], nodes.weights[parents]
            lags = None if nodes.lags is None else nodes.lags[parents]
            # In place, the same operations: a = w_0 v_0, a = a + w_j v_j, a + b.
            a = _parents(values, rows, lags, 0)
            a *= w[:, :1]
            for j in range(1, count):
                term = _parents(values, rows, lags, j)
                term *= w[:, j : j + 1]
                a += term
            a += nodes.biases[same, None]
            values[nodes.row[same]] = a  # pre-activations
        kinds = nodes.kinds[at_level]
        for kind in np.unique(kinds).tolist():
            mine = at_level[kinds == kind]
            rows = nodes.row[mine]
            values[rows] = activations[kind][1](values[rows], nodes.params[mine])
