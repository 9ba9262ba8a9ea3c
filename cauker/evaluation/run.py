"""``evaluate``: pretrain on a corpus, score frozen embeddings on real data, compare.

The work is a list of independent tasks, each seeded and run single-threaded:
pretrain-then-score for every (corpus, seed), score a random-init encoder and
the raw series for every seed. With ``workers > 1`` they run in that many
spawned processes, one PyTorch thread each. On a 2-core machine two 1-thread
processes beat one 2-thread process: the small CNN gains only 1.65x from a
second intra-op thread (3.45 steps/s for two processes against 2.97), and when
another program holds a core, every parallel region of a 2-thread process
waits for the descheduled thread (1.11 steps/s, slower than one thread) while
two independent processes just share what is left (2.30 steps/s). Because
every task uses the same thread count, the numbers do not depend on
``workers``. Ctrl-C or SIGTERM terminate the workers at once.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import platform
import queue as queue_module
import signal
import threading
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from cauker.config import CauKerConfig, named_config
from cauker.evaluation.corpus import Corpus, kernelsynth_of, load_series, resolve_corpus
from cauker.evaluation.real_datasets import SHIPPED, load_datasets
from cauker.evaluation.report import EvaluationReport

KERNELSYNTH_REFERENCE = "kernelsynth"
#: The fields a KernelSynth ablation changes, at their CauKer (paper) values.
CAUKER_COUNTERPART = {"dag_depth": None, "mean_bank": "paper"}
DEFAULT_SERIES = 10_000
DEFAULT_STEPS = 300
DEFAULT_BATCH_SIZE = 256
DEFAULT_SEEDS = (0, 1)

_progress_queue = None


def require_torch() -> None:
    """Raise ImportError with the install hint when PyTorch is missing."""
    if importlib.util.find_spec("torch") is None:
        raise ImportError(
            "cauker evaluate needs PyTorch, which is not installed: pip install 'cauker[eval]'"
        )


# ------------------------------------------------------------------ tasks
# Top-level functions so that spawned workers can unpickle them.


def _init_worker(threads: int, progress_queue) -> None:
    global _progress_queue
    import torch

    # The parent handles Ctrl-C and terminates the workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    torch.set_num_threads(threads)
    _progress_queue = progress_queue


def _report_steps(count: int) -> None:
    if _progress_queue is not None:
        _progress_queue.put(count)


def _task(kind: str, seed: int, payload: dict, threads: int, on_steps=None) -> dict:
    """Run one task; returns ``{"scores": ..., "seconds": ..., ...}``."""
    import torch
    from threadpoolctl import threadpool_limits

    from cauker.evaluation.encoder import build_encoder, embed
    from cauker.evaluation.pretrain import Recipe, pretrain
    from cauker.evaluation.protocol import score_features

    started = time.perf_counter()
    datasets = payload["datasets"]
    out: dict[str, Any] = {}
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with threadpool_limits(limits=threads):
            if kind == "raw":
                out["scores"] = score_features(datasets, lambda x: x, seed)
            else:
                if kind == "random_init":
                    model = build_encoder(seed)
                else:
                    recipe = Recipe(**payload["recipe"])
                    model, losses = pretrain(
                        payload["series"], seed=seed, recipe=recipe, on_steps=on_steps
                    )
                    out["loss_first"] = losses[0]
                    out["loss_last"] = float(np.mean(losses[-10:]))
                out["scores"] = score_features(datasets, lambda x: embed(model, x), seed)
    finally:
        torch.set_num_threads(previous)
    out["seconds"] = time.perf_counter() - started
    return out


def _worker_task(kind: str, seed: int, payload: dict, threads: int) -> dict:
    return _task(kind, seed, payload, threads, on_steps=_report_steps)


# ------------------------------------------------------------------ checks


def _check_int(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def _check_seeds(seeds: Any) -> tuple[int, ...]:
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        seeds = (seeds,)
    if not isinstance(seeds, Sequence) or isinstance(seeds, str) or not seeds:
        raise ValueError(f"seeds must be a non-empty sequence of integers >= 0, got {seeds!r}")
    checked = tuple(_check_int("seeds", s, 0) for s in seeds)
    if len(set(checked)) != len(checked):
        raise ValueError(f"seeds must be distinct, got {list(seeds)!r}")
    return checked


def _resolve_reference(reference: Any, candidate: Corpus) -> Corpus | None:
    if reference is None or (isinstance(reference, str) and reference.lower() == "none"):
        return None
    if isinstance(reference, str) and reference.lower() == KERNELSYNTH_REFERENCE:
        base = candidate.config
        if base is None:
            base = named_config("10k", length=candidate.length)
        config = kernelsynth_of(base)
        if config == candidate.config:
            # The candidate is itself a KernelSynth ablation: compare it with the
            # CauKer config it ablates (the paper's DAG and means), the other side
            # of the same comparison.
            config = dataclasses.replace(config, **CAUKER_COUNTERPART)
            label = "cauker counterpart (dag_depth=None, mean_bank=paper)"
        else:
            label = "kernelsynth ablation (dag_depth=0, mean_bank=zero)"
        return Corpus(label=label, length=config.length, config=config)
    resolved = resolve_corpus(reference, what="reference")
    if resolved.length != candidate.length:
        raise ValueError(
            f"reference must have the corpus length {candidate.length}, got {resolved.length}"
        )
    return dataclasses.replace(resolved, label=f"reference {resolved.label}")


def _same_corpus(a: Corpus, b: Corpus) -> bool:
    if a.config is not None and b.config is not None:
        return a.config == b.config
    return a.path is not None and b.path is not None and a.path.resolve() == b.path.resolve()


def _environment() -> dict[str, str]:
    import sklearn
    import torch

    try:
        from cauker import __version__ as cauker_version
    except ImportError:
        cauker_version = "unknown"
    return {
        "cauker": cauker_version,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "scikit-learn": sklearn.__version__,
        "cpu_count": str(
            len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        ),
    }


# ------------------------------------------------------------------ main


def evaluate(
    corpus: CauKerConfig | str | os.PathLike = "10k",
    *,
    reference: CauKerConfig | str | os.PathLike | None = KERNELSYNTH_REFERENCE,
    datasets: str | Sequence[str] = SHIPPED,
    series: int = DEFAULT_SERIES,
    steps: int = DEFAULT_STEPS,
    batch_size: int = DEFAULT_BATCH_SIZE,
    seeds: Sequence[int] = DEFAULT_SEEDS,
    baselines: bool = True,
    workers: int | None = None,
    threads: int = 1,
    progress: bool = True,
) -> EvaluationReport:
    """Measure how well a corpus pretrains a classification encoder, on real data.

    Pretrains the small CNN of :mod:`cauker.evaluation.encoder` with InfoNCE on
    the first ``series`` series of ``corpus`` for ``steps`` steps, once per seed;
    freezes it; embeds every real dataset (resampled to the corpus length); fits
    a random forest and a logistic regression on the train embeddings and
    reports test accuracy. The same is done for ``reference`` (by default the
    KernelSynth ablation of the same config), and, with ``baselines``, for the
    untrained encoder and for the raw series.

    Parameters
    ----------
    corpus : CauKerConfig, config name (``"10k"``...) or path to Parquet files
    reference : same kinds, ``"kernelsynth"`` (default) or None
    datasets : ``"shipped"``, dataset names or paths (see
        :func:`cauker.evaluation.load_datasets`); never downloaded
    series : int, default 10000
        Series of each corpus used for pretraining.
    steps, batch_size : int
        Optimiser steps and series per step (two views each).
    seeds : sequence of int, default (0, 1)
        One pretraining run per seed, which also seeds the classifiers.
    baselines : bool, default True
        Also score the random-init encoder and the raw series.
    workers : int or None
        Processes running tasks in parallel; None uses one per available core
        (at most the number of pretraining runs). Workers are spawned, so a
        script using more than one needs an ``if __name__ == "__main__":`` guard;
        ``workers=1`` runs everything in the calling process.
    threads : int, default 1
        PyTorch threads per task. Results are reproducible for a fixed value.
    progress : bool, default True
        Show progress bars.

    Returns
    -------
    EvaluationReport
    """
    started = time.perf_counter()
    series = _check_int("series", series, 2)
    steps = _check_int("steps", steps, 1)
    batch_size = _check_int("batch_size", batch_size, 2)
    threads = _check_int("threads", threads, 1)
    seeds = _check_seeds(seeds)
    if workers is not None:
        workers = _check_int("workers", workers, 1)
    if not isinstance(baselines, bool):
        raise ValueError(f"baselines must be True or False, got {baselines!r}")
    require_torch()
    from cauker.evaluation.pretrain import Recipe

    recipe = Recipe(steps=steps, batch_size=batch_size)
    candidate = resolve_corpus(corpus)
    ref = _resolve_reference(reference, candidate)
    notes = []
    if ref is not None and _same_corpus(candidate, ref):
        notes.append("the reference is the evaluated corpus itself; pass another reference")
        ref = None
    timings: dict[str, float] = {}

    t = time.perf_counter()
    real = load_datasets(datasets)
    prepared = {}
    for d in real:
        train_x, test_x = d.resampled(candidate.length)
        prepared[d.name] = (train_x, d.y_train, test_x, d.y_test)
    timings["load_datasets"] = time.perf_counter() - t

    t = time.perf_counter()
    corpora = {"candidate": candidate} | ({"reference": ref} if ref is not None else {})
    arrays = {}
    draws = [(m, s) for m in corpora for s in seeds]
    for method, seed in tqdm(draws, desc="corpus draws", disable=not progress, leave=False):
        arrays[method, seed] = load_series(corpora[method].draw(seed), series)
        if len(arrays[method, seed]) < series:
            notes.append(f"{method} holds only {len(arrays[method, seed])} series (asked {series})")
    if any(c.config is None for c in corpora.values()) and len(seeds) > 1:
        notes.append("a Parquet corpus is the same data for every seed; only pretraining varies")
    timings["load_corpora"] = time.perf_counter() - t

    tasks = list(draws)
    if baselines:
        tasks += [(m, s) for m in ("random_init", "raw") for s in seeds]
    payloads = {}
    for task in tasks:
        payloads[task] = {"datasets": prepared, "recipe": dataclasses.asdict(recipe)}
        if task in arrays:
            payloads[task]["series"] = arrays[task]
    pretraining_runs = len(draws)
    if workers is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        workers = max(1, min(cores or 1, pretraining_runs or 1))

    t = time.perf_counter()
    outputs = _run_tasks(tasks, payloads, workers, threads, steps, pretraining_runs, progress)
    timings["pretrain_and_score"] = time.perf_counter() - t

    results: dict[str, dict[str, Any]] = {}
    losses: dict[str, dict[str, Any]] = {}
    for (method, seed), out in zip(tasks, outputs, strict=True):
        results.setdefault(method, {})[str(seed)] = out["scores"]
        if "loss_last" in out:
            losses.setdefault(method, {})[str(seed)] = {
                "first": out["loss_first"],
                "last": out["loss_last"],
                "seconds": out["seconds"],
            }
    timings["total"] = time.perf_counter() - started
    settings = {
        "series": series,
        "length": candidate.length,
        "steps": steps,
        "batch_size": batch_size,
        "seeds": list(seeds),
        "recipe": dataclasses.asdict(recipe),
        "workers": workers,
        "threads": threads,
        "pretraining_loss": losses,
        "corpus_draws": "pretraining seed s uses the config with seed config.seed + s",
        "constant_or_invalid_series": {
            f"{m} seed {s}": int(len(a) - _usable_count(a)) for (m, s), a in arrays.items()
        },
    }
    return EvaluationReport(
        corpus=candidate.describe(),
        reference=ref.describe() if ref is not None else None,
        datasets=[d.summary() for d in real],
        settings=settings,
        results=results,
        timings=timings,
        environment=_environment(),
        notes=notes,
    )


def _usable_count(array: np.ndarray) -> int:
    from cauker.evaluation.pretrain import usable_series

    return len(usable_series(array))


def _run_tasks(tasks, payloads, workers, threads, steps, pretraining_runs, progress) -> list:
    step_bar = tqdm(total=steps * pretraining_runs, desc="pretraining steps", disable=not progress)
    task_bar = tqdm(total=len(tasks), desc="runs scored", disable=not progress)
    try:
        if workers == 1:
            outputs = []
            for method, seed in tasks:
                outputs.append(
                    _task(method, seed, payloads[method, seed], threads, step_bar.update)
                )
                task_bar.update(1)
            return outputs
        return _run_in_pool(tasks, payloads, workers, threads, step_bar, task_bar)
    finally:
        step_bar.close()
        task_bar.close()


def _run_in_pool(tasks, payloads, workers, threads, step_bar, task_bar) -> list:
    """Run ``tasks`` in spawned processes; any interruption terminates them at once."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    progress_queue = context.Queue()
    outputs: list = [None] * len(tasks)
    restore = _exit_on_sigterm()
    try:
        # Leaving the block (normally or by an exception) terminates the workers.
        with context.Pool(workers, _init_worker, (threads, progress_queue)) as pool:
            handles = [
                pool.apply_async(_worker_task, (method, seed, payloads[method, seed], threads))
                for method, seed in tasks
            ]
            pending = list(range(len(tasks)))
            while pending:
                handles[pending[0]].wait(0.25)
                _drain(progress_queue, step_bar)
                for i in [i for i in pending if handles[i].ready()]:
                    outputs[i] = handles[i].get()  # re-raises a task's exception
                    pending.remove(i)
                    task_bar.update(1)
            _drain(progress_queue, step_bar)
    finally:
        restore()
    return outputs


def _exit_on_sigterm():
    """Turn SIGTERM into SystemExit while workers run, so they are cleaned up; returns an undo."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def handler(signum, frame):
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, handler)
    return lambda: signal.signal(signal.SIGTERM, previous)


def _drain(progress_queue, bar) -> None:
    while True:
        try:
            bar.update(progress_queue.get_nowait())
        except queue_module.Empty:
            return
