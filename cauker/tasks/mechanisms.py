"""What a class is: a mechanism whose samples differ only by their root noise.

Two class definitions (``TaskConfig.class_definition``):

- ``graph``: class ``c`` is a random CauKer graph of its own, drawn from its
  class stream with the prior's law (DAG, the kernels and means of its roots,
  the weights, biases and activations of the other nodes: the same draws, in
  the same order, as a corpus graph), and ``channels`` distinct nodes of it. A
  sample re-draws every GP root the nodes depend on with fresh normals.
- ``shift``: the task has one such graph (drawn from the task stream); class
  ``c`` changes ONE mechanism among its chosen nodes and their ancestors
  (drawn from the class stream). The kind is uniform among those present
  (``kernel`` and ``mean`` of a root, ``weight`` of an edge, ``activation`` of a
  node), the target uniform among that kind's candidates, and with ``s =
  shift_scale``:

  - ``weight``: ``w -> (1 - s) w + s w'``, ``w' ~ N(0, 1)``;
  - ``activation``: ``f -> (1 - s) f + s f'``, ``f'`` a fresh draw of the bank
    (kind and parameters);
  - ``mean``: ``m -> (1 - s) m + s m'``, ``m'`` a fresh mean (two bank entries);
  - ``kernel``: one bank kernel of the root's fold is replaced by another entry
    of the same class (another period, length scale, ...), giving ``K'``; the
    root draws ``sqrt(1 - s) g_K + sqrt(s) g_K'`` (independent draws: the
    covariance ``(1 - s) K + s K'``).

  ``s = 1`` replaces the mechanism (no mixture is computed); smaller ``s``
  makes classes closer, so tasks harder.

A graph keeps only the nodes its chosen nodes depend on (the others cannot
change them), as corpora do.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

import numpy as np

from cauker.tasks.prior import Means, Prior

KINDS = ("kernel", "mean", "weight", "activation")


@dataclass
class Graph:
    """One random graph and everything random about its needed nodes.

    Positions are in topological order; ``roots`` and ``inner`` list the
    needed positions (the chosen nodes and their ancestors) in that order.
    """

    node_ids: np.ndarray
    parents: list[np.ndarray]  # parent positions of each position, in weight order
    depth: np.ndarray
    chosen: np.ndarray  # positions of the channels
    roots: list[int]
    inner: list[int]
    kernel_ids: list[list[int]]  # per root
    ops: list[list[int]]  # per root
    means: Means  # per root
    weights: list[np.ndarray]  # per inner node, one per parent
    biases: np.ndarray  # per inner node
    activation: np.ndarray  # per inner node: index in the bank
    params: np.ndarray  # per inner node: its activation's parameters (two)
    layout: object | None = None  # cauker.tasks.samples.Layout, made when first needed

    def edges(self) -> list[tuple[int, int]]:
        """Every ``(inner node number, parent number)`` pair, in weight order."""
        return [(i, j) for i, w in enumerate(self.weights) for j in range(len(w))]


@dataclass
class Intervention:
    """The one mechanism a ``shift`` class changes, and its new value."""

    kind: str
    target: int  # root number (kernel, mean), inner node number (activation, weight)
    parent: int = -1  # weight: the parent's number among the node's parents
    position: int = -1  # kernel: which kernel of the root's fold
    kernel: int = -1  # kernel: the replacement bank entry
    weight: float = 0.0
    mean: Means | None = None
    activation: int = -1
    params: np.ndarray | None = None  # the activation's parameters (two)


@dataclass
class Mechanism:
    """A class: a graph, and under ``shift`` the change this class makes to it."""

    graph: Graph
    intervention: Intervention | None = None


def draw_graphs(
    prior: Prior,
    generators: list[np.random.Generator],
    channels: int | list[int],
    loops: ModuleType,
) -> list[Graph]:
    """One graph per generator: the DAG, ``channels`` distinct chosen nodes (or
    ``channels[g]`` for generator ``g``: the first of the same permutation), then
    the numbers of the needed roots and nodes, in the corpora's order (their means
    computed with ``loops``)."""
    dags = prior.draw_dags(generators)
    n = prior.config.num_nodes
    kept = np.broadcast_to(np.asarray(channels, dtype=np.int64), (len(generators),))
    most = int(kept.max(initial=1))
    chosen = np.array([rng.permutation(n)[:most] for rng in generators])
    # Past its count, a graph repeats its first chosen node: the same ancestors.
    chosen = np.where(np.arange(most) < kept[:, None], chosen, chosen[:, :1])
    needed = dags.ancestors_of(chosen)
    depths = dags.depths()
    is_root, is_inner = needed & (dags.counts == 0), needed & (dags.counts > 0)
    numbers = prior.draw_numbers(
        generators,
        is_root.sum(axis=1),
        is_inner.sum(axis=1),
        np.where(is_inner, dags.counts, 0).sum(axis=1),
    )
    means = prior.means_of(numbers.means, loops)
    graphs = []
    root = node = edge = 0
    for g, plan in enumerate(numbers.plans):
        counts = dags.counts[g]
        roots = np.flatnonzero(is_root[g]).tolist()
        inner = np.flatnonzero(is_inner[g]).tolist()
        parents = [dags.order[g, i, :c] for i, c in enumerate(counts.tolist())]
        edges = [len(parents[i]) for i in inner]
        starts = edge + np.cumsum([0, *edges])
        graphs.append(
            Graph(
                node_ids=dags.node_ids[g],
                parents=parents,
                depth=depths[g],
                chosen=chosen[g, : kept[g]],
                roots=roots,
                inner=inner,
                kernel_ids=plan.kernel_ids,
                ops=plan.ops,
                means=means.slice(root, root + len(roots)),
                weights=[numbers.weights[a:b] for a, b in zip(starts[:-1], starts[1:])],
                biases=numbers.biases[node : node + len(inner)],
                activation=plan.activation,
                params=numbers.params[node : node + len(inner)],
            )
        )
        root, node, edge = root + len(roots), node + len(inner), int(starts[-1])
    return graphs


def draw_intervention(
    prior: Prior, rng: np.random.Generator, graph: Graph, loops: ModuleType
) -> Intervention:
    """The change of one ``shift`` class: kind, target, new value, in this order (a
    new mean computed with ``loops``)."""
    kinds = ["kernel", "mean"] + (["weight", "activation"] if graph.inner else [])
    kind = kinds[int(rng.integers(0, len(kinds)))]
    if kind == "kernel":
        root = int(rng.integers(0, len(graph.roots)))
        position = int(rng.integers(0, len(graph.kernel_ids[root])))
        candidates = prior.same_kind(graph.kernel_ids[root][position])
        kernel = candidates[int(rng.integers(0, len(candidates)))]
        return Intervention(kind, root, position=position, kernel=kernel)
    if kind == "mean":
        root = int(rng.integers(0, len(graph.roots)))
        return Intervention(kind, root, mean=prior.means_of(prior.mean_numbers(rng, 1), loops))
    if kind == "weight":
        node, parent = graph.edges()[int(rng.integers(0, len(graph.edges())))]
        return Intervention(kind, node, parent=parent, weight=float(rng.standard_normal()))
    node = int(rng.integers(0, len(graph.inner)))
    activation = int(rng.integers(0, len(prior.activations)))
    params = prior.activation_parameters([activation], rng.random(2))[0]
    return Intervention(kind, node, activation=activation, params=params)


def describe(prior: Prior, mechanism: Mechanism, scale: float) -> str:
    """What distinguishes a class: its nodes' own mechanisms (``graph``), or the change
    it makes (``shift``)."""
    graph, change = mechanism.graph, mechanism.intervention
    if change is None:
        return " | ".join(_describe_node(prior, graph, int(p)) for p in graph.chosen)
    label = graph.node_ids
    mixed = "" if scale == 1.0 else f" (scale {scale:g})"
    if change.kind == "kernel":
        ids = graph.kernel_ids[change.target]
        new = list(ids)
        new[change.position] = change.kernel
        root = label[graph.roots[change.target]]
        old_expr = prior.kernel_name(ids, graph.ops[change.target])
        new_expr = prior.kernel_name(new, graph.ops[change.target])
        return f"kernel of root {root}: {old_expr} -> {new_expr}{mixed}"
    if change.kind == "mean":
        root = label[graph.roots[change.target]]
        old = graph.means.describe(change.target)
        return f"mean of root {root}: {old} -> {change.mean.describe(0)}{mixed}"
    position = graph.inner[change.target]
    if change.kind == "weight":
        parent = label[graph.parents[position][change.parent]]
        old = graph.weights[change.target][change.parent]
        return (
            f"weight of edge {parent} -> {label[position]}: {old:.3g} -> {change.weight:.3g}{mixed}"
        )
    old = _activation(prior, graph.activation[change.target], graph.params[change.target])
    new = _activation(prior, change.activation, change.params)
    return f"activation of node {label[position]}: {old} -> {new}{mixed}"


def _activation(prior: Prior, kind: int, params: np.ndarray) -> str:
    name = prior.activation_name(int(kind))
    values = [v for v in params.tolist() if v != 0.0]
    return f"{name}({', '.join(f'{v:.3g}' for v in values)})" if values else name


def _describe_node(prior: Prior, graph: Graph, position: int) -> str:
    label = graph.node_ids[position]
    if position in graph.roots:
        r = graph.roots.index(position)
        kernel = prior.kernel_name(graph.kernel_ids[r], graph.ops[r])
        return f"root {label}: {kernel}; mean {graph.means.describe(r)}"
    i = graph.inner.index(position)
    activation = _activation(prior, graph.activation[i], graph.params[i])
    return f"node {label} (depth {graph.depth[position]}): {activation}"
