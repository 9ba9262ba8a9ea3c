"""Random directed acyclic graphs of the structural causal models.

A graph is stored in topological order: position ``i`` may only have parents
at positions ``< i``. ``node_ids[i]`` is the node's label (the paper shuffles
the node ids, so labels carry no information about the order).

The sampler draws the DAGs of a whole batch of graphs at once
(:func:`draw_dags`): each graph's random numbers come from its own generator,
and everything that follows from them (parents, ancestors, depths) is computed
for all graphs together as arrays ``[graph, position, ...]``. :class:`Dag` is
one graph of such a batch.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Dags:
    """The DAGs of a batch: ``parents(g, i) = order[g, i, :counts[g, i]]``."""

    node_ids: np.ndarray  # (graphs, n) label of the node at each position
    counts: np.ndarray  # (graphs, n) number of parents
    order: np.ndarray  # (graphs, n, n) a permutation of the positions, parents first

    def is_parent(self) -> np.ndarray:
        """``[g, i, j]``: position ``j`` is a parent of position ``i``."""
        size, n = self.counts.shape
        out = np.zeros((size, n, n), dtype=bool)
        np.put_along_axis(out, self.order, np.arange(n) < self.counts[:, :, None], axis=2)
        return out

    def ancestors_of(self, positions: np.ndarray) -> np.ndarray:
        """``[g, i]``: position ``i`` is one of ``positions[g]`` or one of their ancestors."""
        is_parent = self.is_parent()
        needed = np.zeros(self.counts.shape, dtype=bool)
        np.put_along_axis(needed, positions, True, axis=1)
        for i in range(self.counts.shape[1] - 1, 0, -1):
            needed |= needed[:, i : i + 1] & is_parent[:, i]
        return needed

    def depths(self) -> np.ndarray:
        """``[g, i]``: edges on the longest root-to-node path."""
        is_parent = self.is_parent()
        depth = np.zeros(self.counts.shape, dtype=np.int64)
        for i in range(1, self.counts.shape[1]):
            deepest = np.where(is_parent[:, i], depth, -1).max(axis=1)
            depth[:, i] = np.where(self.counts[:, i] > 0, deepest + 1, 0)
        return depth

    def parents(self, g: int) -> list[np.ndarray]:
        """Parent positions of every position of graph ``g``, in weight order."""
        return [self.order[g, i, :c] for i, c in enumerate(self.counts[g].tolist())]

    def graph(self, g: int) -> Dag:
        return Dag(self.node_ids[g], tuple(self.parents(g)))


@dataclass(frozen=True)
class Dag:
    """One DAG: ``parents[i]`` are the parent positions of position ``i``."""

    node_ids: np.ndarray
    parents: tuple[np.ndarray, ...]

    @property
    def num_nodes(self) -> int:
        return len(self.parents)

    def batch(self) -> Dags:
        n = self.num_nodes
        counts = np.array([[p.size for p in self.parents]], dtype=np.int64)
        order = np.array(
            [[np.concatenate([p, np.setdiff1d(np.arange(n), p)]) for p in self.parents]]
        )
        return Dags(self.node_ids[None], counts, order)

    def ancestors_of(self, positions: np.ndarray) -> np.ndarray:
        """Sorted positions of ``positions`` and all their ancestors."""
        return np.flatnonzero(self.batch().ancestors_of(np.asarray(positions)[None])[0])

    def depths(self) -> np.ndarray:
        """Edges on the longest root-to-node path, per position."""
        return self.batch().depths()[0]


@functools.cache
def _parent_caps(num_nodes: int, max_parents: int) -> np.ndarray:
    """One more than the largest parent count of each position of the paper's DAG."""
    return np.minimum(np.arange(num_nodes), max_parents) + 1


@functools.cache
def _upper(num_nodes: int) -> np.ndarray:
    """Mask of the pairs (i, j) with j >= i: the positions i may not take as parents."""
    return np.triu(np.ones((num_nodes, num_nodes), dtype=bool))


def paper_dags(generators: list[np.random.Generator], num_nodes: int, max_parents: int) -> Dags:
    """The paper's DAG, one per generator: position ``i`` takes ``UniformInt(0,
    min(i, max_parents))`` parents, drawn uniformly without replacement before it.

    Each generator draws, in order: the node labels (a permutation), the parent
    counts, and ``n x n`` uniform keys; the ``k`` smallest of the first ``i``
    keys of row ``i`` pick a uniform ``k``-subset of the first ``i`` positions.
    """
    n, size = num_nodes, len(generators)
    node_ids = np.empty((size, n), dtype=np.int64)
    counts = np.empty((size, n), dtype=np.int64)
    keys = np.empty((size, n, n))
    caps = _parent_caps(n, max_parents)
    for g, rng in enumerate(generators):
        node_ids[g] = rng.permutation(n)
        counts[g] = rng.integers(0, caps)
        keys[g] = rng.random(n * n).reshape(n, n)
    keys[:, _upper(n)] = np.inf
    return Dags(node_ids, counts, np.argsort(keys, axis=2))


def layered_dag(rng: np.random.Generator, num_nodes: int, max_parents: int, depth: int) -> Dag:
    """A DAG whose longest root-to-node path has exactly ``depth`` edges.

    Nodes fill layers ``0..depth`` (one node each, the rest uniformly); layer 0
    holds the roots. A node in layer ``l >= 1`` takes ``UniformInt(1,
    min(earlier, max_parents))`` parents: one uniform in layer ``l - 1``, the
    others uniform without replacement among all earlier layers. So its
    longest path from a root has exactly ``l`` edges.
    """
    node_ids = rng.permutation(num_nodes)
    layer = np.concatenate(
        [np.arange(depth + 1), rng.integers(0, depth + 1, num_nodes - depth - 1)]
    )
    layer.sort()
    starts = np.searchsorted(layer, np.arange(depth + 1))  # first position of each layer
    inner = layer > 0
    earlier = starts[layer[inner]]  # positions available as parents
    counts = np.zeros(num_nodes, dtype=np.int64)
    counts[inner] = rng.integers(1, np.minimum(earlier, max_parents) + 1)
    required = rng.integers(starts[layer[inner] - 1], earlier)
    keys = rng.random((num_nodes, num_nodes))
    keys[np.arange(num_nodes)[None, :] >= starts[layer][:, None]] = np.inf  # own layer and later
    keys[np.flatnonzero(inner), required] = -1.0  # always picked first
    order = np.argsort(keys, axis=1)
    return Dag(node_ids, tuple(order[i, : counts[i]] for i in range(num_nodes)))


def layered_dags(
    generators: list[np.random.Generator], num_nodes: int, max_parents: int, depth: int
) -> Dags:
    """:func:`layered_dag` for each generator, as a batch."""
    dags = [layered_dag(rng, num_nodes, max_parents, depth).batch() for rng in generators]
    return Dags(
        *(np.concatenate([getattr(d, f) for d in dags]) for f in ("node_ids", "counts", "order"))
    )


def draw_dags(
    generators: list[np.random.Generator], num_nodes: int, max_parents: int, depth: int | None
) -> Dags:
    if depth is None:
        return paper_dags(generators, num_nodes, max_parents)
    return layered_dags(generators, num_nodes, max_parents, depth)
