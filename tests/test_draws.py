"""A schedule drawn from raw outputs (cauker.sampler.draws) gives numpy's own numbers,
and falls back to numpy's calls wherever it might not."""

from __future__ import annotations

import numpy as np
import pytest

import cauker
from cauker.sampler import draws, scm
from cauker.sampler.draws import Draws, integers, random, standard_normal, uniform

#: (low, s) of integers calls: one value (nothing drawn), powers of two (never
#: rejected), and counts with a rejection threshold (5, 7, 33, 1000).
INTEGERS = [(0, 1), (1, 5), (0, 2), (1, 7), (0, 33), (0, 512), (3, 1000)]


def streams(count: int, seed: int) -> list[np.random.Generator]:
    """Generators, some of which keep a half of ``next_uint32`` (an odd call before)."""
    out = []
    for g in range(count):
        rng = np.random.Generator(np.random.PCG64([seed, g]))
        rng.integers(0, 7, g % 3)
        out.append(rng)
    return out


def numpy_calls(generators, call) -> np.ndarray:
    """A call made to numpy, stream by stream, as the tests' reference."""
    args = {"integers": (call.low, call.high), "uniform": (call.low, call.high)}
    return np.concatenate(
        [
            getattr(rng, call.method)(*args.get(call.method, ()), n)
            for rng, n in zip(generators, call.counts)
        ]
    )


def random_schedule(plan: np.random.Generator, graphs: int) -> list:
    calls = []
    for _ in range(plan.integers(1, 6)):
        counts = plan.integers(0, 9, graphs)
        kind = plan.integers(0, 4)
        if kind == 0:
            low, s = INTEGERS[plan.integers(0, len(INTEGERS))]
            calls.append(integers(low, low + s, counts))
        elif kind == 1:
            calls.append(random(counts))
        elif kind == 2:
            calls.append(uniform(-5.0, 5.0, counts))
        else:
            calls.append(standard_normal(counts))
    return calls


@pytest.mark.parametrize("seed", range(8))
def test_schedules_rebuilt_from_raw_outputs_are_numpys(seed):
    """Random schedules of interleaved calls, several in turn, against the same calls
    made to numpy: the same values, and the streams end where numpy's do."""
    graphs = 16
    plan = np.random.default_rng(seed)
    mine, theirs = streams(graphs, seed), streams(graphs, seed)
    draw = Draws(mine, raw=True)
    for _ in range(4):
        calls = random_schedule(plan, graphs)
        got = draw(calls)
        assert draw.raw  # no rejection here: every value was rebuilt
        for call, values in zip(calls, got):
            expected = numpy_calls(theirs, call)
            assert values.dtype == expected.dtype and np.array_equal(values, expected)
    # The streams end where numpy's do, keeping the same half of next_uint32.
    state = [b.bit_generator.state for b in theirs]
    assert draw.pending.tolist() == [bool(s["has_uint32"]) for s in state]
    assert all(k == s["uinteger"] for k, s, p in zip(draw.kept.tolist(), state, draw.pending) if p)
    for a, b in zip(mine, theirs):
        assert a.bit_generator.random_raw() == b.bit_generator.random_raw()


def test_raw_outputs_agree_with_this_numpy():
    assert draws.raw_outputs_agree()


def rows(config: cauker.CauKerConfig, raw: bool, monkeypatch) -> list:
    monkeypatch.setattr(scm, "raw_outputs_agree", lambda: raw)
    graphs = scm.Sampler(config).graphs("train", range(40))
    return [(g.values.tobytes(), g.kernel, g.mean, g.activation, g.redraws) for g in graphs]


CONFIGS = [
    cauker.CauKerConfig(num_series=160, length=64, seed=4),
    # one mean, one kernel per root, one activation: calls over a single value
    cauker.CauKerConfig(
        num_series=160, length=64, seed=5, mean_bank="zero", max_kernels=1, activation_bank=("sin",)
    ),
]


@pytest.mark.parametrize("config", CONFIGS)
def test_rows_are_the_same_by_either_reader(config, monkeypatch):
    assert rows(config, True, monkeypatch) == rows(config, False, monkeypatch)


@pytest.mark.parametrize("rejected", [7, 33])
def test_a_possible_rejection_draws_the_schedule_again_by_numpys_calls(rejected, monkeypatch):
    """If numpy might have rejected a value, the streams go back to where the schedule
    started and it is drawn again by numpy's calls: the same rows. Rejections are
    rare (about once in 10**7 graphs), so here every draw over ``rejected`` values
    counts as one: kernel counts (the schedule's first call) or kernel ids (its
    second group, after the first was rebuilt)."""
    config = CONFIGS[0]
    expected = rows(config, False, monkeypatch)
    fallbacks = []
    threshold = draws._threshold
    call = Draws._call

    def counted(self, *args):
        fallbacks.append(1)
        return call(self, *args)

    monkeypatch.setattr(
        draws, "_threshold", lambda s: 0xFFFFFFFF if s == rejected else threshold(s)
    )
    monkeypatch.setattr(Draws, "_call", counted)
    assert rows(config, True, monkeypatch) == expected
    assert fallbacks


def test_where_they_disagree_numpys_calls_are_used(monkeypatch):
    """Should a numpy version draw otherwise, the check sees it and the sampler uses
    numpy's calls: the rows stay numpy's."""
    config = CONFIGS[0]
    expected = rows(config, False, monkeypatch)
    monkeypatch.undo()
    monkeypatch.setattr(draws, "_DOUBLE", draws._DOUBLE * (1 + 2**-50))
    draws.raw_outputs_agree.cache_clear()
    try:
        assert not draws.raw_outputs_agree()
        graphs = scm.Sampler(config).graphs("train", range(40))
    finally:
        monkeypatch.undo()
        draws.raw_outputs_agree.cache_clear()
    got = [(g.values.tobytes(), g.kernel, g.mean, g.activation, g.redraws) for g in graphs]
    assert got == expected
