"""What verifying the files of a corpus costs on a re-run of ``cauker generate`` or
``cauker export``.

    python benchmarks/verify_shards.py [generate:10k export:10k generate:1m] [--repeats 5]
        [--num-proc 2] [--folder DIR]

A re-run reads every recorded file in full and compares its SHA-256 with the one
recorded when the file was written (cauker.files.file_records.verify_files).
For each ``command:config`` this script writes the corpus once (timed), then,
alternating, times re-runs of the whole command that find every file complete,
the verification step alone, and a check of the data pages alone (every page
of every Parquet file read and matched with its CRC32, which misses damage in
the page index and the footer), and tabulates the medians. The files are in
the page cache after the first run (warm); a cold re-run also pays the disk's
read speed.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import fsspec
import pyarrow.parquet as pq
from results import Table, record

import cauker
from cauker.files.corpus_folder import MARKER, write_corpus_folder
from cauker.files.file_records import parse_records, read_json, verify_files
from cauker.hub.layout import export, records_path


def run(command: str, config, folder: Path, num_proc: int | None) -> float:
    start = time.perf_counter()
    if command == "generate":
        write_corpus_folder(config, folder, num_proc=num_proc, progress=False)
    else:
        export(config, folder, config_name="bench", num_proc=num_proc, progress=False)
    return time.perf_counter() - start


def verify(command: str, folder: Path) -> tuple[float, int, int]:
    """Seconds of the verification step alone, files and bytes verified."""
    fs = fsspec.filesystem("file")
    where = folder / MARKER if command == "generate" else records_path(str(folder), "bench")
    records = parse_records(read_json(fs, str(where))[0]["files"])
    start = time.perf_counter()
    good = verify_files(fs, str(folder), records, progress=False)
    seconds = time.perf_counter() - start
    assert len(good) == len(records), "a file did not verify"
    return seconds, len(records), sum(f.file_size for f in records.values())


def page_checks(folder: Path) -> float:
    """Seconds to read every page of every Parquet file, checking its CRC32."""
    start = time.perf_counter()
    for path in sorted(folder.rglob("*.parquet")):
        reader = pq.ParquetFile(path, page_checksum_verification=True)
        for i in range(reader.num_row_groups):
            reader.read_row_group(i)
    return time.perf_counter() - start


def measure(command: str, name: str, repeats: int, num_proc: int | None, tmp: str) -> list:
    config = cauker.named_config(name)
    folder = Path(tmp) / f"{command}-{name}"
    first = run(command, config, folder, num_proc)
    reruns, checks, pages = [], [], []
    for _ in range(repeats):
        reruns.append(run(command, config, folder, num_proc))
        seconds, files, size = verify(command, folder)
        checks.append(seconds)
        pages.append(page_checks(folder))
    rerun, check, page = (statistics.median(t) for t in (reruns, checks, pages))
    mib = size / 2**20
    return [
        f"`{command} {name}`",
        files,
        f"{mib:,.0f}",
        f"{first:.2f}",
        f"{rerun:.3f} ({rerun / first:.4f})",
        f"{check:.3f} ({check / first:.4f})",
        f"{1000 * check / mib:.2f}",
        f"{page:.3f}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="*", default=["generate:10k", "export:10k"])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--num-proc", type=int, default=None)
    parser.add_argument("--folder", default=None, help="where to write (default: a temp folder)")
    args = parser.parse_args()
    columns = ["corpus", "files", "MiB", "first run (s)", "re-run (s, vs first)"]
    columns += ["verification (s, vs first)", "ms per MiB", "data pages' CRC32 only (s)"]
    table = Table("Re-runs that find every file complete (medians)", columns)
    for run_name in args.runs:
        command, name = run_name.split(":")
        with tempfile.TemporaryDirectory(dir=args.folder) as tmp:
            table.add(*measure(command, name, args.repeats, args.num_proc, tmp))
    notes = [
        f"{args.repeats} re-runs each, alternating with the two checks; "
        f"first runs with num_proc={args.num_proc or 1}; files in the page cache (warm)",
        "verification: the whole-file SHA-256 of every recorded file, which any damaged byte "
        "changes (data pages, page index, footer and its metadata)",
    ]
    print(table.markdown(), *notes, sep="\n")
    record(__file__, table, notes=notes)


if __name__ == "__main__":
    main()
