"""What verifying every page of every shard costs on a re-run of an export.

A re-run of ``cauker export`` reads every existing shard in full to check its
page checksums (cauker.files.writers.pages_intact). This script exports the
``10k`` config once, then times the shard step of re-runs that find every
shard complete (``export_shards``: the checks, no preview or card), with the
page check and with the footer check alone (the page check replaced by a
no-op), alternating, and prints the medians beside the first export and a
whole re-run (whose time is mostly drawing the preview).

    python benchmarks/verify_shards.py [--config 10k] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from results import Table, record

import cauker
from cauker.files import writers
from cauker.files.hub_folder import export, export_shards


def timed(config, folder: Path, step=export) -> float:
    start = time.perf_counter()
    if step is export:
        export(config, folder, config_name="bench", progress=False)
    else:
        export_shards(config, str(folder), "bench", progress=False)
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
        rerun = timed(config, folder)
        checked, footer_only = [], []
        real = writers.pages_intact
        for _ in range(args.repeats):
            checked.append(timed(config, folder, export_shards))
            writers.pages_intact = lambda fs, path: True
            try:
                footer_only.append(timed(config, folder, export_shards))
            finally:
                writers.pages_intact = real
    with_pages, without = statistics.median(checked), statistics.median(footer_only)
    mib = size / 2**20
    table = Table(
        "Re-runs of an export that find every shard complete", ["run", "seconds", "vs first export"]
    )
    table.add("first export, 1 process", f"{first:.2f}", "1.000")
    table.add("whole re-run (checks, preview, card)", f"{rerun:.2f}", f"{rerun / first:.3f}")
    table.add("shard checks, footers only (median)", f"{without:.3f}", f"{without / first:.4f}")
    table.add(
        "shard checks, footers and pages (median)", f"{with_pages:.3f}", f"{with_pages / first:.4f}"
    )
    extra = with_pages - without
    notes = [
        f"config {args.config}: {shards} shards, {mib:.0f} MiB of Parquet",
        f"page checks add {extra:.3f} s, {1000 * extra / mib:.1f} ms per MiB of Parquet",
    ]
    print(table.markdown(), *notes, sep="\n")
    record(__file__, table, notes=notes)


if __name__ == "__main__":
    main()
