"""One random structural causal model per graph index, and its chosen series.

Randomness. Each graph has one stream, ``PCG64(SeedSequence(config.seed,
spawn_key=(split_key, graph_index, attempt)))``. Its first draws are the
structure (DAG, chosen nodes, kernels, means, weights, activations), drawn a
whole array at a time in a fixed order. The standard normals of the GP root
``r`` (the ``r``-th root in topological order among those evaluated) come from
the same stream advanced by ``(r + 1) * 2**64`` positions: a sub-stream of its
own, so a root's draw depends on nothing but its own kernel and sub-stream,
and how many normals a root consumes never shifts another root's. A graph's
series therefore depend on nothing but the config, the split and its index,
and a shard regenerated alone is bit-identical.

Arithmetic. Everything after the draws is element-wise IEEE arithmetic in a
fixed order (see ``cauker.linalg``, ``cauker.portable_math``): the same bits
on every machine, whatever its CPU or BLAS.

The work for a batch of graphs runs in three phases: plan every graph (all
randomness drawn, cheap GP terms drawn at once), run the batched Schur
factorisation of the expensive terms, then propagate all the graphs together,
one depth level at a time. Only the chosen nodes and their ancestors are
evaluated; the others cannot influence them, so the output distribution is the
paper's.

Redraws: a graph whose chosen series are not all finite in float32 (or, with
``redraw_constant``, one of which is constant) is drawn again with ``attempt +
1``. The ``redraws`` column counts this per row, so it can be audited.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from cauker.activations import activation_bank
from cauker.config import CauKerConfig
from cauker.dag import Dag, random_dag
from cauker.gp import GaussianProcessSampler, PendingDraw
from cauker.kernels import compose_name, kernel_bank
from cauker.means import Means, draw_means, mean_bank

#: After this many redraws of one graph, give up with an error.
MAX_ATTEMPTS = 1000

#: Positions between the sub-streams of a graph's stream (one per GP root).
SUB_STREAM_SPACING = 1 << 64


def _split(values: np.ndarray, sizes: np.ndarray) -> list[np.ndarray]:
    """``values`` cut into consecutive pieces of the given sizes."""
    ends = np.cumsum(sizes).tolist()
    return [values[end - size : end] for end, size in zip(ends, sizes.tolist())]


def split_key(split: str) -> int:
    """Stable integer key of a split name (part of every graph's seed)."""
    return zlib.crc32(split.encode("utf-8"))


@dataclass
class GraphPlan:
    """Everything random about one graph, and its GP terms (some still pending)."""

    index: int
    attempt: int
    dag: Dag
    depth: np.ndarray  # per position
    chosen: np.ndarray  # positions of the output nodes, in output order
    roots: np.ndarray  # evaluated root positions, topological order
    kernel_ids: list[np.ndarray]  # per root
    ops: list[np.ndarray]  # per root
    means: Means
    terms: list[list[np.ndarray | PendingDraw]]  # per root
    inner: np.ndarray  # evaluated non-root positions, topological order
    weights: list[np.ndarray]  # per inner node, one per parent
    biases: np.ndarray
    activation: np.ndarray  # per inner node, index in the bank
    activation_uniforms: np.ndarray  # (inner, 2)


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

    def plan(self, key: int, index: int, attempt: int) -> GraphPlan:
        c = self.config
        bits = np.random.PCG64(np.random.SeedSequence(c.seed, spawn_key=(key, index, attempt)))
        origin = bits.state
        rng = np.random.Generator(bits)
        dag = random_dag(rng, c.num_nodes, c.max_parents, c.dag_depth)
        chosen = rng.permutation(c.num_nodes)[: c.series_per_graph]
        needed = dag.ancestors_of(chosen)
        parent_counts = np.array([dag.parents[p].size for p in needed], dtype=np.int64)
        roots, inner = needed[parent_counts == 0], needed[parent_counts > 0]

        counts = rng.integers(1, c.max_kernels + 1, roots.size)
        kernel_ids = _split(rng.integers(0, len(self.kernel_names), counts.sum()), counts)
        ops = _split(rng.integers(0, 2, counts.sum() - roots.size), counts - 1)
        means = draw_means(rng, self.x, self.means, roots.size)

        weights = rng.standard_normal(parent_counts.sum())
        biases = rng.standard_normal(inner.size)
        activation = rng.integers(0, len(self.activations), inner.size)
        activation_uniforms = rng.random((inner.size, 2))

        terms = [
            self.gp.draw_terms(kernel_ids[r], ops[r], self._sub_stream(origin, r))
            for r in range(roots.size)
        ]
        inner_counts = parent_counts[parent_counts > 0]
        return GraphPlan(
            index=index,
            attempt=attempt,
            dag=dag,
            depth=dag.depths(),
            chosen=chosen,
            roots=roots,
            kernel_ids=kernel_ids,
            ops=ops,
            means=means,
            terms=terms,
            inner=inner,
            weights=_split(weights, inner_counts),
            biases=biases,
            activation=activation,
            activation_uniforms=activation_uniforms,
        )

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
            graph_values = {}
            for r, position in enumerate(plan.roots):
                total = plan.means.values[r]
                for term in plan.terms[r]:
                    total = total + (term.value if isinstance(term, PendingDraw) else term)
                graph_values[int(position)] = total
            values.append(graph_values)
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
        parents = [plans[g].dag.parents[plans[g].inner[i]] for g, i in members]
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
        dag = plan.dag
        return Graph(
            index=plan.index,
            redraws=plan.attempt,
            values=values,
            node=dag.node_ids[plan.chosen].astype(np.int32),
            is_root=np.array([dag.parents[p].size == 0 for p in plan.chosen]),
            depth=plan.depth[plan.chosen].astype(np.int32),
            kernel=kernel,
            mean=mean,
            activation=activation,
        )

    def graphs(self, split: str, indices: range) -> list[Graph]:
        """The graphs ``indices`` of ``split``, in order, redrawn until valid."""
        key = split_key(split)
        attempts = dict.fromkeys(indices, 0)
        done: dict[int, Graph] = {}
        todo = list(indices)
        while todo:
            plans = [self.plan(key, i, attempts[i]) for i in todo]
            self.gp.resolve(
                [t for plan in plans for ts in plan.terms for t in ts if isinstance(t, PendingDraw)]
            )
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
