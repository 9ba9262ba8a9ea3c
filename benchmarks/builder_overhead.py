"""Overhead of the datasets builder over bare generation, for the two builder bases.

    python benchmarks/builder_overhead.py [--num-series 20000]

Side by side, in one run: generating the rows (no writing), preparing them with
our ``ArrowBasedBuilder`` (whole Arrow tables), and preparing them with a
``GeneratorBasedBuilder`` that yields one dict per example (the classic way).
The overhead is each preparation's extra time over bare generation.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import datasets
from results import Table, record

import cauker
from cauker.files.shard_plan import plan_shards
from cauker_dataset import CauKer


class CauKerPerExample(datasets.GeneratorBasedBuilder):
    """The same corpus through the one-dict-per-example path, for comparison only."""

    BUILDER_CONFIG_CLASS = CauKer.BUILDER_CONFIG_CLASS
    BUILDER_CONFIGS = CauKer.BUILDER_CONFIGS
    VERSION = CauKer.VERSION

    def _info(self):
        return CauKer._info(self)

    def _split_generators(self, dl_manager):
        return CauKer._split_generators(self, dl_manager)

    def _generate_examples(self, split, ranges):
        config = self.config.cauker_config()
        for start, stop in ranges:
            for batch in cauker.iter_batches(config, split, start, stop):
                for row in batch.to_pylist():
                    yield row["index"], row


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-series", type=int, default=20_000)
    args = parser.parse_args()
    datasets.disable_progress_bars()
    config = cauker.named_config("10k", num_series=args.num_series)
    cauker.generate(config, stop=200)  # warm the caches of this process

    def bare():
        for split in ("train", "validation"):
            for shard in plan_shards(config, split):
                for _ in cauker.iter_batches(config, split, shard.start, shard.stop):
                    pass

    def prepare(cls):
        with tempfile.TemporaryDirectory() as tmp:
            builder = cls(config_name="10k", cache_dir=tmp, num_series=args.num_series)
            builder.download_and_prepare()

    base = timed(bare)
    arrow = timed(lambda: prepare(CauKer))
    per_example = timed(lambda: prepare(CauKerPerExample))
    table = Table("Builder overhead", ["path", "seconds", "overhead over generation"])
    table.add("generation only (cauker.iter_batches)", f"{base:.2f}", "")
    for name, t in (
        ("ArrowBasedBuilder, whole Arrow tables (cauker's)", arrow),
        ("GeneratorBasedBuilder, one dict per example", per_example),
    ):
        table.add(name, f"{t:.2f}", f"{100 * (t - base) / base:.0f}%")
    note = f"{args.num_series:,} series of length 512, one process"
    print(note, table.markdown(), sep="\n")
    record(__file__, table, notes=[note])


if __name__ == "__main__":
    main()
