"""One random structural causal model per graph index, and its chosen series.

Randomness. Each graph has one stream, ``PCG64(SeedSequence(config.seed,
spawn_key=(split_key, graph_index, attempt)))``. Its first draws are the
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

Arithmetic. Everything after the draws is element-wise IEEE arithmetic in a
fixed order (see ``cauker.linalg``, ``cauker.portable_math``): the same bits
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

import math
import zlib
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from cauker import acceleration
from cauker.activations import activation_bank
from cauker.config import CauKerConfig
from cauker.dag import draw_dags
from cauker.gp import GaussianProcessSampler, TermPlan
from cauker.kernels import compose_name, kernel_bank
from cauker.means import Means, compute_means, concatenate, draw_mean_numbers, mean_bank

#: After this many redraws of one graph, give up with an error.
MAX_ATTEMPTS = 1000

#: Positions between the sub-streams of a graph's stream (one per GP root).
SUB_STREAM_SPACING = 1 << 64


def split_key(split: str) -> int:
    """Stable integer key of a split name (part of every graph's seed)."""
    return zlib.crc32(split.encode("utf-8"))


def _split(values: np.ndarray, sizes: np.ndarray) -> list[np.ndarray]:
    """``values`` cut into consecutive pieces of the given sizes."""
    ends = np.cumsum(sizes).tolist()
    return [values[end - size : end] for end, size in zip(ends, sizes.tolist())]


@dataclass
class GraphPlan:
    """Everything random about one graph."""

    index: int
    attempt: int
    node_ids: np.ndarray  # label of the node at each topological position
    parents: list[np.ndarray]  # parent positions of each position, in weight order
    depth: np.ndarray  # per position
    chosen: np.ndarray  # positions of the output nodes, in output order
    roots: np.ndarray  # evaluated root positions, topological order
    kernel_ids: list[np.ndarray]  # per root
    ops: list[np.ndarray]  # per root
    inner: np.ndarray  # evaluated non-root positions, topological order
    weights: list[np.ndarray]  # per inner node, one per parent
    biases: np.ndarray
    activation: np.ndarray  # per inner node, index in the bank
    activation_uniforms: np.ndarray  # (inner, 2)
    means: Means | None = None
    root_values: list[np.ndarray] | None = None


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


class Sampler:
    """Draws graphs of one config. Holds per-process caches (kernel factors)."""

    def __init__(self, config: CauKerConfig) -> None:
        self.config = config
        bank = kernel_bank(config.kernel_bank, config.length)
        self.kernel_names = [entry.name for entry in bank]
        self.gp = GaussianProcessSampler(bank, config.length)
        self.means = mean_bank(config.mean_bank)
        self.activations = activation_bank(config.activation_bank)
        self.x = self.gp.x
        # One generator, repositioned for each root's sub-stream.
        self._noise_bits = np.random.PCG64(0)
        self._noise = np.random.Generator(self._noise_bits)

    def _sub_stream(self, origin: dict, number: int) -> np.random.Generator:
        self._noise_bits.state = origin
        self._noise_bits.advance((number + 1) * SUB_STREAM_SPACING)
        return self._noise

    # -- structure -----------------------------------------------------------
    def plan(self, key: int, indices: list[int], attempts: dict[int, int]) -> list[GraphPlan]:
        """Draw everything random about the graphs ``indices``, and their root values."""
        c = self.config
        generators, origins = [], []
        for index in indices:
            seq = np.random.SeedSequence(c.seed, spawn_key=(key, index, attempts[index]))
            bits = np.random.PCG64(seq)
            origins.append(bits.state)
            generators.append(np.random.Generator(bits))
        dags = draw_dags(generators, c.num_nodes, c.max_parents, c.dag_depth)
        chosen = np.array(
            [rng.permutation(c.num_nodes)[: c.series_per_graph] for rng in generators]
        )
        needed, depth = dags.ancestors_of(chosen), dags.depths()
        counts = dags.counts

        plans, mean_numbers = [], []
        term_plans: list[TermPlan] = []
        term_normals: list[np.ndarray] = []
        term_owner: list[tuple[int, int]] = []  # (graph, root) of each term
        for g, rng in enumerate(generators):
            positions = np.flatnonzero(needed[g])
            parent_counts = counts[g, positions]
            roots, inner = positions[parent_counts == 0], positions[parent_counts > 0]
            inner_counts = parent_counts[parent_counts > 0]

            kernel_counts = rng.integers(1, c.max_kernels + 1, roots.size)
            kernel_ids = _split(
                rng.integers(0, len(self.kernel_names), kernel_counts.sum()), kernel_counts
            )
            ops = _split(rng.integers(0, 2, kernel_counts.sum() - roots.size), kernel_counts - 1)
            mean_numbers.append(draw_mean_numbers(rng, c.length, self.means, roots.size))
            weights = rng.standard_normal(inner_counts.sum())
            biases = rng.standard_normal(inner.size)
            activation = rng.integers(0, len(self.activations), inner.size)
            activation_uniforms = rng.random((inner.size, 2))
            plans.append(
                GraphPlan(
                    index=indices[g],
                    attempt=attempts[indices[g]],
                    node_ids=dags.node_ids[g],
                    parents=dags.parents(g),
                    depth=depth[g],
                    chosen=chosen[g],
                    roots=roots,
                    kernel_ids=kernel_ids,
                    ops=ops,
                    inner=inner,
                    weights=_split(weights, inner_counts),
                    biases=biases,
                    activation=activation,
                    activation_uniforms=activation_uniforms,
                )
            )
            for r in range(roots.size):
                root_plans = self.gp.root_plans(kernel_ids[r], ops[r])
                shapes = [self.gp.normals_shape(p) for p in root_plans]
                sizes = [math.prod(shape) for shape in shapes]
                normals = self._sub_stream(origins[g], r).standard_normal(sum(sizes))
                start = 0
                for p, shape, size in zip(root_plans, shapes, sizes):
                    term_plans.append(p)
                    term_normals.append(normals[start : start + size].reshape(shape))
                    term_owner.append((g, r))
                    start += size

        means = compute_means(concatenate(mean_numbers), self.x)
        first_root = np.cumsum([0] + [p.roots.size for p in plans])
        for g, plan in enumerate(plans):
            plan.means = _slice_means(means, first_root[g], first_root[g + 1])
            plan.root_values = [plan.means.values[r] for r in range(plan.roots.size)]
        for (g, r), value in zip(term_owner, self.gp.draw(term_plans, term_normals)):
            plans[g].root_values[r] = plans[g].root_values[r] + value
        return plans

    # -- propagation -----------------------------------------------------------
    def propagate(self, plans: list[GraphPlan]) -> list[np.ndarray]:
        """The chosen series (float64) of every planned graph, all graphs at once.

        Level by level (a node's depth is one more than its deepest parent's),
        nodes with the same number of parents are computed together, and each
        activation is applied once per level to all the nodes that drew it. Per
        node the operations and their order are those of ``act(w_0 v_0 + w_1 v_1
        + ... + b)``, so the bits do not depend on what else is in the batch.
        """
        with np.errstate(all="ignore"):  # non-finite series are redrawn, not warned about
            return self._propagate(plans)

    def _propagate(self, plans: list[GraphPlan]) -> list[np.ndarray]:
        values: list[dict[int, np.ndarray]] = []
        levels: dict[int, list[tuple[int, int]]] = defaultdict(list)  # depth -> (graph, i)
        for g, plan in enumerate(plans):
            values.append({int(p): v for p, v in zip(plan.roots, plan.root_values)})
            for i, position in enumerate(plan.inner):
                levels[int(plan.depth[position])].append((g, i))
        for depth in sorted(levels):
            by_parents: dict[int, list[tuple[int, int]]] = defaultdict(list)
            for g, i in levels[depth]:
                by_parents[plans[g].weights[i].size].append((g, i))
            for count, members in by_parents.items():
                self._compute_nodes(plans, values, members, count)
        return [np.stack([values[g][int(p)] for p in plan.chosen]) for g, plan in enumerate(plans)]

    def _compute_nodes(self, plans, values, members: list[tuple[int, int]], count: int) -> None:
        """Pre-activations and activations of nodes that all have ``count`` parents."""
        parents = [plans[g].parents[plans[g].inner[i]] for g, i in members]
        weights = np.array([plans[g].weights[i] for g, i in members])
        a = weights[:, :1] * np.stack([values[g][int(p[0])] for (g, _), p in zip(members, parents)])
        for j in range(1, count):
            parent_values = np.stack([values[g][int(p[j])] for (g, _), p in zip(members, parents)])
            a = a + weights[:, j : j + 1] * parent_values
        a = a + np.array([plans[g].biases[i] for g, i in members])[:, None]
        kinds = np.array([plans[g].activation[i] for g, i in members])
        uniforms = np.array([plans[g].activation_uniforms[i] for g, i in members])
        out = np.empty_like(a)
        for kind in np.unique(kinds):
            mask = kinds == kind
            out[mask] = self.activations[kind][1](a[mask], uniforms[mask])
        for row, (g, i) in enumerate(members):
            values[g][int(plans[g].inner[i])] = out[row]

    # -- output -----------------------------------------------------------------
    def _valid(self, series: np.ndarray) -> bool:
        if not np.isfinite(series).all():
            return False
        return not (self.config.redraw_constant and (np.ptp(series, axis=1) == 0).any())

    def _describe(self, plan: GraphPlan, values: np.ndarray) -> Graph:
        kernel, mean, activation = [], [], []
        root_of = {int(p): r for r, p in enumerate(plan.roots)}
        inner_of = {int(p): i for i, p in enumerate(plan.inner)}
        for p in plan.chosen:
            if int(p) in root_of:
                r = root_of[int(p)]
                names = [self.kernel_names[k] for k in plan.kernel_ids[r]]
                kernel.append(compose_name(names, ["*" if o else "+" for o in plan.ops[r]]))
                mean.append(plan.means.describe(r))
                activation.append(None)
            else:
                kernel.append(None)
                mean.append(None)
                activation.append(self.activations[plan.activation[inner_of[int(p)]]][0])
        return Graph(
            index=plan.index,
            redraws=plan.attempt,
            values=values,
            node=plan.node_ids[plan.chosen].astype(np.int32),
            is_root=np.array([plan.parents[p].size == 0 for p in plan.chosen]),
            depth=plan.depth[plan.chosen].astype(np.int32),
            kernel=kernel,
            mean=mean,
            activation=activation,
        )

    def graphs(self, split: str, indices: range) -> list[Graph]:
        """The graphs ``indices`` of ``split``, in order, redrawn until valid."""
        key = split_key(split)
        acceleration.note_graphs(len(indices))
        attempts = dict.fromkeys(indices, 0)
        done: dict[int, Graph] = {}
        todo = list(indices)
        while todo:
            plans = self.plan(key, todo, attempts)
            todo = []
            for plan, series in zip(plans, self.propagate(plans)):
                out = series.astype(np.float32)
                if self._valid(out):
                    done[plan.index] = self._describe(plan, out)
                    continue
                attempts[plan.index] += 1
                if attempts[plan.index] >= MAX_ATTEMPTS:
                    raise RuntimeError(
                        f"graph {plan.index} of split {split!r} was redrawn {MAX_ATTEMPTS} "
                        f"times without a valid output; check the config {self.config}"
                    )
                self.gp.stats["redraws"] += 1
                todo.append(plan.index)
        return [done[i] for i in indices]


def _slice_means(means: Means, start: int, stop: int) -> Means:
    return Means(
        means.values[start:stop],
        means.kinds[start:stop],
        means.multiply[start:stop],
        means.params[start:stop],
        means.spikes[start:stop],
    )
