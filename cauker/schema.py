"""The Arrow layout of a corpus: one row per series (or per graph when
``multivariate``), the values in ``target`` and the provenance beside them."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from cauker.config import CauKerConfig

#: Provenance columns, in order: graph index, node label, root flag, longest
#: root-to-node path, kernel expression (roots), mean expression (roots),
#: activation name (other nodes).
PROVENANCE = ("node", "is_root", "depth", "kernel", "mean", "activation")
_TYPES = {
    "node": pa.int32(),
    "is_root": pa.bool_(),
    "depth": pa.int32(),
    "kernel": pa.string(),
    "mean": pa.string(),
    "activation": pa.string(),
}


def arrow_schema(config: CauKerConfig) -> pa.Schema:
    """Schema of the rows of ``config``."""
    series = pa.list_(pa.float32(), config.length)
    if config.multivariate:
        k = config.series_per_graph
        target = pa.list_(series, k)
        provenance = [pa.field(n, pa.list_(_TYPES[n], k)) for n in PROVENANCE]
    else:
        target = series
        provenance = [pa.field(n, _TYPES[n]) for n in PROVENANCE]
    return pa.schema(
        [pa.field("index", pa.int64()), pa.field("target", target), pa.field("graph", pa.int64())]
        + provenance
        + [pa.field("redraws", pa.int32())],
        metadata={"cauker_config": config.fingerprint()},
    )


def _fixed(values: np.ndarray, size: int) -> pa.Array:
    return pa.FixedSizeListArray.from_arrays(pa.array(values.reshape(-1)), size)


def record_batch(
    config: CauKerConfig, index: np.ndarray, columns: dict[str, list | np.ndarray]
) -> pa.RecordBatch:
    """Rows from flat per-series columns (``values`` is ``(series, length)``).

    In multivariate mode every ``series_per_graph`` consecutive series form one
    row. ``index`` holds the row index of each row.
    """
    schema = arrow_schema(config)
    values = np.asarray(columns["values"], dtype=np.float32).reshape(-1, config.length)
    target = _fixed(values, config.length)
    k = config.series_per_graph if config.multivariate else 1
    arrays = {"index": pa.array(np.asarray(index, dtype=np.int64))}
    if k > 1:
        target = pa.FixedSizeListArray.from_arrays(target, k)
    arrays["target"] = target
    arrays["graph"] = pa.array(np.asarray(columns["graph"][::k], dtype=np.int64))
    for name in PROVENANCE:
        flat = pa.array(columns[name], type=_TYPES[name])
        arrays[name] = pa.FixedSizeListArray.from_arrays(flat, k) if k > 1 else flat
    arrays["redraws"] = pa.array(np.asarray(columns["redraws"][::k], dtype=np.int32))
    return pa.RecordBatch.from_arrays([arrays[f.name] for f in schema], schema=schema)
