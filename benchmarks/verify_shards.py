"""What verifying every page of every shard costs on a re-run of an export.

A re-run of ``cauker export`` reads every existing shard in full to check its
page checksums (cauker.shard_files.pages_intact). This script exports the
``10k`` config once, then times re-runs that find every shard complete, with
the page check and with the footer check alone (the page check replaced by a
no-op), alternating, and prints the medians beside the first export.

    python benchmarks/verify_shards.py [--config 10k] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import cauker
from cauker import shard_files
from cauker.hub_layout import export


def timed(config, folder: Path) -> float:
    start = time.perf_counter()
    export(config, folder, config_name="bench", progress=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="10k")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    config = cauker.named_config(args.config)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        first = timed(config, folder)
        size = sum(p.stat().st_size for p in (folder / "data").rglob("*.parquet"))
        shards = len(list((folder / "data").rglob("*.parquet")))
        checked, footer_only = [], []
        real = shard_files.pages_intact
        for _ in range(args.repeats):
            checked.append(timed(config, folder))
            shard_files.pages_intact = lambda fs, path: True
            try:
                footer_only.append(timed(config, folder))
            finally:
                shard_files.pages_intact = real
    with_pages, without = statistics.median(checked), statistics.median(footer_only)
    print(f"config {args.config}: {shards} shards, {size / 2**20:.0f} MiB of Parquet")
    print("| run | seconds (median) | vs first export |")
    print("|---|---:|---:|")
    print(f"| first export, 1 process | {first:.2f} | 1.000 |")
    print(f"| re-run, footers only | {without:.2f} | {without / first:.3f} |")
    print(f"| re-run, footers and page checksums | {with_pages:.2f} | {with_pages / first:.3f} |")
    print(f"page checks add {with_pages - without:.2f} s ({with_pages / without:.2f}x the re-run)")


if __name__ == "__main__":
    main()
