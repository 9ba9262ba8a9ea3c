"""One Parquet file per shard, written so that a crash never leaves a partial file
under the final name, and checked so that a re-run skips what is complete.

Files go through ``fsspec``: a local path, ``s3://``, ``gcs://``, ``hf://``. On a
local file system a shard is written under a temporary name, then renamed
(atomic, :mod:`cauker.files.atomic_files`). On an object store an object only appears
once its upload completes, so it is written under its final name directly.

A shard's name carries the first 8 hex digits of the config fingerprint,
``data/<config>/<split>-NNNNN-of-NNNNN-<tag>.parquet``, and the card's glob
names them (with the shard count): a re-export of a changed config writes
beside the old files, which the card keeps describing until it is switched.

Every file carries, in its Parquet key-value metadata, the config fingerprint,
the algorithm version and the shard's row range, and a CRC32 checksum in every
data page. A shard counts as complete if a file with its final name exists,
its footer agrees on all of these and on the row count, and every page
matches its checksum (so a re-run reads every existing shard once).
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq

from cauker.config import ALGORITHM_VERSION, CauKerConfig
from cauker.errors import ShardWriteError
from cauker.files.atomic_files import is_local, open_atomically
from cauker.files.parquet_format import open_writer, write_row_groups
from cauker.files.shard_plan import Shard
from cauker.sampler.rows import iter_batches
from cauker.sampler.schema import arrow_schema

__all__ = ["ShardFile", "complete_shard", "is_local", "shard_path", "write_shard"]

METADATA_KEY = b"cauker"
#: How the shard's pages are protected; part of the metadata a complete shard must have.
CHECKSUMS = "crc32-pages"


@dataclass(frozen=True)
class ShardFile:
    """What the card needs to know of a written shard."""

    split: str
    index: int
    num_rows: int
    num_bytes: int  # uncompressed, as Parquet counts it
    file_size: int


def file_tag(config: CauKerConfig) -> str:
    """The part of the file names that tells configs apart: 8 hex digits of the fingerprint."""
    return config.fingerprint()[:8]


def shard_path(root: str, config_name: str, config: CauKerConfig, shard: Shard) -> str:
    name = f"{shard.split}-{shard.index:05d}-of-{shard.count:05d}-{file_tag(config)}.parquet"
    return posixpath.join(root, "data", config_name, name)


def data_files_pattern(config_name: str, config: CauKerConfig, shard: Shard) -> str:
    """The card's glob of the shards of ``shard``'s split, and of no other file."""
    split, count, tag = shard.split, shard.count, file_tag(config)
    return f"data/{config_name}/{split}-*-of-{count:05d}-{tag}.parquet"


def _expected_metadata(config: CauKerConfig, shard: Shard) -> dict:
    return {
        "version": ALGORITHM_VERSION,
        "fingerprint": config.fingerprint(),
        "split": shard.split,
        "index": shard.index,
        "count": shard.count,
        "start": shard.start,
        "stop": shard.stop,
        "checksums": CHECKSUMS,
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


def pages_intact(fs: fsspec.AbstractFileSystem, path: str) -> bool:
    """Whether every page of a Parquet file reads back and matches its checksum."""
    try:
        with fs.open(path, "rb") as f:
            reader = pq.ParquetFile(f, page_checksum_verification=True)
            for i in range(reader.num_row_groups):
                reader.read_row_group(i)
    except (OSError, ValueError, pa.ArrowException):
        return False
    return True


def complete_shard(
    fs: fsspec.AbstractFileSystem, root: str, config_name: str, config: CauKerConfig, shard: Shard
) -> ShardFile | None:
    """The shard's file if it is complete, intact and belongs to this config and range."""
    path = shard_path(root, config_name, config, shard)
    found = read_shard_file(fs, path)
    if found is None:
        return None
    info, file = found
    expected = _expected_metadata(config, shard)
    if any(info.get(k) != v for k, v in expected.items()) or file.num_rows != shard.num_rows:
        return None
    return file if pages_intact(fs, path) else None


def write_shard(url: str, config_name: str, config: CauKerConfig, shard: Shard) -> ShardFile:
    """Generate ``shard`` and write it to ``<url>/data/<config_name>/``; returns its sizes.

    A plain function of picklable arguments, so it runs in a process pool or as
    a Dask task alike.
    """
    fs, root = fsspec.core.url_to_fs(url)
    path = shard_path(root, config_name, config, shard)
    fs.makedirs(posixpath.dirname(path), exist_ok=True)
    schema = _schema(config, shard)
    with open_atomically(fs, path) as f, open_writer(f, schema) as writer:
        write_row_groups(writer, iter_batches(config, shard.split, shard.start, shard.stop))
    found = read_shard_file(fs, path)
    if found is None:
        raise ShardWriteError(f"shard {path} was written but cannot be read back", shard)
    return found[1]
