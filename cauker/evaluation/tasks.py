"""The unit of work of an evaluation, and running many of them on the cores.

A :class:`Task` is one method under one seed: pretrain the encoder on a corpus
draw then score its frozen embeddings (``pretrain``), score the untrained
encoder (``random_init``) or score the raw series (``raw``). Tasks are
independent and each is seeded and single-threaded, so the results do not
depend on how many run at once.

With ``workers > 1`` tasks run in that many spawned processes, one PyTorch
thread each. On a 2-core machine two 1-thread processes beat one 2-thread
process: the small CNN gains only 1.65x from a second intra-op thread (3.45
steps/s for two processes against 2.97), and when another program holds a
core, every parallel region of a 2-thread process waits for the descheduled
thread (1.11 steps/s, slower than one thread) while two independent processes
just share what is left (2.30 steps/s). A worker generates its own corpus
draw, so generation runs in parallel too. Ctrl-C or SIGTERM terminate the
workers at once.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import queue as queue_module
import signal
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from cauker.evaluation.corpus import Corpus, load_series
from cauker.evaluation.protocol import Protocol

#: ``{dataset: (train_x, train_y, test_x, test_y)}``, series resampled to the corpus length.
Prepared = dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]


@dataclasses.dataclass(frozen=True)
class Task:
    """One method under one seed; ``corpus`` is the draw to pretrain on (``pretrain`` only)."""

    method: str
    seed: int
    kind: str  # "pretrain", "random_init", "raw" or (in-context protocol) "knn"
    corpus: Corpus | None = None


def execute(
    task: Task,
    protocol: Protocol,
    datasets: Prepared,
    on_steps: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Run one task; returns ``{"scores": {dataset: {classifier: accuracy}}, "seconds": ...}``."""
    if protocol.encoder == "in-context":
        from cauker.evaluation.in_context import execute as execute_in_context

        return execute_in_context(task, protocol, datasets, on_steps)
    import torch
    from threadpoolctl import threadpool_limits

    from cauker.evaluation.encoders import ENCODERS, embed
    from cauker.evaluation.pretrain import pretrain, usable_series
    from cauker.evaluation.probes import score_features

    started = time.perf_counter()
    out: dict[str, Any] = {}
    previous = torch.get_num_threads()
    torch.set_num_threads(protocol.threads)
    try:
        with threadpool_limits(limits=protocol.threads):
            if task.kind == "raw":
                out["scores"] = score_features(datasets, lambda x: x, task.seed)
            else:
                kind = ENCODERS[protocol.encoder]
                if task.kind == "random_init":
                    length = next(iter(datasets.values()))[0].shape[1]
                    model = kind.build(task.seed, length, protocol.device)
                else:
                    series = load_series(task.corpus, protocol.series)
                    out["series"] = len(series)
                    out["unusable_series"] = len(series) - len(usable_series(series))
                    model, losses = pretrain(
                        series,
                        seed=task.seed,
                        recipe=protocol.recipe,
                        encoder=protocol.encoder,
                        device=protocol.device,
                        on_steps=on_steps,
                    )
                    out["loss_first"] = losses[0]
                    out["loss_last"] = float(np.mean(losses[-10:]))

                def featurize(x):
                    return embed(kind, model, x, protocol.device)

                out["scores"] = score_features(datasets, featurize, task.seed)
    finally:
        torch.set_num_threads(previous)
    out["seconds"] = time.perf_counter() - started
    return out


# ------------------------------------------------------------------ running many

_worker_state: dict[str, Any] = {}


def _init_worker(protocol: Protocol, datasets: Prepared, progress_queue) -> None:
    import torch

    from cauker.lifeline import die_with_parent

    die_with_parent()  # a worker ends when its parent is killed
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    torch.set_num_threads(protocol.threads)
    _worker_state.update(protocol=protocol, datasets=datasets, queue=progress_queue)


def _worker_execute(task: Task) -> dict[str, Any]:
    state = _worker_state
    return execute(task, state["protocol"], state["datasets"], on_steps=state["queue"].put)


def run_tasks(
    tasks: Sequence[Task],
    protocol: Protocol,
    datasets: Prepared,
    *,
    workers: int = 1,
    progress: bool = True,
    on_result: Callable[[int, dict], None] | None = None,
) -> list[dict[str, Any]]:
    """Run ``tasks``, in order with ``workers=1`` or in a pool of spawned processes.

    ``on_result(i, output)`` is called in this process as soon as task ``i``
    finishes (the sweep writes its files from there). Returns the outputs in
    the order of ``tasks``.
    """
    pretraining = sum(t.kind == "pretrain" for t in tasks)
    step_bar = tqdm(
        total=protocol.recipe.steps * pretraining, desc="pretraining steps", disable=not progress
    )
    task_bar = tqdm(total=len(tasks), desc="runs scored", disable=not progress)
    outputs: list[Any] = [None] * len(tasks)

    def done(i: int, output: dict) -> None:
        outputs[i] = output
        task_bar.update(1)
        if on_result is not None:
            on_result(i, output)

    try:
        if workers == 1 or len(tasks) <= 1:
            for i, task in enumerate(tasks):
                done(i, execute(task, protocol, datasets, step_bar.update))
        else:
            _run_in_pool(tasks, protocol, datasets, workers, step_bar, done)
    finally:
        step_bar.close()
        task_bar.close()
    return outputs


def _run_in_pool(tasks, protocol, datasets, workers, step_bar, done) -> None:
    """Run ``tasks`` in spawned processes; any interruption terminates them at once."""
    context = multiprocessing.get_context("spawn")
    progress_queue = context.Queue()
    restore = _exit_on_sigterm()
    try:
        # Leaving the block (normally or by an exception) terminates the workers.
        with context.Pool(
            min(workers, len(tasks)), _init_worker, (protocol, datasets, progress_queue)
        ) as pool:
            handles = [pool.apply_async(_worker_execute, (task,)) for task in tasks]
            pending = list(range(len(tasks)))
            while pending:
                handles[pending[0]].wait(0.25)
                _drain(progress_queue, step_bar)
                for i in [i for i in pending if handles[i].ready()]:
                    pending.remove(i)
                    done(i, handles[i].get())  # re-raises a task's exception
            _drain(progress_queue, step_bar)
    finally:
        restore()


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
