"""``cauker.as_mantis``: a cauker dataset in the layout ``MantisTrainer.pretrain`` reads.

``mantis-tsfm``'s ``MantisTrainer.pretrain(x)`` takes a plain ``datasets.Dataset``
(it checks ``type(x) == Dataset``, so no subclass) and reads ``batch["data"]``
through a ``DataLoader`` with the default collate: each row's ``data`` must be a
float tensor ``(channels, length)``, the same shape in every row of a batch.
That is how the authors' corpus on the Hub is laid out: one column ``data`` of
``(1, 512)`` lists.

A cauker row holds its series in ``target``: a fixed-size list of ``length``
floats (univariate), or a list of them (multivariate). The same Arrow buffers,
wrapped in a fixed-size list of one, are the ``(1, length)`` layout; a
multivariate ``target`` already is ``(channels, length)``. So :func:`as_mantis`
makes a new ``Dataset`` over views of the input's Arrow buffers, in torch
format: nothing of the corpus is copied or rewritten (a cast or a ``map``
would write it again), and a dataset read from disk or the Hub stays
memory-mapped. ``benchmarks/as_mantis_memory.py`` measures it.

Channel counts. Mantis-8M's pretraining network reads one channel (its
encoder takes each channel alone; ``LinearChannelCombiner`` combines them when
fine-tuning), and the default collate needs one shape per batch. So:

- ``per_channel=True`` gives one ``(1, length)`` sample per channel of every
  row (the flattened channels, again a view): what ``MantisTrainer.pretrain``
  trains Mantis-8M on, whatever the counts;
- ``per_channel=False`` (the default) gives a row's ``(channels, length)``;
  with a range of counts, batch rows of one count together
  (:class:`ChannelCountBatches`) in your own loop, or pad them with
  ``cauker.series_array(rows, mask=True)``.

A streamed corpus (``datasets.IterableDataset``) is not a ``Dataset``, so
``MantisTrainer.pretrain`` refuses it; the documentation's user guide shows the
few lines of its loop that take a stream.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cauker.errors import ParameterError
from cauker.validation import check_bool, check_int

__all__ = ["ChannelCountBatches"]  # as_mantis is documented as cauker.as_mantis


def _target(dataset: Any) -> pa.ChunkedArray:
    import datasets

    if isinstance(dataset, pa.Table):
        names = dataset.column_names
    elif isinstance(dataset, datasets.Dataset):
        names = dataset.column_names
    else:
        raise ParameterError(
            "dataset must be a datasets.Dataset or a pyarrow Table (MantisTrainer.pretrain takes "
            "no stream; see the user guide on channels for the loop that does), got "
            f"{type(dataset).__name__}"
        )
    if "target" not in names:
        raise ParameterError(f"dataset must have a 'target' column (a cauker corpus), got {names}")
    target = (dataset if isinstance(dataset, pa.Table) else dataset.data).column("target")
    kind = target.type
    if not (
        pa.types.is_fixed_size_list(kind)
        and pa.types.is_floating(kind.value_type)
        or (pa.types.is_list(kind) or pa.types.is_fixed_size_list(kind))
        and pa.types.is_fixed_size_list(kind.value_type)
    ):
        raise ParameterError(
            f"dataset's 'target' must hold series of one length, as cauker writes them, got {kind}"
        )
    return target


def as_mantis(dataset: Any, *, per_channel: bool = False) -> Any:
    """The rows of a cauker ``dataset`` as a ``Dataset`` whose ``data`` column
    ``MantisTrainer.pretrain`` reads, with no copy.

    Parameters
    ----------
    dataset : datasets.Dataset or pyarrow.Table
        A cauker corpus: ``cauker.load_dataset(...)[split]``, a split loaded
        from the Hub or from files written by ``cauker generate``, or a table
        (say, Arrow IPC files opened with ``pyarrow.memory_map``).
    per_channel : bool, default=False
        One ``(1, length)`` sample per channel of every row, instead of one
        ``(channels, length)`` sample per row (the same for univariate rows).

    Returns
    -------
    datasets.Dataset
        One column, ``data``, in torch format: a float32 tensor ``(1, length)``
        per univariate row (or per channel), ``(channels, length)`` per
        multivariate row. Its table refers to ``dataset``'s Arrow buffers (the
        memory map of its files, if any); it is a view to read, not to save.

    Raises
    ------
    ParameterError
        If ``dataset`` is not a ``datasets.Dataset`` with cauker's ``target``
        column, or ``per_channel`` is asked of a dataset with an indices
        mapping (``select``, ``shuffle``: its rows are no longer its buffers).

    Examples
    --------
    >>> import cauker, datasets
    >>> config = cauker.CauKerConfig(num_series=6, length=32)
    >>> rows = datasets.Dataset(datasets.table.InMemoryTable(cauker.generate(config)))
    >>> cauker.as_mantis(rows)[0]["data"].shape
    torch.Size([1, 32])
    >>> config = cauker.CauKerConfig(
    ...     num_series=3, length=32, multivariate=True, series_per_graph=(1, 4)
    ... )
    >>> rows = datasets.Dataset(datasets.table.InMemoryTable(cauker.generate(config)))
    >>> [tuple(row.shape) for row in cauker.as_mantis(rows)["data"]]
    [(4, 32), (1, 32), (4, 32)]
    >>> len(cauker.as_mantis(rows, per_channel=True))
    9
    """
    import datasets
    from datasets.fingerprint import generate_random_fingerprint
    from datasets.table import InMemoryTable

    target = _target(dataset)
    check_bool("per_channel", per_channel)
    multivariate = pa.types.is_fixed_size_list(target.type.value_type)
    table = isinstance(dataset, pa.Table)
    indices = None if table else dataset._indices  # noqa: SLF001 - rows a select or shuffle kept
    if per_channel and multivariate:
        if indices is not None:
            raise ParameterError(
                "per_channel=True needs a dataset without an indices mapping (select, shuffle, "
                "filter); take the channels first, then select or shuffle the result"
            )
        # The rows' offset and length into the shared child array: its slice is a view.
        chunks = [chunk.flatten() for chunk in target.chunks]
        multivariate = False
        indices = None
    else:
        chunks = target.chunks
    if not multivariate:  # (1, length): the same buffers in a fixed-size list of one
        chunks = [pa.FixedSizeListArray.from_arrays(chunk, 1) for chunk in chunks]
    data = pa.chunked_array(chunks, type=chunks[0].type if chunks else None)
    view = datasets.Dataset(
        InMemoryTable(pa.table({"data": data})),
        indices_table=indices,
        fingerprint=generate_random_fingerprint()
        if table
        else f"{dataset._fingerprint}-mantis-{int(per_channel)}",  # noqa: SLF001
    )
    return view.with_format("torch")


class ChannelCountBatches:
    """Batches of row indices in which every row has the same channel count, for
    a ``torch.utils.data.DataLoader``'s ``batch_sampler`` over :func:`as_mantis`
    rows of a corpus with a range of counts (the default collate stacks equal
    shapes only). TempoPFN's batches, of one count each, are these.

    Each epoch shuffles every count's rows with ``numpy`` seeded by ``(seed,
    epoch)``, cuts them into batches of ``batch_size`` (the last of a count may
    be smaller), and shuffles the batches. The counts are read from the
    ``target`` column's offsets, not its values.

    Parameters
    ----------
    dataset : datasets.Dataset or pyarrow.Table
        The cauker rows given to :func:`as_mantis`.
    batch_size : int
    seed : int, default=0

    Examples
    --------
    >>> import cauker, datasets
    >>> config = cauker.CauKerConfig(
    ...     num_series=12, length=32, multivariate=True, series_per_graph=(1, 3)
    ... )
    >>> rows = datasets.Dataset(datasets.table.InMemoryTable(cauker.generate(config)))
    >>> batches = ChannelCountBatches(rows, batch_size=4)
    >>> view = cauker.as_mantis(rows)
    >>> sorted({view[b]["data"].shape[1] for b in batches})
    [1, 2, 3]
    """

    def __init__(self, dataset: Any, batch_size: int, seed: int = 0) -> None:
        target = _target(dataset)
        self.batch_size = check_int("batch_size", batch_size, 1)
        self.seed = check_int("seed", seed, 0)
        counts = np.asarray(pc.list_value_length(target), dtype=np.int64)
        if getattr(dataset, "_indices", None) is not None:
            counts = counts[np.asarray(dataset._indices.column(0))]  # noqa: SLF001
        self.groups = [np.flatnonzero(counts == c) for c in np.unique(counts).tolist()]
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """The epoch whose order :meth:`__iter__` gives (as ``DistributedSampler``)."""
        self.epoch = check_int("epoch", epoch, 0)

    def __len__(self) -> int:
        return sum(-(-len(group) // self.batch_size) for group in self.groups)

    def __iter__(self) -> Iterator[list[int]]:
        rng = np.random.default_rng([self.seed, self.epoch])
        batches = []
        for group in self.groups:
            order = rng.permutation(group)
            starts = range(0, len(order), self.batch_size)
            batches += [order[i : i + self.batch_size] for i in starts]
        for b in rng.permutation(len(batches)).tolist():
            yield batches[b].tolist()
