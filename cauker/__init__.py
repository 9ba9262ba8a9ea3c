"""CauKer: synthetic time series from random causal graphs over Gaussian-process roots.

The package, by layer, from the bottom up (a module imports its own layer and
the ones below it, never one above; ``tests/test_architecture.py`` checks it,
and holds the order):

==================  ===========================================================
``errors``          every exception cauker defines (``CaukerError`` and its subclasses)
``paper``           the paper this project implements: citation, links
``validation``      the checks of arguments, one message shape
``banks``           the names of the kernel, mean and activation banks
``config``          :class:`CauKerConfig`, every field and its check declared once
``task_config``     :class:`TaskConfig`: a corpus of labelled tasks; ``tasks-*`` configs
``named_configs``   ``named_config``: the named corpora and task corpora
``lifeline``        worker processes end when the process that started them ends
``sampler/``        a config in, Arrow rows out: banks, DAGs, GP draws, ``generate``
``tasks/``          a task config in, Arrow rows of labelled tasks out (on the sampler)
``files/``          rows into files: the plan, the one writer, runners, local folders
``hub/``            the Hugging Face Hub: an export's layout, its card, the push
``hf/``             ``datasets`` builder, ``load_dataset``, streaming, arrays
``evaluation/``     corpus quality on real data (``cauker evaluate``, ``cauker sweep``)
``cli/``            the ``cauker`` command line
==================  ===========================================================

The sampler knows nothing of ``datasets``, the Hub or the command line; the
other layers are thin, and imported only when used (``export``,
``push_to_hub``); this module, which re-exports the public names, sits between
``hf/`` and ``evaluation/``. ``cauker_dataset.py``, at the top of the repository,
re-exports the builder of :mod:`cauker.hf.builder`; no module of the package
imports it.
"""

from importlib import metadata
from typing import Any

from cauker.config import ALGORITHM_VERSION, NAMED_SIZES, CauKerConfig
from cauker.hf.arrays import series_array
from cauker.hf.loading import load_dataset
from cauker.named_configs import named_config
from cauker.task_config import TASK_SIZES, TASK_VERSION, TaskConfig
from cauker.tasks.corpora import arrow_schema, generate, iter_batches

try:
    __version__ = metadata.version("cauker")  # pyproject.toml's, as installed
except metadata.PackageNotFoundError:  # a source tree on sys.path, not installed
    __version__ = "0+unknown"

__all__ = [
    "ALGORITHM_VERSION",
    "NAMED_SIZES",
    "TASK_SIZES",
    "TASK_VERSION",
    "CauKerConfig",
    "TaskConfig",
    "arrow_schema",
    "as_mantis",
    "export",
    "generate",
    "iter_batches",
    "load_dataset",
    "named_config",
    "push_to_hub",
    "series_array",
]

_LAZY = {
    "as_mantis": "cauker.hf.mantis",
    "export": "cauker.hub.layout",
    "push_to_hub": "cauker.hub.push",
}


def __getattr__(name: str) -> Any:
    # Lazy: these layers import datasets and huggingface_hub, the core does not.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'cauker' has no attribute {name!r}")
