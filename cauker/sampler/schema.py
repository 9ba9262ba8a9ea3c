"""The Arrow layout of a corpus: one row per series (or per graph when
``multivariate``), the values in ``target`` and the provenance beside them.

A multivariate row holds its channels as a list of fixed-size lists: of fixed
size ``series_per_graph`` for one count (the 2.0.0 layout), of variable size
for a range of counts. Its ``edges`` column (:data:`EDGE`, when
``config.has_edges``) lists the edges among its channels
(:meth:`cauker.sampler.scm.Sampler.edges`).
"""

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


#: One edge between two channels of a row: ``weight`` and ``lag`` are those of the
#: direct edge (null when the channels are linked only through dropped nodes),
#: ``via_dropped`` whether a path through dropped nodes links them too.
EDGE = pa.struct(
    [
        pa.field("parent", pa.int32()),
        pa.field("child", pa.int32()),
        pa.field("weight", pa.float64()),
        pa.field("lag", pa.int32()),
        pa.field("via_dropped", pa.bool_()),
    ]
)


def _per_channel(kind: pa.DataType, config: CauKerConfig) -> pa.DataType:
    low, high = config.channel_range
    return pa.list_(kind, low) if low == high else pa.list_(kind)


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
        target = _per_channel(series, config)
        provenance = [pa.field(n, _per_channel(_TYPES[n], config)) for n in PROVENANCE]
    else:
        target = series
        provenance = [pa.field(n, _TYPES[n]) for n in PROVENANCE]
    if config.has_edges:
        provenance.append(pa.field("edges", pa.list_(EDGE)))
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


def _optional(values: list, kind: pa.DataType) -> pa.Array:
    """A numeric array in which None is null."""
    present = np.array([v is not None for v in values], dtype=bool)
    filled = np.array([0 if v is None else v for v in values], dtype=kind.to_pandas_dtype())
    validity = None if present.all() else _bitmap(present)
    return pa.Array.from_buffers(kind, len(values), [validity, pa.py_buffer(filled)])


def _edges(rows: list[list[tuple]]) -> pa.Array:
    """The ``edges`` column: per row, its list of :data:`EDGE` tuples."""
    flat = [edge for row in rows for edge in row]
    fields = list(zip(*flat)) if flat else [[]] * len(EDGE)
    children = [
        _numeric(np.asarray(fields[0]), pa.int32()),
        _numeric(np.asarray(fields[1]), pa.int32()),
        _optional(list(fields[2]), pa.float64()),
        _optional(list(fields[3]), pa.int32()),
        _column(np.asarray(fields[4], dtype=bool), pa.bool_()),
    ]
    edges = pa.StructArray.from_arrays(children, fields=list(EDGE))
    offsets = np.zeros(len(rows) + 1, dtype=np.int32)
    np.cumsum([len(row) for row in rows], out=offsets[1:])
    return pa.ListArray.from_arrays(_numeric(offsets, pa.int32()), edges)


def record_batch(
    config: CauKerConfig, index: np.ndarray, columns: dict[str, list | np.ndarray]
) -> pa.RecordBatch:
    """Rows from flat per-series columns (``values`` is ``(series, length)``).

    In multivariate mode ``columns["channels"]`` consecutive series form each
    row, and ``columns["edges"]`` holds each row's edges. ``index`` holds the
    row index of each row.
    """
    schema = arrow_schema(config)
    values = np.asarray(columns["values"], dtype=np.float32).reshape(-1, config.length)
    arrays = {"index": _numeric(np.asarray(index), pa.int64())}
    flat = {"target": _fixed(values, config.length)}
    flat.update((name, _column(columns[name], _TYPES[name])) for name in PROVENANCE)
    first = np.arange(len(index))  # each row's first series
    if config.multivariate:
        low, high = config.channel_range
        offsets = np.zeros(len(index) + 1, dtype=np.int32)
        np.cumsum(columns["channels"], out=offsets[1:])
        first = offsets[:-1]
        for name, array in flat.items():
            if low == high:
                arrays[name] = pa.FixedSizeListArray.from_arrays(array, low)
            else:
                arrays[name] = pa.ListArray.from_arrays(_numeric(offsets, pa.int32()), array)
        if config.has_edges:
            arrays["edges"] = _edges(columns["edges"])
    else:
        arrays.update(flat)
    arrays["graph"] = _numeric(np.asarray(columns["graph"])[first], pa.int64())
    arrays["redraws"] = _numeric(np.asarray(columns["redraws"])[first], pa.int32())
    return pa.RecordBatch.from_arrays([arrays[f.name] for f in schema], schema=schema)
