"""One random structural causal model per graph index, and its chosen series.

Randomness. Each graph has one stream, ``PCG64(SeedSequence(config.seed,
spawn_key=(split_key, graph_index, attempt)))``. Its first draws are the
structure, a whole array at a time in this order: the DAG (node labels, parent
counts, parent keys), the chosen nodes, then what :meth:`Sampler._draw_numbers`
lists, written once: for the evaluated roots their kernel counts, kernel ids,
fold operators and means, and for the evaluated non-root nodes their weights,
biases, activations and activation parameters (drawn for a whole batch of
graphs by ``cauker.sampler.draws``). The standard normals of the GP root ``r``
(the ``r``-th root in topological order among those evaluated) come from the
same stream advanced by ``(r + 1) * 2**64`` positions: a sub-stream of its own,
so a root's draw depends on nothing but its own kernel and sub-stream, and how
many normals a root consumes never shifts another root's. A graph's series
therefore depend on nothing but the config, the split and its index, and a
shard regenerated alone is bit-identical.

Two options draw more, each from a stream of its own, so that without them
nothing moves (an int ``series_per_graph`` and ``max_lag=0`` give the 2.0.0
rows): with a range of counts, a graph's count comes from the parent of its
attempts' seed sequences, ``SeedSequence(config.seed, spawn_key=(split_key,
graph_index))`` (:meth:`Sampler.counts`: one count per graph, whatever its
redraws), and the graph keeps the first ``count`` nodes of its permutation;
with ``max_lag``, the lags of its edges come from its stream advanced by
``LAG_SUB_STREAM`` positions, past every root's sub-stream, and every node is
computed on the grid extended by ``config.burn_in`` points to the left, of
which the last ``length`` are kept.

Arithmetic. Everything after the draws is element-wise IEEE arithmetic in a
fixed order (see ``cauker.sampler.linalg``, ``cauker.sampler.portable_math``):
the same bits on every machine, whatever its CPU or BLAS, and whichever loops
the sampler's backend runs (``cauker.sampler.backend``).

A batch of graphs is drawn in phases, each over all the graphs at once where
the work allows it: their DAGs, which nodes each needs (the chosen nodes and
their ancestors: the others cannot influence them, so the output distribution
is the paper's) and their depths; the rest of their random numbers; every GP
term of every root, grouped by how it is drawn; the means; then the non-root
nodes, one depth level at a time. Grouping never changes a value: each is
computed by the same operations, in the same order, as if alone.

Redraws: a graph whose chosen series are not all finite in float32 (or, with
``redraw_constant``, one of which is constant) is drawn again with ``attempt +
1``. The ``redraws`` column counts this per row, so it can be audited.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from types import ModuleType

import numpy as np

from cauker.config import MAX_NUM_NODES, CauKerConfig
from cauker.errors import RedrawError
from cauker.sampler.activations import activation_bank, parameters
from cauker.sampler.backend import Backend
from cauker.sampler.dag import Dags, draw_dags
from cauker.sampler.draws import (
    Draws,
    integers,
    random,
    raw_outputs_agree,
    standard_normal,
    uniform,
)
from cauker.sampler.gp import GaussianProcessSampler
from cauker.sampler.kernels import compose_name, kernel_bank
from cauker.sampler.loops import Nodes
from cauker.sampler.means import MAX_SPIKES, MeanDraws, Means, compute_means, mean_bank

#: After this many redraws of one graph, give up with an error.
MAX_ATTEMPTS = 1000

#: Positions between the sub-streams of a graph's stream (one per GP root).
SUB_STREAM_SPACING = 1 << 64
#: The sub-stream of the edges' lags: after those of the most roots a graph can have.
LAG_SUB_STREAM = (MAX_NUM_NODES + 1) * SUB_STREAM_SPACING


def split_key(split: str) -> int:
    """Stable integer key of a split name (part of every graph's seed)."""
    return zlib.crc32(split.encode("utf-8"))


@dataclass
class GraphPlan:
    """What the provenance columns need to know about one graph."""

    index: int
    attempt: int
    kernel_ids: list[list[int]]  # per evaluated root
    ops: list[list[int]]  # per evaluated root
    activation: np.ndarray  # per evaluated non-root node, index in the bank
    means: Means | None = None


@dataclass
class _Numbers:
    """The random numbers of a batch of graphs drawn after their DAGs and chosen
    nodes: per graph its plan, and for all graphs together (graph after graph)
    their roots' mean numbers and their non-root nodes' weights, biases and
    activation parameters."""

    plans: list[GraphPlan]
    means: MeanDraws
    weights: np.ndarray
    biases: np.ndarray
    params: np.ndarray  # (non-root nodes, 2)


@dataclass
class Batch:
    """A batch of planned graphs. Every evaluated node of every graph has a row of
    ``values``; ``row[g, position]`` is its row (-1: not evaluated)."""

    plans: list[GraphPlan]
    dags: Dags
    depth: np.ndarray  # (graphs, n)
    chosen: np.ndarray  # (graphs, most series kept) positions; beyond a graph's count, its first
    counts: np.ndarray  # (graphs,) series kept
    row: np.ndarray  # (graphs, n)
    rank: np.ndarray  # (graphs, n): rank of a node among its graph's evaluated roots, or non-roots
    values: np.ndarray  # (nodes, length): the roots' values until propagated
    nodes: Nodes  # the non-root nodes, in row order


@dataclass
class Graph:
    """The chosen series of one graph and their provenance."""

    index: int
    redraws: int
    values: np.ndarray  # (series_per_graph, length) float32
    node: np.ndarray
    is_root: np.ndarray
    depth: np.ndarray
    kernel: list[str | None]
    mean: list[str | None]
    activation: list[str | None]
    edges: list[tuple] | None = None  # (parent, child, weight, lag, via_dropped), see edges()


class Sampler:
    """Draws graphs of one config with the loops its ``backend`` chooses (default:
    ``CAUKER_COMPILED``'s, see ``cauker.sampler.backend``). Holds per-process caches
    (kernel factors, term plans), shared by threads; the generators it draws from
    are made for each batch, so threads sharing a sampler never move each other's."""

    def __init__(self, config: CauKerConfig, backend: Backend | None = None) -> None:
        self.config = config
        self.backend = Backend() if backend is None else backend
        bank = kernel_bank(config.kernel_bank, config.length)
        self.kernel_names = [entry.name for entry in bank]
        self.gp = GaussianProcessSampler(bank, config.length, config.burn_in)
        self.means = mean_bank(config.mean_bank)
        self.activations = activation_bank(config.activation_bank)
        self.x = self.gp.x

    def _streams(self, key: int, indices: list[int], attempts: dict[int, int]) -> list:
        """Each graph's stream, at its start."""
        return [
            np.random.Generator(
                np.random.PCG64(
                    np.random.SeedSequence(self.config.seed, spawn_key=(key, i, attempts[i]))
                )
            )
            for i in indices
        ]

    def counts(self, key: int, indices: list[int]) -> np.ndarray:
        """How many series each graph keeps: ``series_per_graph``, or with a range
        ``(low, high)`` a uniform draw in it from the graph's own seed sequence
        ``(seed, (split_key, index))``, whose children ``(..., attempt)`` are the
        streams of its attempts. So the count depends on the index alone (a redraw
        keeps it, and its law stays uniform), and an int consumes nothing."""
        low, high = self.config.channel_range
        if low == high:
            return np.full(len(indices), low, dtype=np.int64)
        return np.array(
            [
                np.random.Generator(
                    np.random.PCG64(np.random.SeedSequence(self.config.seed, spawn_key=(key, i)))
                ).integers(low, high + 1)
                for i in indices
            ],
            dtype=np.int64,
        )

    # -- structure -----------------------------------------------------------
    def plan(
        self,
        key: int,
        indices: list[int],
        attempts: dict[int, int],
        loops: ModuleType,
        counts: np.ndarray | None = None,
    ) -> Batch:
        """Draw everything random about the graphs ``indices``, and their root values
        (``counts``: the series each keeps, :meth:`counts`)."""
        c = self.config
        counts = self.counts(key, indices) if counts is None else counts
        generators = self._streams(key, indices, attempts)
        origins = [rng.bit_generator.state for rng in generators]
        dags = draw_dags(generators, c.num_nodes, c.max_parents, c.dag_depth)
        high = c.channel_range[1]
        chosen = np.array([rng.permutation(c.num_nodes)[:high] for rng in generators])
        # Past its count, a graph repeats its first chosen node: the same ancestors.
        chosen = np.where(np.arange(high) < counts[:, None], chosen, chosen[:, :1])
        needed = dags.ancestors_of(chosen)
        is_root = needed & (dags.counts == 0)
        is_inner = needed & (dags.counts > 0)
        row = np.full(needed.shape, -1, dtype=np.int64)
        row[needed] = np.arange(int(needed.sum()))
        numbers = self._draw_numbers(
            Draws(generators, raw=raw_outputs_agree()),
            indices,
            attempts,
            is_root.sum(axis=1),
            is_inner.sum(axis=1),
            np.where(is_inner, dags.counts, 0).sum(axis=1),
        )
        values = np.empty((int(needed.sum()), self.gp.length))
        self._root_values(numbers, generators, origins, values, row[is_root], loops)
        depth = dags.depths()
        graph, position = np.nonzero(is_inner)  # the non-root nodes, in row order
        parent_counts = dags.counts[graph, position]
        widest = int(parent_counts.max(initial=1))
        parents = row[graph[:, None], dags.order[graph, position, :widest]]
        lags = None
        if c.max_lag:
            per_graph = np.bincount(graph, parent_counts, minlength=len(indices)).astype(np.int64)
            lags = self._lags(generators, origins, per_graph)
        return Batch(
            plans=numbers.plans,
            dags=dags,
            depth=depth,
            chosen=chosen,
            counts=counts,
            row=row,
            rank=np.where(is_root, is_root.cumsum(axis=1), is_inner.cumsum(axis=1)) - 1,
            values=values,
            nodes=Nodes(
                row=row[graph, position],
                first_parent=np.concatenate([[0], np.cumsum(parent_counts)]),
                parent_rows=parents[np.arange(widest) < parent_counts[:, None]],  # weight order
                weights=numbers.weights,
                biases=numbers.biases,
                kinds=np.concatenate([plan.activation for plan in numbers.plans]),
                params=numbers.params,
                depth=depth[graph, position],
                lags=lags,
            ),
        )

    def _lags(self, generators: list, origins: list[dict], edges: np.ndarray) -> np.ndarray:
        """Each edge's lag, uniform in ``[0, max_lag]``, in the order of the weights
        (``edges``: each graph's edges into its evaluated nodes), from the lag
        sub-stream of the graph's stream: no other draw moves."""
        lags = []
        for rng, origin, count in zip(generators, origins, edges.tolist()):
            rng.bit_generator.state = origin
            rng.bit_generator.advance(LAG_SUB_STREAM)
            lags.append(rng.integers(0, self.config.max_lag + 1, count))
        return np.concatenate(lags) if lags else np.zeros(0, dtype=np.int64)

    def _draw_numbers(self, draw: Draws, indices, attempts, roots, inner, parents) -> _Numbers:
        """Each graph's draws after its DAG and chosen nodes, in their fixed order
        (``roots``, ``inner`` and ``parents``: each graph's evaluated roots, non-root
        nodes, and their parents)."""
        c = self.config
        (kernel_counts,) = draw([integers(1, c.max_kernels + 1, roots)])
        owner = np.repeat(np.arange(len(indices)), roots)
        kernels = np.bincount(owner, kernel_counts, minlength=len(indices)).astype(np.int64)
        ids, ops, *mean_numbers, weights, biases, activation, au = draw(
            [
                integers(0, len(self.kernel_names), kernels),  # each root's kernels
                integers(0, 2, kernels - roots),  # its fold: + or *
                *self.mean_calls(roots),  # its mean
                standard_normal(parents),  # each non-root node's weights
                standard_normal(inner),  # its bias
                integers(0, len(self.activations), inner),  # its activation
                random(2 * inner),  # its activation's parameters
            ]
        )
        means = self.mean_draws(mean_numbers)
        params = parameters(self.activations, activation, au.reshape(-1, 2))
        plans = []
        counts, ids, ops = kernel_counts.tolist(), ids.tolist(), ops.tolist()
        root = at_id = at_op = at_inner = 0
        for index, graph_roots, graph_inner in zip(indices, roots.tolist(), inner.tolist()):
            kernel_ids, folds = [], []
            for k in counts[root : root + graph_roots]:
                kernel_ids.append(ids[at_id : at_id + k])
                folds.append(ops[at_op : at_op + k - 1])
                at_id += k
                at_op += k - 1
            root += graph_roots
            own = activation[at_inner : at_inner + graph_inner]
            at_inner += graph_inner
            plans.append(GraphPlan(index, attempts[index], kernel_ids, folds, own))
        return _Numbers(plans, means, weights, biases, params)

    def mean_calls(self, roots: np.ndarray) -> list:
        """The calls drawing the means of ``roots[g]`` roots in each stream ``g``, in
        order (:meth:`mean_draws` reads their values)."""
        length = self.config.length
        return [
            integers(0, self.means.size, 2 * roots),  # each root's two mean entries
            integers(0, 2, roots),  # combined by + or *
            random(4 * roots),  # their (a, b)
            integers(1, MAX_SPIKES + 1, 2 * roots),  # their spikes
            integers(0, length, 2 * MAX_SPIKES * roots),  # where
            uniform(-5.0, 5.0, 2 * MAX_SPIKES * roots),  # how high
        ]

    def mean_draws(self, values: list[np.ndarray]) -> MeanDraws:
        """The :class:`MeanDraws` of the values of :meth:`mean_calls`."""
        kinds, multiply, u, spikes, where, heights = values
        count = multiply.size
        return MeanDraws(
            kinds=self.means[kinds.reshape(count, 2)],
            multiply=multiply,
            u=u.reshape(count, 2, 2),
            spikes=spikes.reshape(count, 2),
            where=where.reshape(count, 2, MAX_SPIKES) + self.config.burn_in,  # the kept window
            heights=heights.reshape(count, 2, MAX_SPIKES),
        )

    def _root_values(
        self,
        numbers: _Numbers,
        generators: list,
        origins: list[dict],
        values: np.ndarray,
        rows: np.ndarray,
        loops: ModuleType,
    ) -> None:
        """Write every root's value, its mean plus its GP terms added in order, to
        ``values[rows]`` (``rows``: the roots of all graphs, in order); each root's
        normals come from its sub-stream of its graph's stream (``origins``: where
        the streams started)."""
        plans, normals, owner = [], [], []  # every term, its normals, its root's number
        root = 0
        for g, plan in enumerate(numbers.plans):
            noise = generators[g]  # done with its schedule: now its roots' sub-streams
            for r, (kernel_ids, ops) in enumerate(zip(plan.kernel_ids, plan.ops)):
                root_plans = self.gp.root_plans(kernel_ids, ops)
                noise.bit_generator.state = origins[g]
                noise.bit_generator.advance((r + 1) * SUB_STREAM_SPACING)
                drawn = noise.standard_normal(sum(p.size for p in root_plans))
                start = 0
                for p in root_plans:
                    plans.append(p)
                    normals.append(drawn[start : start + p.size].reshape(p.shape))
                    owner.append(root)
                    start += p.size
                root += 1
        means = compute_means(numbers.means, self.x, loops)
        start = 0
        for plan in numbers.plans:
            plan.means = means.slice(start, start + len(plan.kernel_ids))
            start += len(plan.kernel_ids)
        values[rows] = means.values
        # The j-th terms of all roots are added together, j = 0, 1, ...
        term_values = self.gp.draw(plans, normals, loops)
        owner = np.array(owner, dtype=np.int64)
        rank = np.arange(owner.size) - np.searchsorted(owner, owner)
        for j in range(int(rank.max(initial=-1)) + 1):
            members = np.flatnonzero(rank == j)
            values[rows[owner[members]]] += term_values[members]

    def propagate(self, batch: Batch, loops: ModuleType) -> np.ndarray:
        """The chosen series (float64), ``(graphs, most series kept, length)`` (past a
        graph's count, its first series again), on the kept window, once ``loops``
        has propagated the roots' values through the non-root nodes."""
        with np.errstate(all="ignore"):  # non-finite series are redrawn, not warned about
            loops.propagate(batch.values, batch.nodes, self.activations)
        rows = batch.row[np.arange(len(batch.plans))[:, None], batch.chosen]
        return batch.values[rows, self.config.burn_in :]

    @staticmethod
    def node_of_row(batch: Batch) -> np.ndarray:
        """For each row of ``batch.values``, its place in ``batch.nodes`` (-1: a root)."""
        out = np.full(len(batch.values), -1, dtype=np.int64)
        out[batch.nodes.row] = np.arange(batch.nodes.row.size)
        return out

    @staticmethod
    def edges(batch: Batch, g: int, node_of_row: np.ndarray | None = None) -> list[tuple]:
        """The edges among the channels of graph ``g`` (its chosen nodes, in order):
        ``(parent channel, child channel, weight, lag, via_dropped)`` for every
        pair linked by a directed path whose inner nodes are all dropped (the
        edges of the DAG projected onto the kept channels). ``weight`` and ``lag``
        are those of the direct edge, or None if the only paths run through
        dropped nodes; ``via_dropped`` says whether such a path exists. A path
        through a kept channel is the edges it is made of; a dropped common
        parent (a confounder) is not an edge. Sorted by child, then parent."""
        dags, nodes = batch.dags, batch.nodes
        kept = batch.chosen[g, : batch.counts[g]].tolist()
        channel = {position: c for c, position in enumerate(kept)}
        if node_of_row is None:
            node_of_row = Sampler.node_of_row(batch)
        out = []
        for child, position in enumerate(kept):
            direct: dict[int, tuple] = {}
            via: set[int] = set()
            count = int(dags.counts[g, position])
            if count:
                first = int(nodes.first_parent[node_of_row[batch.row[g, position]]])
                for slot, parent in enumerate(dags.order[g, position, :count].tolist()):
                    if parent in channel:
                        q = first + slot
                        lag = 0 if nodes.lags is None else int(nodes.lags[q])
                        direct[channel[parent]] = (float(nodes.weights[q]), lag)
            # The kept nodes reached going up through dropped nodes only.
            todo = [p for p in dags.order[g, position, :count].tolist() if p not in channel]
            seen = set(todo)
            while todo:
                node = todo.pop()
                for parent in dags.order[g, node, : dags.counts[g, node]].tolist():
                    if parent in channel:
                        via.add(channel[parent])
                    elif parent not in seen:
                        seen.add(parent)
                        todo.append(parent)
            for parent in sorted(direct.keys() | via):
                weight, lag = direct.get(parent, (None, None))
                out.append((parent, child, weight, lag, parent in via))
        return out

    # -- output -----------------------------------------------------------------
    def _describe(self, batch: Batch, series: np.ndarray, valid: np.ndarray) -> list[Graph]:
        """The valid graphs of ``batch`` (``series``: their chosen series), described."""
        chosen = batch.chosen
        node_of_row = self.node_of_row(batch) if self.config.has_edges else None
        is_root = np.take_along_axis(batch.dags.counts, chosen, axis=1) == 0
        # A chosen node's rank among its graph's evaluated roots, or non-roots.
        rank = np.take_along_axis(batch.rank, chosen, axis=1).tolist()
        node = np.take_along_axis(batch.dags.node_ids, chosen, axis=1).astype(np.int32)
        depth = np.take_along_axis(batch.depth, chosen, axis=1).astype(np.int32)
        described = []
        for g in np.flatnonzero(valid).tolist():
            plan = batch.plans[g]
            k = int(batch.counts[g])
            kernel, mean, activation = [], [], []
            for root, r in zip(is_root[g, :k].tolist(), rank[g][:k]):
                if root:
                    names = [self.kernel_names[k] for k in plan.kernel_ids[r]]
                    kernel.append(compose_name(names, ["*" if o else "+" for o in plan.ops[r]]))
                    mean.append(plan.means.describe(r))
                    activation.append(None)
                else:
                    kernel.append(None)
                    mean.append(None)
                    activation.append(self.activations[plan.activation[r]][0])
            described.append(
                Graph(
                    index=plan.index,
                    redraws=plan.attempt,
                    values=series[g, :k],
                    node=node[g, :k],
                    is_root=is_root[g, :k],
                    depth=depth[g, :k],
                    kernel=kernel,
                    mean=mean,
                    activation=activation,
                    edges=None if node_of_row is None else self.edges(batch, g, node_of_row),
                )
            )
        return described

    def graphs(self, split: str, indices: range) -> list[Graph]:
        """The graphs ``indices`` of ``split``, in order, redrawn until valid."""
        key = split_key(split)
        loops = self.backend.loops(len(indices), self.config.length)
        attempts = dict.fromkeys(indices, 0)
        counts = dict(zip(indices, self.counts(key, list(indices)).tolist()))
        done: dict[int, Graph] = {}
        todo = list(indices)
        while todo:
            own = np.array([counts[i] for i in todo], dtype=np.int64)
            batch = self.plan(key, todo, attempts, loops, own)
            series = self.propagate(batch, loops).astype(np.float32)
            valid = np.isfinite(series).all(axis=(1, 2))
            if self.config.redraw_constant:
                valid &= ~(np.ptp(series, axis=2) == 0).any(axis=1)
            for graph in self._describe(batch, series, valid):
                done[graph.index] = graph
            todo = []
            for g, plan in enumerate(batch.plans):
                if valid[g]:
                    continue
                attempts[plan.index] += 1
                if attempts[plan.index] >= MAX_ATTEMPTS:
                    raise RedrawError(
                        f"graph {plan.index} of split {split!r} was redrawn {MAX_ATTEMPTS} "
                        f"times without a valid output; check the config {self.config}"
                    )
                todo.append(plan.index)
        return [done[i] for i in indices]
