"""The graphs' streams are seeded as numpy seeds them: ``cauker.sampler.streams``
gives the states of ``PCG64(SeedSequence(seed, spawn_key=key))``, and the
sampler falls back on numpy's own wherever it would not."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

import cauker
from cauker.sampler import scm, streams
from cauker.sampler.rows import sampler_for

SPLIT_KEYS = [0, 1, zlib.crc32(b"train"), zlib.crc32(b"validation"), 0xFFFFFFFF]


@pytest.mark.parametrize("seed", [0, 1, 42, 2**32 - 1, 2**32, 2**64 + 3, 2**127 + 11, 2**130 + 7])
def test_batch_seeding_gives_numpys_states(seed):
    rng = np.random.default_rng(seed % 1000)
    for split_key in SPLIT_KEYS:
        seeder = streams.StreamSeeder(seed, split_key)
        indices = np.concatenate([[0, 1, 2**32 - 1], rng.integers(0, 2**32, 60)])
        attempts = np.concatenate([[0, 2**32 - 1, 5], rng.integers(0, 3, 60)])
        for state, i, a in zip(seeder.states(indices, attempts), indices, attempts):
            assert state == streams.numpy_state(seed, (split_key, int(i), int(a)))


def test_seeded_streams_draw_numpys_numbers():
    """Not only the state dicts: the generators draw what numpy's draw."""
    sampler = sampler_for(cauker.CauKerConfig(num_series=100, seed=5))
    indices = list(range(40, 60))
    attempts = dict.fromkeys(indices, 2)
    ours = sampler._streams(sampler._stream_states(7, indices, attempts))
    for rng, index in zip(ours, indices):
        reference = np.random.Generator(
            np.random.PCG64(np.random.SeedSequence(5, spawn_key=(7, index, 2)))
        )
        assert np.array_equal(rng.integers(0, 1000, 9), reference.integers(0, 1000, 9))
        assert np.array_equal(rng.standard_normal(7), reference.standard_normal(7))


def test_keys_beyond_32_bits_are_seeded_by_numpy():
    sampler = sampler_for(cauker.CauKerConfig(num_series=None, multivariate=True))
    index = 2**32 + 5
    states = sampler._stream_states(3, [1, index], {1: 0, index: 0})
    assert states[1] == streams.numpy_state(sampler.config.seed, (3, index, 0))
    assert states[0] == streams.numpy_state(sampler.config.seed, (3, 1, 0))
    # and such a row is generated (the multivariate train split is one graph per row)
    table = cauker.generate(sampler.config, start=index, stop=index + 1)
    assert table.num_rows == 1


def test_the_sampler_uses_numpy_if_the_seeders_disagree(monkeypatch):
    config = cauker.CauKerConfig(num_series=64, length=64)
    expected = cauker.generate(config)

    def broken(self, indices, attempts):  # as if numpy had changed its algorithm
        return [
            dict(s, state={**s["state"], "state": 1}) for s in original(self, indices, attempts)
        ]

    original = streams.StreamSeeder.states
    monkeypatch.setattr(streams.StreamSeeder, "states", broken)
    assert not streams.agrees_with_numpy(streams.StreamSeeder(0, 0), 0, 0)
    fresh = scm.Sampler(config)
    got = fresh.graphs("train", range(16))
    assert fresh._seeders[scm.split_key("train")] is None  # it fell back on numpy
    rows = expected.slice(0, 64).column("target").to_pylist()
    per_graph = config.series_per_graph
    for g in got:
        for slot in range(per_graph):
            assert g.values[slot].tolist() == rows[g.index * per_graph + slot]


def test_threads_sharing_a_sampler_get_the_same_rows():
    """A process's sampler is shared (``sampler_for``), so its scratch generators must
    not be: threads drawing at once (a threaded Dask worker, a thread pool) would
    otherwise reposition each other's streams and silently change rows."""
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
