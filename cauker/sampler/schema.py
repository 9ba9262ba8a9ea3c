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
    """Schema of the rows of ``config``.

    Examples
    --------
    >>> import cauker
    >>> schema = cauker.arrow_schema(cauker.CauKerConfig(num_series=8, length=64))
    >>> schema.names[:4], schema.names[-1]
    (['index', 'target', 'graph', 'node'], 'redraws')
    >>> schema.field("target").type
    FixedSizeListType(fixed_size_list<item: float>[64])
    """
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


# pyarrow imports pandas (about a second) the first time ``pa.array`` sees any
# object, to check whether it is a pandas one. Building the arrays from their
# buffers keeps ``cauker.generate`` from paying that.


def _numeric(values: np.ndarray, kind: pa.DataType) -> pa.Array:
    values = np.ascontiguousarray(values, dtype=kind.to_pandas_dtype())
    return pa.Array.from_buffers(kind, values.size, [None, pa.py_buffer(values)])


def _bitmap(flags: np.ndarray) -> pa.Buffer:
    return pa.py_buffer(np.packbits(np.asarray(flags, dtype=bool), bitorder="little"))


def _column(values: list | np.ndarray, kind: pa.DataType) -> pa.Array:
    """An Arrow array of ``kind`` from an array, or a list (strings may be None)."""
    if kind == pa.bool_():
        return pa.Array.from_buffers(kind, len(values), [None, _bitmap(values)])
    if kind != pa.string():
        return _numeric(np.asarray(values), kind)
    present = np.array([v is not None for v in values], dtype=bool)
    encoded = [v.encode("utf-8") if v is not None else b"" for v in values]
    offsets = np.zeros(len(values) + 1, dtype=np.int32)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    validity = None if present.all() else _bitmap(present)
    data = pa.py_buffer(b"".join(encoded))
    return pa.Array.from_buffers(kind, len(values), [validity, pa.py_buffer(offsets), data])


def _fixed(values: np.ndarray, size: int) -> pa.Array:
    return pa.FixedSizeListArray.from_arrays(_numeric(values.reshape(-1), pa.float32()), size)


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
    arrays = {"index": _numeric(np.asarray(index), pa.int64())}
    if k > 1:
        target = pa.FixedSizeListArray.from_arrays(target, k)
    arrays["target"] = target
    arrays["graph"] = _numeric(np.asarray(columns["graph"][::k]), pa.int64())
    for name in PROVENANCE:
        flat = _column(columns[name], _TYPES[name])
        arrays[name] = pa.FixedSizeListArray.from_arrays(flat, k) if k > 1 else flat
    arrays["redraws"] = _numeric(np.asarray(columns["redraws"][::k]), pa.int32())
    return pa.RecordBatch.from_arrays([arrays[f.name] for f in schema], schema=schema)
