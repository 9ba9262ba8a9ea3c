"""Hashes of the rows of the named configs and of variants, to compare two checkouts or machines.

    python benchmarks/row_hashes.py record hashes.json          # on one checkout or machine
    python benchmarks/row_hashes.py compare hashes.json         # elsewhere: EQUAL or DIFFERENT
    CAUKER_COMPILED=0 python benchmarks/row_hashes.py compare hashes.json   # numpy's loops

Each case hashes every byte of its rows (values and provenance columns, through
Arrow IPC) in a few ranges of a split: the start of the ``train`` split, rows far
into it, and the ``validation`` split. The named configs share their rows (the
first 10,000 rows of ``1m`` are ``10k``), so they are covered by ranges of
``10m``; the variants cover every option that changes how rows are drawn. A
change that keeps every hash is a change that keeps the corpus.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time

import pyarrow as pa

import cauker

#: (case, config name, overrides, split, ranges of rows)
CASES = [
    ("10m/train", "10m", {}, "train", [(0, 20_000), (999_000, 1_001_000), (9_999_800, 10_000_000)]),
    ("10m/validation", "10m", {}, "validation", [(0, 2000), (99_900, 100_000)]),
    ("10k/validation", "10k", {}, "validation", [(0, 100)]),
    (
        "v2-depth3",
        "10k",
        dict(kernel_bank="v2", activation_bank="v2", dag_depth=3),
        "train",
        [(0, 2000)],
    ),
    ("length1024", "10k", dict(length=1024), "train", [(0, 1000)]),
    ("length2048", "10k", dict(length=2048), "train", [(0, 400)]),
    ("length96", "10k", dict(length=96), "train", [(0, 4000)]),
    (
        "kernelsynth",
        "10k",
        dict(dag_depth=0, mean_bank="zero", max_kernels=5),
        "train",
        [(0, 2000)],
    ),
    ("multivariate", "10k", dict(multivariate=True), "train", [(0, 200), (2400, 2500)]),
    ("3k-2p-10n", "10k", dict(max_kernels=3, max_parents=2, num_nodes=10), "train", [(0, 2000)]),
    ("50-nodes", "10k", dict(num_nodes=50, series_per_graph=3), "train", [(0, 1500)]),
    ("redraw-constant", "10k", dict(redraw_constant=True), "train", [(0, 2000)]),
    (
        "banks",
        "10k",
        dict(mean_bank=("linear", "anomalies"), activation_bank=("relu", "sin")),
        "train",
        [(0, 2000)],
    ),
    ("seed7", "10k", dict(seed=7), "train", [(0, 2000)]),
    ("endless", "10k", dict(num_series=None), "train", [(123_456, 123_556)]),
]


def table_hash(table: pa.Table) -> str:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table.combine_chunks())
    return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()


def hashes() -> dict[str, str]:
    out = {}
    for case, name, overrides, split, ranges in CASES:
        config = cauker.named_config(name, **overrides)
        digest = hashlib.sha256()
        for start, stop in ranges:
            digest.update(table_hash(cauker.generate(config, split, start, stop)).encode())
        out[case] = digest.hexdigest()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["record", "compare"])
    parser.add_argument("file")
    args = parser.parse_args()
    began = time.perf_counter()
    got = hashes()
    if args.action == "record":
        with open(args.file, "w") as f:
            json.dump({"version": cauker.ALGORITHM_VERSION, "hashes": got}, f, indent=1)
        print(f"recorded {len(got)} cases in {time.perf_counter() - began:.0f} s")
        return
    with open(args.file) as f:
        recorded = json.load(f)["hashes"]
    differ = 0
    for case, digest in got.items():
        same = recorded.get(case) == digest
        differ += not same
        print(f"{case:20} {'EQUAL' if same else 'DIFFERENT'}")
    print(f"{len(got) - differ} of {len(got)} equal ({time.perf_counter() - began:.0f} s)")
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
