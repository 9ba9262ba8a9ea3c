"""Exact draws of the GP roots: one draw from ``N(0, K(x, x))`` per root, where
``K`` is a random left-folded sum/product of bank kernels.

How, exactly and fast. The fold ``((k1 op k2) op k3) ...`` expands into a sum of
terms, each a product of bank kernels; the terms are drawn independently and
added. Within a term:

- DotProduct and Constant factors multiply into a polynomial ``sum_j c_j (xy)^j``
  with ``c_j >= 0``; the term is then ``sum_j c_j D^j S D^j`` (``D = diag(x)``),
  drawn as ``sum_j sqrt(c_j) x^j * z_j`` with independent ``z_j ~ N(0, S)``.
- The stationary factors (ExpSineSquared, RBF, RationalQuadratic, Matern) multiply
  into one Toeplitz matrix ``S``, whose first column is the product of theirs:
  - one factor: a cached exact low-rank factor (pivoted Cholesky);
  - several factors whose ranks multiply to at most ``7 * length``: the
    Khatri-Rao product of their cached factors, which is an exact factor of
    their element-wise product;
  - otherwise a batched O(L^2) Schur factorisation (``cauker.toeplitz``).
- A WhiteKernel factor makes the whole term diagonal.
- Any other scikit-learn kernel (a user's bank) is evaluated densely and the
  term factored by pivoted Cholesky, so a custom bank is still exact.

``implied_covariance`` rebuilds the covariance a draw stands for, so tests can
compare it with ``kernel(X)`` without sampling.
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from numpy.polynomial import polynomial
from scipy.linalg import toeplitz
from sklearn.gaussian_process.kernels import (
    RBF,
    ConstantKernel,
    DotProduct,
    ExpSineSquared,
    Kernel,
    Matern,
    RationalQuadratic,
    WhiteKernel,
)

from cauker.factors import khatri_rao, pivoted_cholesky
from cauker.kernels import BankKernel
from cauker.toeplitz import DENSE, toeplitz_draws

#: Largest product of factor ranks, per grid point, drawn through a Khatri-Rao
#: product (cost ~ L * prod(ranks)); above it the Schur factorisation (cost ~
#: L^2) is cheaper. Measured by benchmarks/khatri_rao_vs_schur.py. Part of the
#: algorithm version.
KHATRI_RAO_PER_POINT = 7

STATIONARY_TYPES = (ExpSineSquared, RBF, RationalQuadratic, Matern)
_ONE = np.ones(1)


@dataclass(frozen=True)
class Component:
    """A bank kernel resolved on the grid, by the structure the sampler uses."""

    kind: str  # "stationary", "polynomial", "white" or "dense"
    column: np.ndarray | None = None  # first Toeplitz column (stationary)
    poly: np.ndarray | None = None  # coefficients in (x * y) (polynomial)
    noise: float = 0.0  # noise level (white)
    matrix: np.ndarray | None = None  # kernel(X) (dense)


def resolve(kernel: Kernel, x: np.ndarray) -> Component:
    """Classify a kernel by exact type; anything unknown is evaluated densely."""
    grid = x[:, None]
    kind = type(kernel)
    if kind in STATIONARY_TYPES:
        return Component("stationary", column=kernel(grid, grid[:1])[:, 0])
    if kind is DotProduct:
        return Component("polynomial", poly=np.array([kernel.sigma_0**2, 1.0]))
    if kind is ConstantKernel:
        return Component("polynomial", poly=np.array([float(kernel.constant_value)]))
    if kind is WhiteKernel:
        return Component("white", noise=float(kernel.noise_level))
    return Component("dense", matrix=kernel(grid))


def expand(kernel_ids: np.ndarray, ops: np.ndarray) -> list[tuple[int, ...]]:
    """Terms of the left fold: ``ops[i]`` joins ``kernel_ids[i + 1]`` (0: +, 1: *)."""
    terms = [[int(kernel_ids[0])]]
    for kid, op in zip(kernel_ids[1:], ops):
        if op:
            for term in terms:
                term.append(int(kid))
        else:
            terms.append([int(kid)])
    return [tuple(sorted(t)) for t in terms]


@dataclass
class PendingDraw:
    """A term whose Toeplitz draws wait for the batched Schur factorisation."""

    column: np.ndarray
    normals: np.ndarray  # (J, L)
    scales: np.ndarray  # (J, L): sqrt(c_j) x^j
    unit: bool = False  # scales is one row of ones
    value: np.ndarray | None = None


@dataclass
class Term:
    """The parts of one term, grouped by how they are drawn."""

    ids: tuple[int, ...]
    poly: np.ndarray
    stationary: list[int] = field(default_factory=list)
    dense: list[int] = field(default_factory=list)
    noise: float = 1.0
    white: bool = False


@dataclass(frozen=True)
class TermPlan:
    """How one term is drawn, with everything that does not depend on the draw.

    ``method`` is one of ``white`` (``std * g``), ``dense`` and ``factor``
    (``scales_j * (F g_j)``), ``polynomial`` (``sum_j g_j scales_j``),
    ``khatri_rao`` (``scales_j * rowsum(first * (rest @ G_j))``) and ``schur``.
    """

    method: str
    scales: np.ndarray | None = None  # (J, L), or the standard deviation (white)
    unit: bool = False  # scales is one row of ones: skip the scaling
    factor: np.ndarray | None = None  # dense / factor / khatri_rao "first"
    others: tuple[np.ndarray, ...] = ()  # khatri_rao: the other (cached) factors
    column: np.ndarray | None = None  # schur: first Toeplitz column


class GaussianProcessSampler:
    """Draws GP roots for one kernel bank on the grid ``linspace(0, 1, length)``."""

    def __init__(self, bank: tuple[BankKernel, ...], length: int) -> None:
        self.length = length
        self.x = np.linspace(0.0, 1.0, length)
        self.components = [resolve(entry.kernel, self.x) for entry in bank]
        self._factors: dict[int, np.ndarray] = {}
        # About a quarter of the terms are unique, so a larger cache helps little;
        # its size keeps the cached scales and columns within about 64 MiB.
        entries = max(256, (64 << 20) // (24 * length))
        self.plan = functools.lru_cache(maxsize=entries)(self._plan)
        self.stats: Counter[str] = Counter()

    # -- structure ---------------------------------------------------------
    def term(self, ids: tuple[int, ...]) -> Term:
        term = Term(ids, _ONE)
        for i in ids:
            c = self.components[i]
            if c.kind == "polynomial":
                term.poly = np.convolve(term.poly, c.poly)
            elif c.kind == "stationary":
                term.stationary.append(i)
            elif c.kind == "white":
                term.white = True
                term.noise *= c.noise
            else:
                term.dense.append(i)
        return term

    def factor(self, i: int) -> np.ndarray:
        """Cached exact factor of stationary component ``i``."""
        if i not in self._factors:
            self._factors[i] = pivoted_cholesky(toeplitz(self.components[i].column))
        return self._factors[i]

    def _column(self, ids: list[int]) -> np.ndarray:
        if not ids:
            return np.ones(self.length)
        column = self.components[ids[0]].column
        for i in ids[1:]:
            column = column * self.components[i].column
        return column

    def _diagonal(self, term: Term) -> np.ndarray:
        """Variance of a term that contains a WhiteKernel (the term is diagonal)."""
        diag = term.noise * polynomial.polyval(self.x * self.x, term.poly)
        diag = diag * self._column(term.stationary)[0]
        for i in term.dense:
            diag = diag * np.diag(self.components[i].matrix)
        return diag

    def _dense_matrix(self, term: Term) -> np.ndarray:
        matrix = polynomial.polyval(np.outer(self.x, self.x), term.poly)
        if term.stationary:
            matrix = matrix * toeplitz(self._column(term.stationary))
        for i in term.dense:
            matrix = matrix * self.components[i].matrix
        return matrix

    def _plan(self, ids: tuple[int, ...]) -> TermPlan:
        term = self.term(ids)
        if term.white:
            return TermPlan("white", scales=np.sqrt(self._diagonal(term)))
        if term.dense:
            return TermPlan("dense", factor=pivoted_cholesky(self._dense_matrix(term)))
        powers = np.flatnonzero(term.poly > 0)
        scales = np.sqrt(term.poly[powers])[:, None] * self.x[None, :] ** powers[:, None]
        if not term.stationary:
            return TermPlan("polynomial", scales=scales)
        unit = len(powers) == 1 and powers[0] == 0 and term.poly[0] == 1.0
        factors = sorted((self.factor(i) for i in term.stationary), key=lambda f: -f.shape[1])
        if len(factors) == 1:
            return TermPlan("factor", scales=scales, unit=unit, factor=factors[0])
        if math.prod(f.shape[1] for f in factors) <= KHATRI_RAO_PER_POINT * self.length:
            # The Khatri-Rao product of the others is formed at each draw, not
            # cached: it can reach megabytes and thousands of plans are cached.
            others = tuple(factors[1:])
            return TermPlan(
                "khatri_rao", scales=scales, unit=unit, factor=factors[0], others=others
            )
        return TermPlan("schur", scales=scales, unit=unit, column=self._column(term.stationary))

    # -- drawing -----------------------------------------------------------
    def draw_terms(
        self, kernel_ids: np.ndarray, ops: np.ndarray, rng: np.random.Generator
    ) -> list[np.ndarray | PendingDraw]:
        """Draw every term of the fold; some may be left pending for ``resolve``."""
        return [self._draw(self.plan(ids), rng) for ids in expand(kernel_ids, ops)]

    def _draw(self, plan: TermPlan, rng: np.random.Generator) -> np.ndarray | PendingDraw:
        method = plan.method
        self.stats[method] += 1
        if method == "white":
            return plan.scales * rng.standard_normal(self.length)
        if method == "dense":
            return plan.factor @ rng.standard_normal(plan.factor.shape[1])
        scales = plan.scales
        if method == "polynomial":
            return rng.standard_normal(len(scales)) @ scales
        if method == "factor":
            if plan.unit:
                return plan.factor @ rng.standard_normal(plan.factor.shape[1])
            draws = rng.standard_normal((len(scales), plan.factor.shape[1])) @ plan.factor.T
        elif method == "khatri_rao":
            first, rest = plan.factor, khatri_rao(list(plan.others))
            draws = np.empty((len(scales), self.length))
            for j in range(len(scales)):
                mixing = rng.standard_normal((rest.shape[1], first.shape[1]))
                draws[j] = ((rest @ mixing) * first).sum(axis=1)
        else:
            normals = rng.standard_normal((len(scales), self.length))
            return PendingDraw(plan.column, normals, scales, plan.unit)
        if plan.unit:
            return draws[0]
        return draws[0] * scales[0] if len(scales) == 1 else (scales * draws).sum(axis=0)

    def resolve(self, pending: list[PendingDraw]) -> None:
        """Run the batched Schur factorisation for every pending draw."""
        if not pending:
            return
        columns = np.stack([p.column for p in pending])
        normals = np.concatenate([p.normals for p in pending])
        owner = np.repeat(np.arange(len(pending)), [len(p.normals) for p in pending])
        draws, jitter = toeplitz_draws(columns, normals, owner)
        for level in jitter:
            self.stats["schur_dense" if level == DENSE else f"schur_jitter_{level:g}"] += 1
        start = 0
        for p in pending:
            stop = start + len(p.normals)
            block = draws[start:stop]
            if p.unit:
                p.value = block[0]
            elif stop - start == 1:
                p.value = block[0] * p.scales[0]
            else:
                p.value = (p.scales * block).sum(axis=0)
            start = stop

    # -- checking ----------------------------------------------------------
    def implied_covariance(self, kernel_ids: np.ndarray, ops: np.ndarray) -> np.ndarray:
        """The covariance the sampler's draws have, rebuilt from its plans.

        It uses the same factors and the same Schur code as the draws (the
        Schur factor is read off by drawing with identity "normals").
        """
        total = np.zeros((self.length, self.length))
        for ids in expand(kernel_ids, ops):
            plan = self.plan(ids)
            if plan.method == "white":
                total += np.diag(plan.scales**2)
                continue
            if plan.method == "dense":
                total += plan.factor @ plan.factor.T
                continue
            if plan.method == "polynomial":
                total += plan.scales.T @ plan.scales
                continue
            if plan.method == "factor":
                inner = plan.factor @ plan.factor.T
            elif plan.method == "khatri_rao":
                f = khatri_rao([plan.factor, *plan.others])
                inner = f @ f.T
            else:
                owner = np.zeros(self.length, dtype=np.int64)
                rows, _ = toeplitz_draws(plan.column[None], np.eye(self.length), owner)  # R
                inner = rows.T @ rows
            for s in plan.scales:
                total += np.outer(s, s) * inner
        return total
