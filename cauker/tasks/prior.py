"""The one door from the tasks to the sampler: the CauKer prior's pieces, as tasks use them.

Tasks draw their series from the same prior as corpora (DAGs, kernel, mean and
activation banks, exact GP draws, propagation through the graph), but many
samples per mechanism. Everything they take from :mod:`cauker.sampler` goes
through this module, so that a change in the sampler's internals touches this
file only:

- :class:`Prior`: the banks and the GP sampler of a config (cached per process);
- :meth:`Prior.draw_dags`, the random DAGs;
- :meth:`Prior.root_terms` and :meth:`Prior.draw_roots`: every term of a root's
  kernel drawn for ``n`` samples from ONE factor: a cached bank factor (or the
  Khatri-Rao product of cached factors, formed once) times all the samples'
  normals, or one Schur sweep of the term's Toeplitz matrix applied to all of
  them (an owner map), never one factorisation per sample;
- means, activations, and ``fixed_sum``: sums in a fixed order of IEEE
  operations (no BLAS), for the 1-nearest-neighbour column and the augmentations;
- ``arrow_column``: Arrow arrays built from their buffers (``pa.array`` would
  import pandas, a second, the first time it sees a list).

Every value here is a pure function of its inputs, whatever else is drawn in
the same call, on every CPU (see ``cauker.sampler.linalg``).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass

import numpy as np

from cauker.config import CauKerConfig
from cauker.sampler import acceleration, portable_math
from cauker.sampler.activations import activation_bank, parameters
from cauker.sampler.dag import Dags, draw_dags
from cauker.sampler.gp import GaussianProcessSampler, TermPlan, expand
from cauker.sampler.kernels import compose_name, kernel_bank
from cauker.sampler.linalg import combine, khatri_rao, rowwise_dot
from cauker.sampler.means import MeanDraws, Means, compute_means, draw_mean_numbers, mean_bank
from cauker.sampler.schema import _column as arrow_column
from cauker.sampler.scm import SUB_STREAM_SPACING, split_key
from cauker.sampler.toeplitz import toeplitz_draws

__all__ = [
    "SUB_STREAM_SPACING",
    "Dags",
    "MeanDraws",
    "Means",
    "Prior",
    "RootRequest",
    "TermDraw",
    "arrow_column",
    "combine",
    "fixed_sum",
    "portable_math",
    "prior_for",
    "split_key",
]


def fixed_sum(rows: np.ndarray) -> np.ndarray:
    """``rows[0] + rows[1] + ...`` over the first axis, from 0 in increasing order,
    each product by 1 exact: the same bits on every CPU (numpy's own reductions
    sum pairwise, in an order that depends on the SIMD loop it picks)."""
    shape = np.shape(rows)[1:]
    rows = np.asarray(rows, dtype=np.float64).reshape(len(rows), -1)
    # einsum sums a single column with its unrolled (pairwise) reduction loop: a second
    # column keeps it adding row after row
    padded = np.repeat(rows, 2, axis=1) if rows.shape[1] == 1 else rows
    return rowwise_dot(padded, np.ones_like(padded))[: rows.shape[1]].reshape(shape)


#: A Khatri-Rao term is drawn by a Schur sweep instead when, for its ``D`` draws
#: (samples times powers), ``prod(ranks) * D >= SCHUR_PER_POINT * length * (D + 1)``:
#: a draw from the product's factor costs ``prod(ranks) * length``, a Schur sweep
#: about one draw, and each draw from it about ``length ** 2 / 2``. Measured with
#: ``benchmarks/task_throughput.py --terms`` (compiled kernels, L = 512: 110 us a
#: draw from a rank-729 product, 30-45 us a Schur draw, 24 us a sweep).
SCHUR_PER_POINT = 0.5
#: Terms whose plan and stationary components are kept (the sampler's plan cache
#: holds the plans' arrays; this only saves looking them up).
PLAN_CACHE = 65_536


@dataclass(frozen=True)
class TermDraw:
    """How a task draws one term of a root for its samples: the sampler's plan, the
    method (the plan's, or ``schur`` for a Khatri-Rao term with many samples), the
    stationary components whose product is its Toeplitz column, and the standard
    normals one sample consumes (``shape``, ``size``)."""

    plan: TermPlan
    method: str
    stationary: tuple[int, ...]
    shape: tuple[int, ...]
    size: int = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "size", math.prod(self.shape))


@dataclass
class RootRequest:
    """``n`` samples of one GP root: its terms and their standard normals
    ``(n, sum of the terms' sizes)``, sample after sample."""

    terms: list[TermDraw]
    normals: np.ndarray


class Prior:
    """The banks and the GP sampler of one prior (a ``CauKerConfig``'s series fields)."""

    def __init__(self, config: CauKerConfig) -> None:
        self.config = config
        bank = kernel_bank(config.kernel_bank, config.length)
        self.kernel_names = [entry.name for entry in bank]
        #: The scikit-learn class of each bank entry (None: a custom kernel cauker cannot read).
        self.kernel_kinds = [entry.spec.kind if entry.spec else None for entry in bank]
        self.gp = GaussianProcessSampler(bank, config.length)
        self.means = mean_bank(config.mean_bank)
        self.activations = activation_bank(config.activation_bank)
        self.x = self.gp.x
        self._term = functools.lru_cache(maxsize=PLAN_CACHE)(self._plan_and_components)

    # -- structure -------------------------------------------------------------
    def draw_dags(self, generators: list[np.random.Generator]) -> Dags:
        """One DAG per generator, the prior's law (the paper's, or layered)."""
        c = self.config
        return draw_dags(generators, c.num_nodes, c.max_parents, c.dag_depth)

    def kernel_name(self, ids: list[int], ops: list[int]) -> str:
        """``(k1 + k2) * k3``: a root's kernel expression."""
        return compose_name([self.kernel_names[k] for k in ids], ["*" if o else "+" for o in ops])

    def same_kind(self, kernel: int) -> list[int]:
        """The other bank entries of ``kernel``'s class (its parameters changed); all
        other entries if none shares it, or if cauker cannot read its class."""
        kind = self.kernel_kinds[kernel]
        others = [k for k in range(len(self.kernel_names)) if k != kernel]
        same = [k for k in others if kind is not None and self.kernel_kinds[k] == kind]
        return same or others

    def mean_numbers(self, rng: np.random.Generator, count: int) -> MeanDraws:
        return draw_mean_numbers(rng, self.config.length, self.means, count)

    def means_of(self, draws: MeanDraws) -> Means:
        return compute_means(draws, self.x)

    # -- GP roots ----------------------------------------------------------------
    def _plan_and_components(self, ids: tuple[int, ...]) -> tuple[TermPlan, tuple[int, ...]]:
        return self.gp.plan(ids), tuple(self.gp.term(ids).stationary)

    def root_terms(self, kernel_ids: list[int], ops: list[int], samples: int) -> list[TermDraw]:
        """The terms of a root's kernel fold, in order, as ``samples`` samples draw them."""
        out = []
        for ids in expand(kernel_ids, ops):
            plan, stationary = self._term(ids)
            method, shape = plan.method, plan.shape
            if method == "khatri_rao":
                draws = samples * shape[0]
                if shape[1] * draws >= SCHUR_PER_POINT * self.config.length * (draws + 1):
                    method, shape = "schur", (shape[0], self.config.length)
            out.append(TermDraw(plan, method, stationary, shape))
        return out

    def draw_roots(self, requests: list[RootRequest]) -> list[np.ndarray]:
        """Each request's GP draws ``(n, length)``: its terms added in order.

        Terms are drawn in groups over all requests: one product per cached
        factor, one Schur sweep per Toeplitz term for all of its samples.
        """
        values: list[list[np.ndarray | None]] = [[None] * len(r.terms) for r in requests]
        by_factor: dict[int, list[tuple[int, int, np.ndarray]]] = {}
        schur: list[tuple[int, int, np.ndarray]] = []
        for i, request in enumerate(requests):
            n, start = len(request.normals), 0
            for j, term in enumerate(request.terms):
                g = request.normals[:, start : start + term.size].reshape(n, *term.shape)
                start += term.size
                plan = term.plan
                if term.method == "white":
                    values[i][j] = plan.scales * g
                elif term.method == "polynomial":
                    values[i][j] = combine(g, plan.scales)
                elif term.method == "dense":
                    values[i][j] = combine(g[:, 0], plan.rows)
                elif term.method in ("factor", "khatri_rao"):
                    by_factor.setdefault(id(plan), []).append((i, j, g))
                else:
                    schur.append((i, j, g))
        for members in by_factor.values():
            rows = self._factor_rows(requests[members[0][0]].terms[members[0][1]].plan)
            stacked = np.concatenate([g.reshape(-1, g.shape[-1]) for _, _, g in members])
            self._scatter(combine(stacked, rows), members, requests, values)
        if schur:
            columns = self.gp.schur_columns([requests[i].terms[j] for i, j, _ in schur])
            stacked = np.concatenate([g.reshape(-1, g.shape[-1]) for _, _, g in schur])
            owner = np.repeat(np.arange(len(schur)), [g.shape[0] * g.shape[1] for _, _, g in schur])
            draws, _ = toeplitz_draws(columns, stacked, owner)
            self._scatter(draws, schur, requests, values)
        out = []
        for terms in values:
            total = terms[0]
            for term in terms[1:]:
                total = total + term
            out.append(total)
        return out

    @staticmethod
    def _factor_rows(plan: TermPlan) -> np.ndarray:
        """The factor rows of a ``factor`` term, or the Khatri-Rao product of a
        ``khatri_rao`` term's factors (formed once for all its samples; row
        ``a * r + b`` is ``rows[a] * rest[b]``, as the term's normals are laid out)."""
        if plan.method == "factor":
            return plan.rows
        rest = khatri_rao([o.T for o in plan.others])
        return khatri_rao([plan.rows.T, rest]).T

    def _scatter(self, draws, members, requests, values) -> None:
        """Cut stacked draws ``(sum of n * J, length)`` back into the terms, scaled."""
        start = 0
        for i, j, g in members:
            n, powers = g.shape[0], g.shape[1]
            block = draws[start : start + n * powers].reshape(n, powers, -1)
            start += n * powers
            values[i][j] = self._scaled_samples(block, requests[i].terms[j].plan)

    @staticmethod
    def _scaled_samples(draws: np.ndarray, plan: TermPlan) -> np.ndarray:
        """``sum_j scales_j * draws[:, j]`` per sample, from j = 0 up (``draws[:, 0]``
        for a unit polynomial)."""
        if plan.unit:
            return draws[:, 0]
        out = plan.scales[0] * draws[:, 0]
        for j in range(1, draws.shape[1]):
            out = out + plan.scales[j] * draws[:, j]
        return out

    # -- activations -------------------------------------------------------------
    def activation_name(self, kind: int) -> str:
        return self.activations[kind][0]

    def activate(self, kind: int, a: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Activation ``kind`` of the bank on rows ``a``, with the two uniforms ``u``
        (one pair for all rows)."""
        return self.activations[kind][1](a, np.broadcast_to(u, (len(a), 2)))

    def activation_parameters(self, kind: int, u: np.ndarray) -> np.ndarray:
        return parameters(self.activations[kind][0], np.asarray(u)[None])[0]

    def compiled_propagation(self) -> CompiledPropagation | None:
        """The sampler's compiled propagation kernel, if the sampler's policy runs it now
        (the same bits as :meth:`activate` and its arithmetic), else None."""
        kernels = acceleration.compiled()
        return None if kernels is None else CompiledPropagation(kernels, self.activations)

    # -- compiled kernels ----------------------------------------------------------
    def note_series(self, series: int, expected: bool = False) -> None:
        """Tell the sampler's compiled-kernel policy how much is (about to be) drawn,
        counted as corpus graphs of ``series_per_graph`` series."""
        graphs = -(-series // self.config.series_per_graph)
        if expected:
            acceleration.expect_graphs(graphs, self.config.length)
        else:
            acceleration.note_graphs(graphs, self.config.length)


class CompiledPropagation:
    """Rows computed as ``act(w_0 v_0 + w_1 v_1 + ... + b)`` by the sampler's compiled
    kernel: node ``k`` of ``own_row`` takes its parents ``parent_rows[first_parent[k]:
    first_parent[k + 1]]`` with ``weights``, bias ``biases[k]`` and activation ``kinds[k]``
    (an index in the bank, or -1: left to ``fallback``) with ``params[k]``."""

    def __init__(self, kernels, activations) -> None:
        self.kernels = kernels
        self.codes = np.array(
            [kernels.ACTIVATION_CODES.get(name, kernels.NUMPY) for name, _ in activations]
        )

    def run(self, values, own_row, first_parent, parent_rows, weights, biases, kinds, params,
            fallback) -> None:  # fmt: skip
        """Compute every node, in order. ``fallback(k)`` applies node ``k``'s activation
        to its row, which holds its pre-activation, when the kernel leaves it to numpy."""
        codes = np.where(kinds >= 0, self.codes[np.maximum(kinds, 0)], self.kernels.NUMPY)
        order = np.arange(len(own_row))
        start = 0
        while start < order.size:
            start = self.kernels.propagate_nodes(
                values, order, own_row, first_parent, parent_rows, weights, biases, codes,
                params, start, self.kernels.PORTABLE,
            )  # fmt: skip
            if start < order.size:
                fallback(start)
                start += 1


@functools.lru_cache(maxsize=8)
def prior_for(config: CauKerConfig) -> Prior:
    """A per-process :class:`Prior` of ``config`` (its factor caches are kept)."""
    return Prior(config)
