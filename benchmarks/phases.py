"""Where the sampler's time goes, without a profiler's distortion.

    python benchmarks/phases.py              # 64,000 series at L = 512
    python benchmarks/phases.py --series 16000 --length 1024
    python benchmarks/phases.py --numpy-calls  # the draws after each DAG by numpy's calls

cProfile and line_profiler add about a microsecond to every call they see, so
they inflate the phases made of many small calls (term plans, random draws)
several-fold against the compiled loops. Here a few methods of the sampler
are wrapped in plain ``perf_counter`` timers instead (well under a microsecond
per call, and only on these), and the run is otherwise the real one: the
compiled loops loaded from numba's cache (``CAUKER_COMPILED=1``), after a
small warm-up batch. Nested phases are indented under the phase that calls
them; shares are of the whole ``iter_batches`` loop.
"""

from __future__ import annotations

import argparse
import os
import time
from collections import Counter

from results import Table, record

os.environ.setdefault("CAUKER_COMPILED", "1")

import cauker  # noqa: E402
from cauker.sampler import compiled, gp, loops, rows, scm  # noqa: E402

#: (object, attribute, label): each becomes a timed phase, in this order.
PHASES = [
    (scm.Sampler, "_streams", "seeding the graphs' streams"),
    (scm, "draw_dags", "DAGs"),
    (scm.Sampler, "_draw_numbers", "the other random numbers"),
    (scm.Sampler, "_root_values", "GP roots, all"),
    (gp.GaussianProcessSampler, "root_plans", "  term plans"),
    (scm, "compute_means", "  means"),
    (gp.GaussianProcessSampler, "draw", "  GP terms, all"),
    (compiled, "khatri_rao_draws", "    Khatri-Rao draws"),
    (loops, "khatri_rao_draws", "    Khatri-Rao draws"),
    (gp, "toeplitz_draws", "    Schur sweeps"),
    (gp, "combine", "    cached-factor products"),
    (scm.Sampler, "propagate", "propagation through the DAG"),
    (scm.Sampler, "_describe", "provenance"),
    (rows, "_columns", "columns"),
    (rows, "record_batch", "Arrow record batches"),
]


def instrument(seconds: Counter, calls: Counter, phases: list = PHASES) -> None:
    """Wrap each (owner, attribute, label) of ``phases`` in a timer adding to ``seconds``
    and ``calls`` under its label."""
    for owner, name, label in phases:
        function = getattr(owner, name)

        def timed(*args, _function=function, _label=label, **kwargs):
            start = time.perf_counter()
            try:
                return _function(*args, **kwargs)
            finally:
                seconds[_label] += time.perf_counter() - start
                calls[_label] += 1

        setattr(owner, name, timed)


def phase_table(
    title: str,
    phases: list,
    seconds: Counter,
    calls: Counter,
    total: float,
    series: int | None = None,
) -> Table:
    """Print each phase's seconds, share of ``total`` and calls (and microseconds per
    series if ``series`` is given), and return them as a table; nested phases keep
    their indentation on the page (a no-break space per level)."""
    columns = ["phase", "seconds", "share", "calls"] + (["us a series"] if series else [])
    table = Table(title, columns)
    print(f"{'phase':34s}" + "".join(f"{name:>12s}" for name in columns[1:]))
    for label in dict.fromkeys(label for _, _, label in phases):
        cells = [f"{seconds[label]:.2f}", f"{seconds[label] / total:.1%}", f"{calls[label]:,d}"]
        if series:
            cells.append(f"{seconds[label] / series * 1e6:.1f}")
        print(f"{label:34s}" + "".join(f"{cell:>12s}" for cell in cells))
        depth = len(label) - len(label.lstrip())
        table.add("\u00a0" * depth + label.strip(), *cells)
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=64_000)
    parser.add_argument("--length", type=int, default=512)
    parser.add_argument(
        "--numpy-calls",
        action="store_true",
        help="draw the schedule after each DAG by numpy's calls, not from raw outputs",
    )
    args = parser.parse_args()
    if args.numpy_calls:
        scm.raw_outputs_agree = lambda: False
    seconds: Counter = Counter()
    calls: Counter = Counter()
    instrument(seconds, calls)
    warm = cauker.CauKerConfig(num_series=64, length=args.length)
    for _ in cauker.iter_batches(warm):  # loads the compiled loops, builds the banks
        pass
    seconds.clear()
    calls.clear()
    config = cauker.CauKerConfig(num_series=args.series, length=args.length)
    start = time.perf_counter()
    for _ in cauker.iter_batches(config):
        pass
    total = time.perf_counter() - start
    print(
        f"{args.series:,} series at L = {args.length}: {total:.2f} s, "
        f"{args.series / total:,.0f} series/s"
    )
    title = f"{args.series:,} series at L = {args.length}"
    table = phase_table(title, PHASES, seconds, calls, total)
    record(
        __file__,
        table,
        notes=[
            f"{args.series / total:,.0f} series/s in all ({total:.2f} s), compiled loops"
            + (", the schedule drawn by numpy's calls" if args.numpy_calls else "")
        ],
    )


if __name__ == "__main__":
    main()
