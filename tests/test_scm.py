"""The sampler's graphs: each drawn from its own numpy stream, the same rows whatever
the threads sharing a sampler."""

from __future__ import annotations

import numpy as np

import cauker
from cauker.sampler.rows import sampler_for


def test_each_graph_draws_from_its_own_numpy_stream():
    """Graph ``i`` of a split, at attempt ``a``, draws from ``PCG64(SeedSequence(seed,
    spawn_key=(split_key, i, a)))`` (the README documents it)."""
    sampler = sampler_for(cauker.CauKerConfig(num_series=100, seed=5))
    indices = list(range(40, 60))
    ours = sampler._streams(7, indices, dict.fromkeys(indices, 2))
    for rng, index in zip(ours, indices):
        reference = np.random.Generator(
            np.random.PCG64(np.random.SeedSequence(5, spawn_key=(7, index, 2)))
        )
        assert np.array_equal(rng.integers(0, 1000, 9), reference.integers(0, 1000, 9))
        assert np.array_equal(rng.standard_normal(7), reference.standard_normal(7))


def test_graph_indices_beyond_32_bits_are_drawn():
    config = cauker.CauKerConfig(num_series=None, multivariate=True)
    index = 2**32 + 5
    # the multivariate train split is one graph per row
    table = cauker.generate(config, start=index, stop=index + 1)
    assert table.num_rows == 1 and table.column("graph").to_pylist() == [index]


def test_threads_sharing_a_sampler_get_the_same_rows():
    """A process's sampler is shared (``sampler_for``), so what it repositions as it
    draws must not be: threads drawing at once (a threaded Dask worker, a thread
    pool) would otherwise reposition each other's streams and silently change rows."""
    import sys
    from concurrent.futures import ThreadPoolExecutor

    config = cauker.CauKerConfig(num_series=192, length=32, seed=11)
    expected = [cauker.generate(config, start=a, stop=a + 48) for a in range(0, 192, 48)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        for _ in range(3):
            with ThreadPoolExecutor(4) as pool:
                got = list(
                    pool.map(
                        lambda a: cauker.generate(config, start=a, stop=a + 48), range(0, 192, 48)
                    )
                )
            for g, e in zip(got, expected):
                assert g.equals(e)
    finally:
        sys.setswitchinterval(interval)
