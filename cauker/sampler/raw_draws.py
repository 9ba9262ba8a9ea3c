"""numpy's draws for a batch of graphs, rebuilt from the raw outputs of their PCG64 streams.

Why. ``Generator.integers`` costs about 12 us a call on a 2-core AMD EPYC
whatever its size (argument handling), and a graph's numbers take nine such
calls: together more time than any other phase of the sampler but the GP
draws. Here each graph's stream gives blocks of raw 64-bit outputs
(``random_raw``: about 1.5 us), and the numbers numpy would have drawn from them
are computed for all the graphs of a batch at once, with array operations.

What numpy does, and what is rebuilt (``numpy/random/src/distributions``; the
numbers are the same, and :func:`agrees_with_numpy` checks it on each machine):

- ``random()``: ``(next_uint64 >> 11) * 2**-53``; ``uniform(low, high)``: ``low +
  (high - low) * random()``.
- ``integers(low, high, n)`` with ``s = high - low`` below ``2**32``: ``n`` times
  Lemire's method, ``m = next_uint32 * s``, accepted unless ``m mod 2**32 <
  (2**32 - s) mod s``, giving ``low + (m >> 32)``; nothing is consumed when ``s == 1``.
- ``next_uint32`` of PCG64 is the low half of a new 64-bit output, and keeps the
  high half for its next call, whatever other draws come between (``has_uint32``
  and ``uinteger`` in the state).

A rejection (probability below ``s / 2**32`` a draw: about once in 10**7
graphs) consumes more than this module reads: the caller then draws the batch
again with numpy's own calls, from the states saved before.
"""

from __future__ import annotations

import numpy as np

_LOW32 = np.uint64(0xFFFFFFFF)
_SHIFT32 = np.uint64(32)
_SHIFT11 = np.uint64(11)
_DOUBLE = 1.0 / 9007199254740992.0  # 2**-53


def threshold(s: int) -> int:
    """Lemire's rejection threshold for ``integers`` over ``s`` values."""
    return (0xFFFFFFFF - (s - 1)) % s


def _halves_per_call(calls: list[tuple]) -> np.ndarray:
    """``(streams, calls)``: the ``next_uint32`` results each of the consecutive
    ``integers`` calls ``[(counts, low, s), ...]`` takes per stream (none over a
    single value)."""
    return np.stack([c if s > 1 else np.zeros_like(c) for c, _, s in calls], axis=1)


class HalfStreams:
    """Where numpy's ``next_uint32`` stands in each stream of a batch: whether it
    keeps a half (``pending``) and which (``kept``)."""

    def __init__(self, pending: np.ndarray, kept: np.ndarray) -> None:
        self.pending = np.asarray(pending, dtype=bool).copy()
        self.kept = np.asarray(kept, dtype=np.uint64).copy()

    def raws_for(self, halves: np.ndarray, pending: np.ndarray | None = None):
        """Raw outputs that ``halves[g]`` calls of ``next_uint32`` take, and whether a
        half is kept after them, from ``pending`` (default: where the streams stand)."""
        pending = self.pending if pending is None else pending
        used = pending & (halves > 0)
        taken = halves - used
        return (taken + 1) // 2, np.where(halves > 0, taken % 2 == 1, pending)

    def raws_for_calls(self, calls: list[tuple], pending: np.ndarray | None = None):
        """:meth:`raws_for` the consecutive ``integers`` calls of :meth:`integers`."""
        return self.raws_for(_halves_per_call(calls).sum(axis=1), pending)

    def read(self, raw: np.ndarray, start: np.ndarray, halves: np.ndarray) -> np.ndarray:
        """``halves[g]`` results of ``next_uint32`` per stream (flat, stream by stream),
        the new outputs taken from ``raw[start[g]:]``; returns them as uint64."""
        count = int(halves.sum())
        graph = np.repeat(np.arange(halves.size), halves)
        first = np.cumsum(halves) - halves
        used = (self.pending & (halves > 0)).astype(np.int64)
        j = np.arange(count) - first[graph] - used[graph]  # index among the new halves
        # (a kept half reads no new output: its index is clipped, its word unused)
        at = np.minimum(start[graph] + np.maximum(j, 0) // 2, raw.size - 1)
        words = raw[at] if raw.size else np.zeros(count, dtype=np.uint64)
        out = np.where(j % 2 == 0, words & _LOW32, words >> _SHIFT32)
        out = np.where(j < 0, self.kept[graph], out)
        raws, after = self.raws_for(halves)
        if raw.size:
            last = raw[np.clip(start + raws - 1, 0, raw.size - 1)]
            self.kept = np.where((halves > 0) & after, last >> _SHIFT32, self.kept)
        self.pending = after
        return out

    def integers(self, raw: np.ndarray, start: np.ndarray, calls: list[tuple]) -> list | None:
        """Consecutive ``integers(low, low + s, counts[g])`` calls, ``calls = [(counts,
        low, s), ...]``, in each stream from ``raw[start[g]:]``: the values of each call
        (flat, stream by stream), or None if numpy would have rejected one."""
        graphs = len(start)
        table = _halves_per_call(calls)
        halves = self.read(raw, start, table.sum(axis=1))
        which = np.repeat(np.tile(np.arange(len(calls)), graphs), table.ravel())
        low = np.array([low for _, low, _ in calls], dtype=np.int64)[which]
        s = np.array([s for _, _, s in calls], dtype=np.uint64)[which]
        limit = np.array([threshold(s) for _, _, s in calls], dtype=np.uint64)[which]
        m = halves * s
        if ((m & _LOW32) < limit).any():
            return None
        values = low + (m >> _SHIFT32).astype(np.int64)
        return [
            values[which == k] if s > 1 else np.full(int(counts.sum()), low, dtype=np.int64)
            for k, (counts, low, s) in enumerate(calls)
        ]


def doubles(raw: np.ndarray, start: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``random()`` ``counts[g]`` times per stream, from ``raw[start[g]:]`` (flat)."""
    graph = np.repeat(np.arange(counts.size), counts)
    first = np.cumsum(counts) - counts
    index = start[graph] + np.arange(int(counts.sum())) - first[graph]
    return (raw[index] >> _SHIFT11) * _DOUBLE


def raw_blocks(generators: list[np.random.Generator], sizes: np.ndarray):
    """One block of raw outputs per generator, flat, and where each starts."""
    sizes = np.asarray(sizes, dtype=np.int64)
    blocks = [rng.bit_generator.random_raw(n) for rng, n in zip(generators, sizes.tolist())]
    raw = np.concatenate(blocks) if blocks else np.zeros(0, np.uint64)
    return raw.astype(np.uint64, copy=False), np.cumsum(sizes) - sizes
