"""One random structural causal model per graph index, and its chosen series.

Each graph has two random streams of its own, children of
``SeedSequence(config.seed, spawn_key=(split_key, graph_index, attempt))``:
the *structure* stream (DAG, chosen nodes, kernels, means, weights,
activations) and the *noise* stream (the standard normals behind GP draws). So a
graph's series depend on nothing but the config, the split and its index, and a
shard regenerated alone is bit-identical.

The work for a batch of graphs runs in three phases: plan every graph (all
randomness drawn, cheap GP terms drawn at once), run the batched Schur
factorisation of the expensive terms, then propagate each graph. Only the
chosen nodes and their ancestors are evaluated; the others cannot influence
them, so the output distribution is the paper's.

Redraws: a graph whose chosen series are not all finite in float32 (or, with
``redraw_constant``, one of which is constant) is drawn again with ``attempt +
1``. The ``redraws`` column counts this per row, so it can be audited.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np

from cauker.activations import activation_bank
from cauker.config import CauKerConfig
from cauker.dag import Dag, random_dag
from cauker.gp import GaussianProcessSampler, PendingDraw
from cauker.kernels import compose_name, kernel_bank
from cauker.means import draw_mean, mean_bank

#: After this many redraws of one graph, give up with an error.
MAX_ATTEMPTS = 1000


def split_key(split: str) -> int:
    """Stable integer key of a split name (part of every graph's seed)."""
    return zlib.crc32(split.encode("utf-8"))


@dataclass
class Root:
    kernel_ids: np.ndarray
    ops: np.ndarray
    mean: np.ndarray
    mean_name: str
    terms: list[np.ndarray | PendingDraw]


@dataclass
class Inner:
    weights: np.ndarray
    bias: float
    activation: int


@dataclass
class GraphPlan:
    index: int
    attempt: int
    dag: Dag
    chosen: np.ndarray  # positions of the output nodes, in output order
    nodes: dict[int, Root | Inner]  # the chosen nodes and their ancestors
    structure: np.random.Generator
    pending: list[PendingDraw] = field(default_factory=list)


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

    def _streams(self, key: int, index: int, attempt: int):
        seq = np.random.SeedSequence(self.config.seed, spawn_key=(key, index, attempt))
        structure = np.random.PCG64(seq)
        # The noise stream is the structure stream jumped ahead by 2^127 draws:
        # non-overlapping, and cheaper than a second SeedSequence.
        return np.random.Generator(structure), np.random.Generator(structure.jumped())

    def plan(self, key: int, index: int, attempt: int) -> GraphPlan:
        c = self.config
        rng, noise = self._streams(key, index, attempt)
        dag = random_dag(rng, c.num_nodes, c.max_parents, c.dag_depth)
        chosen = rng.permutation(c.num_nodes)[: c.series_per_graph]
        plan = GraphPlan(index, attempt, dag, chosen, {}, rng)
        for position in dag.ancestors_of(chosen):
            parents = dag.parents[position]
            if parents.size == 0:
                count = rng.integers(1, c.max_kernels + 1)
                kernel_ids = rng.integers(0, len(self.kernel_names), count)
                ops = rng.integers(0, 2, count - 1)
                mean, mean_name = draw_mean(rng, self.x, self.means)
                terms = self.gp.draw_terms(kernel_ids, ops, noise)
                plan.pending += [t for t in terms if isinstance(t, PendingDraw)]
                plan.nodes[position] = Root(kernel_ids, ops, mean, mean_name, terms)
            else:
                weights = rng.standard_normal(parents.size)
                bias = rng.standard_normal()
                activation = rng.integers(0, len(self.activations))
                plan.nodes[position] = Inner(weights, bias, int(activation))
        return plan

    def finish(self, plan: GraphPlan) -> Graph | None:
        """Propagate a planned graph; None if its output must be redrawn."""
        values: dict[int, np.ndarray] = {}
        for position, node in plan.nodes.items():  # insertion order is topological
            if isinstance(node, Root):
                total = node.mean
                for term in node.terms:
                    total = total + (term.value if isinstance(term, PendingDraw) else term)
                values[position] = total
            else:
                parents = plan.dag.parents[position]
                a = node.weights[0] * values[parents[0]]
                for w, p in zip(node.weights[1:], parents[1:]):
                    a = a + w * values[p]
                a = a + node.bias
                values[position] = self.activations[node.activation][1](plan.structure, a)
        out = np.stack([values[p] for p in plan.chosen]).astype(np.float32)
        if not np.isfinite(out).all():
            return None
        if self.config.redraw_constant and (np.ptp(out, axis=1) == 0).any():
            return None
        return self._describe(plan, out)

    def _describe(self, plan: GraphPlan, values: np.ndarray) -> Graph:
        kernel, mean, activation = [], [], []
        for p in plan.chosen:
            node = plan.nodes[p]
            if isinstance(node, Root):
                names = [self.kernel_names[i] for i in node.kernel_ids]
                kernel.append(compose_name(names, ["*" if o else "+" for o in node.ops]))
                mean.append(node.mean_name)
                activation.append(None)
            else:
                kernel.append(None)
                mean.append(None)
                activation.append(self.activations[node.activation][0])
        dag = plan.dag
        return Graph(
            index=plan.index,
            redraws=plan.attempt,
            values=values,
            node=dag.node_ids[plan.chosen].astype(np.int32),
            is_root=np.array([dag.parents[p].size == 0 for p in plan.chosen]),
            depth=dag.depths()[plan.chosen].astype(np.int32),
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
            self.gp.resolve([p for plan in plans for p in plan.pending])
            todo = []
            for plan in plans:
                graph = self.finish(plan)
                if graph is not None:
                    done[plan.index] = graph
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
