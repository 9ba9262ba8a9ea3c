"""The one door from the tasks to the sampler: the CauKer prior's pieces, as tasks use them.

Tasks draw their series from the same prior as corpora (DAGs, kernel, mean and
activation banks, exact GP draws, propagation through the graph), but many
samples per mechanism. Everything they take from :mod:`cauker.sampler` goes
through this module, so that a change in the sampler's internals touches this
file only:

- :class:`Prior`: the corpus sampler of a config (its banks, its GP plan and
  factor caches, and its :class:`~cauker.sampler.backend.Backend`, which picks
  numpy's or numba's loops for each batch: the same bits);
- :meth:`Prior.draw_dags` and :meth:`Prior.draw_numbers`: the random DAGs and
  the corpora's draw schedule (``cauker.sampler.scm``), written once;
- :meth:`Prior.root_terms` and :meth:`Prior.draw_roots`: every term of a root's
  kernel drawn for ``n`` samples from ONE factor: a cached bank factor (or the
  Khatri-Rao product of cached factors, formed once) times all the samples'
  normals, or one Schur sweep of the term's Toeplitz matrix applied to all of
  them (an owner map), never one factorisation per sample;
- :meth:`Prior.propagate`: the backend's propagation loop;
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
from types import ModuleType

import numpy as np

from cauker.config import CauKerConfig
from cauker.sampler import portable_math
from cauker.sampler.activations import parameters
from cauker.sampler.backend import COMPILE_AFTER, mode_from_environment
from cauker.sampler.dag import Dags, draw_dags
from cauker.sampler.draws import Draws, raw_outputs_agree
from cauker.sampler.gp import TermPlan, expand
from cauker.sampler.kernels import compose_name, kernel_bank
from cauker.sampler.linalg import combine, khatri_rao, rowwise_dot
from cauker.sampler.loops import Nodes
from cauker.sampler.means import MeanDraws, Means, compute_means
from cauker.sampler.rows import sampler_for
from cauker.sampler.schema import _column as arrow_column
from cauker.sampler.scm import SUB_STREAM_SPACING, split_key
from cauker.sampler.toeplitz import toeplitz_draws

__all__ = [
    "COMPILE_AFTER",
    "SUB_STREAM_SPACING",
    "Dags",
    "MeanDraws",
    "Means",
    "Nodes",
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


def _leave_as_numpy_would(draw: Draws) -> None:
    """Put the half of a 32-bit output that numpy's calls would have kept into the
    generators of ``draw`` (rebuilt draws follow it without writing it back), so
    that what they draw next is what follows numpy's own calls."""
    if not draw.raw:
        return
    for rng, pending, kept in zip(draw.generators, draw.pending.tolist(), draw.kept.tolist()):
        state = rng.bit_generator.state
        state["has_uint32"], state["uinteger"] = int(pending), int(kept)
        rng.bit_generator.state = state


class Prior:
    """The banks, the GP sampler and the backend of one prior (a ``CauKerConfig``'s
    series fields): those of the corpus sampler of that config, so tasks and corpora
    share their caches and their choice of loops."""

    def __init__(self, config: CauKerConfig) -> None:
        self.config = config
        self.sampler = sampler_for(config)
        self.backend = self.sampler.backend
        self.kernel_names = self.sampler.kernel_names
        bank = kernel_bank(config.kernel_bank, config.length)
        #: The scikit-learn class of each bank entry (None: a custom kernel cauker cannot read).
        self.kernel_kinds = [entry.spec.kind if entry.spec else None for entry in bank]
        self.gp = self.sampler.gp
        self.means = self.sampler.means
        self.activations = self.sampler.activations
        self.x = self.gp.x
        self._term = functools.lru_cache(maxsize=PLAN_CACHE)(self._plan_and_components)

    # -- structure -------------------------------------------------------------
    def loops(self, series: int) -> ModuleType:
        """The loops of a batch drawing ``series`` series (counted as corpus graphs of
        ``series_per_graph`` series, the most of a range, see ``cauker.sampler.backend``)."""
        graphs = -(-series // self.config.channel_range[1])
        return self.backend.loops(graphs, self.config.length)

    def job(self, series: int):
        """A block drawing about ``series`` series (:meth:`Backend.job`)."""
        graphs = -(-series // self.config.channel_range[1])
        return self.backend.job(graphs, self.config.length)

    def draw_dags(self, generators: list[np.random.Generator]) -> Dags:
        """One DAG per generator, the prior's law (the paper's, or layered)."""
        c = self.config
        return draw_dags(generators, c.num_nodes, c.max_parents, c.dag_depth)

    def draw_numbers(self, generators, roots: np.ndarray, inner: np.ndarray, parents: np.ndarray):
        """The corpora's draws after the DAG and the chosen nodes, in their order, in
        each generator (``roots``, ``inner``, ``parents``: each graph's needed roots,
        non-root nodes and their parents): ``cauker.sampler.scm``'s schedule."""
        indices = list(range(len(generators)))
        draw = Draws(generators, raw=raw_outputs_agree())
        numbers = self.sampler._draw_numbers(
            draw, indices, dict.fromkeys(indices, 0), roots, inner, parents
        )
        _leave_as_numpy_would(draw)
        return numbers

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
        """The numbers of ``count`` roots' means, drawn from ``rng`` as corpora draw them."""
        draw = Draws([rng], raw=raw_outputs_agree())
        numbers = self.sampler.mean_draws(draw(self.sampler.mean_calls(np.array([count]))))
        _leave_as_numpy_would(draw)
        return numbers

    def means_of(self, draws: MeanDraws, loops: ModuleType) -> Means:
        return compute_means(draws, self.x, loops)

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

    def draw_roots(self, requests: list[RootRequest], loops: ModuleType) -> list[np.ndarray]:
        """Each request's GP draws ``(n, length)``: its terms added in order, with the
        Schur sweeps of ``loops`` (:meth:`loops`).

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
            draws, _ = toeplitz_draws(columns, stacked, owner, loops=loops)
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

    # -- activations and propagation ---------------------------------------------
    def activation_name(self, kind: int) -> str:
        return self.activations[kind][0]

    def activation_parameters(self, kinds: np.ndarray, u: np.ndarray) -> np.ndarray:
        """``(nodes, 2)``: the parameters of activations ``kinds`` from their uniforms ``u``."""
        return parameters(self.activations, np.asarray(kinds), np.asarray(u).reshape(-1, 2))

    def propagate(self, values: np.ndarray, nodes: Nodes, extra: tuple, loops: ModuleType) -> None:
        """``loops``' propagation of ``nodes`` through ``values``, in place; activation
        ``len(bank) + i`` is ``extra[i]`` (a ``(name, function)`` pair, which numpy applies)."""
        loops.propagate(values, nodes, self.activations + extra)


def prior_for(config: CauKerConfig) -> Prior:
    """A per-process :class:`Prior` of ``config`` (its factor caches are kept), with the
    backend ``CAUKER_COMPILED`` names (see ``cauker.sampler.backend``)."""
    return _prior(config, mode_from_environment())


@functools.lru_cache(maxsize=8)
def _prior(config: CauKerConfig, mode: str) -> Prior:
    return Prior(config)
