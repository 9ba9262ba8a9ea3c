"""The paper's ablations as one resumable sweep, on CPU with the default encoder.

Cells, each compared with the V1 defaults (``10k``: 18 nodes, 7 kernels, 6
parents, the paper's DAG and banks), paired over the shipped datasets and
three seeds:

- KernelSynth (``dag_depth=0, mean_bank=zero``) and KernelSynth with means
  (``dag_depth=0``);
- the ``max_kernels``/``max_parents`` pairs 3/2, 4/3, 5/4, 6/5 (7/6 is the
  reference itself);
- graph sizes 10, 20, 30, 40, 50 nodes;
- DAG depths 2, 4, 6, 8;

plus the untrained encoder and the raw series as anchors. The same as::

    cauker sweep 10k --cells kernelsynth,kernelsynth-means \\
        --vary max_kernels/max_parents=3/2,4/3,5/4,6/5,7/6 \\
        --vary num_nodes=10,20,30,40,50 --vary dag_depth=2,4,6,8 \\
        --output-dir ablations

16 corpora x 3 seeds = 48 pretraining runs of 300 steps (14,400 steps): about 4
hours on this shared 2-core machine, which made about 1 step per second with
both cores (``--thorough``: 10 seeds, about 3 times that). ``--steps 100 --seeds
0,1`` (3,200 steps) took 69 minutes. Interrupt it at any time and run it again:
finished cells are kept. ``--tiny`` runs a small version (length 64, 2 steps,
one dataset) end to end in a few minutes, to check the machinery.

    python benchmarks/paper_ablations.py [--output-dir ablations] [--thorough] [--tiny]
        [--steps N] [--seeds 0,1]
"""

from __future__ import annotations

import argparse
import resource
import time

from results import Table, record, results_folder

from cauker.config import named_config
from cauker.evaluation.sweep import plan_sweep, run_sweep

CELLS = ["kernelsynth", "kernelsynth-means"]
VARY = [
    "max_kernels/max_parents=3/2,4/3,5/4,6/5,7/6",
    "num_nodes=10,20,30,40,50",
    "dag_depth=2,4,6,8",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", default="ablations")
    parser.add_argument("--thorough", action="store_true", help="10 seeds instead of 3")
    parser.add_argument("--tiny", action="store_true", help="a small version, end to end")
    parser.add_argument("--steps", type=int, help="pretraining steps per run (default 300)")
    parser.add_argument("--seeds", help="pretraining seeds, e.g. 0,1 (default 0,1,2)")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    options = {}
    base = named_config("10k")
    if args.tiny:
        base = named_config("10k", length=64)
        options = dict(series=128, steps=2, batch_size=32, seeds=(0, 1), datasets="GunPoint")
    if args.steps is not None:
        options["steps"] = args.steps
    if args.seeds is not None:
        options["seeds"] = tuple(int(s) for s in args.seeds.split(","))
    plan = plan_sweep(
        base,
        vary=VARY,
        cells=CELLS,
        output_dir=args.output_dir,
        thorough=args.thorough,
        **options,
    )
    todo = sum(len(c.missing) for c in plan.cells if c.corpus is not None)
    print(f"{len(plan.cells)} cells, {todo} pretraining runs to do, {plan.workers} workers")
    started = time.perf_counter()
    report = run_sweep(plan, progress=not args.quiet)
    print(report.format_table())
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"wall {time.perf_counter() - started:.0f} s; largest worker {peak:.0f} MiB")
    print(f"wrote {args.output_dir}/sweep.txt, sweep.json, sweep.png")
    figure = report.plot(results_folder() / "paper_ablations.png").name
    record(__file__, table(report), notes=report.format_table().splitlines()[:2], figures=[figure])


def table(report) -> Table:
    """Each config's gap to the reference, ranked, as the Benchmarks page shows it."""
    columns = ["config"]
    for probe in ("RF", "LR"):
        columns += [f"{probe} gap [95% interval]", "p", "verdict"]
    gaps = Table("Gap to the reference in accuracy points", columns)
    for row in report.rows():
        cells = [row["cell"]]
        for classifier in ("rf", "logreg"):
            c = row[classifier]
            interval = f"{c['gap']:+.2f} [{c['low']:+.2f}, {c['high']:+.2f}]"
            cells += [interval, f"{c['p_value']:.2f}", c["verdict"]]
        gaps.add(*cells)
    return gaps


if __name__ == "__main__":
    main()
