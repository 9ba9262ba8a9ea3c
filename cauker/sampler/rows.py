"""Rows of a split, from a config: ``generate`` (a table), ``iter_batches``
(a stream of record batches in bounded memory) and ``graph_rows`` (the rows of
any list of graphs, for the streams of ``cauker.hf.streaming``).

Row ``r`` of a univariate split is series ``r % series_per_graph`` of graph
``r // series_per_graph``; in multivariate mode row ``r`` is graph ``r``, with
as many channels as the graph keeps (``series_per_graph``, or its own count in
a range). Any
range of rows is a pure function of the config, the split and the range. An
endless split (``num_series=None``) has the same rows as every finite one:
ranges of it need an explicit ``stop``.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from cauker.config import CauKerConfig
from cauker.errors import ParameterError
from cauker.sampler.backend import COMPILE_AFTER, Backend, mode_from_environment
from cauker.sampler.memory import GRAPHS_PER_BATCH, check_memory
from cauker.sampler.schema import PROVENANCE, arrow_schema, record_batch
from cauker.validation import check_int, check_rows

if TYPE_CHECKING:
    from cauker.sampler.scm import Graph, Sampler


def sampler_for(config: CauKerConfig) -> Sampler:
    """A per-process sampler for ``config``, reused so its factor caches are kept
    (configs hash by their fingerprint, so custom kernel banks are keys too), with
    the backend ``CAUKER_COMPILED`` names (see ``cauker.sampler.backend``)."""
    return _sampler(config, mode_from_environment())


@functools.lru_cache(maxsize=8)
def _sampler(config: CauKerConfig, mode: str) -> Sampler:
    check_memory(config)  # once per config in each process that draws, before it draws
    from cauker.sampler.scm import Sampler  # scikit-learn and scipy: imported when first needed

    return Sampler(config, Backend(mode))


@contextlib.contextmanager
def job(config: CauKerConfig, rows: int | None) -> Iterator[None]:
    """A block in which the caller draws about ``rows`` rows of ``config`` (None:
    endless), in one call or several (one per file, say): the sampler chooses its
    loops for them all, and a process it starts to compile them (on a fresh
    machine) ends with the block, not before (see ``cauker.sampler.backend``).
    ``iter_batches`` and ``graph_rows`` open one of their own.

    Examples
    --------
    >>> import cauker
    >>> config = cauker.CauKerConfig(num_series=200, length=16)
    >>> with job(config, 200):  # two calls, one job
    ...     halves = [cauker.generate(config, start=a, stop=a + 100) for a in (0, 100)]
    >>> [half.num_rows for half in halves]
    [100, 100]
    """
    if rows is None:  # as many as it takes for compiling to pay
        graphs = COMPILE_AFTER
    else:
        graphs = config.graphs_for(rows)
    with sampler_for(config).backend.job(graphs, config.length):
        yield


#: The columns :func:`_columns` gives as arrays, and their dtypes (the rest are lists).
_ARRAYS = {
    "series": np.int64,
    "graph": np.int64,
    "redraws": np.int64,
    "node": np.int32,
    "is_root": np.bool_,
    "depth": np.int32,
}
#: Per-series columns that a :class:`~cauker.sampler.scm.Graph` holds as arrays.
_GRAPH_ARRAYS = ("values", "node", "is_root", "depth")


def _columns(
    graphs: list[Graph], first: int, last: int | None, per_graph: int | None
) -> dict[str, list | np.ndarray]:
    """Flat per-series columns of the rows ``[first, last)`` of ``graphs`` (``last=None``:
    no end): univariate rows are series (``per_graph`` of a graph), multivariate
    rows (``per_graph=None``) graphs, with their series in ``channels`` and their
    edges in ``edges``. Each series' row number is in ``series``; ``values`` is a
    ``(series, length)`` array, the columns of ``_ARRAYS`` arrays, the text
    columns lists."""
    names = ("values", "series", "graph", "redraws", "channels", "edges", *PROVENANCE)
    parts: dict[str, list] = {name: [] for name in names}
    for g in graphs:
        if per_graph is None:  # a row is a graph
            if not first <= g.index < (g.index + 1 if last is None else last):
                continue
            lo, hi = 0, len(g.values)
            parts["series"].extend([g.index] * hi)
            parts["channels"].append(hi)
            parts["edges"].append(g.edges)
        else:
            base = g.index * per_graph
            lo = max(first - base, 0)
            hi = per_graph if last is None else min(last - base, per_graph)
            if lo >= hi:
                continue
            parts["series"].extend(range(base + lo, base + hi))
        parts["graph"].extend([g.index] * (hi - lo))
        parts["redraws"].extend([g.redraws] * (hi - lo))
        for name in _GRAPH_ARRAYS:
            parts[name].append(getattr(g, name)[lo:hi])
        for name in ("kernel", "mean", "activation"):
            parts[name].extend(getattr(g, name)[lo:hi])
    columns: dict[str, list | np.ndarray] = {}
    for name in names:
        if name in _GRAPH_ARRAYS:
            columns[name] = np.concatenate(parts[name]) if parts[name] else []
        else:
            columns[name] = parts[name]
        if name in _ARRAYS:
            columns[name] = np.asarray(columns[name], dtype=_ARRAYS[name])
    return columns


def iter_batches(
    config: CauKerConfig,
    split: str = "train",
    start: int = 0,
    stop: int | None = None,
    *,
    graphs_per_batch: int = GRAPHS_PER_BATCH,
) -> Iterator[pa.RecordBatch]:
    """Yield the rows ``[start, stop)`` of ``split`` as consecutive record batches.

    Memory stays bounded whatever the range: ``graphs_per_batch`` graphs are
    drawn at a time (the rows do not depend on it).

    Parameters
    ----------
    config : CauKerConfig
    split : {"train", "validation"}, default="train"
    start, stop : int, optional
        The rows, ``0 <= start <= stop <= config.split_size(split)``; ``stop``
        defaults to the size of the split (it must be given for the ``train``
        split of an endless corpus).
    graphs_per_batch : int, default=128
        Graphs drawn per call of the sampler.

    Yields
    ------
    pyarrow.RecordBatch
        Rows with the columns of :func:`~cauker.sampler.schema.arrow_schema`.

    Raises
    ------
    ParameterError
        For an unknown split or a range outside it.

    Examples
    --------
    >>> import cauker
    >>> config = cauker.CauKerConfig(num_series=300, length=16)
    >>> [batch.num_rows for batch in cauker.iter_batches(config, graphs_per_batch=32)]
    [128, 128, 44]
    """
    check_int("graphs_per_batch", graphs_per_batch, 1)
    endless = "an endless corpus (num_series=None)"
    start, stop = check_rows(split, config.split_size(split), start, stop, endless)
    sampler = sampler_for(config)
    if start == stop:
        return
    k = None if config.multivariate else config.series_per_graph
    graph, last_graph = (start, stop - 1) if k is None else (start // k, (stop - 1) // k)
    with sampler.backend.job(last_graph - graph + 1, config.length):
        while graph <= last_graph:
            indices = range(graph, min(graph + graphs_per_batch, last_graph + 1))
            graphs = sampler.graphs(split, indices)  # no BLAS: one thread, whatever the machine
            columns = _columns(graphs, start, stop, k)
            yield record_batch(config, _row_index(columns), columns)
            graph = indices.stop


def _row_index(columns: dict[str, list]) -> np.ndarray:
    """The row number of each row: of each series, or of each graph's first series."""
    series = np.asarray(columns["series"], dtype=np.int64)
    if columns["channels"]:  # multivariate: a row is a graph's series
        return series[np.cumsum([0, *columns["channels"][:-1]])]
    return series


