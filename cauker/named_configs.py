"""The named configs of both kinds: the paper's corpora and the task corpora.

``10k``, ``100k``, ``1m`` and ``10m`` are :class:`~cauker.config.CauKerConfig`
corpora (:func:`cauker.config.named_config`); ``tasks-10k``, ``tasks-100k`` and
``tasks-1m`` are :class:`~cauker.task_config.TaskConfig` corpora of labelled
tasks (:func:`cauker.task_config.named_task_config`). This is ``cauker.named_config``.
"""

from __future__ import annotations

from typing import Any

from cauker.config import NAMED_SIZES, CauKerConfig
from cauker.config import named_config as named_corpus_config
from cauker.errors import ParameterError
from cauker.task_config import TASK_SIZES, TaskConfig, named_task_config

#: Every named config, corpora first.
NAMES = (*NAMED_SIZES, *TASK_SIZES)


def named_config(name: str, **overrides: Any) -> CauKerConfig | TaskConfig:
    """The named config ``name`` with field overrides: a corpus or a task corpus.

    Parameters
    ----------
    name : {"10k", "100k", "1m", "10m", "tasks-10k", "tasks-100k", "tasks-1m"}
        The size of the ``train`` split; every other field has its default.
    **overrides
        Fields of the config's class (``num_series`` of a corpus, ``num_tasks``
        of a task corpus, ...).

    Raises
    ------
    ParameterError
        For an unknown name or field, or a bad value.

    Examples
    --------
    >>> import cauker
    >>> cauker.named_config("100k", length=1024).num_series
    100000
    >>> cauker.named_config("tasks-100k", max_classes=5).num_tasks
    100000
    >>> cauker.named_config("5k")
    Traceback (most recent call last):
        ...
    cauker.errors.ParameterError: config name must be one of ['10k', '100k', '1m', '10m', 'tasks-10k', 'tasks-100k', 'tasks-1m'], got '5k'
    """  # noqa: E501
    if not isinstance(name, str) or name not in NAMES:
        raise ParameterError(f"config name must be one of {list(NAMES)}, got {name!r}")
    if name in TASK_SIZES:
        return named_task_config(name, **overrides)
    return named_corpus_config(name, **overrides)
