"""Throughput of multivariate corpora with a range of channel counts, beside the default config.

    python benchmarks/channels_throughput.py              # 5 rounds of about 3,000 series each
    python benchmarks/channels_throughput.py --quick      # 2 rounds of about 600

In one process, alternating the variants round after round (this machine is
shared: only ratios measured side by side mean anything), each variant draws a
new range of rows every round, after a warm-up that fills its caches and
compiles the loops:

- ``default``: the ``10k`` config (univariate, 4 series per graph);
- ``1:16``: multivariate rows of 1 to 16 channels (``series_per_graph=(1, 16)``,
  8.5 channels per row on average), with their ``edges`` column;
- ``1:16 lag 4``: the same with lead-lag edges (``max_lag=4``: the roots are
  drawn on a grid of ``512 + 4 * 17`` points).

Series per second counts every channel of a row as a series. The table gives
the median over rounds and its ratio to ``default``'s median.
"""

from __future__ import annotations

import argparse
import statistics
import time

import pyarrow.compute as pc
from results import Table, record

import cauker

VARIANTS = {
    "default": {},
    "1:16": dict(multivariate=True, series_per_graph=(1, 16)),
    "1:16 lag 4": dict(multivariate=True, series_per_graph=(1, 16), max_lag=4),
}


def series_in(table, config: cauker.CauKerConfig) -> int:
    if not config.multivariate:
        return table.num_rows
    return int(pc.sum(pc.list_value_length(table.column("target"))).as_py())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rounds, series = (2, 600) if args.quick else (5, 3000)
    configs = {name: cauker.named_config("10m", **fields) for name, fields in VARIANTS.items()}
    rows = {
        name: series if not c.multivariate else round(series / 8.5) for name, c in configs.items()
    }
    for name, c in configs.items():  # warm-up: caches and compiled loops
        cauker.generate(c, start=0, stop=rows[name] // 4)
    rates: dict[str, list[float]] = {name: [] for name in configs}
    for r in range(rounds):
        for name, c in configs.items():
            start = (r + 1) * 100_000
            began = time.perf_counter()
            table = cauker.generate(c, start=start, stop=start + rows[name])
            elapsed = time.perf_counter() - began
            rates[name].append(series_in(table, c) / elapsed)
            print(f"round {r + 1}: {name:12} {rates[name][-1]:8.0f} series/s", flush=True)
    base = statistics.median(rates["default"])
    table = Table(
        "Throughput with 1 to 16 channels per row (one process, L = 512)",
        ["config", "series/s (median)", "rounds", "ratio to default"],
    )
    for name, values in rates.items():
        median = statistics.median(values)
        table.add(name, f"{median:,.0f}", len(values), f"{median / base:.2f}")
    print(table.markdown())
    record(
        __file__,
        table,
        notes=[
            f"{rounds} rounds, alternated; about {series:,} series per variant and round, "
            "each round a new range of rows of the 10m config's train split",
            "a multivariate row of C channels counts C series",
        ],
    )


if __name__ == "__main__":
    main()
