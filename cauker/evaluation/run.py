"""``evaluate``: pretrain on a corpus, score frozen embeddings on real data, compare.

Three steps, each usable on its own:

- :func:`prepare` checks every argument, resolves the corpora and loads the
  real datasets (a ValueError names any bad value before work starts) and
  returns an :class:`EvaluationPlan`: the list of tasks;
- :func:`run` executes the plan's tasks (:mod:`cauker.evaluation.tasks`);
- :func:`report` assembles the outputs into an
  :class:`~cauker.evaluation.report.EvaluationReport`.

:func:`evaluate` chains the three.
"""

from __future__ import annotations

import dataclasses
import os
import platform
import time
from collections.abc import Sequence
from typing import Any

from cauker.config import CauKerConfig, named_config
from cauker.errors import ParameterError
from cauker.evaluation.corpus import Corpus, kernelsynth_of, resolve_corpus
from cauker.evaluation.protocol import Protocol, make_protocol
from cauker.evaluation.real_datasets import SHIPPED, RealDataset, load_datasets
from cauker.evaluation.report import EvaluationReport
from cauker.evaluation.tasks import Prepared, Task, run_tasks
from cauker.validation import check_bool, check_choice, check_int

KERNELSYNTH_REFERENCE = "kernelsynth"
#: The fields a KernelSynth ablation changes, at their CauKer (paper) values.
CAUKER_COUNTERPART = {"dag_depth": None, "mean_bank": "paper"}
BASELINES = ("random_init", "raw")
#: The protocols: ``zero-shot`` (frozen encoder, classifiers on its embeddings) and
#: ``in-context`` (:mod:`cauker.evaluation.in_context`).
PROTOCOLS = ("zero-shot", "in-context")


@dataclasses.dataclass
class EvaluationPlan:
    """Everything :func:`run` needs, checked: corpora, datasets, protocol and tasks."""

    corpora: dict[str, Corpus]
    datasets: list[RealDataset]
    prepared: Prepared
    protocol: Protocol
    tasks: list[Task]
    workers: int
    notes: list[str]
    started: float = dataclasses.field(default_factory=time.perf_counter)
    timings: dict[str, float] = dataclasses.field(default_factory=dict)


def available_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def prepare_datasets(specs: str | Sequence[str], length: int) -> tuple[list, Prepared]:
    """Load the real datasets and resample them to ``length``."""
    real = load_datasets(specs)
    prepared = {}
    for d in real:
        train_x, test_x = d.resampled(length)
        prepared[d.name] = (train_x, d.y_train, test_x, d.y_test)
    return real, prepared


def default_workers(protocol: Protocol, pretraining_runs: int) -> int:
    """One process per core, at most one per pretraining run; one for a GPU."""
    if protocol.device != "cpu":
        return 1
    return max(1, min(available_cores(), pretraining_runs or 1))


def resolve_reference(reference: Any, candidate: Corpus, resolve=resolve_corpus) -> Corpus | None:
    """The reference of ``candidate``: None, ``"kernelsynth"`` (its KernelSynth ablation,
    or, if it is one, the CauKer config it ablates), or a corpus ``resolve`` reads."""
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
    resolved = resolve(reference, what="reference")
    if resolved.length != candidate.length:
        raise ParameterError(
            f"reference must have the corpus length {candidate.length}, got {resolved.length}"
        )
    return dataclasses.replace(resolved, label=f"reference {resolved.label}")


def _same_corpus(a: Corpus, b: Corpus) -> bool:
    if a.config is not None and b.config is not None:
        return a.config == b.config
    return a.path is not None and b.path is not None and a.path.resolve() == b.path.resolve()


def corpus_tasks(method: str, corpus: Corpus, seeds: Sequence[int]) -> list[Task]:
    """Pretraining tasks of one corpus: seed ``s`` pretrains on draw ``s`` of it."""
    return [Task(method, s, "pretrain", corpus.draw(s)) for s in seeds]


def baseline_tasks(seeds: Sequence[int], baselines: Sequence[str] = BASELINES) -> list[Task]:
    return [Task(kind, s, kind) for kind in baselines for s in seeds]


