"""Corpus configs and task configs behind one set of functions, for the layers above.

The files, the Hub folder, the ``datasets`` builder, the streams and the
command line treat a :class:`~cauker.config.CauKerConfig` (rows are series)
and a :class:`~cauker.task_config.TaskConfig` (rows are tasks) alike; they ask
this module for the rows, the schema and the sizes, and it hands the work to
the sampler or to the tasks (imported when first asked for). A *unit* is what
is drawn whole: a graph of a corpus (``series_per_graph`` rows, or one
multivariate row), a task.

Examples
--------
>>> import cauker
>>> from cauker.tasks.corpora import rows_per_unit
>>> rows_per_unit(cauker.named_config("10k")), rows_per_unit(cauker.named_config("tasks-10k"))
(4, 1)
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any

import pyarrow as pa

from cauker.config import CauKerConfig
from cauker.errors import ParameterError
from cauker.sampler import rows as corpus_rows
from cauker.sampler.schema import arrow_schema as corpus_schema
from cauker.task_config import TaskConfig, is_task_config

#: Bytes of a task row besides its series (labels, per-class provenance), estimated.
TASK_OVERHEAD_BYTES = 64


def check_config(config: Any, what: str = "config") -> CauKerConfig | TaskConfig:
    """``config`` if it is a ``CauKerConfig`` or a ``TaskConfig``, else ``ParameterError``."""
    if not isinstance(config, (CauKerConfig, TaskConfig)):
        raise ParameterError(
            f"{what} must be a CauKerConfig or a TaskConfig, got {type(config).__name__}"
        )
    return config


def arrow_schema(config: CauKerConfig | TaskConfig) -> pa.Schema:
    """The schema of the rows of ``config``: series (a corpus) or tasks.

    Examples
    --------
    >>> import cauker
    >>> cauker.arrow_schema(cauker.CauKerConfig(num_series=8, length=64)).names[:4]
    ['index', 'target', 'graph', 'node']
    >>> cauker.arrow_schema(cauker.TaskConfig(length=64)).names[:3]
    ['index', 'support', 'support_label']
    """
    if is_task_config(config):
        from cauker.tasks.task_schema import task_schema  # the task machinery, when first needed

        return task_schema(config)
    return corpus_schema(config)


def iter_batches(
    config: CauKerConfig | TaskConfig,
    split: str = "train",
    start: int = 0,
    stop: int | None = None,
    **options: int,
) -> Iterator[pa.RecordBatch]:
    """Yield the rows ``[start, stop)`` of ``split`` as consecutive record batches, in
    bounded memory: series of a corpus, or tasks.

    Parameters
    ----------
    config : CauKerConfig or TaskConfig
    split : {"train", "validation"}, default="train"
    start, stop : int, optional
        The rows; ``stop`` defaults to the size of the split (it must be given
        for the ``train`` split of an endless corpus).
    **options
        ``graphs_per_batch`` (a corpus) or ``tasks_per_batch`` (tasks): units
        drawn per call; the rows do not depend on it.

    Yields
    ------
    pyarrow.RecordBatch
        Rows with the columns of :func:`arrow_schema`.

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
    >>> tasks = cauker.TaskConfig(num_tasks=20, length=16)
    >>> [batch.num_rows for batch in cauker.iter_batches(tasks, stop=20, tasks_per_batch=8)]
    [8, 8, 4]
    """
    if is_task_config(config):
        from cauker.tasks import task_rows

        return task_rows.iter_task_batches(config, split, start, stop, **options)
    return corpus_rows.iter_batches(config, split, start, stop, **options)


def generate(
    config: CauKerConfig | TaskConfig, split: str = "train", start: int = 0, stop: int | None = None
) -> pa.Table:
    """Rows ``[start, stop)`` of ``split`` (``"train"`` or ``"validation"``) as a table:
    series of a corpus (``CauKerConfig``), or labelled tasks (``TaskConfig``).

    The result is a pure function of the arguments: any sub-range equals the
    same rows of the whole split, byte for byte, on any machine.

    Parameters
    ----------
    config : CauKerConfig or TaskConfig
    split : {"train", "validation"}, default="train"
    start, stop : int, optional
        The rows; ``stop`` defaults to the size of the split.

    Returns
    -------
    pyarrow.Table
        The columns of :func:`arrow_schema` (see :mod:`cauker.sampler.schema`
        and :mod:`cauker.tasks.task_schema`).

    Raises
    ------
    ParameterError
        For a config of another type, an unknown split, or a range outside it.

    Examples
    --------
    >>> import cauker
    >>> table = cauker.generate(cauker.CauKerConfig(num_series=8, length=64))
    >>> table.num_rows, table.schema.field("target").type.list_size
    (8, 64)
    >>> tasks = cauker.generate(cauker.TaskConfig(num_tasks=4, length=64))
    >>> tasks.num_rows, tasks.column("support")[0].type.value_type.list_size
    (4, 64)
    """
    if is_task_config(config):
        from cauker.tasks import task_rows

        return task_rows.generate_tasks(config, split, start, stop)
    return corpus_rows.generate(config, split, start, stop)


def job(config: CauKerConfig | TaskConfig, rows: int | None) -> AbstractContextManager:
    """A block in which the caller draws about ``rows`` rows of ``config`` (None:
    endless) in one call or several: the sampler's backend chooses its loops
    knowing it (see :func:`cauker.sampler.rows.job`)."""
    if is_task_config(config):
        from cauker.tasks import task_rows

        return task_rows.job(config, rows)
    return corpus_rows.job(config, rows)


def part_batches(part, config, split: str, position: int = 0) -> Iterator[pa.RecordBatch]:
    """The rows of a stream's part (``cauker.hf.parts.Part``: the units ``offset + j *
    stride``) from its row ``position`` on."""
    if is_task_config(config):
        from cauker.tasks import task_rows

        return task_rows.part_batches(part.offset, part.stride, config, split, position)
    return part.iter_batches(config, split, position)


def rows_per_unit(config: CauKerConfig | TaskConfig) -> int:
    """Rows drawn together, which files and work ranges never split."""
    return 1 if is_task_config(config) else config.rows_per_graph


def row_bytes(config: CauKerConfig | TaskConfig, provenance: int) -> int:
    """Estimated uncompressed bytes of one row (``provenance``: a series' other columns)."""
    if is_task_config(config):
        series = config.mean_series() * sum(config.channel_range) / 2
        classes = (config.min_classes + config.max_classes) / 2
        return math.ceil(series * (4 * config.length + 8) + classes * TASK_OVERHEAD_BYTES)
    series = 4 * config.length + provenance
    return series * max(config.channel_range) if config.multivariate else series


def size_name(config: CauKerConfig | TaskConfig) -> str:
    """The field holding the train split's size: ``num_series``, or ``num_tasks``."""
    return "num_tasks" if is_task_config(config) else "num_series"
