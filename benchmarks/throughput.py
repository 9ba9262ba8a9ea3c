"""Throughput of the sampler, side by side with two baselines, in one run.

    python benchmarks/throughput.py            # full run (a few minutes)
    python benchmarks/throughput.py --quick    # smaller sizes

Rows of the table:
- cauker, 1 and 2 processes, at L = 512, 1024, 2048 (default config otherwise);
- (a) the published scripts' method, written here: per graph, every node
  evaluated, each root's covariance built densely with scikit-learn and sampled
  by eigendecomposition (numpy ``eigh``, BLAS pinned to one thread);
- (b) the I/O floor: the same number of random float32 rows written to Parquet;
- the end-to-end export of 100k series with 2 processes (generation + Parquet).

Each measurement runs in a fresh subprocess, which reports its own peak RSS.
Ratios are against (a), measured in the same run, because this machine is
shared and its absolute speed varies.
"""

from __future__ import annotations

import argparse
import functools
import json
import operator
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np


def peak_rss_mib(children: bool = False) -> float:
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    return resource.getrusage(who).ru_maxrss / 1024


def run_cauker(length: int, num_series: int, processes: int) -> dict:
    import cauker

    config = cauker.CauKerConfig(num_series=num_series, length=length)
    start = time.perf_counter()
    if processes == 1:
        for _ in cauker.iter_batches(config):  # stream: nothing kept
            pass
        rss = peak_rss_mib()
    else:
        from concurrent.futures import ProcessPoolExecutor
        from multiprocessing import get_context

        cuts = np.linspace(0, num_series, processes + 1).astype(int)
        ranges = [(config, int(a), int(b)) for a, b in zip(cuts, cuts[1:])]
        with ProcessPoolExecutor(processes, mp_context=get_context("spawn")) as pool:
            list(pool.map(_consume, ranges))
        rss = max(peak_rss_mib(), peak_rss_mib(children=True))
    seconds = time.perf_counter() - start
    return {"series": num_series, "seconds": seconds, "rss_mib": rss}


def _consume(args) -> int:
    import cauker

    config, start, stop = args
    rows = 0
    for batch in cauker.iter_batches(config, start=start, stop=stop):
        rows += batch.num_rows
    return rows


def run_dense_eig(length: int, num_series: int) -> dict:
    """The published method: all nodes, dense sklearn covariance, eigh per root."""
    from threadpoolctl import threadpool_limits

    from cauker.activations import activation_bank
    from cauker.dag import paper_dag
    from cauker.kernels import paper_bank
    from cauker.means import draw_mean, mean_bank

    bank = paper_bank(length)
    means = mean_bank("paper")
    acts = activation_bank("paper")
    x = np.linspace(0, 1, length)
    grid = x[:, None]
    rng = np.random.default_rng(0)
    ops = (operator.add, operator.mul)
    start = time.perf_counter()
    made = 0
    with threadpool_limits(1):
        while made < num_series:
            dag = paper_dag(rng, 18, 6)
            values = {}
            for i, parents in enumerate(dag.parents):
                if parents.size == 0:
                    k = rng.integers(1, 8)
                    kernels = [bank[j].kernel for j in rng.integers(0, len(bank), k)]
                    kernel = functools.reduce(
                        lambda a, b: ops[rng.integers(0, 2)](a, b), kernels[1:], kernels[0]
                    )
                    mean, _ = draw_mean(rng, x, means)
                    w, v = np.linalg.eigh(kernel(grid))
                    values[i] = mean + v @ (
                        np.sqrt(np.clip(w, 0, None)) * rng.standard_normal(length)
                    )
                else:
                    a = (
                        sum(rng.standard_normal() * values[p] for p in parents)
                        + rng.standard_normal()
                    )
                    values[i] = acts[rng.integers(0, len(acts))][1](rng, a)
            chosen = rng.permutation(18)[:4]
            np.stack([values[c] for c in chosen]).astype(np.float32)
            made += 4
    seconds = time.perf_counter() - start
    return {"series": made, "seconds": seconds, "rss_mib": peak_rss_mib()}


