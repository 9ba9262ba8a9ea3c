"""Random directed acyclic graphs of the structural causal models.

A graph is stored in topological order: position ``i`` may only have parents
at positions ``< i``. ``node_ids[i]`` is the node's label (the paper shuffles
the node ids, so labels carry no information about the order).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Dag:
    node_ids: np.ndarray  # label of the node at each topological position
    parents: tuple[np.ndarray, ...]  # parent positions of each position

    @property
    def num_nodes(self) -> int:
        return len(self.parents)

    def ancestors_of(self, positions: np.ndarray) -> np.ndarray:
        """Sorted positions of ``positions`` and all their ancestors."""
        needed = np.zeros(self.num_nodes, dtype=bool)
        needed[positions] = True
        for i in range(self.num_nodes - 1, -1, -1):
            if needed[i]:
                needed[self.parents[i]] = True
        return np.flatnonzero(needed)

    def depths(self) -> np.ndarray:
        """Edges on the longest root-to-node path, per position."""
        depth = np.zeros(self.num_nodes, dtype=np.int64)
        for i, p in enumerate(self.parents):
            if p.size:
                depth[i] = depth[p].max() + 1
        return depth


@functools.cache
def _upper(num_nodes: int) -> np.ndarray:
    """Mask of the pairs (i, j) with j >= i: the positions i may not take as parents."""
    return np.triu(np.ones((num_nodes, num_nodes), dtype=bool))


def paper_dag(rng: np.random.Generator, num_nodes: int, max_parents: int) -> Dag:
    """The paper's DAG: the node at position ``i`` takes ``UniformInt(0, min(i,
    max_parents))`` parents, drawn uniformly without replacement before it."""
    node_ids = rng.permutation(num_nodes)
    counts = rng.integers(0, np.minimum(np.arange(num_nodes), max_parents) + 1)
    # The k smallest of i uniform keys pick a uniform k-subset of the first i positions.
    keys = rng.random((num_nodes, num_nodes))
    keys[_upper(num_nodes)] = np.inf
    order = np.argsort(keys, axis=1)
    return Dag(node_ids, tuple(order[i, : counts[i]] for i in range(num_nodes)))


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


def random_dag(
    rng: np.random.Generator, num_nodes: int, max_parents: int, depth: int | None
) -> Dag:
    if depth is None:
        return paper_dag(rng, num_nodes, max_parents)
    return layered_dag(rng, num_nodes, max_parents, depth)
