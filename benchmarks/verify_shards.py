"""What verifying the files of a corpus costs on a re-run of ``cauker generate`` or
``cauker export``.

A re-run reads every recorded file in full and compares its SHA-256 with the one
recorded when it was written (cauker.files.file_records.verify_files). This
script writes a config once (timed), then, alternating, times re-runs of the
whole command that find every file complete, the verification step alone, and,
for Parquet files, a check of the data pages alone (every page read and matched
with its CRC32, which misses damage in the page index and the footer), and
prints the medians beside the first run. The files are in the page cache after the first
run (warm); a cold re-run also pays the disk's read speed.

    python benchmarks/verify_shards.py [--config 10k] [--command generate] [--repeats 5]
        [--num-proc 2] [--folder DIR]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import fsspec
import pyarrow.parquet as pq

import cauker
from cauker.files.corpus_folder import MARKER, write_corpus_folder
from cauker.files.file_records import parse_records, read_json, verify_files
from cauker.files.hub_folder import export, records_path


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="10k")
    parser.add_argument("--command", choices=["generate", "export"], default="generate")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--num-proc", type=int, default=None)
    parser.add_argument("--folder", default=None, help="where to write (default: a temp folder)")
    args = parser.parse_args()
    config = cauker.named_config(args.config)
    with tempfile.TemporaryDirectory(dir=args.folder) as tmp:
        folder = Path(tmp) / "corpus"
        first = run(args.command, config, folder, args.num_proc)
        reruns, checks, pages = [], [], []
        for _ in range(args.repeats):
            reruns.append(run(args.command, config, folder, args.num_proc))
            seconds, files, size = verify(args.command, folder)
            checks.append(seconds)
            pages.append(page_checks(folder))
    rerun, check, page = (statistics.median(t) for t in (reruns, checks, pages))
    mib = size / 2**20
    print(f"cauker {args.command} {args.config}: {files} files, {mib:,.0f} MiB")
    print("| run | seconds | vs first run |")
    print("|---|---:|---:|")
    print(f"| first run, num_proc={args.num_proc or 1} | {first:.2f} | 1 |")
    print(f"| re-run, every file complete (median) | {rerun:.3f} | {rerun / first:.4f} |")
    print(f"| verification alone (median) | {check:.3f} | {check / first:.4f} |")
    if page:
        what = "pages and their CRC32 only (median; blind to page index and footer)"
        print(f"| {what} | {page:.3f} | {page / first:.4f} |")
    print(f"verification: {1000 * check / mib:.2f} ms per MiB ({mib / check:,.0f} MiB/s)")


if __name__ == "__main__":
    main()
