"""The random DAGs: the paper's parent law, and layered DAGs of an exact depth."""

import numpy as np
import pytest

from cauker.sampler.dag import Dag, layered_dag, paper_dags


def paper_dag(rng: np.random.Generator, num_nodes: int, max_parents: int) -> Dag:
    """One graph of the sampler's batch of paper DAGs."""
    return paper_dags([rng], num_nodes, max_parents).graph(0)


def test_paper_dag_parent_counts_are_uniform():
    """Position i takes UniformInt(0, min(i, max_parents)) parents, all earlier."""
    rng = np.random.default_rng(0)
    n, max_parents, trials = 18, 6, 4000
    counts = np.zeros((n, max_parents + 1))
    roots = []
    for _ in range(trials):
        dag = paper_dag(rng, n, max_parents)
        for i, p in enumerate(dag.parents):
            assert np.all(p < i) and len(set(p)) == len(p)
            counts[i, len(p)] += 1
        roots.append(sum(p.size == 0 for p in dag.parents))
        assert sorted(dag.node_ids) == list(range(n))
    for i in range(n):
        k = min(i, max_parents) + 1
        expected = trials / k
        se = np.sqrt(trials * (1 / k) * (1 - 1 / k))
        assert np.all(np.abs(counts[i, :k] - expected) < 5 * se + 1e-9), (i, counts[i])
        assert counts[i, k:].sum() == 0
    # expected roots: sum_i 1 / (min(i, 6) + 1) = 4.164 (the algorithm page's "about 4.2")
    mean_roots = sum(1 / (min(i, max_parents) + 1) for i in range(n))
    assert abs(np.mean(roots) - mean_roots) < 5 * np.std(roots) / np.sqrt(trials)


def test_paper_dag_parents_are_uniform_among_earlier_nodes():
    rng = np.random.default_rng(1)
    hits = np.zeros(10)
    picks = 0
    for _ in range(3000):
        dag = paper_dag(rng, 11, 6)
        hits[dag.parents[10]] += 1
        picks += dag.parents[10].size
    p = 1 / 10
    assert np.all(np.abs(hits / picks - p) < 5 * np.sqrt(p * (1 - p) / picks))


@pytest.mark.parametrize("depth", [0, 1, 2, 4, 6, 8])
def test_layered_dag_has_exact_depth(depth):
    rng = np.random.default_rng(depth)
    for _ in range(200):
        dag = layered_dag(rng, 18, 3, depth)
        depths = dag.depths()
        assert depths.max() == depth
        for i, p in enumerate(dag.parents):
            assert np.all(p < i) and len(set(p)) == len(p) and len(p) <= 3
        # every layer below the deepest feeds the next: depth d is reached
        assert set(range(depth + 1)) == set(depths.tolist())


def test_ancestors_are_closed_under_parents():
    rng = np.random.default_rng(3)
    dag = paper_dag(rng, 18, 6)
    needed = set(dag.ancestors_of(np.array([17, 5])).tolist())
    assert {17, 5} <= needed
    for i in needed:
        assert set(dag.parents[i].tolist()) <= needed
