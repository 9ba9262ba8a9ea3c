"""A schedule of numpy calls, drawn in every stream of a batch of graphs: by numpy's
own calls, or rebuilt for the whole batch from the streams' raw outputs.

A schedule is a list of :class:`Call`: ``integers``, ``random``, ``uniform`` or
``standard_normal``, each with a count per graph. :class:`Draws` makes the calls
in each graph's stream, in order, and returns each call's values for all the
graphs, graph after graph. numpy's own calls define the numbers; the sampler
writes its schedule once (``cauker.sampler.scm``) and this module draws it.

Why raw outputs: a numpy call costs microseconds whatever its size (argument
handling), and a graph makes a dozen after its DAG. Rebuilt here, a graph
costs three ``random_raw`` calls and one ``standard_normal``, and numpy's
numbers are computed from the raw outputs for all the graphs of a batch at
once. ``benchmarks/phases.py`` ("the other random numbers", 64,000 series at
L = 512, compiled loops) puts these draws at 3.5% of the sampler's time
rebuilt, against 9% by numpy's calls (``--numpy-calls``). What numpy does, and
what is rebuilt (``numpy/random/src/distributions``):

- ``random()``: ``(next_uint64 >> 11) * 2**-53``; ``uniform(low, high)``:
  ``low + (high - low) * random()``;
- ``integers(low, high, n)`` with ``s = high - low`` below ``2**32``: ``n``
  times Lemire's method, ``m = next_uint32 * s``, accepted unless ``m mod 2**32
  < (2**32 - s) mod s``, giving ``low + (m >> 32)``; nothing is drawn when ``s == 1``;
- ``next_uint32`` of PCG64 is the low half of a new 64-bit output, and keeps the
  high half for its next call, whatever other draws come between (``has_uint32``
  and ``uinteger`` in the state);
- ``standard_normal`` (a ziggurat that draws a varying number of outputs) is
  numpy's own call, once per graph for consecutive calls.

:func:`raw_outputs_agree` checks that this gives numpy's numbers with the numpy
installed (else numpy's calls are used). A rejection (probability below ``s /
2**32`` a value: about once in 10**7 graphs) draws more than is read here: the
streams are then put back where the schedule started, and the schedule is
drawn again by numpy's calls.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass

import numpy as np

_LOW32 = np.uint64(0xFFFFFFFF)
_SHIFT32 = np.uint64(32)
_SHIFT11 = np.uint64(11)
_DOUBLE = 1.0 / 9007199254740992.0  # 2**-53


@dataclass(frozen=True)
class Call:
    """``method(low, high, size=counts[g])`` in the stream of each graph ``g`` (the
    bounds only for ``integers`` and ``uniform``)."""

    method: str
    counts: np.ndarray
    low: float = 0
    high: float = 1


def integers(low: int, high: int, counts: np.ndarray) -> Call:
    return Call("integers", counts, low, high)


def random(counts: np.ndarray) -> Call:
    return Call("random", counts)


def uniform(low: float, high: float, counts: np.ndarray) -> Call:
    return Call("uniform", counts, low, high)


def standard_normal(counts: np.ndarray) -> Call:
    return Call("standard_normal", counts)


def _positions(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``starts[g] + i`` for ``i < counts[g]``, graph after graph."""
    graph = np.repeat(np.arange(counts.size), counts)
    return starts[graph] + np.arange(graph.size) - (np.cumsum(counts) - counts)[graph]


def _threshold(s: int) -> int:
    """Lemire's rejection threshold for ``integers`` over ``s`` values."""
    return (0xFFFFFFFF - (s - 1)) % s


