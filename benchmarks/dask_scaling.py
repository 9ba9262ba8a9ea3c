"""Dask scaling: the same export with 1 process, then on a LocalCluster of 2 workers.

Exports the default config (length 512) to temporary folders, one after the
other in this process:

1. ``export(..., num_proc=None)``: the baseline, 1 process;
2. ``export(..., num_proc=2)``: a process pool, what 2 cores give without Dask;
3. ``export(..., scheduler=client)`` on a ``LocalCluster`` of ``--workers``
   single-threaded worker processes made as ``scheduler="local"`` makes it
   (``cauker.files.dask_runner.local_cluster``: Dask's worker profiler off);
4. the same on a LocalCluster with Dask's default worker settings.

Prints wall time, series/s and the speed-up ratio against 1 process, checks
that every folder holds the same bytes, and reports the Dask overhead per
shard task two ways:

- no-op: the cluster time one empty task costs (``workers * wall / tasks``
  for as many empty tasks as there are shards);
- in the run: cluster time not spent computing a shard,
  ``(workers * wall - sum of task compute times) / shards``; this includes the
  serial work of the driver (planning, preview, card) and the idle tail.

    python benchmarks/dask_scaling.py [--num-series 200000] [--workers 2] [--quick]

``--quick`` runs only rows 1 and 3. Needs ``pip install -e '.[dask]'``.
Budget at 200k series on 2 cores: about 4 minutes.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import distributed
from results import Table, record

import cauker
from cauker.config import SPLITS
from cauker.files.dask_runner import local_cluster
from cauker.files.shard_plan import plan_shards


@dataclass
class Run:
    label: str
    out: Path
    wall: float
    peak_rss_mib: float | None = None
    task_compute: float | None = None  # seconds, summed over shard tasks
    noop_ms: float | None = None
    startup: float | None = None


def digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def own_peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def noop(_: int) -> None:
    return None


def noop_overhead_ms(client: distributed.Client, tasks: int, workers: int) -> float:
    """Cluster milliseconds per empty task, submitted and gathered like the shards."""
    client.gather(client.map(noop, range(workers), pure=False))  # warm up
    started = time.perf_counter()
    client.gather(client.map(noop, range(tasks), pure=False))
    return 1000 * workers * (time.perf_counter() - started) / tasks


def run_here(label: str, config, out: Path, **options) -> Run:
    started = time.perf_counter()
    cauker.export(config, out, progress=False, **options)
    return Run(label, out, time.perf_counter() - started)


def run_on_dask(label: str, config, out: Path, make_cluster, workers: int, shards: int) -> Run:
    started = time.perf_counter()
    with make_cluster() as cluster, distributed.Client(cluster) as client:
        startup = time.perf_counter() - started
        with distributed.get_task_stream(client=client) as stream:
            started = time.perf_counter()
            cauker.export(config, out, scheduler=client, progress=False)
            wall = time.perf_counter() - started
        compute = sum(
            part["stop"] - part["start"]
            for task in stream.data
            for part in task["startstops"]
            if part["action"] == "compute"
        )
        worker_rss = client.run(own_peak_rss_mib).values()
        return Run(
            label,
            out,
            wall,
            peak_rss_mib=max(worker_rss),
            task_compute=compute,
            noop_ms=noop_overhead_ms(client, shards, workers),
            startup=startup,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-series", type=int, default=200_000)
    parser.add_argument("--length", type=int, default=512)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="1 process and cauker's cluster only")
    args = parser.parse_args()
    config = cauker.CauKerConfig(num_series=args.num_series, length=args.length)
    shards = sum(len(plan_shards(config, split)) for split in SPLITS)
    series = sum(config.split_size(split) for split in SPLITS)
    load = os.getloadavg()[0]
    n = args.workers

    def dask_defaults():
        return distributed.LocalCluster(
            n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0"
        )

    with tempfile.TemporaryDirectory(prefix="cauker-dask-bench-") as tmp:
        runs = [run_here("1 process", config, Path(tmp, "0"))]
        runs[0].peak_rss_mib = own_peak_rss_mib()
        if not args.quick:
            runs.append(run_here(f"process pool num_proc={n}", config, Path(tmp, "1"), num_proc=n))
        runs.append(
            run_on_dask(
                f"LocalCluster {n} workers",
                config,
                Path(tmp, "2"),
                lambda: local_cluster(n),
                n,
                shards,
            )
        )
        if not args.quick:
            runs.append(
                run_on_dask(
                    "  with Dask's defaults", config, Path(tmp, "3"), dask_defaults, n, shards
                )
            )
        expected = digest(runs[0].out)
        identical = all(digest(run.out) == expected for run in runs[1:])

    notes = [
        f"{series:,} series of length {config.length}, {shards} shards; "
        f"{os.cpu_count()} cores, load average at start {load:.2f}",
        "peak RSS: 1 process = this process; LocalCluster = its largest worker",
    ]
    table = Table("Dask scaling", ["run", "wall s", "series/s", "ratio", "peak RSS MiB"])
    for run in runs:
        rss = "" if run.peak_rss_mib is None else f"{run.peak_rss_mib:.0f}"
        table.add(
            run.label.strip(),
            f"{run.wall:.1f}",
            f"{series / run.wall:,.0f}",
            f"{runs[0].wall / run.wall:.2f}",
            rss,
        )
    for run in runs:
        if run.task_compute is None:
            continue
        in_run = 1000 * (n * run.wall - run.task_compute) / shards
        notes.append(
            f"{run.label.strip()}: task overhead per shard {run.noop_ms:.1f} ms (no-op tasks), "
            f"{in_run:.0f} ms in the run (mean shard compute "
            f"{1000 * run.task_compute / shards:.0f} ms); cluster start {run.startup:.1f} s, "
            "not in the wall time"
        )
    notes.append(f"outputs identical to the 1-process export: {identical}")
    print(table.markdown(), *notes, sep="\n")
    if not identical:
        raise SystemExit("an export differs from the single-process export")
    record(__file__, table, notes=notes)


if __name__ == "__main__":
    main()
