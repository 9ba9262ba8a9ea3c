"""The default evaluation: CauKer 10k vs its KernelSynth ablation vs random init vs raw.

Runs ``cauker.evaluation.evaluate`` with its defaults (10k series per corpus,
300 steps of 256 series, seeds 0, 1 and 2, every UCR dataset shipped by the
installed packages: 9 with ``cauker[eval]``), prints the table, the wall time
of each stage, the load of the machine and the peak memory, and writes the
JSON report. ``--encoder mantis`` runs the small-width Mantis instead of the
CNN; ``--thorough`` ten seeds.

    python benchmarks/evaluate_corpus.py [--encoder mantis] [--thorough] [--output out/x.json]

Needs ``pip install -e '.[eval]'``. It takes about 14 minutes on 2 idle cores
(the wall time of the recorded run is on the benchmarks page, with the load);
``--thorough`` about 3 times as long.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from pathlib import Path

from results import Table, record

from cauker.evaluation import evaluate


def peak_rss_mib() -> tuple[float, float]:
    """Peak resident memory of this process and of its largest child (MiB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, child


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=Path("out/evaluate_corpus.json"))
    parser.add_argument("--corpus", default="10k", help="config name or Parquet folder")
    parser.add_argument("--encoder", default="cnn")
    parser.add_argument("--thorough", action="store_true")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    load_start = os.getloadavg()
    report = evaluate(
        args.corpus, encoder=args.encoder, thorough=args.thorough, progress=not args.quiet
    )
    wall = time.perf_counter() - started
    print(report.format_table())
    print()
    print("stage                       seconds")
    for stage, seconds in report.timings.items():
        print(f"{stage:<26}{seconds:>9.1f}")
    for method, per_seed in report.settings["runs"].items():
        for seed, run in per_seed.items():
            loss = (
                f", InfoNCE {run['loss_first']:.2f} -> {run['loss_last']:.2f}"
                if "loss_first" in run
                else ""
            )
            print(f"{method:<12} seed {seed}: {run['seconds']:.0f} s{loss}")
    own, child = peak_rss_mib()
    print(f"peak RSS: main {own:.0f} MiB, largest worker {child:.0f} MiB")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime
    print(
        f"CPU time of the worker processes: {cpu:.0f} s in all, i.e. about "
        f"{cpu / report.settings['workers']:.0f} s of wall time on as many idle cores"
    )
    timing = (
        f"wall {wall:.0f} s with {report.settings['workers']} workers x "
        f"{report.settings['threads']} thread(s), {report.environment['cpu_count']} cores; "
        f"load average (1, 5, 15 min) at start {load_start}, at end {os.getloadavg()}"
    )
    print(timing)
    print(f"wrote {report.to_json(args.output)}")
    record(__file__, *tables(report), notes=[*report.format_table().splitlines()[:2], timing])


def tables(report) -> tuple[Table, Table]:
    """The mean accuracies and the candidate's comparisons, as the Benchmarks page shows them."""
    seeds = list(report.results[report.methods[0]])
    accuracy = Table(
        "Mean accuracy (%)",
        ["method", f"RF seed {' / '.join(seeds)}", "RF mean", "LR mean"],
    )
    for method in report.methods:
        per_seed = report.seed_means(method, "rf")
        accuracy.add(
            report.label(method),
            " / ".join(f"{per_seed[seed]:.2f}" for seed in seeds),
            f"{report.mean(method, 'rf'):.2f}",
            f"{report.mean(method, 'logreg'):.2f}",
        )
    gaps = Table(
        "Candidate minus each method: gap [95% interval], p, verdict",
        ["against", "random forest", "logistic regression"],
    )
    for against in report.methods[1:]:
        gaps.add(
            report.label(against),
            *(report.compare("candidate", against, c).describe().strip() for c in ("rf", "logreg")),
        )
    return accuracy, gaps


if __name__ == "__main__":
    main()
