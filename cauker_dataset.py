"""The Hugging Face ``datasets`` builder of CauKer corpora, at the top of the repository.

The builder lives in the package (:mod:`cauker.hf.builder`); this module only
gives it the place that a dataset repository's builder has, beside the README,
so that ``from cauker_dataset import CauKer`` works in a checkout and from the
wheel. Nothing in the package imports this module.

``datasets`` 4 and later no longer run dataset scripts, so use the builder
directly, or ``cauker.load_dataset``::

    from cauker_dataset import CauKer

    builder = CauKer(config_name="10k", num_series=500)  # any field can be overridden
    builder.download_and_prepare(num_proc=2)
    train = builder.as_dataset("train")
    stream = builder.as_streaming_dataset("train")  # generated on the fly
"""

from cauker.hf.builder import CauKer, CauKerBuilderConfig

__all__ = ["CauKer", "CauKerBuilderConfig"]
