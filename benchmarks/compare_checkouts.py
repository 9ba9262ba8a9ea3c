"""Two checkouts of cauker side by side: the same job, alternated, in fresh processes.

    git worktree add ../before <commit>
    python benchmarks/compare_checkouts.py ../before . --length 2048 --series 3000 --reps 3

Each run imports cauker from the checkout it measures and draws the rows with
the compiled loops, in one process and in two (each half of the rows), as
``throughput.py`` runs cauker. The runs alternate between the checkouts, so
that the drift of a shared machine falls on both alike; the result is the
ratio of the median rates (new over old).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
from pathlib import Path

from results import Table, record
from throughput import run_cauker


def rate(checkout: Path, length: int, series: int, processes: int) -> float:
    run = run_cauker(length, series, processes, compiled="always", checkout=checkout)
    return series / run["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument("--length", type=int, default=512)
    parser.add_argument("--series", type=int, default=16_000)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    checkouts = [args.old.resolve(), args.new.resolve()]
    for checkout in checkouts:  # compile or load each checkout's kernels once
        rate(checkout, 16, 8, 1)
    rates = {(c, p): [] for c in checkouts for p in (1, 2)}
    for _ in range(args.reps):
        for processes in (1, 2):
            for checkout in checkouts:
                rates[checkout, processes].append(
                    rate(checkout, args.length, args.series, processes)
                )
    table = Table(
        f"New over old, {args.series:,} series at L = {args.length}, medians of {args.reps}",
        ["processes", "old series/s", "new series/s", "new/old"],
    )
    for processes in (1, 2):
        old, new = (rates[c, processes] for c in checkouts)
        ratio = statistics.median(new) / statistics.median(old)
        print(
            f"L={args.length}, {processes} process(es): old {[round(x) for x in old]}, "
            f"new {[round(x) for x in new]} series/s; new/old {ratio:.3f}"
        )
        table.add(
            processes,
            ", ".join(f"{x:,.0f}" for x in old),
            ", ".join(f"{x:,.0f}" for x in new),
            f"{ratio:.3f}",
        )
    old_name, new_name = (describe(c) for c in checkouts)
    record(__file__, table, notes=[f"old: {old_name}; new: {new_name}"])


def describe(checkout: Path) -> str:
    """The checkout's folder and commit (and whether its tree differs from that commit)."""
    git = ["git", "-C", str(checkout)]
    run = subprocess.run
    commit = run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    if commit.returncode:
        return str(checkout)
    dirty = run([*git, "status", "--porcelain", "--untracked-files=no"], capture_output=True)
    mark = " with uncommitted changes" if dirty.stdout.strip() else ""
    return f"{checkout.name} at {commit.stdout.strip()}{mark}"


if __name__ == "__main__":
    main()
