"""The Arrow layout of a task corpus: one row per task.

======================  ==========================================================
column                  holds
======================  ==========================================================
``index``               the task's row number in its split
``support``             the context: a list of samples, each ``length`` float32 (or
                        ``channels`` such series when multivariate)
``support_label``       their labels, ``0 .. num_classes - 1`` (int64)
``query``               the queries, as ``support``
``query_label``         their labels
``num_classes``         classes of the task
``class_graph``         per class: its graph's number in the task (``shift``: all 0)
``class_node``          per class: the node label(s) of its series
``class_depth``         per class: their depths (edges on the longest path from a root)
``class_distinction``   per class: what makes it a class (its nodes' mechanisms,
                        or the one mechanism it changes)
``class_redraws``       per class: times it was redrawn alone (``graph``)
``redraws``             times the whole task was redrawn
``knn_accuracy``        1-NN accuracy from ``support`` to ``query`` (float64)
======================  ==========================================================
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from cauker.task_config import TaskConfig
from cauker.tasks.prior import arrow_column

#: The per-class provenance columns.
CLASS_COLUMNS = ("class_graph", "class_node", "class_depth", "class_distinction", "class_redraws")


@dataclass
class TaskRow:
    """One drawn task."""

    index: int
    support: np.ndarray  # (n_support, channels, length) float32
    support_label: np.ndarray
    query: np.ndarray
    query_label: np.ndarray
    class_graph: list[int]
    class_node: np.ndarray  # (classes, channels)
    class_depth: np.ndarray
    class_distinction: list[str]
    class_redraws: list[int]
    redraws: int
    knn_accuracy: float


def _channels_of(kind: pa.DataType, config: TaskConfig) -> pa.DataType:
    """``kind`` per channel: a fixed-size list for one count, a list for a range."""
    if not config.multivariate:
        return kind
    low, high = config.channel_range
    return pa.list_(kind, low) if low == high else pa.list_(kind)


def _sample_type(config: TaskConfig) -> pa.DataType:
    return _channels_of(pa.list_(pa.float32(), config.length), config)


def _node_type(config: TaskConfig) -> pa.DataType:
    return _channels_of(pa.int32(), config)


def _per_channel(config: TaskConfig, values: pa.Array, arrays: list[np.ndarray]) -> pa.Array:
    """``values`` (a channel after another) grouped by sample: ``arrays`` are each
    ``(n, channels, ...)``, one count per array (a task's)."""
    if not config.multivariate:
        return values
    low, high = config.channel_range
    if low == high:
        return pa.FixedSizeListArray.from_arrays(values, low)
    counts = np.concatenate([np.full(len(a), a.shape[1]) for a in arrays])
    return _listed(counts.tolist(), values)


def task_schema(config: TaskConfig) -> pa.Schema:
    """Schema of the rows of ``config``.

    Examples
    --------
    >>> import cauker
    >>> schema = cauker.arrow_schema(cauker.TaskConfig(num_tasks=8, length=64))
    >>> schema.names[:5]
    ['index', 'support', 'support_label', 'query', 'query_label']
    >>> schema.field("support").type
    ListType(list<item: fixed_size_list<item: float>[64]>)
    """
    sample, node = _sample_type(config), _node_type(config)
    return pa.schema(
        [
            pa.field("index", pa.int64()),
            pa.field("support", pa.list_(sample)),
            pa.field("support_label", pa.list_(pa.int64())),
            pa.field("query", pa.list_(sample)),
            pa.field("query_label", pa.list_(pa.int64())),
            pa.field("num_classes", pa.int32()),
            pa.field("class_graph", pa.list_(pa.int32())),
            pa.field("class_node", pa.list_(node)),
            pa.field("class_depth", pa.list_(node)),
            pa.field("class_distinction", pa.list_(pa.string())),
            pa.field("class_redraws", pa.list_(pa.int32())),
            pa.field("redraws", pa.int32()),
            pa.field("knn_accuracy", pa.float64()),
        ],
        metadata={"cauker_config": config.fingerprint()},
    )


def _offsets(sizes: list[int]) -> pa.Array:
    return arrow_column(np.concatenate([[0], np.cumsum(sizes)]), pa.int32())


def _listed(sizes: list[int], values: pa.Array) -> pa.Array:
    return pa.ListArray.from_arrays(_offsets(sizes), values)


def _samples(config: TaskConfig, arrays: list[np.ndarray]) -> pa.Array:
    """A list per row of samples ``(n, channels, length)``."""
    flat = np.concatenate([a.reshape(-1) for a in arrays]).astype(np.float32, copy=False)
    values = pa.FixedSizeListArray.from_arrays(arrow_column(flat, pa.float32()), config.length)
    return _listed([len(a) for a in arrays], _per_channel(config, values, arrays))


def _nodes(config: TaskConfig, arrays: list[np.ndarray]) -> pa.Array:
    flat = arrow_column(np.concatenate([a.reshape(-1) for a in arrays]), pa.int32())
    return _listed([len(a) for a in arrays], _per_channel(config, flat, arrays))


def _ints(rows: list, kind: pa.DataType) -> pa.Array:
    values = np.concatenate([np.asarray(r, dtype=np.int64) for r in rows])
    return _listed([len(r) for r in rows], arrow_column(values, kind))


def task_batch(config: TaskConfig, rows: list[TaskRow]) -> pa.RecordBatch:
    """The record batch of ``rows`` (in that order)."""
    schema = task_schema(config)
    if not rows:
        return pa.RecordBatch.from_arrays([pa.array([], f.type) for f in schema], schema=schema)
    columns = {
        "index": arrow_column(np.array([r.index for r in rows]), pa.int64()),
        "support": _samples(config, [r.support for r in rows]),
        "support_label": _ints([r.support_label for r in rows], pa.int64()),
        "query": _samples(config, [r.query for r in rows]),
        "query_label": _ints([r.query_label for r in rows], pa.int64()),
        "num_classes": arrow_column(np.array([len(r.class_graph) for r in rows]), pa.int32()),
        "class_graph": _ints([r.class_graph for r in rows], pa.int32()),
        "class_node": _nodes(config, [r.class_node for r in rows]),
        "class_depth": _nodes(config, [r.class_depth for r in rows]),
        "class_distinction": _listed(
            [len(r.class_distinction) for r in rows],
            arrow_column([d for r in rows for d in r.class_distinction], pa.string()),
        ),
        "class_redraws": _ints([r.class_redraws for r in rows], pa.int32()),
        "redraws": arrow_column(np.array([r.redraws for r in rows]), pa.int32()),
        "knn_accuracy": arrow_column(np.array([r.knn_accuracy for r in rows]), pa.float64()),
    }
    return pa.RecordBatch.from_arrays([columns[f.name] for f in schema], schema=schema)