def graph_rows(
    config: CauKerConfig, split: str, graphs: Sequence[int], *, skip: int = 0
) -> pa.RecordBatch:
    """The rows of the graphs ``graphs`` (indices, in this order) of ``split``, as one batch.

    A graph gives ``series_per_graph`` rows (one in multivariate mode), cut at
    the end of a finite split; ``skip`` drops the first rows. The graphs are
    drawn in one call of the sampler, so pass about ``GRAPHS_PER_BATCH`` of them:
    the rows are the same bytes as ``generate`` gives for their indices, whatever
    the list.
    """
    k = None if config.multivariate else config.series_per_graph
    if not graphs:
        return record_batch(config, np.zeros(0, dtype=np.int64), _columns([], 0, 0, k))
    sampler = sampler_for(config)
    with sampler.backend.job(len(graphs), config.length):
        drawn = sampler.graphs(split, graphs)
    columns = _columns(drawn, 0, config.split_size(split), k)
    if skip:
        series = sum(columns["channels"][:skip]) if k is None else skip
        rows = {"channels", "edges"}  # per row; the others are per series
        columns = {
            name: values[skip:] if name in rows else values[series:]
            for name, values in columns.items()
        }
    return record_batch(config, _row_index(columns), columns)


def generate(
    config: CauKerConfig, split: str = "train", start: int = 0, stop: int | None = None
) -> pa.Table:
    """Rows ``[start, stop)`` of ``split`` (``"train"`` or ``"validation"``) as a table.

    The result is a pure function of the arguments: any sub-range equals the
    same rows of the whole split, byte for byte, on any machine.

    Parameters
    ----------
    config : CauKerConfig
    split : {"train", "validation"}, default="train"
    start, stop : int, optional
        The rows; ``stop`` defaults to the size of the split.

    Returns
    -------
    pyarrow.Table
        The columns of :func:`~cauker.sampler.schema.arrow_schema`.

    Raises
    ------
    ParameterError
        For a config that is not a :class:`~cauker.config.CauKerConfig`, an
        unknown split, or a range outside it.

    Examples
    --------
    >>> import cauker
    >>> table = cauker.generate(cauker.CauKerConfig(num_series=8, length=64))
    >>> table.num_rows, table.schema.field("target").type.list_size
    (8, 64)
    """
    if not isinstance(config, CauKerConfig):
        raise ParameterError(f"config must be a CauKerConfig, got {type(config).__name__}")
    batches = list(iter_batches(config, split, start, stop))
    return pa.Table.from_batches(batches, schema=arrow_schema(config))
