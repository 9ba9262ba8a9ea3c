"""The one writer of corpus files: one file per shard, as Parquet, Arrow IPC or GluonTS.

Both layouts write through here: the Hub folder of ``cauker export`` and ``push``
(:mod:`cauker.hub.layout`, Parquet) and the training folder of ``cauker
generate`` (:mod:`cauker.files.corpus_folder`, any format). A file is written
so that a crash never leaves a partial file under its final name, and checked
so that a re-run skips what is complete.

Files go through ``fsspec``: a local path, ``s3://``, ``gcs://``, ``hf://``. On a
local file system a file is written under a temporary name, then renamed
(:mod:`cauker.files.atomic_files`); on an object store an object only appears
once its upload completes, so it is written under its final name directly.

Formats (``FORMATS``):

- ``parquet``: the columns of ``arrow_schema`` with ``datasets``' features in
  the schema metadata, and, in the key-value metadata, the config fingerprint,
  the algorithm version and the shard's row range. How it is written:

  - a **page index** (readers, the Hub's dataset viewer among them, fetch single
    pages) and a **CRC32 checksum** per page, so damaged pages can be found;
  - **content-defined chunking** where pyarrow has it (21 and later), with
    ``datasets``' options, so the Hub's Xet storage deduplicates unchanged data;
  - the float series ``BYTE_STREAM_SPLIT`` and never dictionary-encoded;
    dictionaries only for the other columns. pyarrow's default tries a
    dictionary for the floats first, which made writing five to nine times
    slower and the files about 75% larger (``benchmarks/parquet_files.py``);
  - **row groups** of about ``ROW_GROUP_BYTES``, whatever the generation batch.

- ``arrow``: the Arrow IPC *file* format (random access, memory-mappable, the
  ``ARROW1`` magic), which ``pyarrow.dataset.dataset(path, format="arrow")`` and
  ``datasets.load_dataset("arrow", ...)`` read (the IPC *stream* format that
  ``datasets`` writes for itself fails in ``pyarrow.dataset`` with "Not an
  Arrow file"), one record batch per generation batch, uncompressed so that
  readers can map it.
- ``gluonts``: the same IPC files with what GluonTS' ``ArrowWriter`` writes and
  Chronos' training script reads first: ``start`` (``timestamp[s]``, 2000-01-01
  for every series, as in KernelSynth and the authors' V1 script) and
  ``target`` (a list of float32; a list of such lists in multivariate mode),
  then ``index`` and the provenance columns, which GluonTS passes through,
  except ``edges``: GluonTS' decoder stacks every list column and fails on an
  empty one (a row whose channels share no edge); the Parquet and Arrow
  formats hold it.

The values are the same bytes whatever the format's options; only the layout
of the file changes.

Every file's SHA-256 is computed as it is written and returned with its sizes
(:class:`~cauker.files.file_records.ShardFile`): the caller records it, and a
later run takes the file as complete only if its bytes still match
(:mod:`cauker.files.file_records`). Each format also carries cauker's mark (the
``cauker`` key of a Parquet footer, the ``cauker_config`` key of an IPC
schema), by which a file that a killed run left without a record is known as
cauker's to replace (:func:`is_cauker_file`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence

import fsspec
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from cauker.config import ALGORITHM_VERSION, CauKerConfig
from cauker.errors import ParameterError, ShardWriteError
from cauker.files.atomic_files import open_atomically
from cauker.files.file_records import HashingFile, ShardFile
from cauker.files.shard_plan import Shard
from cauker.task_config import is_task_config
from cauker.tasks.corpora import arrow_schema, iter_batches
from cauker.validation import check_choice

#: A shard and the path of its file, relative to the output.
Task = tuple[Shard, str]
#: ``run(tasks, done)``: writes every task's file with :func:`write_shard` and calls
#: ``done(file)`` in this process as each one is finished (:mod:`cauker.files.runners`).
Runner = Callable[[Sequence[Task], Callable[[ShardFile], None]], None]

#: The formats, by ``--format`` name.
FORMATS = ("parquet", "arrow", "gluonts")
#: The file name extension of each format.
EXTENSIONS = {"parquet": "parquet", "arrow": "arrow", "gluonts": "arrow"}

#: The key of cauker's metadata in a Parquet footer.
METADATA_KEY = b"cauker"
#: How a Parquet file's pages are protected; part of the metadata a complete file must have.
CHECKSUMS = "crc32-pages"
#: Uncompressed bytes of a Parquet row group (the viewer reads at most ~286 MiB at once).
ROW_GROUP_BYTES = 32 * 2**20
#: ``datasets``' own content-defined chunking options (``datasets.config.DEFAULT_CDC_OPTIONS``).
CDC_OPTIONS = {"min_chunk_size": 256 * 1024, "max_chunk_size": 1024 * 1024, "norm_level": 0}
#: The ``start`` of every GluonTS series.
GLUONTS_START = np.datetime64("2000-01-01T00:00:00", "s")


def check_format(format: str, config=None) -> str:
    """``format`` if it is one of ``FORMATS`` (else :class:`~cauker.errors.ParameterError`);
    a task corpus (``config``) has no GluonTS form: its rows are tasks, not series."""
    check_choice("format", format, FORMATS)
    if config is not None and is_task_config(config) and format == "gluonts":
        raise ParameterError(
            "format must be 'parquet' or 'arrow' for a task corpus (its rows are tasks, not "
            f"GluonTS series), got {format!r}"
        )
    return format


def write_shard(url: str, config: CauKerConfig, format: str, shard: Shard, path: str) -> ShardFile:
    """Generate ``shard`` into the file ``path`` (relative to ``url``, a folder or
    fsspec URL) in ``format``; returns its sizes and SHA-256.

    A plain function of picklable arguments, so it runs in this process, in a
    process pool or as a Dask task alike.

    Raises
    ------
    ShardWriteError
        If the file cannot be read back once written.
    OSError
        From the file system (a full disk...), naming the file; no partial file is
        left under ``path``.

    Examples
    --------
    >>> import tempfile, cauker
    >>> from cauker.files.shard_plan import plan_shards
    >>> config = cauker.CauKerConfig(num_series=8, length=16)
    >>> shard = plan_shards(config, "train")[0]
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     write_shard(folder, config, "arrow", shard, "train/part.arrow").num_rows
    8
    """
    fs, root = fsspec.core.url_to_fs(url)
    full = f"{root.rstrip('/')}/{path}"
    fs.makedirs(full.rsplit("/", 1)[0], exist_ok=True)
    batches = iter_batches(config, shard.split, shard.start, shard.stop)
    with open_atomically(fs, full) as f:
        sink = HashingFile(f)
        if format == "parquet":
            with open_writer(sink, _parquet_schema(config, shard)) as writer:
                write_row_groups(writer, batches)
        else:
            schema = gluonts_schema(config) if format == "gluonts" else arrow_schema(config)
            with pa.ipc.new_file(sink, schema) as writer:
                for batch in batches:
                    writer.write_batch(_as_gluonts(batch, schema) if format == "gluonts" else batch)
    if format != "parquet":
        size = sink.size
        return ShardFile(shard.split, shard.index, shard.num_rows, size, size, sink.sha256)
    meta = _parquet_metadata(fs, full)
    if meta is None or meta.num_rows != shard.num_rows:
        raise ShardWriteError(f"shard {full} was written but cannot be read back", shard)
    num_bytes = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    return ShardFile(shard.split, shard.index, shard.num_rows, num_bytes, sink.size, sink.sha256)


def is_cauker_file(fs: fsspec.AbstractFileSystem, path: str) -> bool:
    """Whether the file at ``path`` carries cauker's mark: a Parquet file with
    cauker's footer metadata, or an IPC file with cauker's schema metadata
    (whatever its config)."""
    meta = _parquet_metadata(fs, path)
    if meta is not None:
        return METADATA_KEY in (meta.metadata or {})
    try:
        with fs.open(path, "rb") as f:
            schema = pa.ipc.open_file(f).schema
    except (OSError, pa.ArrowException):
        return False
    return b"cauker_config" in (schema.metadata or {})


# -- Parquet ---------------------------------------------------------------------


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


def _parquet_schema(config: CauKerConfig, shard: Shard) -> pa.Schema:
    import datasets

    features = datasets.Features.from_arrow_schema(arrow_schema(config))
    schema = features.arrow_schema  # carries the "huggingface" features metadata
    meta = dict(schema.metadata or {})
    meta[METADATA_KEY] = json.dumps(
        {**_expected_metadata(config, shard), "config": config.to_dict()}, sort_keys=True
    ).encode()
    return schema.with_metadata(meta)


def _parquet_metadata(fs: fsspec.AbstractFileSystem, path: str) -> pq.FileMetaData | None:
    """The footer of a Parquet file, or None if absent or not a Parquet file."""
    try:
        with fs.open(path, "rb") as f:
            return pq.read_metadata(f)
    except (OSError, pa.ArrowException):
        return None


def has_cdc() -> bool:
    """Whether the installed pyarrow writes content-defined chunks (pyarrow >= 21)."""
    return int(pa.__version__.split(".")[0]) >= 21


def _leaves(name: str, kind: pa.DataType) -> list[tuple[str, pa.DataType]]:
    """Leaf column paths as Parquet names them (``target.list.element``)."""
    if pa.types.is_list(kind) or pa.types.is_fixed_size_list(kind) or pa.types.is_large_list(kind):
        return _leaves(f"{name}.list.element", kind.value_type)
    if pa.types.is_struct(kind):
        return [leaf for field in kind for leaf in _leaves(f"{name}.{field.name}", field.type)]
    return [(name, kind)]


def writer_options(schema: pa.Schema) -> dict:
    """Keyword arguments of ``pyarrow.parquet.ParquetWriter`` for ``schema``."""
    leaves = [leaf for field in schema for leaf in _leaves(field.name, field.type)]
    floats = [path for path, kind in leaves if pa.types.is_floating(kind)]
    options = {
        "compression": "snappy",
        "write_page_index": True,
        "write_page_checksum": True,  # readers can verify every page (CRC32)
        "use_dictionary": [path for path, _ in leaves if path not in floats],
        "column_encoding": dict.fromkeys(floats, "BYTE_STREAM_SPLIT"),
    }
    if has_cdc():
        options["use_content_defined_chunking"] = CDC_OPTIONS
    return options


def open_writer(where, schema: pa.Schema) -> pq.ParquetWriter:
    """A ``ParquetWriter`` on a path or file object, with ``writer_options``."""
    writer = pq.ParquetWriter(where, schema, **writer_options(schema))
    if has_cdc():  # as datasets records it
        writer.add_key_value_metadata({"content_defined_chunking": json.dumps(CDC_OPTIONS)})
    return writer


def write_row_groups(
    writer: pq.ParquetWriter,
    batches: Iterable[pa.RecordBatch],
    row_group_bytes: int | None = None,
) -> None:
    """Write ``batches`` in row groups of about ``row_group_bytes`` (default
    ``ROW_GROUP_BYTES``; the last group smaller)."""
    row_group_bytes = ROW_GROUP_BYTES if row_group_bytes is None else row_group_bytes
    pending: list[pa.RecordBatch] = []
    size = 0
    for batch in batches:
        pending.append(batch)
        size += batch.nbytes
        if size >= row_group_bytes:
            writer.write_table(pa.Table.from_batches(pending), row_group_size=None)
            pending, size = [], 0
    if pending:
        writer.write_table(pa.Table.from_batches(pending), row_group_size=None)


# -- Arrow IPC and GluonTS ----------------------------------------------------------


def gluonts_schema(config: CauKerConfig) -> pa.Schema:
    """``start`` and ``target`` as GluonTS writes them, then cauker's other columns."""
    series = pa.list_(pa.float32())
    target = pa.list_(series) if config.multivariate else series
    rest = [f for f in arrow_schema(config) if f.name not in ("target", "edges")]
    return pa.schema(
        [pa.field("start", pa.timestamp("s")), pa.field("target", target), *rest],
        metadata=arrow_schema(config).metadata,
    )


def _as_gluonts(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    columns = {
        "start": pa.array(np.full(batch.num_rows, GLUONTS_START), type=pa.timestamp("s")),
        "target": batch.column("target").cast(schema.field("target").type),
    }
    arrays = [columns[f.name] if f.name in columns else batch.column(f.name) for f in schema]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)
