"""The plan of shards of a split: contiguous row ranges, the unit of parallel
work and of files.

Shards never split a graph (in univariate mode their sizes are multiples of
``series_per_graph``), so no graph is drawn twice. A split has at least
``MIN_SHARDS`` shards when it has enough graphs, so that ``num_proc`` workers,
DataLoader workers and DDP ranks all get work, and at most ``MAX_SHARD_ROWS``
rows per shard, so a shard's memory and a file's size stay bounded.
The rows themselves do not depend on the plan.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from cauker.config import CauKerConfig

MIN_SHARDS = 64
MAX_SHARD_ROWS = 10_000


@dataclass(frozen=True)
class Shard:
    split: str
    index: int  # position in the split's plan
    count: int  # shards in the split
    start: int  # first row
    stop: int  # one past the last row

    @property
    def num_rows(self) -> int:
        return self.stop - self.start

    def file_name(self, extension: str = "parquet") -> str:
        return f"{self.split}-{self.index:05d}-of-{self.count:05d}.{extension}"


def plan_shards(config: CauKerConfig, split: str) -> list[Shard]:
    """Shards covering the rows of ``split``, in order."""
    rows = config.split_size(split)
    if rows == 0:
        return []
    # Rows per graph: 1 in multivariate mode (a row is a graph).
    step = 1 if config.multivariate else config.series_per_graph
    size = min(MAX_SHARD_ROWS, math.ceil(rows / MIN_SHARDS))
    size = max(step, math.ceil(size / step) * step)
    count = math.ceil(rows / size)
    return [Shard(split, i, count, i * size, min(rows, (i + 1) * size)) for i in range(count)]


#: The splits of every corpus, in order.
SPLITS = ("train", "validation")
