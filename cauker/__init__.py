"""CauKer: synthetic time series from random causal graphs over Gaussian-process roots.

The package, by layer (data flows down the list: a layer imports the ones above it,
never one below; ``config`` reads the bank tables of ``sampler/`` to check names):

==================  ===========================================================
``config``          :class:`CauKerConfig`, every field declared once; named configs
``task_config``     :class:`TaskConfig`: a corpus of labelled tasks; ``tasks-*`` configs
``named_configs``   ``named_config``: the named corpora and task corpora
``errors``          every exception cauker defines (``CaukerError`` and its subclasses)
``validation``      the checks of arguments, one message shape
``sampler/``        a config in, Arrow rows out: banks, DAGs, GP draws, ``generate``
``tasks/``          a task config in, Arrow rows of labelled tasks out (on the sampler)
``files/``          rows into files: the plan, the one writer, runners, Hub folder, card
``hf/``             ``datasets`` builder, ``load_dataset``, streaming, push to the Hub
``cli/``            the ``cauker`` command line
``evaluation/``     corpus quality on real data (``cauker evaluate``, ``cauker sweep``)
==================  ===========================================================

The sampler knows nothing of ``datasets``, the Hub or the command line; the
other layers are thin, and imported only when used (``export``,
``push_to_hub``). ``cauker_dataset.py``, at the top of the repository,
re-exports the builder of :mod:`cauker.hf.builder`; no module of the package
imports it.
"""

from typing import Any

from cauker.config import ALGORITHM_VERSION, NAMED_SIZES, CauKerConfig
from cauker.hf.loading import load_dataset
from cauker.named_configs import named_config
from cauker.sampler.arrays import series_array
from cauker.task_config import TASK_SIZES, TASK_VERSION, TaskConfig
from cauker.tasks.corpora import arrow_schema, generate, iter_batches

__version__ = "0.1.0"

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
    "export": "cauker.files.hub_folder",
    "push_to_hub": "cauker.hf.hub",
}


def __getattr__(name: str) -> Any:
    # Lazy: these layers import datasets and huggingface_hub, the core does not.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'cauker' has no attribute {name!r}")