class Draws:
    """Draws schedules in the ``generators`` of a batch of graphs, one after the other:
    rebuilt from raw outputs if ``raw``, by numpy's calls otherwise, or from a
    possible rejection on. Rebuilt, the streams' raw outputs end where numpy's calls
    would leave them, and the half of ``next_uint32`` each keeps is followed here
    (``pending``, ``kept``), not written back into them."""

    def __init__(self, generators: list[np.random.Generator], raw: bool) -> None:
        self.generators = generators
        self.raw = raw
        if raw:
            self.states = [rng.bit_generator.state for rng in generators]
            self.pending = np.array([s["has_uint32"] for s in self.states], dtype=bool)
            self.kept = np.array([s["uinteger"] for s in self.states], dtype=np.uint64)
            self.drawn: list[Call] = []

    def __call__(self, calls: list[Call]) -> list[np.ndarray]:
        """The values of each call, graph after graph (int64 for ``integers``, else float64)."""
        if self.raw:
            values = self._rebuilt(calls)
            if values is not None:
                self.drawn += calls
                return values
            self.raw = False  # a possible rejection: numpy's calls from the start
            for rng, state in zip(self.generators, self.states):
                rng.bit_generator.state = state
            for call in self.drawn:
                self._call(call)
        return [self._call(call) for call in calls]

    def _call(self, call: Call) -> np.ndarray:
        """numpy's own call, graph by graph."""
        args = (call.low, call.high) if call.method in ("integers", "uniform") else ()
        values = [
            getattr(rng, call.method)(*args, n)
            for rng, n in zip(self.generators, call.counts.tolist())
        ]
        return np.concatenate(values)

    def _rebuilt(self, calls: list[Call]) -> list[np.ndarray] | None:
        """The calls' values from raw outputs; None if numpy might have rejected one."""
        out = []
        for normal, group in itertools.groupby(calls, lambda c: c.method == "standard_normal"):
            run = list(group)
            got = self._normals(run) if normal else self._run(run)
            if got is None:
                return None
            out += got
        return out

    def _normals(self, run: list[Call]) -> list[np.ndarray]:
        """Consecutive ``standard_normal`` calls: one per graph for them all."""
        counts = np.array([call.counts for call in run])
        totals = counts.sum(axis=0)
        drawn = self._call(standard_normal(totals))
        starts = np.cumsum(totals) - totals + np.cumsum(counts, axis=0) - counts
        return [drawn[_positions(start, c)] for start, c in zip(starts, counts)]

    def _run(self, run: list[Call]) -> list[np.ndarray] | None:
        """Consecutive calls other than ``standard_normal``, from one block of raw
        outputs per stream; consecutive ``integers`` calls are decoded together."""
        groups = [list(g) for _, g in itertools.groupby(run, lambda c: c.method == "integers")]
        words, pending = [], self.pending  # the new outputs each group takes, per stream
        for group in groups:
            if group[0].method == "integers":
                _, new, pending = _from_halves(_halves(group).sum(axis=0), pending)
                words.append(new)
            else:
                words.append(np.sum([call.counts for call in group], axis=0))
        sizes = np.sum(words, axis=0)
        blocks = [
            rng.bit_generator.random_raw(n) for rng, n in zip(self.generators, sizes.tolist())
        ]
        raw = np.concatenate(blocks).astype(np.uint64, copy=False)
        start = np.cumsum(sizes) - sizes
        out = []
        for group, new in zip(groups, words):
            if group[0].method == "integers":
                values = self._integers(raw, start, group)
                if values is None:
                    return None
                out += values
            else:
                at = start
                for call in group:
                    u = (raw[_positions(at, call.counts)] >> _SHIFT11) * _DOUBLE
                    out.append(
                        call.low + (call.high - call.low) * u if call.method == "uniform" else u
                    )
                    at = at + call.counts
            start = start + new
        return out

    def _integers(self, raw: np.ndarray, start: np.ndarray, calls: list[Call]) -> list | None:
        """Consecutive ``integers`` calls whose new outputs start at ``raw[start[g]]``."""
        table = _halves(calls)
        halves = table.sum(axis=0)
        used, words, after = _from_halves(halves, self.pending)
        graph = np.repeat(np.arange(halves.size), halves)
        # Each result's place among the new halves (low, then high half of each
        # output), -1 for the kept half.
        j = np.arange(graph.size) - (np.cumsum(halves) - halves)[graph] - used[graph]
        if raw.size:
            output = raw[np.minimum(start[graph] + np.maximum(j, 0) // 2, raw.size - 1)]
            last = raw[np.clip(start + words - 1, 0, raw.size - 1)]
        else:  # every result is a kept half
            output, last = np.zeros(graph.size, np.uint64), np.zeros(halves.size, np.uint64)
        half = np.where(j % 2 == 0, output & _LOW32, output >> _SHIFT32)
        half = np.where(j < 0, self.kept[graph], half)
        self.kept = np.where((halves > 0) & after, last >> _SHIFT32, self.kept)
        self.pending = after
        # Lemire's method, each result with its call's bounds.
        which = np.repeat(np.tile(np.arange(len(calls)), halves.size), table.T.ravel())
        low = np.array([int(call.low) for call in calls], dtype=np.int64)
        s = np.array([int(call.high - call.low) for call in calls], dtype=np.uint64)
        limit = np.array([_threshold(int(size)) for size in s], dtype=np.uint64)
        m = half * s[which]
        if ((m & _LOW32) < limit[which]).any():
            return None
        values = low[which] + (m >> _SHIFT32).astype(np.int64)
        return [
            values[which == k] if s[k] > 1 else np.full(int(call.counts.sum()), low[k])
            for k, call in enumerate(calls)
        ]


def _halves(calls: list[Call]) -> np.ndarray:
    """``[k, g]``: the results of ``next_uint32`` that ``integers`` call ``k`` takes in
    stream ``g`` (none over a single value)."""
    return np.array([c.counts if c.high - c.low > 1 else np.zeros_like(c.counts) for c in calls])


def _from_halves(halves: np.ndarray, pending: np.ndarray) -> tuple:
    """For ``halves[g]`` results of ``next_uint32`` in each stream, which keeps a half
    where ``pending``: whether the first result is that half, the new raw outputs
    they take, and whether a half is kept after them."""
    used = pending & (halves > 0)
    taken = halves - used
    return used, (taken + 1) // 2, np.where(halves > 0, taken % 2 == 1, pending)


@functools.cache
def raw_outputs_agree() -> bool:
    """Whether :class:`Draws` rebuilds numpy's own numbers with this numpy: a schedule
    with every kind of call, drawn both ways in 24 streams, some keeping a half."""
    counts = np.random.default_rng(7).integers(0, 12, (4, 24))
    schedule = [
        integers(1, 8, counts[0]),
        integers(0, 33, counts[1]),
        random(counts[2]),
        integers(0, 2, counts[3]),
        standard_normal(counts[0]),
        standard_normal(counts[1]),
        uniform(-5.0, 5.0, counts[1]),
        integers(0, 512, counts[2]),
        integers(3, 4, counts[3]),
    ]

    def streams() -> list[np.random.Generator]:
        out = []
        for g in range(24):
            rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(g, spawn_key=(99,))))
            rng.integers(0, 7, g % 3)  # an odd count of next_uint32 keeps a half
            out.append(rng)
        return out

    rebuilt, drawn = Draws(streams(), raw=True), Draws(streams(), raw=False)
    return all(
        a.dtype == b.dtype and np.array_equal(a, b)
        for a, b in zip(rebuilt(schedule), drawn(schedule))
    )
