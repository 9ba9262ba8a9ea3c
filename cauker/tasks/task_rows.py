"""Tasks of a split, from a :class:`~cauker.task_config.TaskConfig`: ``generate_tasks``
(a table), ``iter_task_batches`` (bounded memory) and ``part_batches`` (a stream's part).

A task is drawn in this order, every number from its own stream
(:mod:`cauker.tasks.seeding`):

1. from the task stream: the number of classes ``C``, the shots ``k`` and
   queries ``q`` per class, under ``shift`` the task's graph, the order of the
   ``C * k`` support samples and of the ``C * q`` queries; from its
   augmentation sub-stream, the mixup plan (when ``mixup`` is on);
2. for each class ``c``, from its class stream: its graph (``graph``) or its
   change of the task's graph (``shift``), then ``k + q`` samples (plus its
   mixup partners) from its root sub-streams (:mod:`cauker.tasks.samples`);
3. the augmentations (:mod:`cauker.tasks.augment`), then the 1-NN accuracy
   (:mod:`cauker.tasks.knn`).

Redraws: a class whose samples are not all finite in float32, or one of
which has a constant channel, or two of which are equal (a node that does not
depend on the noise), is drawn again: under ``graph`` that class alone
(``class_redraws``), under ``shift`` the whole task (``redraws``: a faulty
graph would fail every class). A task whose augmented samples are not finite,
or constant, is drawn again whole. Each row is therefore a pure function of
(config, versions, seed, split, index), whatever the tasks drawn with it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from types import ModuleType

import numpy as np
import pyarrow as pa

from cauker.errors import RedrawError
from cauker.task_config import TaskConfig
from cauker.tasks.augment import MixupPlan, augment, plan_mixup
from cauker.tasks.knn import knn_accuracy
from cauker.tasks.mechanisms import Graph, Mechanism, describe, draw_graphs, draw_intervention
from cauker.tasks.prior import COMPILE_AFTER, Prior, prior_for
from cauker.tasks.samples import Job, draw_samples
from cauker.tasks.seeding import stream, sub_stream, task_channels, task_key
from cauker.tasks.task_schema import TaskRow, task_batch, task_schema
from cauker.validation import check_int, check_rows

#: Tasks drawn together (their classes' GP terms in one call). Rows do not depend on it.
TASKS_PER_BATCH = 16
#: After this many draws of one task (or of one class), give up with an error.
MAX_ATTEMPTS = 1000
#: The augmentation sub-stream of a task stream.
AUGMENTATION_STREAM = 1


@dataclass
class _Task:
    """A task being drawn: its plan (from the task stream) and its classes so far."""

    index: int
    attempt: int
    channels: int  # of every sample
    classes: int
    shots: int
    queries: int
    support_order: np.ndarray
    query_order: np.ndarray
    augmentation: np.random.Generator | None
    mixup: MixupPlan | None
    base: Graph | None  # shift: the task's graph
    samples: dict[int, np.ndarray] = field(default_factory=dict)  # class -> (n, channels, L)
    mechanisms: dict[int, Mechanism] = field(default_factory=dict)
    class_attempts: dict[int, int] = field(default_factory=dict)

    def count(self, label: int) -> int:
        """Samples class ``label`` draws: its support and queries, then its mixup partners."""
        extra = self.mixup.extras(self.classes)[label] if self.mixup is not None else 0
        return self.shots + self.queries + extra


def _plan(config: TaskConfig, prior: Prior, split: str, index: int, attempt: int, loops) -> _Task:
    channels = task_channels(config.seed, split, index, *config.channel_range)
    rng = stream(config.seed, task_key(split, index, attempt))
    origin = rng.bit_generator.state
    classes = int(rng.integers(config.min_classes, config.max_classes + 1))
    shots = int(rng.integers(config.min_support, config.max_support + 1))
    queries = int(rng.integers(config.min_queries, config.max_queries + 1))
    base = None
    if config.class_definition == "shift":
        base = draw_graphs(prior, [rng], channels, loops)[0]
    support_order = rng.permutation(classes * shots)
    query_order = rng.permutation(classes * queries)
    augmentation = mixup = None
    if config.augmentations:
        augmentation = sub_stream(origin, AUGMENTATION_STREAM)
        if "mixup" in config.augmentations:
            labels = np.repeat(np.arange(classes), shots + queries)
            mixup = plan_mixup(augmentation, labels, classes)
    return _Task(
        index, attempt, channels, classes, shots, queries, support_order, query_order,
        augmentation, mixup, base, class_attempts=dict.fromkeys(range(classes), 0),
    )  # fmt: skip


def _valid(samples: np.ndarray) -> bool:
    """Finite in float32, no constant channel, no two samples equal."""
    with np.errstate(over="ignore"):  # beyond float32: infinite, so redrawn
        x = samples.astype(np.float32)
    if not np.isfinite(x).all() or (np.ptp(x, axis=2) == 0).any():
        return False
    return len({sample.tobytes() for sample in x}) == len(x)


def _draw_classes(
    config: TaskConfig, prior: Prior, split: str, tasks: list[_Task], loops: ModuleType
) -> list[_Task]:
    """Draw every class of ``tasks`` with ``loops``; returns the tasks that must be drawn
    again whole."""
    todo = [(task, label) for task in tasks for label in range(task.classes)]
    failed: dict[int, _Task] = {}
    while todo:
        generators = [
            stream(
                config.seed,
                (*task_key(split, t.index, t.attempt), label, t.class_attempts[label]),
            )
            for t, label in todo
        ]
        origins = [rng.bit_generator.state for rng in generators]
        if config.class_definition == "graph":
            graphs = draw_graphs(prior, generators, [t.channels for t, _ in todo], loops)
            mechanisms = [Mechanism(graph) for graph in graphs]
        else:
            mechanisms = [
                Mechanism(t.base, draw_intervention(prior, rng, t.base, loops))
                for (t, _), rng in zip(todo, generators)
            ]
        jobs = [
            Job(mechanism, origin, t.count(label))
            for (t, label), mechanism, origin in zip(todo, mechanisms, origins)
        ]
        drawn = draw_samples(prior, jobs, config.shift_scale, loops)
        again = []
        for (task, label), mechanism, samples in zip(todo, mechanisms, drawn):
            if task.index in failed:
                continue
            if _valid(samples):
                task.samples[label], task.mechanisms[label] = samples, mechanism
                continue
            if config.class_definition == "shift":
                failed[task.index] = task
                continue
            task.class_attempts[label] += 1
            if task.class_attempts[label] >= MAX_ATTEMPTS:
                raise RedrawError(
                    f"class {label} of task {task.index} of split {split!r} was redrawn "
                    f"{MAX_ATTEMPTS} times without valid samples; check the config {config}"
                )
            again.append((task, label))
        todo = [(t, label) for t, label in again if t.index not in failed]
    return list(failed.values())


def _finish(config: TaskConfig, prior: Prior, task: _Task) -> TaskRow | None:
    """The row of a task whose classes are drawn; None if its augmented samples are
    not valid (then the task is drawn again)."""
    k, q = task.shots, task.queries
    own = [task.samples[c][: k + q] for c in range(task.classes)]
    x = np.concatenate(own)  # class after class: k support samples, then q queries
    if config.augmentations:
        partners = [task.samples[c][k + q :] for c in range(task.classes)]
        x = augment(x, config.augmentations, task.augmentation, task.mixup, partners)
    with np.errstate(over="ignore"):
        x = x.astype(np.float32)
    if config.augmentations and not (np.isfinite(x).all() and not (np.ptp(x, axis=2) == 0).any()):
        return None
    x = x.reshape(task.classes, k + q, *x.shape[1:])
    support = x[:, :k].reshape(-1, *x.shape[2:])[task.support_order]
    query = x[:, k:].reshape(-1, *x.shape[2:])[task.query_order]
    support_label = np.repeat(np.arange(task.classes), k)[task.support_order]
    query_label = np.repeat(np.arange(task.classes), q)[task.query_order]
    mechanisms = [task.mechanisms[c] for c in range(task.classes)]
    return TaskRow(
        index=task.index,
        support=support,
        support_label=support_label,
        query=query,
        query_label=query_label,
        class_graph=[c if config.class_definition == "graph" else 0 for c in range(task.classes)],
        class_node=np.array([m.graph.node_ids[m.graph.chosen] for m in mechanisms]),
        class_depth=np.array([m.graph.depth[m.graph.chosen] for m in mechanisms]),
        class_distinction=[describe(prior, m, config.shift_scale) for m in mechanisms],
        class_redraws=[task.class_attempts[c] for c in range(task.classes)],
        redraws=task.attempt,
        knn_accuracy=knn_accuracy(support, support_label, query, query_label),
    )


def draw_tasks(config: TaskConfig, split: str, indices: Sequence[int]) -> list[TaskRow]:
    """The tasks ``indices`` of ``split``, in order, redrawn until valid."""
    prior = prior_for(config.prior)
    attempts = dict.fromkeys(indices, 0)
    done: dict[int, TaskRow] = {}
    todo = list(indices)
    while todo:
        loops = prior.loops(int(len(todo) * config.mean_series()))
        tasks = [_plan(config, prior, split, i, attempts[i], loops) for i in todo]
        failed = {t.index for t in _draw_classes(config, prior, split, tasks, loops)}
        for task in tasks:
            row = None if task.index in failed else _finish(config, prior, task)
            if row is not None:
                done[task.index] = row
        todo = [i for i in todo if i not in done]
        for i in todo:
            attempts[i] += 1
            if attempts[i] >= MAX_ATTEMPTS:
                raise RedrawError(
                    f"task {i} of split {split!r} was redrawn {MAX_ATTEMPTS} times without "
                    f"valid samples; check the config {config}"
                )
    return [done[i] for i in indices]


def job(config: TaskConfig, tasks: int | None) -> AbstractContextManager:
    """A block in which the caller draws about ``tasks`` tasks of ``config`` (None:
    endless), in one call or several: the prior's backend chooses its loops for
    them all (see :func:`cauker.sampler.rows.job`)."""
    if tasks is None:  # as many as it takes for compiling to pay
        series = COMPILE_AFTER * config.channels
    else:
        series = int(tasks * config.mean_series())
    return prior_for(config.prior).job(series)


def task_rows(config: TaskConfig, split: str, indices: Sequence[int]) -> pa.RecordBatch:
    """The tasks ``indices`` (in this order) of ``split`` as one record batch."""
    return task_batch(config, draw_tasks(config, split, indices))


def iter_task_batches(
    config: TaskConfig,
    split: str = "train",
    start: int = 0,
    stop: int | None = None,
    *,
    tasks_per_batch: int = TASKS_PER_BATCH,
) -> Iterator[pa.RecordBatch]:
    """Yield the tasks ``[start, stop)`` of ``split`` as consecutive record batches.

    Examples
    --------
    >>> import cauker
    >>> config = cauker.TaskConfig(num_tasks=40, length=32)
    >>> [b.num_rows for b in iter_task_batches(config, tasks_per_batch=16)]
    [16, 16, 8]
    """
    check_int("tasks_per_batch", tasks_per_batch, 1)
    endless = "an endless task corpus (num_tasks=None)"
    start, stop = check_rows(split, config.split_size(split), start, stop, endless)
    with job(config, stop - start):
        for first in range(start, stop, tasks_per_batch):
            yield task_rows(config, split, range(first, min(first + tasks_per_batch, stop)))


def generate_tasks(
    config: TaskConfig, split: str = "train", start: int = 0, stop: int | None = None
) -> pa.Table:
    """Tasks ``[start, stop)`` of ``split`` as a table (the same bytes as that slice of
    the whole split)."""
    batches = list(iter_task_batches(config, split, start, stop))
    return pa.Table.from_batches(batches, schema=task_schema(config))


def part_batches(
    offset: int,
    stride: int,
    config: TaskConfig,
    split: str,
    position: int = 0,
    *,
    tasks_per_batch: int = TASKS_PER_BATCH,
) -> Iterator[pa.RecordBatch]:
    """The tasks ``offset + j * stride`` of ``split`` from ``j = position`` on, in batches
    of at most ``tasks_per_batch`` (a stream's part: see ``cauker.hf.parts``)."""
    size = config.split_size(split)
    count = None if size is None else len(range(offset, size, stride))
    first = position
    with job(config, None if count is None else max(count - first, 0)):
        while count is None or first < count:
            last = first + tasks_per_batch if count is None else min(first + tasks_per_batch, count)
            indices = range(offset + first * stride, offset + last * stride, stride)
            yield task_rows(config, split, indices)
            first = last
