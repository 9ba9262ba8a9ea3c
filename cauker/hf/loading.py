"""``cauker.load_dataset``: a corpus by name, as the usual ``datasets`` objects.

``datasets`` 4 and later refuse dataset scripts, so ``load_dataset("cauker_dataset.py")``
no longer works; this function drives the builder directly. A corpus pushed to
the Hub loads with plain ``datasets.load_dataset(repo, name)`` instead.
"""

from __future__ import annotations

from typing import Any

from cauker.errors import ParameterError
from cauker.validation import check_int


def builder(name: str = "10k", *, cache_dir: str | None = None, **overrides: Any):
    """The ``datasets`` builder of config ``name`` with field overrides."""
    from cauker.named_configs import named_config

    named_config(name, **overrides)  # clear errors before datasets sees the arguments
    from cauker.hf.builder import CauKer

    return CauKer(config_name=name, dataset_name="cauker", cache_dir=cache_dir, **overrides)


def _check_node(rank: Any, world_size: Any, streaming: bool) -> None:
    if rank is None and world_size is None:
        return
    if rank is None or world_size is None:
        raise ParameterError(
            f"rank and world_size go together, got rank={rank!r}, world_size={world_size!r}"
        )
    if not streaming:
        raise ParameterError(
            "rank and world_size split a stream: pass streaming=True (a prepared Dataset is "
            "split with datasets.distributed.split_dataset_by_node)"
        )
    from cauker.hf.parts import check_count

    check_count("world_size", world_size, rank)


def load_dataset(
    name: str = "10k",
    split: str | None = None,
    streaming: bool = False,
    num_proc: int | None = None,
    cache_dir: str | None = None,
    *,
    rank: int | None = None,
    world_size: int | None = None,
    **overrides: Any,
):
    """Load CauKer corpus ``name`` (``10k``, ``100k``, ``1m``, ``10m``; or the task
    corpus ``tasks-10k``, ``tasks-100k``, ``tasks-1m``) with overrides.

    Returns a ``datasets.DatasetDict`` (or ``Dataset`` for one ``split``); with
    ``streaming=True`` an ``IterableDatasetDict`` (or ``IterableDataset``) that
    generates rows on the fly, with nothing written to disk.

    Parameters
    ----------
    name, split, streaming, num_proc, cache_dir
        As in ``datasets.load_dataset``.
    rank, world_size : int, optional
        Streaming only: the part of the rows that DDP rank ``rank`` of
        ``world_size`` iterates (the rows of graphs ``rank mod world_size``).
        The ranks' parts are disjoint and cover the split, for any world size,
        and each rank generates only its own part; DataLoader workers then
        share the rank's part. (``split_dataset_by_node`` does the same when
        ``world_size`` divides 20,160.)
    **overrides
        Fields of ``cauker.CauKerConfig`` (``cauker.TaskConfig`` for a task
        corpus); ``num_series=None`` (``num_tasks=None``) makes the train split
        endless (streaming only).

    Raises
    ------
    ParameterError
        For an unknown name, split or field, or a bad value.

    Examples
    --------
    >>> import cauker
    >>> stream = cauker.load_dataset("10k", split="train", streaming=True, length=16)
    >>> next(iter(stream))["index"]
    0
    >>> part = cauker.load_dataset(
    ...     "1m", split="train", streaming=True, length=16, rank=3, world_size=11
    ... )
    >>> [row["graph"] for row, _ in zip(part, range(6))]  # graphs 3, 14, 25...: 3 mod 11
    [3, 3, 3, 3, 14, 14]
    """
    if split not in (None, "train", "validation"):
        raise ParameterError(f"split must be None, 'train' or 'validation', got {split!r}")
    check_int("num_proc", num_proc, 1, optional=True)
    _check_node(rank, world_size, streaming)
    for size in ("num_series", "num_tasks"):
        if not streaming and size in overrides and overrides[size] is None:
            raise ParameterError(
                f"{size}=None is an endless corpus: load it with streaming=True, or give {size}"
            )
    b = builder(name, cache_dir=cache_dir, **overrides)
    if streaming:
        stream = b.as_streaming_dataset(split=split)
        if rank is None:
            return stream
        if split is not None:
            return stream.shard(num_shards=world_size, index=rank, contiguous=False)
        return type(stream)(
            {
                s: part.shard(num_shards=world_size, index=rank, contiguous=False)
                for s, part in stream.items()
            }
        )
    b.download_and_prepare(num_proc=num_proc)
    return b.as_dataset(split=split)
