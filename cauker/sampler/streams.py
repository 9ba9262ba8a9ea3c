"""The first states of the graphs' random streams, for a batch of graphs at once:
the same states as numpy's
``PCG64(SeedSequence(seed, spawn_key=(split_key, index, attempt)))``.

Why by hand: numpy builds one such stream in about 30 us (``SeedSequence``
hashes its entropy word by word, then ``PCG64`` draws its seed from it), some
2% of the sampler's time per graph, and has no call for many streams at once.
Here the same hashing (Melissa O'Neill's ``seed_seq_fe``, as numpy's
``SeedSequence`` implements it: https://www.pcg-random.org/posts/developing-a-seed_seq-alternative.html)
runs on uint32 arrays over the batch, and the part that only depends on the
seed and the split is done once. numpy's ``SeedSequence`` is the reference:
:func:`agrees_with_numpy` compares the two on sample keys when a sampler is
built, and the sampler uses numpy's own if they ever differ (a future numpy
that changed its algorithm would change every corpus anyway; this keeps the
bits numpy gives). The tests compare them on thousands of keys.

Only keys whose words each fit in 32 bits go through here (graph indices and
attempts below 2**32, a split key, which is a CRC-32); any other key is seeded
by numpy.
"""

from __future__ import annotations

import numpy as np

POOL_SIZE = 4
INIT_A, MULT_A = 0x43B0D7E5, 0x931E8875
INIT_B, MULT_B = 0x8B51F9DD, 0x58F38DED
MIX_MULT_L, MIX_MULT_R = 0xCA01F9DD, 0x4973F715
XSHIFT = 16
MASK32 = 0xFFFFFFFF
#: The largest graph index or attempt seeded here (one 32-bit word).
MAX_WORD = MASK32
MASK128 = (1 << 128) - 1
#: PCG64's multiplier (PCG_DEFAULT_MULTIPLIER_128).
PCG_MULTIPLIER = 0x2360ED051FC65DA44385DF649FCCF645


def _words(value: int) -> list[int]:
    """An integer as numpy's ``SeedSequence`` reads it: 32-bit words, low first."""
    if value < 0:
        raise ValueError(f"seeds and keys must be non-negative, got {value}")
    words = []
    while True:
        words.append(value & MASK32)
        value >>= 32
        if not value:
            return words


class _Hash:
    """``hashmix`` of ``seed_seq_fe``, on uint32 arrays. Its constant advances at
    each use, the same way for every stream (it depends on the number of uses only)."""

    def __init__(self, const: int = INIT_A) -> None:
        self.const = const

    def mix_in(self, value: np.ndarray) -> np.ndarray:
        value = value ^ np.uint32(self.const)
        self.const = (self.const * MULT_A) & MASK32
        value = value * np.uint32(self.const)
        return value ^ (value >> np.uint32(XSHIFT))


def _mix(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``mix`` of ``seed_seq_fe``, on uint32 arrays (wrapping, as in C)."""
    result = x * np.uint32(MIX_MULT_L) - y * np.uint32(MIX_MULT_R)
    return result ^ (result >> np.uint32(XSHIFT))


class StreamSeeder:
    """The first PCG64 states of the streams ``(split_key, index, attempt)`` of one seed."""

    def __init__(self, seed: int, split_key: int) -> None:
        run = _words(seed)
        words = run + [0] * (POOL_SIZE - len(run)) + _words(split_key)
        entropy = [np.array([word], dtype=np.uint32) for word in words]
        # Everything up to the index's words: the same for every graph of the split.
        hashing = _Hash()
        pool = [hashing.mix_in(entropy[i]) for i in range(POOL_SIZE)]
        for src in range(POOL_SIZE):
            for dst in range(POOL_SIZE):
                if src != dst:
                    pool[dst] = _mix(pool[dst], hashing.mix_in(pool[src]))
        for word in entropy[POOL_SIZE:]:
            for dst in range(POOL_SIZE):
                pool[dst] = _mix(pool[dst], hashing.mix_in(word))
        self._pool = [int(p[0]) for p in pool]
        self._hash_const = hashing.const

    def states(self, indices: np.ndarray, attempts: np.ndarray) -> list[dict]:
        """``PCG64(SeedSequence(seed, spawn_key=(split_key, i, a))).state`` for each pair,
        all below 2**32."""
        indices = np.asarray(indices, dtype=np.uint32)
        attempts = np.asarray(attempts, dtype=np.uint32)
        hashing = _Hash(self._hash_const)
        pool = [np.full(indices.shape, p, dtype=np.uint32) for p in self._pool]
        for words in (indices, attempts):
            for dst in range(POOL_SIZE):
                pool[dst] = _mix(pool[dst], hashing.mix_in(words))
        # generate_state(4, uint64): 8 words from the pool, cycled.
        const = INIT_B
        words = []
        for i in range(8):
            value = pool[i % POOL_SIZE] ^ np.uint32(const)
            const = (const * MULT_B) & MASK32
            value = value * np.uint32(const)
            words.append(value ^ (value >> np.uint32(XSHIFT)))
        # The 8 words as 4 little-endian uint64 values h0..h3: PCG64 takes its
        # state seed from h0 (high half) and h1, its increment from h2 and h3.
        halves = [
            (words[2 * k].astype(np.uint64) | (words[2 * k + 1].astype(np.uint64) << np.uint64(32)))
            for k in range(4)
        ]
        columns = [h.tolist() for h in halves]
        return [_pcg64_state(s0, s1, i0, i1) for s0, s1, i0, i1 in zip(*columns)]


def _pcg64_state(s0: int, s1: int, i0: int, i1: int) -> dict:
    """PCG64's state after seeding with ``(s0 << 64 | s1, i0 << 64 | i1)``
    (``pcg_setseq_128_srandom_r``)."""
    inc = (((i0 << 64) | i1) << 1 | 1) & MASK128
    state = inc  # state 0, one step
    state = (state + ((s0 << 64) | s1)) & MASK128
    state = (state * PCG_MULTIPLIER + inc) & MASK128
    return {
        "bit_generator": "PCG64",
        "state": {"state": state, "inc": inc},
        "has_uint32": 0,
        "uinteger": 0,
    }


def numpy_state(seed: int, key: tuple[int, ...]) -> dict:
    """The reference: numpy's own ``PCG64(SeedSequence(seed, spawn_key=key)).state``."""
    return np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)).state


def agrees_with_numpy(seeder: StreamSeeder, seed: int, split_key: int) -> bool:
    """Whether ``seeder`` gives numpy's states on a few keys (0, 1, large, mixed)."""
    indices = np.array([0, 1, 12345, MASK32, 7], dtype=np.int64)
    attempts = np.array([0, 0, 3, 1, MASK32], dtype=np.int64)
    ours = seeder.states(indices, attempts)
    return all(
        state == numpy_state(seed, (split_key, int(i), int(a)))
        for state, i, a in zip(ours, indices, attempts)
    )
