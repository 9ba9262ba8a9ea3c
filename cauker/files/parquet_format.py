"""How cauker writes Parquet files: options and row groups for the Hub.

- **Page index** (``write_page_index``): readers, the Hub's dataset viewer
  among them, fetch single pages instead of whole row groups; and a CRC32
  checksum per page (``write_page_checksum``), so damaged pages can be found.
- **Content-defined chunking**, where the installed pyarrow has it (21 and
  later), with the options ``datasets`` uses: page boundaries follow the
  content, so the Hub's Xet storage deduplicates unchanged data.
- **Encodings**: the float series are written ``BYTE_STREAM_SPLIT`` and never
  dictionary-encoded; dictionaries only for the other columns (the kernel,
  mean and activation names repeat). pyarrow's default tries a dictionary for
  the floats first, which made writing five to nine times slower and the files
  about 75% larger (``benchmarks/parquet_files.py``).
- **Row groups** of about ``ROW_GROUP_BYTES``, whatever the generation batch,
  which bounds the memory of a writer.

The values are the same bytes whatever these options; only the file layout
changes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import pyarrow as pa
import pyarrow.parquet as pq

#: Uncompressed bytes of a row group (the viewer reads at most ~286 MiB at once).
ROW_GROUP_BYTES = 32 * 2**20

#: ``datasets``' own content-defined chunking options (``datasets.config.DEFAULT_CDC_OPTIONS``).
CDC_OPTIONS = {"min_chunk_size": 256 * 1024, "max_chunk_size": 1024 * 1024, "norm_level": 0}


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
