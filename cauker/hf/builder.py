"""Hugging Face ``datasets`` builder of CauKer corpora.

``datasets`` 4 and later no longer run dataset scripts, so use the builder
directly (also importable as ``cauker_dataset.CauKer`` from the top of the
repository), or ``cauker.load_dataset``:

>>> import tempfile
>>> from cauker.hf.builder import CauKer
>>> with tempfile.TemporaryDirectory() as cache:
...     builder = CauKer(config_name="10k", num_series=40, length=16, cache_dir=cache)
...     builder.download_and_prepare()  # num_proc=N: the same bytes
...     builder.as_dataset("train").num_rows
40
>>> stream = builder.as_streaming_dataset("train")  # generated on the fly
>>> next(iter(stream))["index"]
0

Named configs are the paper's corpus sizes with the defaults of
``cauker.CauKerConfig``, and the task corpora ``tasks-10k``, ``tasks-100k`` and
``tasks-1m`` with the defaults of ``cauker.TaskConfig`` (rows are labelled
tasks); every field can be overridden, and each set of overrides gets its own
cache directory. The builder is an ``ArrowBasedBuilder``:
the sampler yields whole Arrow tables, which ``datasets`` writes as they are
(``benchmarks/builder_overhead.py`` measures the choice).

Streaming (``as_streaming_dataset``) does not go through ``_generate_tables``:
each split is a ``cauker.hf.streaming.CauKerExamplesIterable``, which splits evenly
over any number of DDP ranks and DataLoader workers, resumes exactly, and may
be endless (``num_series=None``, streaming only).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import datasets
import pyarrow as pa
from datasets.builder import Key

from cauker import paper
from cauker.config import ALGORITHM_VERSION, NAMED_SIZES, SPLITS, CauKerConfig
from cauker.errors import ParameterError
from cauker.lifeline import children_die_with_this_process, die_with_parent
from cauker.sampler.memory import check_memory
from cauker.task_config import TASK_SIZES, TASK_VERSION, TaskConfig
from cauker.tasks.corpora import arrow_schema, iter_batches, job, rows_per_unit, size_name

#: How the builder config holds ``num_series=None`` (``datasets`` drops
#: keyword arguments that are None when it builds a config).
ENDLESS = "endless"
#: ``num_series`` of a builder config made without one (``CauKerConfig`` has no default).
DEFAULT_NUM_SERIES = NAMED_SIZES["10k"]

#: Work ranges of ``download_and_prepare(num_proc=...)``: at least this many
#: when there are enough graphs, of at most ``MAX_WORK_ROWS`` rows each.
MIN_WORK_RANGES = 64
MAX_WORK_ROWS = 10_000


def work_ranges(config: CauKerConfig, split: str) -> list[tuple[int, int]]:
    """Row ranges for the jobs of ``download_and_prepare(num_proc=...)``: at least
    ``MIN_WORK_RANGES`` when there are enough graphs, at most ``MAX_WORK_ROWS`` rows
    each, whole graphs. Empty for an endless split (nothing to prepare)."""
    rows = config.split_size(split)
    if not rows:
        return []
    step = rows_per_unit(config)
    size = min(MAX_WORK_ROWS, math.ceil(rows / MIN_WORK_RANGES))
    size = max(step, math.ceil(size / step) * step)
    return [(start, min(rows, start + size)) for start in range(0, rows, size)]


def _builder_config_class(name: str, kind: type, size: str, default_size: int, **namespace):
    """A ``datasets.BuilderConfig`` with every field of the config class ``kind`` and
    its default (made from them: a new field needs no edit here), ``size`` (the
    train split's size field) defaulting to ``default_size`` and holding ``ENDLESS``
    for None, plus ``cauker_config()``: the validated config (``ParameterError`` on a
    bad field)."""

    def cauker_config(self):
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(kind)}
        if fields[size] == ENDLESS:
            fields[size] = None
        return kind(**fields)

    def field(f: dataclasses.Field) -> tuple[str, Any, dataclasses.Field]:
        default = default_size if f.name == size else f.default
        return f.name, f.type, dataclasses.field(default=default, metadata=f.metadata)

    return dataclasses.make_dataclass(
        name,
        [field(f) for f in dataclasses.fields(kind)],
        bases=(datasets.BuilderConfig,),
        namespace={
            "__module__": __name__,  # where pickle finds the class (Python < 3.12)
            "__doc__": f"A named corpus: the fields of ``cauker.{kind.__name__}``, all "
            "overridable.",
            "cauker_config": cauker_config,
            **namespace,
        },
    )


def _task_config_id(self, config_kwargs: dict, custom_features=None) -> str:
    """``datasets``' config id (its cache folder), ending in the config's fingerprint:
    the builder's version is ``TASK_VERSION``, and the fingerprint also covers the
    series' ``ALGORITHM_VERSION``, so a cache of other bytes is never read back."""
    base = datasets.BuilderConfig.create_config_id(self, config_kwargs, custom_features)
    return f"{base}-{self.cauker_config().fingerprint()[:8]}"


#: A named corpus of series (``CauKerConfig``'s fields).
CauKerBuilderConfig = _builder_config_class(
    "CauKerBuilderConfig", CauKerConfig, "num_series", DEFAULT_NUM_SERIES
)
#: A named corpus of tasks (``TaskConfig``'s fields).
TaskBuilderConfig = _builder_config_class(
    "TaskBuilderConfig",
    TaskConfig,
    "num_tasks",
    TASK_SIZES["tasks-10k"],
    create_config_id=_task_config_id,
)


class CauKer(datasets.ArrowBasedBuilder):
    """CauKer corpora: ``10k``, ``100k``, ``1m``, ``10m`` series, or custom."""

    VERSION = datasets.Version(ALGORITHM_VERSION)
    BUILDER_CONFIG_CLASS = CauKerBuilderConfig
    BUILDER_CONFIGS = [
        CauKerBuilderConfig(
            name=name,
            version=datasets.Version(ALGORITHM_VERSION),
            description=f"{size:,} CauKer series with the paper's (V1) defaults.",
            num_series=size,
        )
        for name, size in NAMED_SIZES.items()
    ] + [
        TaskBuilderConfig(
            name=name,
            version=datasets.Version(TASK_VERSION),
            description=f"{size:,} labelled CauKer classification tasks (cauker.TaskConfig).",
            num_tasks=size,
        )
        for name, size in TASK_SIZES.items()
    ]
    DEFAULT_CONFIG_NAME = "10k"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        for size in ("num_series", "num_tasks"):
            if size in kwargs and kwargs[size] is None:
                kwargs[size] = ENDLESS
        super().__init__(*args, **kwargs)

    @property
    def cauker(self) -> CauKerConfig:
        """The config of this corpus, built (and checked) once, when ``datasets``
        first asks for the builder's info."""
        known = self.__dict__.get("_cauker")
        if known is None:
            known = self.__dict__["_cauker"] = self.config.cauker_config()
        return known

    def _info(self) -> datasets.DatasetInfo:
        config = self.cauker  # validates overrides before any work
        splits = datasets.SplitDict()
        for split in SPLITS:
            size = config.split_size(split)
            if size is None:  # endless: a split without a size
                splits.add(datasets.SplitInfo(name=split))
            elif size > 0:
                splits.add(datasets.SplitInfo(name=split, num_examples=size))
        return datasets.DatasetInfo(
            description=paper.DESCRIPTION,
            features=datasets.Features.from_arrow_schema(arrow_schema(config)),
            citation=paper.CITATION,
            homepage=paper.URL,
            license="apache-2.0",
            splits=splits,
        )

    def _split_generators(self, dl_manager) -> list[datasets.SplitGenerator]:
        config = self.cauker
        return [
            datasets.SplitGenerator(
                name=split,
                # Jobs of download_and_prepare(num_proc=...); streaming does not use them.
                gen_kwargs={"split": split, "ranges": work_ranges(config, split)},
            )
            for split in SPLITS
            if config.split_size(split) != 0  # num_validation=0: no validation split
        ]

    def download_and_prepare(self, *args, **kwargs):
        config = self.cauker
        if config.endless:
            size = size_name(config)
            raise ParameterError(
                f"{size}=None is an endless corpus: it can only be streamed "
                "(as_streaming_dataset, or cauker.load_dataset(..., streaming=True)); "
                f"give {size} to write it"
            )
        check_memory(self.cauker)  # before num_proc workers start
        # num_proc workers (and the manager process beside them) end with this process
        with children_die_with_this_process():
            return super().download_and_prepare(*args, **kwargs)

    def _get_examples_iterable_for_split(self, split_generator: datasets.SplitGenerator):
        from cauker.hf.streaming import CauKerExamplesIterable

        check_memory(self.cauker)
        return CauKerExamplesIterable(self.cauker, split_generator.gen_kwargs["split"])

    def _generate_tables(self, split: str, ranges: list[tuple[int, int]]):
        die_with_parent()  # a num_proc worker ends when its parent is killed
        config = self.cauker
        with job(config, sum(stop - start for start, stop in ranges)):  # one for all the ranges
            for shard, (start, stop) in enumerate(ranges):
                for batch_index, batch in enumerate(iter_batches(config, split, start, stop)):
                    yield Key(shard, batch_index), pa.Table.from_batches([batch])
