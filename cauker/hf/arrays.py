"""Rows as the arrays that classification foundation models take: ``(n, channels, length)``.

``mantis-tsfm``'s ``MantisTrainer.pretrain``, ``fit`` and ``transform`` take a
float array of shape ``(n_samples, n_channels, seq_len)``, with one channel for
univariate series (MOMENT takes the same layout). A univariate cauker row is
one channel; a multivariate row (``multivariate=True``) has
``series_per_graph`` channels, or its own count in a range (padded, with a mask).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cauker.errors import ParameterError


def _target(rows: Any) -> pa.ChunkedArray | pa.Array:
    if isinstance(rows, pa.Table | pa.RecordBatch):
        return rows.column("target")
    if hasattr(rows, "with_format") and hasattr(rows, "column_names"):  # a datasets.Dataset
        return rows.with_format("arrow")[:]["target"]
    raise ParameterError(
        "rows must be a pyarrow Table or RecordBatch or a datasets.Dataset with a 'target' "
        f"column, got {type(rows).__name__}"
    )


def series_array(rows: Any, *, mask: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """The ``target`` series of ``rows`` as a float32 array ``(n, channels, length)``.

    Rows of a range of channel counts (``series_per_graph=(low, high)``) are
    padded to the most channels among them with zeros, never NaN, and the
    channel mask says which channels are real: ask for it with ``mask=True``
    (without it, such rows are an error rather than silent padding).

    Parameters
    ----------
    rows : pyarrow.Table, pyarrow.RecordBatch or datasets.Dataset
        Rows with a ``target`` column, univariate or multivariate.
    mask : bool, default=False
        Also return the channel mask.

    Returns
    -------
    numpy.ndarray
        A writable float32 array ``(n, channels, length)``: one channel per
        series of a row, zeros past a row's own channels.
    numpy.ndarray
        With ``mask=True``: a bool array ``(n, channels)``, True for a row's
        own channels (its first ``count``), False for padding.

    Raises
    ------
    ParameterError
        If ``rows`` is none of these, or if their channel counts differ and
        ``mask`` is False.

    Examples
    --------
    >>> import cauker
    >>> rows = cauker.generate(cauker.CauKerConfig(num_series=8, length=64))
    >>> cauker.series_array(rows).shape
    (8, 1, 64)
    >>> config = cauker.CauKerConfig(
    ...     num_series=3, length=16, multivariate=True, series_per_graph=(1, 4)
    ... )
    >>> x, channels = cauker.series_array(cauker.generate(config), mask=True)
    >>> x.shape, channels.sum(axis=1).tolist()
    ((3, 4, 16), [4, 1, 4])
    >>> bool((x[~channels] == 0).all())
    True
    """
    target = _target(rows)
    if isinstance(target, pa.ChunkedArray):
        target = target.combine_chunks()
    n = len(target)
    values = target
    while pa.types.is_list(values.type) or pa.types.is_fixed_size_list(values.type):
        values = values.flatten()
    flat = np.array(values.to_numpy(zero_copy_only=False), dtype=np.float32)  # writable
    if n == 0:
        empty = flat.reshape(0, 1, 0)
        return (empty, np.zeros((0, 1), dtype=bool)) if mask else empty
    inner = target.type.value_type
    counts = np.ones(n, dtype=np.int64)
    if pa.types.is_list(inner) or pa.types.is_fixed_size_list(inner):
        counts = np.asarray(pc.list_value_length(target), dtype=np.int64)
    series = flat.reshape(int(counts.sum()), -1)
    channels = int(counts.max())
    present = np.arange(channels) < counts[:, None]
    if present.all():
        out = series.reshape(n, channels, -1)
    elif not mask:
        raise ParameterError(
            f"rows have {int(counts.min())} to {channels} channels: series_array(rows, mask=True) "
            f"pads them to {channels} with zeros and returns the channel mask"
        )
    else:
        out = np.zeros((n, channels, series.shape[1]), dtype=np.float32)
        out[present] = series
    return (out, present) if mask else out
