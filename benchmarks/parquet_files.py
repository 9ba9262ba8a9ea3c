"""What writing Parquet files for the Hub costs: cauker's writer against the
previous one (pyarrow's defaults, one row group per generated batch), side by
side in one run.

    python benchmarks/parquet_files.py [--rows 20000] [--length 512]

Part 1 writes the same generated batches, held in memory, with each writer
(best of 3 runs, so generation is not in the figure) and reads them back.
Part 2 runs what an export does for one file (generate, then write) in a fresh
process per writer, and reports its wall time and peak RSS.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import pyarrow.parquet as pq
from results import Table, record

import cauker
from cauker.files import writers


def previous_writer(sink, schema, batches) -> None:
    with pq.ParquetWriter(sink, schema) as writer:
        for batch in batches:
            writer.write_batch(batch)


def cauker_writer(sink, schema, batches) -> None:
    with writers.open_writer(sink, schema) as writer:
        writers.write_row_groups(writer, batches)


def no_cdc_writer(sink, schema, batches) -> None:
    options = writers.writer_options(schema)
    options.pop("use_content_defined_chunking", None)
    with pq.ParquetWriter(sink, schema, **options) as writer:
        writers.write_row_groups(writer, batches)


WRITERS = {
    "previous (pyarrow defaults)": previous_writer,
    "cauker without CDC": no_cdc_writer,
    "cauker (page index, CDC, BSS)": cauker_writer,
}


def in_memory(rows: int, length: int) -> Table:
    config = cauker.CauKerConfig(num_series=rows, length=length)
    started = time.perf_counter()
    batches = list(cauker.iter_batches(config))
    generation = time.perf_counter() - started
    schema = batches[0].schema
    columns = ["writer", "write s", "rows/s", "time vs previous", "write / generation", "MiB"]
    table = Table(
        f"Writing {rows:,} rows of length {length}, generated in {generation:.2f} s (1 process)",
        [*columns, "read s"],
    )
    base = None
    for name, write in WRITERS.items():
        best = float("inf")
        for _ in range(3):
            sink = io.BytesIO()
            started = time.perf_counter()
            write(sink, schema, batches)
            best = min(best, time.perf_counter() - started)
        data = sink.getvalue()
        started = time.perf_counter()
        pq.read_table(io.BytesIO(data))
        read = time.perf_counter() - started
        base = base or best
        table.add(
            name,
            f"{best:.3f}",
            f"{rows / best:,.0f}",
            f"{best / base:.2f}",
            f"{best / generation:.1%}",
            f"{len(data) / 2**20:.1f}",
            f"{read:.3f}",
        )
    print(table.markdown())
    return table


def _child(name: str, rows: int, length: int) -> None:
    config = cauker.CauKerConfig(num_series=rows, length=length)
    cauker.generate(config, stop=4)  # imports and caches, as in a running export
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "file.parquet")
        started = time.perf_counter()
        WRITERS[name](path, cauker.arrow_schema(config), cauker.iter_batches(config))
        wall = time.perf_counter() - started
        size = os.path.getsize(path)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"wall": wall, "peak": peak, "bytes": size}))


def end_to_end(rows: int, length: int) -> Table:
    columns = ["writer", "wall s", "time vs previous", "peak RSS MiB"]
    table = Table("Generate and write one file, a fresh process per writer", columns)
    base = None
    for name in WRITERS:
        done = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                name,
                "--rows",
                str(rows),
                "--length",
                str(length),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        result = json.loads(done.stdout.strip().splitlines()[-1])
        wall, peak = result["wall"], result["peak"]
        base = base or wall
        table.add(name, f"{wall:.2f}", f"{wall / base:.2f}", f"{peak:.0f}")
    print(table.markdown())
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--length", type=int, default=512)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.rows, args.length)
        return
    note = f"pyarrow {__import__('pyarrow').__version__}, CDC: {writers.has_cdc()}"
    print(note)
    tables = in_memory(args.rows, args.length), end_to_end(args.rows, args.length)
    record(__file__, *tables, notes=[note])


if __name__ == "__main__":
    main()
