"""Damage for the tests of verification: a flipped byte at a chosen place of a file."""

from pathlib import Path

import pyarrow.parquet as pq


def flip(path: Path, offset: int) -> None:
    """Flip the bits of one byte of ``path`` (an offset from the end if negative)."""
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x5A
    path.write_bytes(bytes(data))


def page_index_offset(path: Path) -> int:
    """The middle of a Parquet file's page index: after the last column chunk, before
    the footer."""
    meta = pq.read_metadata(path)
    data_end = 0
    for i in range(meta.num_row_groups):
        for j in range(meta.num_columns):
            column = meta.row_group(i).column(j)
            start = column.dictionary_page_offset if column.has_dictionary_page else None
            start = start or column.data_page_offset
            data_end = max(data_end, start + column.total_compressed_size)
    data = path.read_bytes()
    footer_start = len(data) - 8 - int.from_bytes(data[-8:-4], "little")
    assert footer_start - data_end > 16  # there is a page index to damage
    return (data_end + footer_start) // 2


def footer_offset(path: Path, needle: bytes) -> int:
    """A byte inside the last occurrence of ``needle`` (in the footer's metadata)."""
    data = path.read_bytes()
    return data.rindex(needle) + len(needle) - 3