def run_io_floor(length: int, num_series: int) -> dict:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "floor.parquet")
        schema = pa.schema([pa.field("target", pa.list_(pa.float32(), length))])
        with pq.ParquetWriter(path, schema) as writer:
            for first in range(0, num_series, 512):
                rows = min(512, num_series - first)
                values = rng.standard_normal(rows * length, dtype=np.float32)
                column = pa.FixedSizeListArray.from_arrays(pa.array(values), length)
                writer.write_batch(pa.record_batch([column], schema=schema))
    seconds = time.perf_counter() - start
    return {"series": num_series, "seconds": seconds, "rss_mib": peak_rss_mib()}


def run_export(num_series: int, processes: int) -> dict:
    import cauker
    from cauker.hub_layout import export

    config = cauker.CauKerConfig(num_series=num_series)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        export(config, tmp, config_name="bench", num_proc=processes, progress=False)
        seconds = time.perf_counter() - start
    rss = max(peak_rss_mib(), peak_rss_mib(children=True))
    return {"series": num_series, "seconds": seconds, "rss_mib": rss}


VARIANTS = {
    "cauker": lambda a: run_cauker(a.length, a.num_series, a.processes),
    "dense_eig": lambda a: run_dense_eig(a.length, a.num_series),
    "io_floor": lambda a: run_io_floor(a.length, a.num_series),
    "export": lambda a: run_export(a.num_series, a.processes),
}


def measure(variant: str, length: int, num_series: int, processes: int = 1) -> dict:
    argv = [sys.executable, __file__, "--variant", variant, "--length", str(length)]
    argv += ["--num-series", str(num_series), "--processes", str(processes)]
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["rate"] = result["series"] / result["seconds"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    parser.add_argument("--variant", choices=sorted(VARIANTS), help=argparse.SUPPRESS)
    parser.add_argument("--length", type=int, default=512, help=argparse.SUPPRESS)
    parser.add_argument("--num-series", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--processes", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant:
        print(json.dumps(VARIANTS[args.variant](args)))
        return

    scale = 0.25 if args.quick else 1.0
    sizes = {512: 100_000, 1024: 10_000, 2048: 2_500}
    dense_sizes = {512: 160, 1024: 48, 2048: 12}
    rows = []
    for length, n in sizes.items():
        n = int(n * scale)
        dense = measure("dense_eig", length, max(8, int(dense_sizes[length] * scale)))
        floor = measure("io_floor", length, n)
        one = measure("cauker", length, n, 1)
        two = measure("cauker", length, n, 2)
        for name, r in (("(a) dense + eigh", dense), ("(b) Parquet I/O floor", floor)):
            rows.append((length, name, r, r["rate"] / dense["rate"]))
        rows.append((length, "cauker, 1 process", one, one["rate"] / dense["rate"]))
        rows.append((length, "cauker, 2 processes", two, two["rate"] / dense["rate"]))
    e2e = measure("export", 512, int(100_000 * scale), 2)

    head = ("L", "method", "series", "seconds", "series/s", "x (a)", "peak RSS")
    print("\n{:>5}  {:<24} {:>8} {:>8} {:>9} {:>8} {:>9}".format(*head))
    for length, name, r, ratio in rows:
        print(
            f"{length:>5}  {name:<24} {r['series']:>8} {r['seconds']:>8.2f} {r['rate']:>9.1f} "
            f"{ratio:>8.1f} {r['rss_mib']:>6.0f} MiB"
        )
    print(
        f"\nexport of {e2e['series']:,} series (L=512, 2 processes, Parquet): "
        f"{e2e['seconds']:.1f} s, {e2e['rate']:.0f} series/s, "
        f"peak RSS {e2e['rss_mib']:.0f} MiB per process"
    )
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
