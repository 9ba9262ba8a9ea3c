"""The examples iterable behind a streamed CauKer split: any world size, any
number of DataLoader workers, exact resume, endless splits.

``datasets``' own ``ArrowExamplesIterable`` calls the generator once per shard
(one element of the ``gen_kwargs`` lists) and divides a stream by whole shards:
``split_dataset_by_node`` does so only when the world size divides the shard
count, else every rank generates the whole split and keeps one row in
``world_size``; and it resumes a shard by regenerating it from its start. No
public hook changes that, so this module implements ``datasets``' examples
iterable interface (``_BaseExamplesIterable``, a private API: the supported
``datasets`` versions are pinned in ``pyproject.toml`` and tested) over the
parts of ``cauker.hf.parts``:

- ``num_shards`` is ``STREAM_UNITS`` = 20,160, the least common multiple of
  1-10, 12, 14, 15, 16, 20, 24, 28, 30, 32, 40, 48, 56, 60 and 64: for all those
  world sizes ``split_dataset_by_node`` splits by shards. A split into ``n``
  (for ranks, ``datasets.IterableDataset.shard`` or DataLoader workers) gives
  part ``i`` the graphs ``i mod n`` of the current part, for any ``n``: shard
  ``u`` of the 20,160 stands for the graphs ``u mod 20,160``, and a split into a
  divisor of 20,160 keeps exactly the shards ``datasets`` assigns.
- Any other world size: ``cauker.load_dataset(..., rank=, world_size=)``, or
  ``stream.shard(num_shards=world_size, index=rank)``, or
  ``split_dataset_by_node(stream, rank, world_size, strategy="shards")``
  (``datasets`` 5). A rank that iterates a stream not split over the world
  size it runs in (``torch.distributed``, or ``WORLD_SIZE`` as set by
  ``torchrun``) gets a warning: it would generate every rank's rows.
- The state is the number of rows of the part already yielded, plus the part
  itself (a state saved with another world size or worker count is refused).
  Resuming starts at that row: nothing before it is generated again, and
  ``datasets``' rebatching layer regenerates at most the one batch in which
  it stopped.
- The order of a part is fixed: ``shuffle_data_sources`` (``IterableDataset.shuffle``
  and new epochs) keeps it; the shuffle buffer still shuffles rows.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Iterator

import pyarrow as pa
from datasets.iterable_dataset import _BaseExamplesIterable

from cauker.config import CauKerConfig
from cauker.errors import ParameterError, UnsplitStreamWarning
from cauker.hf.parts import Part
from cauker.tasks.corpora import part_batches

#: Shards a stream reports: the least common multiple of the world sizes
#: 1-10, 12, 14, 15, 16, 20, 24, 28, 30, 32, 40, 48, 56, 60 and 64.
STREAM_UNITS = 20_160


def _world_size() -> int:
    """The world size of this process's distributed run, or 1."""
    dist = sys.modules.get("torch.distributed")  # never import torch for this
    if dist is not None and dist.is_available() and dist.is_initialized():
        return dist.get_world_size()
    try:
        return int(os.environ.get("WORLD_SIZE", "1"))
    except ValueError:
        return 1


def _num_workers() -> int:
    """DataLoader workers that split this stream (1 outside a worker)."""
    data = sys.modules.get("torch.utils.data")
    info = data.get_worker_info() if data is not None else None
    return info.num_workers if info is not None else 1


def _warn_if_unsplit(part: Part) -> None:
    world = _world_size()
    workers = _num_workers()
    node_stride = part.stride // workers if part.stride % workers == 0 else part.stride
    if world > 1 and node_stride % world:
        warnings.warn(
            f"this process runs in a world of {world} ranks but iterates a cauker stream "
            f"split {node_stride} way(s): every rank generates every row. "
            f"`split_dataset_by_node` splits a cauker stream by shards only when the world size "
            f"divides {STREAM_UNITS}; for {world} ranks use "
            f"cauker.load_dataset(..., streaming=True, rank=rank, world_size={world}) or "
            f"stream.shard(num_shards={world}, index=rank)",
            UnsplitStreamWarning,
            stacklevel=2,
        )


class CauKerExamplesIterable(_BaseExamplesIterable):
    """The rows of one part of a split, for ``datasets.IterableDataset``."""

    def __init__(self, config: CauKerConfig, split: str, part: Part | None = None) -> None:
        super().__init__()
        config.split_size(split)  # a ValueError for an unknown split
        self.config = config
        self.split = split
        self.part = Part() if part is None else part
        self._sleep_on_threads_shutdown = False  # no reader threads (datasets asks)

    # -- iteration ---------------------------------------------------------

    def _start(self) -> int:
        """The row of the part to start at (from a loaded state), checked."""
        _warn_if_unsplit(self.part)
        state = self._state_dict
        if not state:
            return 0
        saved = (state.get("offset"), state.get("stride"))
        if saved != (self.part.offset, self.part.stride):
            raise ParameterError(
                f"this stream state was saved for the graphs {saved[0]} mod {saved[1]} of the "
                f"split, but this stream holds the graphs {self.part.offset} mod "
                f"{self.part.stride}: resume with the same world size and number of workers"
            )
        return state["position"]

    def _batches(self) -> Iterator[tuple[str, pa.Table]]:
        position = self._start()
        for batch in part_batches(self.part, self.config, self.split, position):
            key = f"{self.split}:{self.part.offset}+{self.part.stride}n:{position}"
            position += batch.num_rows
            yield key, pa.Table.from_batches([batch])

    @property
    def iter_arrow(self):
        return self._iter_arrow

    def _iter_arrow(self) -> Iterator[tuple[str, pa.Table]]:
        for key, table in self._batches():
            if self._state_dict:
                self._state_dict["position"] += table.num_rows
            yield key, table

    def __iter__(self) -> Iterator[tuple[str, dict]]:
        for key, table in self._batches():
            for row, example in enumerate(table.to_pylist()):
                if self._state_dict:
                    self._state_dict["position"] += 1
                yield f"{key}+{row}", example

    # -- sharding ----------------------------------------------------------

    def shard_data_sources(
        self, num_shards: int, index: int, contiguous: bool = True
    ) -> CauKerExamplesIterable:
        """Part ``index`` of ``num_shards``: the graphs ``index mod num_shards`` of
        this part (interleaved, for any ``num_shards``; ``contiguous`` is ignored)."""
        return CauKerExamplesIterable(self.config, self.split, self.part.cut(num_shards, index))

    def shuffle_data_sources(self, generator) -> CauKerExamplesIterable:
        return self  # a fixed order: the part is a pure function of the split and the cut

    def reshard_data_sources(self) -> CauKerExamplesIterable:
        return self

    @property
    def num_shards(self) -> int:
        return max(1, STREAM_UNITS // self.part.stride)

    # -- state -------------------------------------------------------------

    def _init_state_dict(self) -> dict:
        self._state_dict = {
            "position": 0,
            "offset": self.part.offset,
            "stride": self.part.stride,
            "type": type(self).__name__,
        }
        return self._state_dict
