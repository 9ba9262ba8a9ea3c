"""The random streams of a task: one per task, one per class, each keyed by where it is used.

- task ``i`` of a split, attempt ``a``:
  ``PCG64(SeedSequence(seed, spawn_key=(TASKS_KEY, split_key, i, a)))``;
- its class ``c``, attempt ``b``: ``spawn_key=(TASKS_KEY, split_key, i, a, c, b)``;
- with a range of channel counts, its count: ``spawn_key=(TASKS_KEY, split_key, i)``
  (:func:`task_channels`);
- sub-stream ``m`` of a stream: the same generator advanced by ``m * 2**64``
  positions (a root's noise, the augmentations), so how many numbers one use
  consumes never shifts another's.

So a task depends on nothing but the config, the split and its index: never on
which tasks are drawn with it, in which process or on which machine.
``TASKS_KEY`` keeps task streams apart from the corpora's graph streams
(``(split_key, index, attempt)``).
"""

from __future__ import annotations

import threading
import zlib

import numpy as np

from cauker.tasks.prior import SUB_STREAM_SPACING, split_key

#: The first word of every task stream's key.
TASKS_KEY = zlib.crc32(b"cauker tasks")


def task_key(split: str, index: int, attempt: int) -> tuple[int, ...]:
    return (TASKS_KEY, split_key(split), index, attempt)


def task_channels(seed: int, split: str, index: int, low: int, high: int) -> int:
    """Channels of the samples of task ``index``: ``low`` if ``low == high`` (nothing is
    drawn), else uniform in ``[low, high]`` from ``SeedSequence(seed, spawn_key=(TASKS_KEY,
    split_key, index))``, the parent of the task's attempts' sequences: a redrawn task
    keeps its count."""
    if low == high:
        return low
    return int(stream(seed, (TASKS_KEY, split_key(split), index)).integers(low, high + 1))


def stream(seed: int, key: tuple[int, ...]) -> np.random.Generator:
    """The generator of ``key`` (a task key, or a task key and a class key)."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))


def sub_stream(origin: dict, number: int) -> np.random.Generator:
    """Sub-stream ``number`` (>= 1) of the stream whose first state is ``origin``."""
    bits = np.random.PCG64()
    bits.state = origin
    bits.advance(number * SUB_STREAM_SPACING)
    return np.random.Generator(bits)


class _Scratch(threading.local):
    """A generator repositioned for each draw of :func:`normals`, one per thread (a new
    PCG64 costs about 14 us, repositioning one about 2)."""

    def __init__(self) -> None:
        self.generator = np.random.Generator(np.random.PCG64())


_scratch = _Scratch()


def normals(origin: dict, number: int, count: int) -> np.ndarray:
    """The first ``count`` standard normals of sub-stream ``number`` of the stream whose
    first state is ``origin`` (as :func:`sub_stream` would give them)."""
    generator = _scratch.generator
    generator.bit_generator.state = origin
    generator.bit_generator.advance(number * SUB_STREAM_SPACING)
    return generator.standard_normal(count)
