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
  - several factors whose ranks multiply to at most ``KHATRI_RAO_PER_POINT *
    length``: the Khatri-Rao product of their cached factors, which is an exact
    factor of their element-wise product;
  - otherwise a batched O(L^2) Schur factorisation (``cauker.sampler.toeplitz``).
  The Schur sweep and the Khatri-Rao draw run in the loops the caller passes
  (``cauker.sampler.backend``: numpy's or numba's, the same bits).
- A WhiteKernel factor makes the whole term diagonal.
- Any other kernel (in a user's bank) is evaluated densely and the term factored
  by pivoted Cholesky, so a custom bank is still exact.

Same bits on every machine. Kernel columns come from :mod:`cauker.sampler.kernel_columns`
(portable elementary functions), factors and draws from :mod:`cauker.sampler.linalg`
(a fixed order of IEEE operations, no BLAS), so ranks, method choices and every
bit of a draw are the same on every CPU. A term consumes the standard normals
given to it (``normals_shape``: how many depends on exact ranks only).

``implied_covariance`` rebuilds the covariance a draw stands for, so tests can
compare it with ``kernel(X)`` without sampling.
"""

from __future__ import annotations

import functools
import math
import threading
from dataclasses import dataclass, field
from types import ModuleType

import numpy as np
from numpy.polynomial import polynomial

from cauker.sampler import loops as numpy_loops
from cauker.sampler.kernel_columns import (
    dense_matrix,
    is_portable_stationary,
    stationary_column,
    toeplitz,
)
from cauker.sampler.kernels import BankKernel
from cauker.sampler.linalg import (
    combine,
    khatri_rao,
    pivoted_cholesky,
    rowwise_dot,
    toeplitz_column_getter,
)
from cauker.sampler.toeplitz import toeplitz_draws

#: Largest product of factor ranks, per grid point, drawn through a Khatri-Rao
#: product (cost ~ L * prod(ranks)); above it the Schur factorisation (cost ~
#: L^2). Part of the algorithm version. With the paper bank at L = 512 the
#: products of two stationary kernels fall below 2 ranks per point and those of
#: three above 10, so any cut-off from 2 to 7 draws the same way; the numpy
#: kernels cross near 5 (benchmarks/khatri_rao_vs_schur.py).
KHATRI_RAO_PER_POINT = 7


#: Memory for cached term plans. A plan holds no array of its own (it refers to
#: the shared factors, scales and columns) except with a dense bank entry, so
#: this is 65,536 plans, whatever L: room for the terms that recur, which are
#: most of the terms drawn.
PLAN_CACHE_BYTES = 32 << 20
#: Bytes of a cached plan besides its arrays (the object, its key, the cache's links).
PLAN_OVERHEAD = 512
#: White terms' standard deviations kept, one array of L per distinct
#: (polynomial, noise, variance): a handful with the paper's bank.
WHITE_SCALES_CACHED = 1024


@dataclass(frozen=True)
class Component:
    """A bank kernel resolved on the grid, by the structure the sampler uses."""

    kind: str  # "stationary", "polynomial", "white" or "dense"
    column: np.ndarray | None = None  # first Toeplitz column (stationary)
    poly: tuple[float, ...] = ()  # coefficients in (x * y) (polynomial)
    noise: float = 0.0  # noise level (white)
    matrix: np.ndarray | None = None  # kernel(X) (dense)


def resolve(entry: BankKernel, x: np.ndarray) -> Component:
    """Classify a bank entry by its spec; anything else is evaluated densely."""
    spec = entry.spec
    if is_portable_stationary(spec):
        return Component("stationary", column=stationary_column(spec, x))
    if spec is not None and spec.kind == "DotProduct":
        sigma = spec.get("sigma_0")
        return Component("polynomial", poly=(sigma * sigma, 1.0))
    if spec is not None and spec.kind == "ConstantKernel":
        return Component("polynomial", poly=(spec.get("constant_value"),))
    if spec is not None and spec.kind == "WhiteKernel":
        return Component("white", noise=spec.get("noise_level"))
    return Component("dense", matrix=dense_matrix(entry.kernel, x))


def poly_product(p: tuple[float, ...], q: tuple[float, ...]) -> tuple[float, ...]:
    """Coefficients of the product of two polynomials, summed in a fixed order."""
    out = [0.0] * (len(p) + len(q) - 1)
    for i, a in enumerate(p):
        for j, b in enumerate(q):
            out[i + j] += a * b
    return tuple(out)


def expand(kernel_ids, ops) -> list[tuple[int, ...]]:
    """Terms of the left fold: ``ops[i]`` joins ``kernel_ids[i + 1]`` (0: +, 1: *)."""
    ids = [int(k) for k in kernel_ids]
    terms = [[ids[0]]]
    for kid, op in zip(ids[1:], [int(o) for o in ops]):
        if op:
            for term in terms:
                term.append(kid)
        else:
            terms.append([kid])
    return [tuple(sorted(t)) for t in terms]


def _deviations(variances: np.ndarray) -> np.ndarray:
    """Standard deviations from variances, negative ones (rounding) clipped to 0."""
    return np.sqrt(np.where(variances > 0, variances, 0.0))


@dataclass
class Term:
    """The parts of one term, grouped by how they are drawn."""

    ids: tuple[int, ...]
    poly: tuple[float, ...] = (1.0,)
    stationary: list[int] = field(default_factory=list)
    dense: list[int] = field(default_factory=list)
    noise: float = 1.0
    white: bool = False


@dataclass(slots=True)
class TermPlan:
    """How one term is drawn, with everything that does not depend on the draw
    (cached and shared: never modified after ``__post_init__``).

    ``method`` is one of ``white`` (``std * g``), ``polynomial`` (``sum_j g_j
    scales_j``), ``factor`` and ``dense`` (``sum_j scales_j * (g_j @ rows)``),
    ``khatri_rao`` (the same with the rows of the Khatri-Rao product of
    ``rows`` and ``others``, never formed) and ``schur`` (the Toeplitz matrix
    whose first column is the product of the columns of components
    ``stationary``, in that order, formed at each draw). A draw consumes
    standard normals of shape ``shape`` (``size`` of them).
    """

    method: str
    scales: np.ndarray | None = None  # (J, L), or the standard deviation (white)
    unit: bool = False  # scales is one row of ones: skip the scaling
    rows: np.ndarray | None = None  # factor (rank x L): factor, dense, khatri_rao's first
    others: tuple[np.ndarray, ...] = ()  # khatri_rao: the other factors' rows
    stationary: tuple[int, ...] = ()  # schur: the components whose columns multiply
    length: int = 0  # schur: the grid's length
    shape: tuple[int, ...] = ()
    size: int = 0

    def __post_init__(self) -> None:
        if self.method in ("white", "polynomial"):
            self.shape = (len(self.scales) if self.method == "polynomial" else self.scales.size,)
        elif self.method == "dense":
            self.shape = (1, self.rows.shape[0])
        elif self.method == "factor":
            self.shape = (len(self.scales), self.rows.shape[0])
        elif self.method == "khatri_rao":
            per_power = self.rows.shape[0] * math.prod(o.shape[0] for o in self.others)
            self.shape = (len(self.scales), per_power)
        else:  # schur
            self.shape = (len(self.scales), self.length)
        self.size = math.prod(self.shape)


class GaussianProcessSampler:
    """Draws GP roots for one kernel bank on the grid ``linspace(0, 1, length)``,
    extended to the left by ``burn_in`` points of the same spacing (``x < 0``).

    Restricted to the points of ``linspace(0, 1, length)``, a draw on the
    extended grid is a draw of the same GP there (the covariance of a subset of
    points is the kernel on that subset, stationary or not), so a burn-in
    changes no root's law on the kept window. The grid then has ``length +
    burn_in`` points (``self.length``)."""

    def __init__(self, bank: tuple[BankKernel, ...], length: int, burn_in: int = 0) -> None:
        self.x = np.linspace(0.0, 1.0, length)
        if burn_in:
            self.x = np.linspace(-burn_in / (length - 1), 1.0, length + burn_in)
        length += burn_in
        self.length = length
        self.components = [resolve(entry, self.x) for entry in bank]
        self._powers = [np.ones(length), self.x]
        self._powers_lock = threading.Lock()
        self._scales_cache: dict[tuple[float, ...], tuple[np.ndarray, bool]] = {}
        self._factors: dict[int, np.ndarray] = {}
        self._ranks: dict[int, int] = {}
        self._columns = np.stack(
            [c.column if c.kind == "stationary" else np.ones(length) for c in self.components]
        )
        # A plan holds no array of its own, except with a dense component (up to
        # ``length`` rows); the rest is shared.
        dense = any(c.kind == "dense" for c in self.components)
        own = (8 * length * length if dense else 0) + PLAN_OVERHEAD
        entries = max(256, PLAN_CACHE_BYTES // own)
        self.plan = functools.lru_cache(maxsize=entries)(self._plan)
        self._white_scales = functools.lru_cache(maxsize=WHITE_SCALES_CACHED)(self._white)

    # -- structure ---------------------------------------------------------
    def term(self, ids: tuple[int, ...]) -> Term:
        term = Term(ids)
        for i in ids:
            c = self.components[i]
            if c.kind == "polynomial":
                term.poly = poly_product(term.poly, c.poly)
            elif c.kind == "stationary":
                term.stationary.append(i)
            elif c.kind == "white":
                term.white = True
                term.noise *= c.noise
            else:
                term.dense.append(i)
        return term

    def factor(self, i: int) -> np.ndarray:
        """Cached exact factor rows (``rank x L``) of stationary component ``i``."""
        if i not in self._factors:
            column = self.components[i].column
            self._factors[i] = pivoted_cholesky(
                toeplitz_column_getter(column), np.full(self.length, column[0])
            )
        return self._factors[i]

    def rank(self, i: int) -> int:
        """The rank of stationary component ``i``'s factor."""
        if i not in self._ranks:
            self._ranks[i] = self.factor(i).shape[0]
        return self._ranks[i]

    def _column(self, ids: list[int]) -> np.ndarray:
        if not ids:
            return np.ones(self.length)
        column = self.components[ids[0]].column
        for i in ids[1:]:
            column = column * self.components[i].column
        return column

    def _scales(self, poly: tuple[float, ...]) -> tuple[np.ndarray, bool]:
        """``sqrt(c_j) x^j`` for the positive coefficients, and whether that is just 1."""
        if poly not in self._scales_cache:
            powers = [j for j, c in enumerate(poly) if c > 0]
            scales = np.array([math.sqrt(poly[j]) * self._power(j) for j in powers])
            self._scales_cache[poly] = (scales, powers == [0] and poly[0] == 1.0)
        return self._scales_cache[poly]

    def _power(self, j: int) -> np.ndarray:
        """``x**j`` as ``j - 1`` products, in order (numpy's ``power`` differs by CPU)."""
        with self._powers_lock:  # threads share a sampler: no power appended twice
            while len(self._powers) <= j:
                self._powers.append(self._powers[-1] * self.x)
            return self._powers[j]

    def _polynomial(self, term: Term, argument: np.ndarray) -> np.ndarray:
        return polynomial.polyval(argument, np.array(term.poly))

    def _variance(self, stationary: list[int]) -> float:
        """The product of stationary components' variances (their columns' first
        entries), in order: 1 for none."""
        variance = 1.0
        for i in stationary:
            variance *= float(self.components[i].column[0])
        return variance

    def _diagonal(
        self, poly: tuple[float, ...], noise: float, variance: float, dense: list[int]
    ) -> np.ndarray:
        """Variance of a term that contains a WhiteKernel (the term is diagonal):
        ``noise * poly(x * x) * variance``, times its dense components' diagonals."""
        diag = noise * polynomial.polyval(self.x * self.x, np.array(poly))
        diag = diag * variance
        for i in dense:
            diag = diag * np.diag(self.components[i].matrix)
        return diag

    def _white(self, poly: tuple[float, ...], noise: float, variance: float) -> np.ndarray:
        """Standard deviations of a white term without dense components (cached in
        ``_white_scales``: shared by the plans with the same key)."""
        return _deviations(self._diagonal(poly, noise, variance, []))

    def _dense_matrix(self, term: Term) -> np.ndarray:
        matrix = self._polynomial(term, self.x[:, None] * self.x[None, :])
        if term.stationary:
            matrix = matrix * toeplitz(self._column(term.stationary))
        for i in term.dense:
            matrix = matrix * self.components[i].matrix
        return matrix

    def _plan(self, ids: tuple[int, ...]) -> TermPlan:
        term = self.term(ids)
        if term.white:
            variance = self._variance(term.stationary)
            if not term.dense:
                return TermPlan("white", scales=self._white_scales(term.poly, term.noise, variance))
            diagonal = self._diagonal(term.poly, term.noise, variance, term.dense)
            return TermPlan("white", scales=_deviations(diagonal))
        if term.dense:
            matrix = self._dense_matrix(term)
            rows = pivoted_cholesky(lambda p: matrix[:, p], np.diag(matrix))
            return TermPlan("dense", rows=rows)
        scales, unit = self._scales(term.poly)
        if not term.stationary:
            return TermPlan("polynomial", scales=scales)
        if len(term.stationary) == 1:
            return TermPlan(
                "factor", scales=scales, unit=unit, rows=self.factor(term.stationary[0])
            )
        if math.prod(self.rank(i) for i in term.stationary) <= KHATRI_RAO_PER_POINT * self.length:
            # The Khatri-Rao product of the others is formed at each draw, not
            # cached: it can reach megabytes and tens of thousands of plans are cached.
            factors = sorted((self.factor(i) for i in term.stationary), key=lambda f: -f.shape[0])
            return TermPlan(
                "khatri_rao", scales=scales, unit=unit, rows=factors[0], others=tuple(factors[1:])
            )
        return TermPlan(
            "schur",
            scales=scales,
            unit=unit,
            stationary=tuple(term.stationary),
            length=self.length,
        )

    # -- drawing -----------------------------------------------------------
    def root_plans(self, kernel_ids: np.ndarray, ops: np.ndarray) -> list[TermPlan]:
        """The plans of the terms of one root's fold, in order."""
        return [self.plan(ids) for ids in expand(kernel_ids, ops)]

    @staticmethod
    def normals_shape(plan: TermPlan) -> tuple[int, ...]:
        """The standard normals a term consumes (a draw uses exactly these)."""
        return plan.shape

    def draw(
        self, plans: list[TermPlan], normals: list[np.ndarray], loops: ModuleType = numpy_loops
    ) -> np.ndarray:
        """The value of each term (a row each) from its own standard normals
        (``normals_shape``), with the Schur sweeps and Khatri-Rao draws of ``loops``
        (``cauker.sampler.backend``).

        Terms are computed in groups (all draws of one cached factor in one
        product, all Schur draws in one sweep); every value has the bits it
        would have if drawn alone.
        """
        values = np.empty((len(plans), self.length))
        factor_groups: dict[int, list[int]] = {}
        schur: list[int] = []
        for i, (plan, g) in enumerate(zip(plans, normals)):
            method = plan.method
            if method == "white":
                values[i] = plan.scales * g
            elif method == "polynomial":
                values[i] = combine(g[None], plan.scales)[0]
            elif method == "dense":
                values[i] = combine(g, plan.rows)[0]
            elif method == "factor":
                factor_groups.setdefault(id(plan.rows), []).append(i)
            elif method == "khatri_rao":
                others = plan.others  # formed here, not cached: it can reach megabytes
                rest = others[0] if len(others) == 1 else khatri_rao([o.T for o in others]).T
                draws = loops.khatri_rao_draws(plan.rows, rest, g)
                values[i] = self._scale(draws, plan.scales, plan.unit)
            else:
                schur.append(i)
        for members in factor_groups.values():
            rows = plans[members[0]].rows
            draws = combine(np.concatenate([normals[i] for i in members]), rows)
            self._scatter(draws, members, plans, normals, values)
        if schur:
            columns = self.schur_columns([plans[i] for i in schur])
            stacked = np.concatenate([normals[i] for i in schur])
            owner = np.repeat(np.arange(len(schur)), [len(normals[i]) for i in schur])
            draws, _ = toeplitz_draws(columns, stacked, owner, loops=loops)
            self._scatter(draws, schur, plans, normals, values)
        return values

    def schur_columns(self, plans: list[TermPlan]) -> np.ndarray:
        """The first Toeplitz column of each Schur plan: its components' columns
        multiplied in order, ``c[s_0] * c[s_1] * ...``, for plans with the same
        number of components at once (the same bits as one plan at a time)."""
        columns = np.empty((len(plans), self.length))
        sizes = np.array([len(p.stationary) for p in plans])
        for size in np.unique(sizes).tolist():
            members = np.flatnonzero(sizes == size)
            ids = np.array([plans[m].stationary for m in members.tolist()])
            product = self._columns[ids[:, 0]]
            for j in range(1, size):
                product *= self._columns[ids[:, j]]
            columns[members] = product
        return columns

    def _scatter(self, draws, members, plans, normals, values) -> None:
        """Cut stacked draws back into the terms ``members`` and scale each."""
        start = 0
        for i in members:
            stop = start + len(normals[i])
            values[i] = self._scale(draws[start:stop], plans[i].scales, plans[i].unit)
            start = stop

    @staticmethod
    def _scale(draws: np.ndarray, scales: np.ndarray, unit: bool) -> np.ndarray:
        """``sum_j scales_j * draws_j`` (just ``draws_0`` for a unit polynomial)."""
        return draws[0] if unit else rowwise_dot(scales, draws)

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
                total += plan.rows.T @ plan.rows
                continue
            if plan.method == "polynomial":
                total += plan.scales.T @ plan.scales
                continue
            if plan.method == "factor":
                inner = plan.rows.T @ plan.rows
            elif plan.method == "khatri_rao":
                f = khatri_rao([plan.rows.T] + [o.T for o in plan.others])
                inner = f @ f.T
            else:
                owner = np.zeros(self.length, dtype=np.int64)
                column = self.schur_columns([plan])
                rows, _ = toeplitz_draws(column, np.eye(self.length), owner)  # R
                inner = rows.T @ rows
            for s in plan.scales:
                total += np.outer(s, s) * inner
        return total