def checked_protocol(
    workers: int | None, protocol_options: dict[str, Any], protocol: str = "zero-shot"
) -> tuple[Protocol, int | None]:
    """The protocol of ``protocol_options`` (the arguments of
    :func:`~cauker.evaluation.protocol.make_protocol`, or of
    :func:`~cauker.evaluation.in_context.make_in_context_protocol` for
    ``protocol="in-context"``), and ``workers``, checked.

    Raises
    ------
    ParameterError
        Naming the first bad value.
    MissingDependencyError
        If PyTorch (or mantis-tsfm, for a Mantis encoder) is missing.
    """
    check_choice("protocol", protocol, PROTOCOLS)
    if protocol == "in-context":
        from cauker.evaluation.in_context import make_in_context_protocol

        made = make_in_context_protocol(**protocol_options)
    else:
        if "shots" in protocol_options:
            raise ParameterError("shots applies only to protocol='in-context'")
        made = make_protocol(**protocol_options)
    return made, check_int("workers", workers, 1, optional=True)


def prepare(
    corpus: CauKerConfig | str | os.PathLike = "10k",
    *,
    protocol: str = "zero-shot",
    reference: CauKerConfig | str | os.PathLike | None = KERNELSYNTH_REFERENCE,
    datasets: str | Sequence[str] = SHIPPED,
    baselines: bool = True,
    workers: int | None = None,
    **protocol_options: Any,
) -> EvaluationPlan:
    """Check the arguments of :func:`evaluate`, load the data and list the tasks.

    Takes the arguments of :func:`evaluate` but ``progress``; nothing is trained.

    Raises
    ------
    ParameterError
        Naming the first bad argument.
    MissingDependencyError
        With the install hint, when PyTorch or mantis-tsfm is missing.
    """
    started = time.perf_counter()
    kind = protocol
    protocol, workers = checked_protocol(workers, protocol_options, kind)
    check_bool("baselines", baselines)
    if kind == "in-context":
        from cauker.evaluation.in_context import resolve_tasks

        candidate = resolve_tasks(corpus)
        ref = resolve_reference(reference, candidate, resolve_tasks)
    else:
        candidate = resolve_corpus(corpus)
        from cauker.evaluation.encoders import ENCODERS

        ENCODERS[protocol.encoder].check_length(candidate.length)
        ref = resolve_reference(reference, candidate)
    notes = []
    if ref is not None and _same_corpus(candidate, ref):
        notes.append("the reference is the evaluated corpus itself; pass another reference")
        ref = None
    corpora = {"candidate": candidate} | ({"reference": ref} if ref is not None else {})
    if any(c.config is None for c in corpora.values()) and len(protocol.seeds) > 1:
        notes.append("a Parquet corpus is the same data for every seed; only pretraining varies")

    real, prepared = prepare_datasets(datasets, candidate.length)
    tasks = [t for name, c in corpora.items() for t in corpus_tasks(name, c, protocol.seeds)]
    if baselines:
        tasks += baseline_tasks(protocol.seeds, protocol.baselines)
    pretraining = sum(t.kind == "pretrain" for t in tasks)
    plan = EvaluationPlan(
        corpora=corpora,
        datasets=real,
        prepared=prepared,
        protocol=protocol,
        tasks=tasks,
        workers=workers or default_workers(protocol, pretraining),
        notes=notes,
        started=started,
    )
    plan.timings["prepare"] = time.perf_counter() - started
    return plan


def run(plan: EvaluationPlan, *, progress: bool = True) -> list[dict[str, Any]]:
    """Execute the plan's tasks; returns one output per task, in order."""
    started = time.perf_counter()
    outputs = run_tasks(
        plan.tasks, plan.protocol, plan.prepared, workers=plan.workers, progress=progress
    )
    plan.timings["pretrain_and_score"] = time.perf_counter() - started
    return outputs


def environment() -> dict[str, str]:
    """Versions and core count, recorded with every result."""
    import sklearn
    import torch

    from cauker import __version__ as cauker_version
    from cauker.config import ALGORITHM_VERSION

    return {
        "cauker": cauker_version,
        "algorithm": ALGORITHM_VERSION,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "scikit-learn": sklearn.__version__,
        "cpu_count": str(available_cores()),
    }


