"""One Parquet file per shard, written so that a crash never leaves a partial file
under the final name, and checked so that a re-run skips what is complete.

Files go through ``fsspec``: a local path, ``s3://``, ``gcs://``, ``hf://``. On a
local file system a shard is written under a temporary name, then renamed
(atomic). On an object store an object only appears once its upload completes,
so it is written under its final name directly.

Every file carries, in its Parquet key-value metadata, the config fingerprint,
the algorithm version and the shard's row range. A shard counts as complete if
a file with its final name exists and its footer agrees on all of these and
on the row count.
"""

from __future__ import annotations

import json
import posixpath
import uuid
from dataclasses import dataclass

import fsspec
import pyarrow.parquet as pq
from fsspec.implementations.local import LocalFileSystem

from cauker.config import ALGORITHM_VERSION, CauKerConfig
from cauker.parquet_format import open_writer, write_row_groups
from cauker.rows import iter_batches
from cauker.schema import arrow_schema
from cauker.shards import Shard

METADATA_KEY = b"cauker"


@dataclass(frozen=True)
class ShardFile:
    """What the card needs to know of a written shard."""

    split: str
    index: int
    num_rows: int
    num_bytes: int  # uncompressed, as Parquet counts it
    file_size: int


def is_local(fs: fsspec.AbstractFileSystem) -> bool:
    """A local file system: written under a temporary name, then renamed."""
    return isinstance(fs, LocalFileSystem)


def shard_path(root: str, config_name: str, shard: Shard) -> str:
    return posixpath.join(root, "data", config_name, shard.file_name())


def _expected_metadata(config: CauKerConfig, shard: Shard) -> dict:
    return {
        "version": ALGORITHM_VERSION,
        "fingerprint": config.fingerprint(),
        "split": shard.split,
        "index": shard.index,
        "count": shard.count,
        "start": shard.start,
        "stop": shard.stop,
    }


def _schema(config: CauKerConfig, shard: Shard):
    import datasets

    features = datasets.Features.from_arrow_schema(arrow_schema(config))
    schema = features.arrow_schema  # carries the "huggingface" features metadata
    meta = dict(schema.metadata or {})
    meta[METADATA_KEY] = json.dumps(
        {**_expected_metadata(config, shard), "config": config.to_dict()}, sort_keys=True
    ).encode()
    return schema.with_metadata(meta)


def read_shard_file(fs: fsspec.AbstractFileSystem, path: str) -> tuple[dict, ShardFile] | None:
    """The cauker metadata and sizes of a shard file, or None if absent or unreadable."""
    try:
        with fs.open(path, "rb") as f:
            meta = pq.read_metadata(f)
        info = json.loads(meta.metadata[METADATA_KEY])
        size = fs.size(path)
    except (FileNotFoundError, OSError, KeyError, TypeError, ValueError):
        return None
    num_bytes = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    return info, ShardFile(info.get("split"), info.get("index"), meta.num_rows, num_bytes, size)


def complete_shard(
    fs: fsspec.AbstractFileSystem, root: str, config_name: str, config: CauKerConfig, shard: Shard
) -> ShardFile | None:
    """The shard's file if it is complete and belongs to this config and range."""
    found = read_shard_file(fs, shard_path(root, config_name, shard))
    if found is None:
        return None
    info, file = found
    expected = _expected_metadata(config, shard)
    if any(info.get(k) != v for k, v in expected.items()) or file.num_rows != shard.num_rows:
        return None
    return file


def write_shard(url: str, config_name: str, config: CauKerConfig, shard: Shard) -> ShardFile:
    """Generate ``shard`` and write it to ``<url>/data/<config_name>/``; returns its sizes.

    A plain function of picklable arguments, so it runs in a process pool or as
    a Dask task alike.
    """
    fs, root = fsspec.core.url_to_fs(url)
    path = shard_path(root, config_name, shard)
    fs.makedirs(posixpath.dirname(path), exist_ok=True)
    local = is_local(fs)
    target = f"{path}.tmp-{uuid.uuid4().hex}" if local else path
    try:
        with fs.open(target, "wb") as f, open_writer(f, _schema(config, shard)) as writer:
            write_row_groups(writer, iter_batches(config, shard.split, shard.start, shard.stop))
        if local:
            fs.mv(target, path)
    except BaseException:
        if local and fs.exists(target):
            fs.rm(target)  # a partial temporary file; complete shards are never touched
        raise
    found = read_shard_file(fs, path)
    if found is None:
        raise OSError(f"shard {path} was written but cannot be read back")
    return found[1]
