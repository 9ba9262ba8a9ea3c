"""Where the time of labelled tasks goes, without a profiler's distortion.

    python benchmarks/task_phases.py                     # 400 default tasks
    python benchmarks/task_phases.py --tasks 200 multivariate=true class_definition=shift

As ``benchmarks/phases.py`` does for corpora: a few functions of
``cauker.tasks`` are wrapped in plain ``perf_counter`` timers (cProfile adds
about a microsecond to each of the many small calls and inflates them against
the compiled loops), and the run is otherwise the real one (compiled loops from
numba's cache, after a warm-up). Nested phases are indented under the phase
that calls them; shares are of the whole ``generate`` call. It also counts the
Schur matrices and draws, per series: a Schur draw costs about ``L**2 / 2``
multiply-adds whoever asks for it, so their number bounds the rate from above.
"""

from __future__ import annotations

import argparse
import os
import time
from collections import Counter

import phases
from results import record

os.environ.setdefault("CAUKER_COMPILED", "1")

import cauker  # noqa: E402
from cauker.tasks import prior, samples, task_rows  # noqa: E402

#: (object, attribute, label): each becomes a timed phase, in this order.
PHASES = [
    (task_rows, "_plan", "task plans"),
    (task_rows, "draw_graphs", "class graphs"),
    (prior.Prior, "draw_numbers", "  their random numbers"),
    (prior.Prior, "means_of", "  their means"),
    (task_rows, "draw_intervention", "interventions (shift)"),
    (task_rows, "draw_samples", "samples, all"),
    (samples, "normals", "  root normals"),
    (prior.Prior, "root_terms", "  term plans"),
    (prior.Prior, "draw_roots", "  GP terms, all"),
    (prior, "toeplitz_draws", "    Schur sweeps and draws"),
    (prior, "combine", "    cached-factor products"),
    (samples, "_propagate", "  propagation, all"),
    (prior.Prior, "propagate", "    propagation loop"),
    (task_rows, "_valid", "validity checks"),
    (task_rows, "_finish", "row assembly, all"),
    (task_rows, "knn_accuracy", "  1-NN accuracy"),
    (task_rows, "describe", "  provenance"),
    (task_rows, "task_batch", "Arrow record batches"),
]


def instrument(seconds: Counter, calls: Counter) -> None:
    phases.instrument(seconds, calls, PHASES)
    schur = prior.toeplitz_draws

    def counted(columns, normals, owner=None, **kwargs):
        calls["Schur matrices"] += len(columns)
        calls["Schur draws"] += len(normals)
        return schur(columns, normals, owner, **kwargs)

    prior.toeplitz_draws = counted


def _value(text: str) -> object:
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=400)
    parser.add_argument("overrides", nargs="*", help="TaskConfig fields, as field=value")
    args = parser.parse_args()
    overrides = {k: _value(v) for k, _, v in (item.partition("=") for item in args.overrides)}
    seconds: Counter = Counter()
    calls: Counter = Counter()
    instrument(seconds, calls)
    config = cauker.named_config("tasks-10k", num_tasks=None, **overrides)
    cauker.generate(config, start=10**9, stop=10**9 + 16)  # warm-up, other rows
    seconds.clear()
    calls.clear()
    start = time.perf_counter()
    table = cauker.generate(config, stop=args.tasks)
    total = time.perf_counter() - start
    samples = sum(
        int(table.column(name).combine_chunks().value_lengths().to_numpy().sum())
        for name in ("support", "query")
    )
    series = samples * config.channels
    label = ", ".join(f"{k}={v}" for k, v in overrides.items()) or "defaults"
    summary = (
        f"{args.tasks:,} tasks ({label}), {series:,} series: {total:.2f} s, "
        f"{series / total:,.0f} series/s; Schur draws {calls['Schur draws'] / samples:.2f} "
        f"a sample, {calls['Schur draws'] / max(calls['Schur matrices'], 1):.1f} a matrix"
    )
    print(summary)
    out = phases.phase_table(summary, PHASES, seconds, calls, total, series)
    record(__file__, out, notes=[summary + ", compiled loops"])


if __name__ == "__main__":
    main()