def report(plan: EvaluationPlan, outputs: Sequence[dict[str, Any]]) -> EvaluationReport:
    """Assemble the outputs of :func:`run` into an :class:`EvaluationReport`."""
    results: dict[str, dict[str, Any]] = {}
    runs: dict[str, dict[str, Any]] = {}
    notes = list(plan.notes)
    for task, out in zip(plan.tasks, outputs, strict=True):
        results.setdefault(task.method, {})[str(task.seed)] = out["scores"]
        details = {k: v for k, v in out.items() if k != "scores"}
        runs.setdefault(task.method, {})[str(task.seed)] = details
        if task.kind == "pretrain" and out["series"] < plan.protocol.series:
            notes.append(
                f"{task.method} holds only {out['series']} series (asked {plan.protocol.series})"
            )
    plan.timings["total"] = time.perf_counter() - plan.started
    settings = {
        **plan.protocol.to_dict(),
        "length": next(iter(plan.corpora.values())).length,
        "workers": plan.workers,
        "corpus_draws": "pretraining seed s uses the config with seed config.seed + s",
        "runs": runs,
    }
    return EvaluationReport(
        corpus=plan.corpora["candidate"].describe(),
        reference=plan.corpora["reference"].describe() if "reference" in plan.corpora else None,
        datasets=[d.summary() for d in plan.datasets],
        settings=settings,
        results=results,
        timings=dict(plan.timings),
        environment=environment(),
        notes=notes,
    )


def evaluate(
    corpus: CauKerConfig | str | os.PathLike = "10k",
    *,
    progress: bool = True,
    **options: Any,
) -> EvaluationReport:
    """Measure how well a corpus pretrains a classification encoder, on real data.

    Pretrains ``encoder`` contrastively on the first ``series`` series of
    ``corpus`` for ``steps`` steps, once per seed; freezes it; embeds every
    real dataset (resampled to the corpus length); fits a random forest and a
    logistic regression on the train embeddings and reports test accuracy.
    The same is done for ``reference`` (by default the KernelSynth ablation of
    the same config), and, with ``baselines``, for the untrained encoder and
    for the raw series. The report compares the candidate with each of them,
    paired over datasets and seeds (:mod:`cauker.evaluation.statistics`).

    Parameters
    ----------
    corpus : CauKerConfig, config name (``"10k"``...) or path to Parquet files;
        with ``protocol="in-context"``, a TaskConfig or a task config name
    protocol : ``"zero-shot"`` (default) or ``"in-context"``
        ``in-context`` trains an in-context classifier on the task corpus and
        scores it few-shot against 1-NN with the same context
        (:mod:`cauker.evaluation.in_context`; ``shots`` sets the examples per
        class in the context, 5 by default).
    reference : same kinds, ``"kernelsynth"`` (default) or None
    datasets : ``"shipped"``, dataset names or paths (see
        :func:`cauker.evaluation.load_datasets`); never downloaded
    encoder : ``"cnn"`` (default), ``"mantis"``, ``"mantis-small"`` or ``"mantis8m"``
        See :mod:`cauker.evaluation.encoders`; ``mantis`` is Mantis8M at full
        size on a GPU and a small-width Mantis on a CPU.
    device : ``"cpu"`` (default), ``"cuda"`` or ``"cuda:N"``
    series, steps, batch_size, seeds : int, int, int, sequence of int
        Series of each corpus used, optimiser steps, series per step, and one
        pretraining run per seed (which also seeds the classifiers). Unset
        values come from the preset (:mod:`cauker.evaluation.protocol`):
        10,000 series, 300 steps of 256, seeds 0, 1, 2 (10 seeds with
        ``thorough``; the paper's budget for ``mantis8m``).
    thorough : bool, default False
        Ten seeds instead of three (three for ``mantis8m``): narrower intervals.
    baselines : bool, default True
        Also score the random-init encoder and the raw series.
    workers : int or None
        Processes running tasks in parallel; None uses one per available core
        (at most the number of pretraining runs; one on a GPU). Workers are
        spawned, so a script using more than one needs an ``if __name__ ==
        "__main__":`` guard; ``workers=1`` runs everything in the calling process.
    threads : int, default 1
        PyTorch threads per task. Results are reproducible for a fixed value.
    progress : bool, default True
        Show progress bars.

    All but ``corpus`` and ``progress`` go to :func:`prepare`, which passes
    ``encoder``, ``device``, ``series``, ``steps``, ``batch_size``, ``seeds``,
    ``thorough`` and ``threads`` to :func:`~cauker.evaluation.protocol.make_protocol`.

    Returns
    -------
    EvaluationReport

    Raises
    ------
    ParameterError
        Before any work, naming the first bad argument.
    MissingDependencyError
        With the install hint, when PyTorch or mantis-tsfm is missing.
    """
    plan = prepare(corpus, **options)
    return report(plan, run(plan, progress=progress))
