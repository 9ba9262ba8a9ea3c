"""What one DDP rank of a streamed corpus costs, and why parts are generated 128
graphs at a time. Side by side in one run, one process:

    python benchmarks/stream_split.py [--rows 8000] [--length 512]

1. Graphs per call of the sampler (the batch of the Schur factorisation):
   throughput for 1 to 128 graphs per call, the same graphs.
2. Rank 0 of a world of 8 and of 11 iterates its part of a corpus, as
   ``split_dataset_by_node`` (8) or ``cauker.load_dataset(..., rank=,
   world_size=)`` (11) give it, against the previous stream (``datasets``'
   ``ArrowExamplesIterable`` over 63 contiguous shards, which 8 does not divide:
   every rank generated every row). The figure is the rank's CPU time over its
   share (the CPU time of the whole split / world size, measured here).
"""

from __future__ import annotations

import argparse
import time

import datasets
import pyarrow as pa
from datasets.distributed import split_dataset_by_node
from datasets.iterable_dataset import ArrowExamplesIterable
from results import Table, record

import cauker
from cauker.hf.builder import work_ranges
from cauker.sampler.rows import iter_batches, sampler_for


def graphs_per_call(length: int, total: int = 256) -> Table:
    config = cauker.CauKerConfig(num_series=10**6, length=length)
    sampler = sampler_for(config)
    sampler.graphs("train", range(100_000, 100_128))  # warm the caches (the sampler uses no BLAS)
    table = Table(
        f"{total} graphs of length {length}, by graphs per call of the sampler",
        ["graphs per call", "graphs/s", "vs 128 per call"],
    )
    rates = {}
    for per_call in (1, 4, 16, 64, 128):
        started = time.perf_counter()
        for first in range(0, total, per_call):
            sampler.graphs("train", range(first, first + per_call))
        rates[per_call] = total / (time.perf_counter() - started)
    for per_call, rate in rates.items():
        table.add(per_call, f"{rate:,.0f}", f"{rate / rates[128]:.2f}")
    print(table.markdown())
    return table


def previous_stream(config: cauker.CauKerConfig) -> datasets.IterableDataset:
    """The stream as the builder made it before: one generator call per contiguous shard."""

    def tables(split, ranges):
        for start, stop in ranges:
            for batch in iter_batches(config, split, start, stop):
                yield f"{start}", pa.Table.from_batches([batch])

    kwargs = {"split": "train", "ranges": work_ranges(config, "train")}
    return datasets.IterableDataset(ArrowExamplesIterable(tables, kwargs))


def seconds(stream) -> float:
    """CPU seconds of this process to iterate ``stream`` (less noisy than wall time on a
    shared machine; generation runs on one thread)."""
    started = time.process_time()
    for _ in stream.iter(batch_size=256):
        pass
    return time.process_time() - started


def rank_cost(rows: int, length: int) -> Table:
    fields = {"num_series": rows, "length": length}
    config = cauker.named_config("10k", **fields)
    full = cauker.load_dataset("10k", split="train", streaming=True, **fields)
    seconds(full)  # a first pass fills the caches (kernel factors, plans): not timed
    whole = seconds(full)
    table = Table(
        f"{rows:,} rows of length {length}: the whole split streams in {whole:.2f} CPU s",
        ["stream", "world size", "shards", "rank 0 CPU s", "rank 0 / its share"],
    )
    old = previous_stream(config)
    cases = [
        ("previous (63 contiguous shards)", 8, split_dataset_by_node(old, rank=0, world_size=8)),
    ]
    new = cauker.load_dataset("10k", split="train", streaming=True, **fields)
    cases.append(("cauker, split_dataset_by_node", 8, split_dataset_by_node(new, 0, 8)))
    part = cauker.load_dataset(
        "10k", split="train", streaming=True, rank=0, world_size=11, **fields
    )
    cases.append(("cauker, load_dataset(rank=, world_size=)", 11, part))
    for name, world_size, stream in cases:
        took = seconds(stream)
        shards, share = stream._ex_iterable.num_shards, whole / world_size
        table.add(name, world_size, f"{shards:,}", f"{took:.2f}", f"{took / share:.2f}")
    print(table.markdown())
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=8000)
    parser.add_argument("--length", type=int, default=512)
    args = parser.parse_args()
    tables = graphs_per_call(args.length), rank_cost(args.rows, args.length)
    record(
        __file__, *tables, notes=["CPU seconds of one process (share = the split's / world size)"]
    )


if __name__ == "__main__":
    main()
