"""The pretraining corpora: what ``CONFIG_OR_PATH`` names, and its first N series.

A corpus is either a :class:`~cauker.CauKerConfig` (a named config such as
``10k``, possibly with overrides) whose series are generated on the fly, or a
local folder of Parquet files with a ``target`` column, as the project exports
them. Multivariate rows are split into their univariate channels.
"""

from __future__ import annotations

import dataclasses
import math
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cauker.config import NAMED_SIZES, CauKerConfig, named_config
from cauker.errors import ParameterError

#: What ``reference="kernelsynth"`` means: every node an independent GP root
#: with zero mean, all other fields those of the evaluated config.
KERNELSYNTH = {"dag_depth": 0, "mean_bank": "zero"}


@dataclasses.dataclass(frozen=True)
class Corpus:
    """A resolved corpus: a config to generate from, or a Parquet location."""

    label: str
    length: int
    config: CauKerConfig | None = None
    path: Path | None = None

    def draw(self, offset: int) -> Corpus:
        """Draw ``offset`` of the same config (its seed shifted by ``offset``).

        Pretraining seed ``s`` uses draw ``s``, so the spread across seeds
        includes the sampling noise of the corpus itself, not only that of the
        optimiser. A Parquet corpus is fixed data: every draw is itself.
        """
        if self.config is None or offset == 0:
            return self
        return dataclasses.replace(
            self, config=dataclasses.replace(self.config, seed=self.config.seed + offset)
        )

    def describe(self) -> dict:
        if self.config is not None:
            return {"label": self.label, "config": self.config.to_dict()}
        return {"label": self.label, "path": str(self.path), "length": self.length}


def describe_config(config: CauKerConfig) -> str:
    """A short label: the size and the fields that differ from the defaults."""
    defaults = CauKerConfig(num_series=config.num_series)
    size = next(
        (n for n, v in NAMED_SIZES.items() if v == config.num_series), str(config.num_series)
    )
    changed = [
        f"{f.name}={_short(getattr(config, f.name))}"
        for f in dataclasses.fields(CauKerConfig)
        if f.name != "num_series" and getattr(config, f.name) != getattr(defaults, f.name)
    ]
    return " ".join(["cauker", size, *changed])


def _short(value) -> str:
    if isinstance(value, tuple):
        return f"<{len(value)} entries>"
    return str(value)


def kernelsynth_of(config: CauKerConfig) -> CauKerConfig:
    """The KernelSynth ablation of ``config`` (same banks and sizes, no causal graph, zero mean)."""
    return dataclasses.replace(config, **KERNELSYNTH)


def _parquet_files(path: Path) -> list[Path]:
    files = [path] if path.is_file() else sorted(path.rglob("*.parquet"))
    train = [
        f
        for f in files
        if "train" in f.relative_to(path if path.is_dir() else path.parent).as_posix()
    ]
    return train or files


def _series_array(column: pa.ChunkedArray | pa.Array, where: Path | str) -> np.ndarray:
    """A ``target`` column (lists of floats, possibly lists of channels) as ``(n, length)``."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    length = None
    while (
        pa.types.is_list(column.type)
        or pa.types.is_large_list(column.type)
        or pa.types.is_fixed_size_list(column.type)
    ):
        if pa.types.is_fixed_size_list(column.type):
            length = column.type.list_size
        elif pa.types.is_floating(column.type.value_type):  # the series (not the channels)
            sizes = np.unique(np.asarray(pc.list_value_length(column).fill_null(0)))
            if len(sizes) > 1:
                raise ParameterError(
                    f"corpus: series in {where} have different lengths {sizes[:5].tolist()}"
                )
            length = int(sizes[0]) if len(sizes) else 0
        column = column.flatten()
    if length is None or not pa.types.is_floating(column.type):
        raise ParameterError(
            f"corpus: column 'target' of {where} must hold lists of floats, got {column.type}"
        )
    return np.asarray(column, dtype=np.float32).reshape(-1, length)


def resolve_corpus(spec: CauKerConfig | str | os.PathLike, *, what: str = "corpus") -> Corpus:
    """Resolve a config, a config name or a Parquet path; ValueError naming ``what`` otherwise."""
    if isinstance(spec, CauKerConfig):
        return Corpus(label=describe_config(spec), length=spec.length, config=spec)
    if not isinstance(spec, (str, os.PathLike)):
        raise ParameterError(
            f"{what} must be a CauKerConfig, a config name or a path, got {spec!r}"
        )
    text = os.fspath(spec)
    if text in NAMED_SIZES:
        config = named_config(text)
        return Corpus(label=describe_config(config), length=config.length, config=config)
    path = Path(text).expanduser()
    if not path.exists():
        raise ParameterError(
            f"{what} must be a config name ({', '.join(NAMED_SIZES)}) or an existing folder of "
            f"Parquet files, got {text!r}"
        )
    files = _parquet_files(path)
    if not files:
        raise ParameterError(f"{what}: no .parquet file under {text!r}")
    schema = pq.read_schema(files[0])
    if "target" not in schema.names:
        raise ParameterError(f"{what}: {files[0]} has no 'target' column (columns: {schema.names})")
    first = pq.ParquetFile(files[0]).read_row_group(0, columns=["target"]).column("target")
    length = _series_array(first, files[0]).shape[1]
    return Corpus(label=f"parquet {path.name}", length=length, path=path)


def load_series(corpus: Corpus, count: int) -> np.ndarray:
    """The first ``count`` univariate series of ``corpus`` (fewer if it holds fewer)."""
    if corpus.config is not None:
        from cauker import generate  # the public entry point (lazy: cauker imports this)

        config = corpus.config
        per_row = config.channel_range[0] if config.multivariate else 1
        rows = min(config.num_series, math.ceil(count / per_row))
        table = generate(config, "train", 0, rows)
        return _series_array(table.column("target"), corpus.label)[:count]
    parts, have = [], 0
    for file in _parquet_files(corpus.path):
        array = _series_array(pq.read_table(file, columns=["target"]).column("target"), file)
        if array.shape[1] != corpus.length:
            raise ParameterError(
                f"corpus: {file} holds series of length {array.shape[1]}, not {corpus.length}"
            )
        parts.append(array)
        have += len(parts[-1])
        if have >= count:
            break
    return np.concatenate(parts)[:count]
