"""CauKer: synthetic time series from random causal graphs over Gaussian-process roots.

The pure sampler (``CauKerConfig``, ``generate``, ``iter_batches``) knows
nothing of ``datasets``, the Hub or the command line; those are thin layers on
top of it.
"""

from cauker.config import ALGORITHM_VERSION, NAMED_SIZES, CauKerConfig, named_config
from cauker.generate import generate, iter_batches
from cauker.loading import load_dataset
from cauker.schema import arrow_schema

__version__ = "0.1.0"

__all__ = [
    "ALGORITHM_VERSION",
    "NAMED_SIZES",
    "CauKerConfig",
    "arrow_schema",
    "generate",
    "iter_batches",
    "load_dataset",
    "named_config",
]
