"""``cauker.load_dataset``: a corpus by name, as the usual ``datasets`` objects.

``datasets`` 4 and later refuse dataset scripts, so ``load_dataset("cauker_dataset.py")``
no longer works; this function drives the builder directly. A corpus pushed to
the Hub loads with plain ``datasets.load_dataset(repo, name)`` instead.
"""

from __future__ import annotations

from typing import Any


def builder(name: str = "10k", *, cache_dir: str | None = None, **overrides: Any):
    """The ``datasets`` builder of config ``name`` with field overrides."""
    from cauker.config import named_config

    named_config(name, **overrides)  # clear errors before datasets sees the arguments
    from cauker_dataset import CauKer

    return CauKer(config_name=name, dataset_name="cauker", cache_dir=cache_dir, **overrides)


def load_dataset(
    name: str = "10k",
    split: str | None = None,
    streaming: bool = False,
    num_proc: int | None = None,
    cache_dir: str | None = None,
    **overrides: Any,
):
    """Load CauKer corpus ``name`` (``10k``, ``100k``, ``1m``, ``10m``) with overrides.

    Returns a ``datasets.DatasetDict`` (or ``Dataset`` for one ``split``); with
    ``streaming=True`` an ``IterableDatasetDict`` (or ``IterableDataset``) that
    generates rows on the fly, with nothing written to disk.

    Examples
    --------
    >>> import cauker
    >>> train = cauker.load_dataset("10k", split="train", num_series=40)  # doctest: +SKIP
    """
    if split not in (None, "train", "validation"):
        raise ValueError(f"split must be None, 'train' or 'validation', got {split!r}")
    if num_proc is not None and (
        isinstance(num_proc, bool) or not isinstance(num_proc, int) or num_proc < 1
    ):
        raise ValueError(f"num_proc must be a positive integer or None, got {num_proc!r}")
    b = builder(name, cache_dir=cache_dir, **overrides)
    if streaming:
        return b.as_streaming_dataset(split=split)
    b.download_and_prepare(num_proc=num_proc)
    return b.as_dataset(split=split)
