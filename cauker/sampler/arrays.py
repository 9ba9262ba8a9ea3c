"""Rows as the arrays that classification foundation models take: ``(n, channels, length)``.

``mantis-tsfm``'s ``MantisTrainer.pretrain``, ``fit`` and ``transform`` take a
float array of shape ``(n_samples, n_channels, seq_len)``, with one channel for
univariate series (MOMENT takes the same layout). A univariate cauker row is
one channel; a multivariate row (``multivariate=True``) has
``series_per_graph`` channels.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

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


def series_array(rows: Any) -> np.ndarray:
    """The ``target`` series of ``rows`` as a float32 array ``(n, channels, length)``.

    Parameters
    ----------
    rows : pyarrow.Table, pyarrow.RecordBatch or datasets.Dataset
        Rows with a ``target`` column, univariate or multivariate.

    Returns
    -------
    numpy.ndarray
        A writable float32 array: one channel per series of a row.

    Raises
    ------
    ParameterError
        If ``rows`` is none of these.

    Examples
    --------
    >>> import cauker
    >>> rows = cauker.generate(cauker.CauKerConfig(num_series=8, length=64))
    >>> cauker.series_array(rows).shape
    (8, 1, 64)
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
        return flat.reshape(0, 1, 0)
    inner = target.type.value_type
    channels = 1
    if pa.types.is_list(inner) or pa.types.is_fixed_size_list(inner):
        channels = len(target[0])
    return flat.reshape(n, channels, -1)
