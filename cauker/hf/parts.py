"""Parts of a split: how streams divide a split among DDP ranks and DataLoader
workers without generating anything twice.

A part is the set of graphs ``offset + j * stride`` (``j = 0, 1, ...``) of a
split, below its end, or forever for an endless split. The whole split is
``Part(0, 1)``. Cutting a part into ``count`` parts gives part ``index`` the
graphs ``offset + (index + count * j) * stride``: rank ``r`` of ``W`` gets the
graphs ``r mod W``, and worker ``w`` of its ``n`` workers the graphs
``r + W * w mod W * n``. Any count works; parts differ by at most one graph, so
each generates at most its share plus one graph, and together they generate
every graph once. A rank may have any number of workers: cuts nest.

A part is generated in batches of ``GRAPHS_PER_BATCH`` of its graphs, one call
of the sampler each: the batched sampler is about five times faster per graph
with 128 graphs per call than with one (``benchmarks/stream_split.py``), and
the batch does not depend on how the split was cut. Rows are a pure function
of their index, so a part can start at any of its rows (``position``) without
generating the rows before it: that is how streams resume.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow as pa

from cauker.config import CauKerConfig
from cauker.errors import ParameterError
from cauker.sampler.memory import GRAPHS_PER_BATCH
from cauker.sampler.rows import graph_rows, job
from cauker.validation import check_int


def check_count(name: str, count, index) -> tuple[int, int]:
    """``(count, index)`` if ``count >= 1`` and ``0 <= index < count`` are integers."""
    count = check_int(name, count, 1)
    index = check_int("index", index)
    if not 0 <= index < count:
        raise ParameterError(f"index must be in [0, {count - 1}] for {name}={count}, got {index!r}")
    return count, index


def graphs_in_split(config: CauKerConfig, split: str) -> int | None:
    """Graphs of ``split`` (the last one may be cut); None if it is endless."""
    rows = config.split_size(split)
    if rows is None:
        return None
    return config.graphs_for(rows)


@dataclass(frozen=True)
class Part:
    """The graphs ``offset + j * stride`` of a split."""

    offset: int = 0
    stride: int = 1

    def cut(self, count: int, index: int) -> Part:
        """Part ``index`` of this part cut into ``count`` interleaved parts."""
        count, index = check_count("count", count, index)
        return Part(self.offset + index * self.stride, self.stride * count)

    def num_graphs(self, config: CauKerConfig, split: str) -> int | None:
        """Graphs of this part; None if the split is endless."""
        total = graphs_in_split(config, split)
        return None if total is None else len(range(self.offset, total, self.stride))

    def iter_batches(
        self,
        config: CauKerConfig,
        split: str,
        position: int = 0,
        *,
        graphs_per_batch: int = GRAPHS_PER_BATCH,
    ) -> Iterator[pa.RecordBatch]:
        """The rows of this part from its row ``position`` on, in batches of at most
        ``graphs_per_batch`` graphs, of even sizes (the first one may start inside
        a graph)."""
        per_graph = config.rows_per_graph
        first, skip = divmod(position, per_graph)
        count = self.num_graphs(config, split)
        if count is not None and count > first:  # even batches: no small last call
            batches = math.ceil((count - first) / graphs_per_batch)
            graphs_per_batch = math.ceil((count - first) / batches)
        with job(config, None if count is None else max(count - first, 0) * per_graph):
            while count is None or first < count:
                last = first + graphs_per_batch
                last = last if count is None else min(last, count)
                graphs = range(
                    self.offset + first * self.stride, self.offset + last * self.stride, self.stride
                )
                yield graph_rows(config, split, graphs, skip=skip)
                first, skip = last, 0
