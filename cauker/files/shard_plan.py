"""The plan of the files of a split: contiguous row ranges, one file each, sized
for the Hub.

Files are sized for the Hugging Face Hub, not for parallelism: at least
``MIN_FILE_BYTES`` of rows each (a request to the Hub is worth it), unless the
whole split is smaller, at most ``MAX_FILE_BYTES`` (what ``datasets`` itself
writes per file), and up to ``PARALLEL_FILES`` files within those bounds, so
that ``num_proc`` processes and Dask workers get work on large corpora. Their
count is a power of two (a multiple of 64 for the largest corpora), so that a
corpus loaded from the Hub splits by files over the usual numbers of GPUs. The
size of a row is estimated from the config. Streams do not use this plan (see
``cauker.hf.parts``), so the file layout and the parallelism of a stream are
independent.

Files never split a graph (in univariate mode their sizes are multiples of
``series_per_graph``), so no graph is drawn twice. A plan is lazy: a sequence
whose shards are made when indexed, so a huge corpus never builds a list of
them. The rows themselves do not depend on the plan.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from cauker.config import CauKerConfig
from cauker.errors import ParameterError
from cauker.tasks import corpora

#: Smallest file, in (uncompressed) bytes, unless the whole split is smaller.
MIN_FILE_BYTES = 32 * 2**20
#: Largest file, in bytes (``datasets``' own ``max_shard_size`` is 500 MB).
MAX_FILE_BYTES = 512 * 2**20
#: Files wanted for parallel export, within the bounds above.
PARALLEL_FILES = 64
#: Bytes of the provenance columns of one series, estimated (index, graph,
#: node, flags, and the kernel, mean and activation names).
PROVENANCE_BYTES = 64

#: Smallest file of a local folder for a training script (``cauker generate``):
#: no request to pay for, so smaller files, and ``--num-proc`` has work from
#: about 4,000 series of length 512 on.
LOCAL_MIN_FILE_BYTES = 4 * 2**20


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

    def file_name(self, extension: str) -> str:
        """``<split>-NNNNN-of-NNNNN.<extension>``."""
        return f"{self.split}-{self.index:05d}-of-{self.count:05d}.{extension}"


@dataclass(frozen=True)
class ShardPlan(Sequence):
    """The files of a split: ``len(plan)`` shards of ``rows_per_shard`` rows
    (the last one shorter), made when indexed."""

    split: str
    num_rows: int
    rows_per_shard: int

    def __len__(self) -> int:
        return math.ceil(self.num_rows / self.rows_per_shard)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        count = len(self)
        if index < 0:
            index += count
        if not 0 <= index < count:
            raise IndexError(f"shard {index} of a plan of {count}")
        start = index * self.rows_per_shard
        return Shard(
            self.split, index, count, start, min(self.num_rows, start + self.rows_per_shard)
        )


def row_bytes(config: CauKerConfig) -> int:
    """Estimated uncompressed bytes of one row (a series, a graph, or a task)."""
    return corpora.row_bytes(config, PROVENANCE_BYTES)


def check_not_endless(config: CauKerConfig) -> None:
    """A ``ValueError`` if ``config`` is endless: its train split has no files."""
    _finite_rows(config, "train")


def _finite_rows(config: CauKerConfig, split: str) -> int:
    rows = config.split_size(split)
    if rows is None:
        size = corpora.size_name(config)
        raise ParameterError(
            f"split {split!r} of an endless corpus ({size}=None) cannot be written to "
            f"files: give {size}, or stream it"
        )
    return rows


def _gpu_friendly(files: int) -> int:
    """A file count that the usual numbers of GPUs divide, near ``files``: a power of
    two up to ``PARALLEL_FILES`` (rounded down: files stay above the minimum), a
    multiple of it above (rounded up: files stay below the maximum). Loaded from
    the Hub, a corpus streams by files, and ``split_dataset_by_node`` splits by
    files only when the world size divides their count."""
    if files <= 1:
        return 1
    if files <= PARALLEL_FILES:
        return 2 ** (files.bit_length() - 1)
    return math.ceil(files / PARALLEL_FILES) * PARALLEL_FILES


def plan_shards(config: CauKerConfig, split: str, *, local: bool = False) -> ShardPlan:
    """The files covering the rows of ``split``, in order: of at least
    ``MIN_FILE_BYTES`` each (``LOCAL_MIN_FILE_BYTES`` if ``local``), unless the
    split is smaller.

    Examples
    --------
    >>> import cauker
    >>> plan = plan_shards(cauker.named_config("1m"), "train")
    >>> len(plan), plan[0].num_rows, plan[-1].stop
    (32, 31252, 1000000)
    """
    rows = _finite_rows(config, split)
    step = corpora.rows_per_unit(config)
    total = rows * row_bytes(config)
    smallest = LOCAL_MIN_FILE_BYTES if local else MIN_FILE_BYTES
    files = max(math.ceil(total / MAX_FILE_BYTES), min(PARALLEL_FILES, total // smallest))
    size = math.ceil(rows / _gpu_friendly(files))
    size = max(step, math.ceil(size / step) * step)
    return ShardPlan(split, rows, size)
