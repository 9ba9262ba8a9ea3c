"""numpy's draws rebuilt from raw outputs (cauker.sampler.raw_draws) are numpy's
own, and the sampler falls back to numpy's calls whenever they might not be."""

from __future__ import annotations

import numpy as np
import pytest

import cauker
from cauker.sampler import raw_draws, scm
from cauker.sampler.raw_draws import HalfStreams, doubles, raw_blocks

#: (low, s) of integers calls: one value (nothing drawn), powers of two (never
#: rejected), and counts with a rejection threshold (5, 7, 33, 1000).
CALLS = [(0, 1), (1, 5), (0, 2), (1, 7), (0, 33), (0, 512), (3, 1000)]


def streams(count: int, seed: int) -> list[np.random.Generator]:
    """Generators, some of which keep a half of ``next_uint32`` (an odd call before)."""
    out = []
    for g in range(count):
        rng = np.random.Generator(np.random.PCG64([seed, g]))
        rng.integers(0, 7, g % 3)
        out.append(rng)
    return out


@pytest.mark.parametrize("seed", range(6))
def test_interleaved_integers_and_doubles_are_numpys(seed):
    """A random program of integers runs and random() runs, per stream, read from
    raw outputs, against the same calls made to numpy."""
    graphs = 16
    plan = np.random.default_rng(seed)
    mine, theirs = streams(graphs, seed), streams(graphs, seed)
    states = [rng.bit_generator.state for rng in mine]
    halves = HalfStreams([s["has_uint32"] for s in states], [s["uinteger"] for s in states])
    for _ in range(6):
        if plan.random() < 0.6:
            chosen = plan.choice(len(CALLS), plan.integers(1, 4))
            calls = [(plan.integers(0, 9, graphs), *CALLS[k]) for k in chosen]
            raw, start = raw_blocks(mine, halves.raws_for_calls(calls)[0])
            got = halves.integers(raw, start, calls)
            expected = [
                np.concatenate([rng.integers(low, low + s, c[g]) for g, rng in enumerate(theirs)])
                for c, low, s in calls
            ]
            assert got is not None
            for a, b in zip(got, expected):
                assert a.dtype == b.dtype and np.array_equal(a, b)
        else:
            counts = plan.integers(0, 9, graphs)
            raw, start = raw_blocks(mine, counts)
            expected = np.concatenate([rng.random(c) for rng, c in zip(theirs, counts)])
            assert np.array_equal(doubles(raw, start, counts), expected)
    # The streams end where numpy's do, keeping the same half.
    for a, b in zip(mine, theirs):
        assert a.bit_generator.random_raw() == b.bit_generator.random_raw()
    state = [b.bit_generator.state for b in theirs]
    assert halves.pending.tolist() == [bool(s["has_uint32"]) for s in state]
    kept = [s["uinteger"] for s in state]
    assert all(k == int(v) for k, v, p in zip(kept, halves.kept, halves.pending) if p)


def test_the_sampler_checks_the_raw_path_against_numpy():
    sampler = scm.Sampler(cauker.CauKerConfig(num_series=8))
    assert scm.raw_draws_agree(sampler)


def rows(config: cauker.CauKerConfig, raw: bool, monkeypatch) -> list:
    sampler = scm.Sampler(config)
    sampler._raw_draws = raw
    graphs = sampler.graphs("train", range(40))
    return [(g.values.tobytes(), g.kernel, g.mean, g.activation, g.redraws) for g in graphs]


CONFIGS = [
    cauker.CauKerConfig(num_series=160, length=64, seed=4),
    # one mean, one kernel per root, one activation: calls over a single value
    cauker.CauKerConfig(
        num_series=160, length=64, seed=5, mean_bank="zero", max_kernels=1, activation_bank=("sin",)
    ),
]


@pytest.mark.parametrize("config", CONFIGS)
def test_rows_are_the_same_by_either_path(config, monkeypatch):
    assert rows(config, True, monkeypatch) == rows(config, False, monkeypatch)


def test_a_possible_rejection_falls_back_to_numpys_calls(monkeypatch):
    """If numpy might have rejected a draw, the batch is drawn again by numpy's calls
    from the saved states: the same rows. Rejections are rare (about once in 10**7
    graphs), so here every draw with a threshold counts as one."""
    config = CONFIGS[0]
    expected = rows(config, False, monkeypatch)
    fallbacks = []
    numpy_numbers = scm.Sampler._numpy_numbers

    def counted(self, *args):
        fallbacks.append(1)
        return numpy_numbers(self, *args)

    monkeypatch.setattr(raw_draws, "threshold", lambda s: 0xFFFFFFFF)
    monkeypatch.setattr(scm.Sampler, "_numpy_numbers", counted)
    assert rows(config, True, monkeypatch) == expected
    assert fallbacks


def test_where_they_disagree_numpys_calls_are_used(monkeypatch):
    """Should a numpy version draw otherwise, the check sees it and the sampler uses
    numpy's calls: the rows stay numpy's."""
    config = CONFIGS[0]
    expected = rows(config, False, monkeypatch)
    monkeypatch.setattr(raw_draws, "_DOUBLE", raw_draws._DOUBLE * (1 + 2**-50))
    sampler = scm.Sampler(config)
    assert not scm.raw_draws_agree(sampler)
    graphs = sampler.graphs("train", range(40))
    assert sampler._raw_draws is False
    assert [(g.values.tobytes(), g.kernel, g.mean, g.activation, g.redraws) for g in graphs] == (
        expected
    )
