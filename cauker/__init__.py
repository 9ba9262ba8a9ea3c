"""CauKer: synthetic time series from random causal graphs over Gaussian-process roots.

The pure sampler (``CauKerConfig``, ``generate``, ``iter_batches``) knows
nothing of ``datasets``, the Hub or the command line; those are thin layers on
top of it, imported only when used (``export``, ``push_to_hub``).
"""

from typing import Any

from cauker.config import ALGORITHM_VERSION, NAMED_SIZES, CauKerConfig, named_config
from cauker.hf.loading import load_dataset
from cauker.sampler.arrays import series_array
from cauker.sampler.rows import generate, iter_batches
from cauker.sampler.schema import arrow_schema

__version__ = "0.1.0"

__all__ = [
    "ALGORITHM_VERSION",
    "NAMED_SIZES",
    "CauKerConfig",
    "arrow_schema",
    "export",
    "generate",
    "iter_batches",
    "load_dataset",
    "named_config",
    "push_to_hub",
    "series_array",
]

_LAZY = {"export": "cauker.files.hub_folder", "push_to_hub": "cauker.hf.hub"}


def __getattr__(name: str) -> Any:
    # Lazy: these layers import datasets and huggingface_hub, the core does not.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'cauker' has no attribute {name!r}")
