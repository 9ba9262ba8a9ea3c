"""One random structural causal model per graph index, and its chosen series.

Randomness. Each graph has one stream, ``PCG64(SeedSequence(config.seed,
spawn_key=(split_key, graph_index, attempt)))`` (the streams of a batch are
seeded together by ``cauker.sampler.streams``, to the same states). Its first draws are the
structure, a whole array at a time in this order: the DAG (node labels, parent
counts, parent keys), the chosen nodes, then for the evaluated roots their
kernel counts, kernel ids, fold operators and means, and for the evaluated
non-root nodes their weights, biases, activations and activation parameters.
The standard normals of the GP root ``r`` (the ``r``-th root in topological
order among those evaluated) come from the same stream advanced by ``(r + 1) *
2**64`` positions: a sub-stream of its own, so a root's draw depends on nothing
but its own kernel and sub-stream, and how many normals a root consumes never
shifts another root's. A graph's series therefore depend on nothing but the
config, the split and its index, and a shard regenerated alone is bit-identical.
The draws after the DAG and the chosen nodes are numpy's calls, in that order;
for speed they are rebuilt for the whole batch from raw outputs of the streams
(``cauker.sampler.raw_draws``: the same numbers, checked against numpy's calls
once per sampler, which are used instead wherever they could differ).

Arithmetic. Everything after the draws is element-wise IEEE arithmetic in a
fixed order (see ``cauker.sampler.linalg``, ``cauker.sampler.portable_math``): the same bits
on every machine, whatever its CPU or BLAS.

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

import threading
import zlib
from dataclasses import dataclass

import numpy as np

from cauker.config import CauKerConfig
from cauker.errors import RedrawError
from cauker.sampler import acceleration
from cauker.sampler.activations import activation_bank, parameters
from cauker.sampler.dag import Dags, draw_dags
from cauker.sampler.gp import GaussianProcessSampler
from cauker.sampler.kernels import compose_name, kernel_bank
from cauker.sampler.means import (
    MAX_SPIKES,
    MeanDraws,
    Means,
    compute_means,
    concatenate,
    draw_mean_numbers,
    mean_bank,
)
from cauker.sampler.raw_draws import HalfStreams, doubles, raw_blocks
from cauker.sampler.streams import MAX_WORD, StreamSeeder, agrees_with_numpy, numpy_state

#: After this many redraws of one graph, give up with an error.
MAX_ATTEMPTS = 1000

#: Positions between the sub-streams of a graph's stream (one per GP root).
SUB_STREAM_SPACING = 1 << 64


def split_key(split: str) -> int:
    """Stable integer key of a split name (part of every graph's seed)."""
    return zlib.crc32(split.encode("utf-8"))


def _split(values: list, sizes: list[int]) -> list[list]:
    """``values`` cut into consecutive pieces of the given sizes."""
    pieces, start = [], 0
    for size in sizes:
        pieces.append(values[start : start + size])
        start += size
    return pieces


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
    activation uniforms."""

    plans: list[GraphPlan]
    means: MeanDraws
    weights: np.ndarray
    biases: np.ndarray
    activation_uniforms: np.ndarray


@dataclass
class Batch:
    """A batch of planned graphs. Every evaluated node of every graph has a row of
    ``values``; ``row[g, position]`` is its row (-1: not evaluated)."""

    plans: list[GraphPlan]
    dags: Dags
    depth: np.ndarray  # (graphs, n)
    chosen: np.ndarray  # (graphs, series_per_graph) positions
    row: np.ndarray  # (graphs, n)
    rank: np.ndarray  # (graphs, n): rank of a node among its graph's evaluated roots, or non-roots
    values: np.ndarray  # (nodes, length): the roots' values until propagated
    inner: np.ndarray  # (inner nodes, 2): (graph, position), in row order
    weights: np.ndarray  # all inner nodes' weights, one per parent, in row order
    biases: np.ndarray  # per inner node
    activation: np.ndarray  # per inner node
    activation_uniforms: np.ndarray  # (inner nodes, 2)


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


def raw_draws_agree(sampler: Sampler) -> bool:
    """Whether ``Sampler._raw_numbers`` gives numpy's own numbers on this machine, with
    this numpy: both on the same 24 streams, some keeping a half of ``next_uint32``."""
    sizes = np.random.default_rng(7).integers(1, 12, (3, 24))
    roots, inner, parents = sizes[0], sizes[1], sizes[1] + sizes[2]

    def streams() -> list[np.random.Generator]:
        out = []
        for g in range(24):
            rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(g, spawn_key=(99,))))
            rng.integers(0, 7, g % 3)  # 1 call of next_uint32 leaves a half kept
            out.append(rng)
        return out

    indices = list(range(24))
    attempts = dict.fromkeys(indices, 0)
    first = streams()
    states = [rng.bit_generator.state for rng in first]
    raw = sampler._raw_numbers(first, states, indices, attempts, roots, inner, parents)
    expected = sampler._numpy_numbers(streams(), indices, attempts, roots, inner, parents)
    if raw is None:
        return False
    same_plans = all(
        (a.kernel_ids, a.ops, a.activation.tolist()) == (b.kernel_ids, b.ops, b.activation.tolist())
        for a, b in zip(raw.plans, expected.plans)
    )
    arrays = [
        (getattr(raw.means, f), getattr(expected.means, f)) for f in MeanDraws.__dataclass_fields__
    ]
    arrays += [
        (getattr(raw, f), getattr(expected, f))
        for f in ("weights", "biases", "activation_uniforms")
    ]
    return same_plans and all(
        a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b) for a, b in arrays
    )


class _Scratch(threading.local):
    """The generators a sampler repositions as it draws, one set per thread: threads
    that share a sampler (``cauker.sampler.rows.sampler_for`` keeps one per process
    and config) must not move each other's streams, which would change rows
    silently."""

    def __init__(self) -> None:
        self.pool: list[np.random.Generator] = []  # the graphs' streams
        self.noise = np.random.Generator(np.random.PCG64(0))  # each root's sub-stream


class Sampler:
    """Draws graphs of one config. Holds per-process caches (kernel factors, term
    plans), shared by threads; what it repositions as it draws is per thread."""

    def __init__(self, config: CauKerConfig) -> None:
        self.config = config
        bank = kernel_bank(config.kernel_bank, config.length)
        self.kernel_names = [entry.name for entry in bank]
        self.gp = GaussianProcessSampler(bank, config.length)
        self.means = mean_bank(config.mean_bank)
        self.activations = activation_bank(config.activation_bank)
        self.x = self.gp.x
        self._seeders: dict[int, StreamSeeder | None] = {}
        self._raw_draws: bool | None = None  # whether raw_draws gives numpy's numbers
        self._scratch = _Scratch()

    def _stream_states(self, key: int, indices: list[int], attempts: dict[int, int]) -> list[dict]:
        """The first state of each graph's stream (see ``cauker.sampler.streams``)."""
        tries = [attempts[index] for index in indices]
        if key not in self._seeders:
            seeder = StreamSeeder(self.config.seed, key)
            self._seeders[key] = (
                seeder if agrees_with_numpy(seeder, self.config.seed, key) else None
            )
        seeder = self._seeders[key]
        if seeder is not None and max(indices) <= MAX_WORD and max(tries) <= MAX_WORD:
            return seeder.states(np.array(indices), np.array(tries))
        return [numpy_state(self.config.seed, (key, i, a)) for i, a in zip(indices, tries)]

    def _streams(self, states: list[dict]) -> list[np.random.Generator]:
        """Generators at the given states (this thread's, reused from batch to batch)."""
        pool = self._scratch.pool
        while len(pool) < len(states):
            pool.append(np.random.Generator(np.random.PCG64(0)))
        for rng, state in zip(pool, states):
            rng.bit_generator.state = state
        return pool[: len(states)]

    def _sub_stream(self, origin: dict, number: int) -> np.random.Generator:
        noise = self._scratch.noise
        noise.bit_generator.state = origin
        noise.bit_generator.advance((number + 1) * SUB_STREAM_SPACING)
        return noise

    # -- structure -----------------------------------------------------------
    def plan(self, key: int, indices: list[int], attempts: dict[int, int]) -> Batch:
        """Draw everything random about the graphs ``indices``, and their root values."""
        c = self.config
        origins = self._stream_states(key, indices, attempts)
        generators = self._streams(origins)
        dags = draw_dags(generators, c.num_nodes, c.max_parents, c.dag_depth)
        chosen = np.array(
            [rng.permutation(c.num_nodes)[: c.series_per_graph] for rng in generators]
        )
        needed = dags.ancestors_of(chosen)
        is_root = needed & (dags.counts == 0)
        is_inner = needed & (dags.counts > 0)
        row = np.full(needed.shape, -1, dtype=np.int64)
        row[needed] = np.arange(int(needed.sum()))
        numbers = self._numbers(
            generators,
            indices,
            attempts,
            is_root.sum(axis=1),
            is_inner.sum(axis=1),
            np.where(needed, dags.counts, 0).sum(axis=1),
        )
        values = np.empty((int(needed.sum()), c.length))
        self._root_values(numbers, origins, values, row[is_root])
        return Batch(
            plans=numbers.plans,
            dags=dags,
            depth=dags.depths(),
            chosen=chosen,
            row=row,
            rank=np.where(is_root, is_root.cumsum(axis=1), is_inner.cumsum(axis=1)) - 1,
            values=values,
            inner=np.argwhere(is_inner),
            weights=numbers.weights,
            biases=numbers.biases,
            activation=np.concatenate([plan.activation for plan in numbers.plans]),
            activation_uniforms=numbers.activation_uniforms,
        )

    def _numbers(self, generators, indices, attempts, roots, inner, parents) -> _Numbers:
        """The graphs' draws after their DAGs and chosen nodes: rebuilt from raw
        outputs (``cauker.sampler.raw_draws``) where that gives numpy's numbers,
        else by numpy's own calls, graph by graph (:meth:`_draw_numbers`)."""
        if self._raw_draws is None:
            self._raw_draws = raw_draws_agree(self)
        if self._raw_draws:
            states = [rng.bit_generator.state for rng in generators]
            numbers = self._raw_numbers(
                generators, states, indices, attempts, roots, inner, parents
            )
            if numbers is not None:
                return numbers
            for rng, state in zip(generators, states):  # a rejection: numpy's own calls
                rng.bit_generator.state = state
        return self._numpy_numbers(generators, indices, attempts, roots, inner, parents)

    def _numpy_numbers(self, generators, indices, attempts, roots, inner, parents) -> _Numbers:
        """:meth:`_draw_numbers` graph by graph, gathered."""
        drawn = [
            self._draw_numbers(rng, index, attempts[index], r, i, p)
            for rng, index, r, i, p in zip(
                generators, indices, roots.tolist(), inner.tolist(), parents.tolist()
            )
        ]
        return _Numbers(
            plans=[plan for plan, *_ in drawn],
            means=concatenate([means for _, means, *_ in drawn]),
            weights=np.concatenate([d[2] for d in drawn]),
            biases=np.concatenate([d[3] for d in drawn]),
            activation_uniforms=np.concatenate([d[4] for d in drawn]),
        )

    def _raw_numbers(self, generators, states, indices, attempts, roots, inner, parents):
        """:meth:`_draw_numbers` for every graph, from blocks of raw outputs of their
        streams; None if numpy would have rejected an integer (then the caller draws
        again with numpy's calls)."""
        c = self.config
        streams = HalfStreams(
            [state["has_uint32"] for state in states], [state["uinteger"] for state in states]
        )
        # kernel counts
        calls = [(roots, 1, c.max_kernels)]
        raw, start = raw_blocks(generators, streams.raws_for_calls(calls)[0])
        got = streams.integers(raw, start, calls)
        if got is None:
            return None
        kernel_counts = got[0]
        owner = np.repeat(np.arange(len(generators)), roots)
        total = np.bincount(owner, weights=kernel_counts, minlength=len(generators))
        total = total.astype(np.int64)  # kernels per graph (exact: small integers)
        # kernel ids, fold operators, mean kinds and operators; mean uniforms; spike
        # counts and places; spike heights
        first = [
            (total, 0, len(self.kernel_names)),
            (total - roots, 0, 2),
            (2 * roots, 0, self.means.size),
            (roots, 0, 2),
        ]
        second = [(2 * roots, 1, MAX_SPIKES), (2 * MAX_SPIKES * roots, 0, c.length)]
        first_raws, kept = streams.raws_for_calls(first)
        second_raws, _ = streams.raws_for_calls(second, kept)
        uniforms, heights = 4 * roots, 2 * MAX_SPIKES * roots
        raw, start = raw_blocks(generators, first_raws + uniforms + second_raws + heights)
        got = streams.integers(raw, start, first)
        if got is None:
            return None
        ids, ops, kinds, multiply = got
        u = doubles(raw, start + first_raws, uniforms)
        got = streams.integers(raw, start + first_raws + uniforms, second)
        if got is None:
            return None
        spikes, where = got
        heights_u = doubles(raw, start + first_raws + uniforms + second_raws, heights)
        # weights and biases: one call per graph gives the same normals as two
        normals = [rng.standard_normal(n) for rng, n in zip(generators, (parents + inner).tolist())]
        weights = np.concatenate([z[:p] for z, p in zip(normals, parents.tolist())])
        biases = np.concatenate([z[p:] for z, p in zip(normals, parents.tolist())])
        # activations and their uniforms
        calls = [(inner, 0, len(self.activations))]
        activation_raws, _ = streams.raws_for_calls(calls)
        raw, start = raw_blocks(generators, activation_raws + 2 * inner)
        got = streams.integers(raw, start, calls)
        if got is None:
            return None
        activation = got[0]
        activation_uniforms = doubles(raw, start + activation_raws, 2 * inner)

        count = int(roots.sum())
        means = MeanDraws(
            kinds=self.means[kinds.reshape(count, 2)],
            multiply=multiply,
            u=u.reshape(count, 2, 2),
            spikes=spikes.reshape(count, 2),
            where=where.reshape(count, 2, MAX_SPIKES),
            heights=(-5.0 + 10.0 * heights_u).reshape(count, 2, MAX_SPIKES),
        )
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
        return _Numbers(
            plans, means, weights, biases, activation_uniforms.reshape(int(inner.sum()), 2)
        )

    def _draw_numbers(
        self,
        rng: np.random.Generator,
        index: int,
        attempt: int,
        roots: int,
        inner: int,
        parents: int,
    ) -> tuple[GraphPlan, MeanDraws, np.ndarray, np.ndarray, np.ndarray]:
        """One graph's draws after its DAG and chosen nodes, in their fixed order:
        its plan, mean numbers, weights, biases and activation uniforms."""
        c = self.config
        kernel_counts = rng.integers(1, c.max_kernels + 1, roots).tolist()
        total = sum(kernel_counts)
        kernel_ids = _split(rng.integers(0, len(self.kernel_names), total).tolist(), kernel_counts)
        ops = _split(rng.integers(0, 2, total - roots).tolist(), [k - 1 for k in kernel_counts])
        means = draw_mean_numbers(rng, c.length, self.means, roots)
        weights = rng.standard_normal(parents)
        biases = rng.standard_normal(inner)
        activation = rng.integers(0, len(self.activations), inner)
        activation_uniforms = rng.random(inner * 2).reshape(inner, 2)
        plan = GraphPlan(index, attempt, kernel_ids, ops, activation)
        return plan, means, weights, biases, activation_uniforms

    def _root_values(
        self, numbers: _Numbers, origins: list[dict], values: np.ndarray, rows: np.ndarray
    ) -> None:
        """Write every root's value, its mean plus its GP terms added in order, to
        ``values[rows]`` (``rows``: the roots of all graphs, in order)."""
        plans, normals, owner = [], [], []  # every term, its normals, its root's number
        root = 0
        for g, plan in enumerate(numbers.plans):
            for r, (kernel_ids, ops) in enumerate(zip(plan.kernel_ids, plan.ops)):
                root_plans = self.gp.root_plans(kernel_ids, ops)
                drawn = self._sub_stream(origins[g], r).standard_normal(
                    sum(p.size for p in root_plans)
                )
                start = 0
                for p in root_plans:
                    plans.append(p)
                    normals.append(drawn[start : start + p.size].reshape(p.shape))
                    owner.append(root)
                    start += p.size
                root += 1
        means = compute_means(numbers.means, self.x)
        start = 0
        for plan in numbers.plans:
            plan.means = means.slice(start, start + len(plan.kernel_ids))
            start += len(plan.kernel_ids)
        values[rows] = means.values
        # The j-th terms of all roots are added together, j = 0, 1, ...
        term_values = self.gp.draw(plans, normals)
        owner = np.array(owner, dtype=np.int64)
        rank = np.arange(owner.size) - np.searchsorted(owner, owner)
        for j in range(int(rank.max(initial=-1)) + 1):
            members = np.flatnonzero(rank == j)
            at = rows[owner[members]]
            values[at] = values[at] + np.stack([term_values[t] for t in members])

    # -- propagation -----------------------------------------------------------
    def propagate(self, batch: Batch) -> np.ndarray:
        """The chosen series (float64), ``(graphs, series_per_graph, length)``.

        Level by level (a node's depth is one more than its deepest parent's),
        the pre-activations of nodes with the same number of parents are
        computed together, then each activation is applied once per level to all
        the nodes that drew it. Per
        node the operations and their order are those of ``act(w_0 v_0 + w_1 v_1
        + ... + b)``, so the bits do not depend on what else is in the batch.
        """
        values, dags, inner = batch.values, batch.dags, batch.inner
        graph, position = inner[:, 0], inner[:, 1]
        counts = dags.counts[graph, position]
        first_weight = np.cumsum(counts) - counts
        depth = batch.depth[graph, position]
        own_row = batch.row[graph, position]
        kernels = acceleration.compiled()
        with np.errstate(all="ignore"):  # non-finite series are redrawn, not warned about
            if kernels is not None:
                self._propagate_compiled(kernels, batch, counts, first_weight, depth, own_row)
            else:
                self._propagate_levels(batch, counts, first_weight, depth, own_row)
        return values[batch.row[np.arange(len(batch.plans))[:, None], batch.chosen]]

    def _propagate_levels(self, batch, counts, first_weight, depth, own_row) -> None:
        """``propagate`` with numpy, one level and one activation at a time."""
        values, dags = batch.values, batch.dags
        graph, position = batch.inner[:, 0], batch.inner[:, 1]
        for level in np.unique(depth).tolist():
            nodes = np.flatnonzero(depth == level)
            for count in np.unique(counts[nodes]).tolist():
                same = nodes[counts[nodes] == count]
                parent_rows = batch.row[
                    graph[same, None], dags.order[graph[same], position[same], :count]
                ]
                w = batch.weights[first_weight[same, None] + np.arange(count)]
                # In place, the same operations: a = w_0 v_0, a = a + w_j v_j, a + b.
                a = values[parent_rows[:, 0]]
                a *= w[:, :1]
                for j in range(1, count):
                    term = values[parent_rows[:, j]]
                    term *= w[:, j : j + 1]
                    a += term
                a += batch.biases[same, None]
                values[own_row[same]] = a  # pre-activations
            kinds = batch.activation[nodes]
            for kind in np.unique(kinds).tolist():
                mine = nodes[kinds == kind]
                rows = own_row[mine]
                activate = self.activations[kind][1]
                values[rows] = activate(values[rows], batch.activation_uniforms[mine])

    def _propagate_compiled(self, kernels, batch, counts, first_weight, depth, own_row) -> None:
        """``propagate`` with the compiled kernel, one node at a time in level order:
        the same operations on each value as :meth:`_propagate_levels`."""
        dags = batch.dags
        graph, position = batch.inner[:, 0], batch.inner[:, 1]
        widest = int(counts.max(initial=1))
        parents = batch.row[graph[:, None], dags.order[graph, position, :widest]]
        parent_rows = parents[np.arange(widest) < counts[:, None]]  # in weight order
        first_parent = np.append(first_weight, counts.sum())
        params = np.zeros((len(counts), 2))
        for kind in np.unique(batch.activation).tolist():
            mine = np.flatnonzero(batch.activation == kind)
            params[mine] = parameters(self.activations[kind][0], batch.activation_uniforms[mine])
        codes = np.array(
            [kernels.ACTIVATION_CODES.get(name, kernels.NUMPY) for name, _ in self.activations]
        )
        order = np.argsort(depth, kind="stable")
        start = 0
        while start < order.size:
            start = kernels.propagate_nodes(
                batch.values,
                order,
                own_row,
                first_parent,
                parent_rows,
                batch.weights,
                batch.biases,
                codes[batch.activation],
                params,
                start,
                kernels.PORTABLE,
            )
            if start < order.size:  # an activation the kernel leaves to numpy
                node = order[start]
                row = batch.values[own_row[node] : own_row[node] + 1]
                activate = self.activations[batch.activation[node]][1]
                row[:] = activate(row, batch.activation_uniforms[node : node + 1])
                start += 1

    # -- output -----------------------------------------------------------------
    def _describe(self, batch: Batch, series: np.ndarray, valid: np.ndarray) -> list[Graph]:
        """The valid graphs of ``batch`` (``series``: their chosen series), described."""
        chosen = batch.chosen
        is_root = np.take_along_axis(batch.dags.counts, chosen, axis=1) == 0
        # A chosen node's rank among its graph's evaluated roots, or non-roots.
        rank = np.take_along_axis(batch.rank, chosen, axis=1).tolist()
        node = np.take_along_axis(batch.dags.node_ids, chosen, axis=1).astype(np.int32)
        depth = np.take_along_axis(batch.depth, chosen, axis=1).astype(np.int32)
        described = []
        for g in np.flatnonzero(valid).tolist():
            plan = batch.plans[g]
            kernel, mean, activation = [], [], []
            for root, r in zip(is_root[g].tolist(), rank[g]):
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
                    values=series[g],
                    node=node[g],
                    is_root=is_root[g],
                    depth=depth[g],
                    kernel=kernel,
                    mean=mean,
                    activation=activation,
                )
            )
        return described

    def graphs(self, split: str, indices: range) -> list[Graph]:
        """The graphs ``indices`` of ``split``, in order, redrawn until valid."""
        key = split_key(split)
        acceleration.note_graphs(len(indices), self.config.length)
        attempts = dict.fromkeys(indices, 0)
        done: dict[int, Graph] = {}
        todo = list(indices)
        while todo:
            batch = self.plan(key, todo, attempts)
            series = self.propagate(batch).astype(np.float32)
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
                self.gp.stats["redraws"] += 1
                todo.append(plan.index)
        return [done[i] for i in indices]
