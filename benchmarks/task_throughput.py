"""Series per second inside labelled tasks against the default corpus, side by side.

    python benchmarks/task_throughput.py                 # default TaskConfig vs default corpus
    python benchmarks/task_throughput.py --series 20000 --reps 5
    python benchmarks/task_throughput.py --task "" --task multivariate=true  # a table each
    python benchmarks/task_throughput.py --memory        # and peak RSS of a shard per config
    python benchmarks/task_throughput.py --terms         # the Khatri-Rao / Schur crossover

Each run is a fresh process that imports cauker, draws a small warm-up (the
compiled kernels are loaded from numba's cache, ``CAUKER_COMPILED=1``), then
times ``cauker.generate`` of about ``--series`` series: corpus rows of the
``10k`` config, or whole tasks of the task config (a task's series are its
support and query samples, each channel counted). Runs alternate between the
two, so the drift of a shared machine falls on both alike; the result is the
ratio of the median rates, with each run's peak RSS.

``--memory`` also writes the first Parquet shard of the train split of
``tasks-10k``, ``tasks-100k`` and ``tasks-1m`` in a fresh process each (the
largest unit of work of ``generate``, ``export`` and ``push``: memory does not
grow with the number of shards) and reports its peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import textwrap
from pathlib import Path

from results import Table, record

ROOT = Path(__file__).resolve().parents[1]

CHILD = textwrap.dedent(
    """
    import json, resource, sys, time
    import cauker

    kind, series, overrides = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
    if kind == "corpus":
        config = cauker.named_config("10k", num_series=None)
        cauker.generate(config, start=10**9, stop=10**9 + 512)  # warm-up, other rows
        start = time.perf_counter()
        table = cauker.generate(config, stop=series)
        seconds = time.perf_counter() - start
        drawn = table.num_rows
    else:
        config = cauker.named_config("tasks-10k", num_tasks=None, **overrides)
        per_task = config.mean_series() * config.channels
        tasks = max(1, round(series / per_task))
        cauker.generate(config, start=10**9, stop=10**9 + 16)  # warm-up, other rows
        start = time.perf_counter()
        table = cauker.generate(config, stop=tasks)
        seconds = time.perf_counter() - start
        sizes = table.column("support").combine_chunks().value_lengths().to_numpy().sum()
        sizes += table.column("query").combine_chunks().value_lengths().to_numpy().sum()
        drawn = int(sizes) * config.channels
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"series": drawn, "seconds": seconds, "peak_mib": peak}))
    """
)

MEMORY_CHILD = textwrap.dedent(
    """
    import json, resource, sys, tempfile
    import cauker
    from cauker.files.shard_plan import plan_shards
    from cauker.files.writers import write_shard

    config = cauker.named_config(sys.argv[1])
    shard = plan_shards(config, "train")[0]
    with tempfile.TemporaryDirectory() as folder:
        file = write_shard(folder, config, "parquet", shard, "shard.parquet")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"rows": file.num_rows, "mib": file.file_size / 2**20, "peak_mib": peak}))
    """
)

TERMS_CHILD = textwrap.dedent(
    """
    import json, time
    import numpy as np
    from cauker.config import CauKerConfig
    from cauker.tasks.prior import prior_for, combine, toeplitz_draws
    from cauker.sampler import compiled
    from cauker.sampler.linalg import khatri_rao

    prior = prior_for(CauKerConfig(num_series=1))
    gp, rng, out = prior.gp, np.random.default_rng(0), []
    first, second = gp.factor(0), gp.factor(7)  # two periodic kernels: rank 27 x 27
    rows = khatri_rao([first.T, second.T]).T
    column = gp.schur_columns([type("T", (), {"stationary": (0, 7)})()])
    for draws in (1, 2, 8, 32):
        g = rng.standard_normal((draws, rows.shape[0]))
        start = time.perf_counter(); combine(g, rows); kr = time.perf_counter() - start
        g = rng.standard_normal((draws, rows.shape[1]))
        owner = np.zeros(draws, dtype=np.int64)
        toeplitz_draws(column, g, owner, loops=compiled)
        start = time.perf_counter(); toeplitz_draws(column, g, owner, loops=compiled)
        schur = time.perf_counter() - start
        out.append({"draws": draws, "rank": rows.shape[0], "khatri_rao_us": kr * 1e6,
                    "schur_us": schur * 1e6})
    print(json.dumps(out))
    """
)


def _child(code: str, *args: str) -> dict:
    env = dict(os.environ, CAUKER_COMPILED="1", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise SystemExit(done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def _overrides(items: list[str]) -> dict:
    out = {}
    for item in filter(None, items):
        key, _, text = item.partition("=")
        value: object = text
        if text.lower() in ("true", "false"):
            value = text.lower() == "true"
        else:
            for kind in (int, float):
                try:
                    value = kind(text)
                    break
                except ValueError:
                    continue
        out[key] = value
    return out


def throughput(series: int, reps: int, overrides: dict) -> tuple[Table, str]:
    _child(CHILD, "tasks", "64", json.dumps(overrides))  # numba's cache: loaded or compiled
    runs: dict[str, list[dict]] = {"corpus": [], "tasks": []}
    for _ in range(reps):
        for kind in runs:
            runs[kind].append(_child(CHILD, kind, str(series), json.dumps(overrides)))
    rates = {k: [r["series"] / r["seconds"] for r in v] for k, v in runs.items()}
    label = ", ".join(f"{k}={v}" for k, v in overrides.items()) or "defaults"
    table = Table(
        f"Task config: {label}; about {series:,} series a run, {reps} runs each, alternated",
        ["rows", "series/s (each run)", "median series/s", "peak RSS MiB"],
    )
    for kind, values in rates.items():
        peaks = max(r["peak_mib"] for r in runs[kind])
        cells = ", ".join(f"{v:,.0f}" for v in values)
        name = "corpus 10k" if kind == "corpus" else "tasks"
        table.add(name, cells, f"{statistics.median(values):,.0f}", f"{peaks:.0f}")
    ratio = statistics.median(rates["tasks"]) / statistics.median(rates["corpus"])
    print(table.markdown())
    print(f"tasks / corpus (medians): {ratio:.2f}")
    return table, f"{label}: tasks / corpus (medians) {ratio:.2f}"


def memory() -> Table:
    table = Table(
        "Peak memory: the first Parquet shard of the train split, a fresh process each",
        ["config", "shard rows", "shard MiB", "peak RSS MiB"],
    )
    for name in ("tasks-10k", "tasks-100k", "tasks-1m"):
        run = _child(MEMORY_CHILD, name)
        table.add(name, run["rows"], f"{run['mib']:.0f}", f"{run['peak_mib']:.0f}")
    print(table.markdown())
    return table


def terms() -> None:
    print(f"{'draws':>6}{'rank':>6}{'Khatri-Rao us/draw':>20}{'Schur us/draw':>15}")
    for row in _child(TERMS_CHILD):
        d = row["draws"]
        print(
            f"{d:>6}{row['rank']:>6}{row['khatri_rao_us'] / d:>20.1f}{row['schur_us'] / d:>15.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=12_000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument(
        "--task",
        action="append",
        default=[],
        metavar="FIELD=VALUE[;FIELD=VALUE]",
        help="a task config to time (repeat: one table each; default: the defaults)",
    )
    parser.add_argument("--memory", action="store_true")
    parser.add_argument("--terms", action="store_true")
    parser.add_argument("--no-record", action="store_true", help="print only")
    args = parser.parse_args()
    if args.terms:
        terms()
        return
    tables, notes = [], []
    for cell in args.task or [""]:  # one table per task config
        table, note = throughput(args.series, args.reps, _overrides(cell.split(";")))
        tables.append(table)
        notes.append(note)
    if args.memory:
        tables.append(memory())
    if not args.no_record:
        notes.append(
            "A task's series are its support and query samples, each channel counted; "
            "compiled loops (CAUKER_COMPILED=1), fresh processes, one thread."
        )
        record(__file__, *tables, notes=notes)


if __name__ == "__main__":
    main()
