"""The in-context protocol (``cauker evaluate --protocol in-context``): train an
in-context classifier on a task corpus, score it few-shot on real datasets.

Per seed ``s``:

- **candidate** / **reference**: a fresh in-context classifier
  (:mod:`cauker.evaluation.in_context_model`, initialised from ``s``) trained
  on the first ``tasks`` tasks of the task config's draw ``s`` (its seed
  shifted by ``s``), streamed in batches of
  ``batch_size`` tasks: cross-entropy of the queries' labels, AdamW, warm-up
  then cosine decay;
- **random_init**: the same model, untrained;
- **knn**: 1-nearest-neighbour (Euclidean on z-normalised series, as the
  ``knn_accuracy`` column) with the same context.

Scoring a dataset (series resampled to the task length): ``shots`` labelled
examples per class drawn from its train split (all of a class's when it has
fewer; the draw is fixed by the seed and the dataset's name, the same for every
method) form the context; every series of its test split is a query. The
accuracy is in percent, under the classifier name ``in_context``. The
comparison of methods is :mod:`cauker.evaluation.statistics`'s, as in the
zero-shot protocol.

This module imports PyTorch when a run starts, not when imported.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa

from cauker.errors import ParameterError
from cauker.evaluation.corpus import Corpus
from cauker.evaluation.protocol import check_device, check_seeds, require_packages
from cauker.named_configs import named_config
from cauker.task_config import TASK_SIZES, TaskConfig
from cauker.validation import check_bool, check_int

#: The classifier name of the in-context protocol's accuracies.
CLASSIFIER = "in_context"

#: Unset values of the protocol, by preset.
PRESETS: dict[str, dict[str, Any]] = {
    "default": {"steps": 400, "batch_size": 8, "seeds": (0, 1, 2)},
    "thorough": {"steps": 400, "batch_size": 8, "seeds": tuple(range(10))},
}
#: Queries scored per forward pass (queries never see each other: any chunk gives
#: the same scores).
QUERY_CHUNK = 256


@dataclasses.dataclass(frozen=True)
class InContextRecipe:
    """Hyper-parameters of one training run of the in-context classifier."""

    steps: int = 400
    batch_size: int = 8  # tasks per step
    learning_rate: float = 1e-3
    weight_decay: float = 0.01
    warmup_fraction: float = 0.05
    width: int = 64
    depth: int = 3

    def __post_init__(self) -> None:
        for name in ("steps", "batch_size", "width", "depth"):
            check_int(name, getattr(self, name), 1)


@dataclasses.dataclass(frozen=True)
class InContextProtocol:
    """Everything that decides an in-context evaluation's numbers but the task
    configs and the datasets."""

    device: str
    tasks: int
    recipe: InContextRecipe
    seeds: tuple[int, ...]
    shots: int = 5
    threads: int = 1

    #: The methods scored besides the task corpora.
    baselines: ClassVar[tuple[str, ...]] = ("random_init", "knn")
    encoder: ClassVar[str] = "in-context"

    @property
    def series(self) -> int:
        """Tasks of each corpus (the name the reports use)."""
        return self.tasks

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["seeds"] = list(self.seeds)
        return out | {"protocol": "in-context", "encoder": self.encoder, "series": self.tasks}

    def fingerprint(self) -> str:
        """A short hash of everything but the seeds."""
        data = {k: v for k, v in self.to_dict().items() if k != "seeds"}
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:12]


def make_in_context_protocol(
    *,
    device: str = "cpu",
    series: int | None = None,
    steps: int | None = None,
    batch_size: int | None = None,
    seeds: Sequence[int] | None = None,
    thorough: bool = False,
    threads: int = 1,
    shots: int = 5,
    encoder: str | None = None,
) -> InContextProtocol:
    """Check the arguments and fill the unset ones from the preset.

    ``series`` is the number of tasks each run trains on (default: ``steps *
    batch_size``, each task seen once); ``encoder`` must be None or
    ``"in-context"`` (the protocol has its own model).

    Examples
    --------
    >>> protocol = make_in_context_protocol(steps=10, seeds=[4])
    >>> protocol.tasks, protocol.recipe.batch_size, protocol.seeds, protocol.shots
    (80, 8, (4,), 5)
    """
    if encoder not in (None, "cnn", "in-context"):
        raise ParameterError(
            f"encoder must be left unset with protocol='in-context' (it trains its own "
            f"in-context classifier), got {encoder!r}"
        )
    check_bool("thorough", thorough)
    device = check_device(device)
    require_packages("cnn")
    preset = PRESETS["thorough" if thorough else "default"]
    recipe = InContextRecipe(
        steps=preset["steps"] if steps is None else steps,
        batch_size=preset["batch_size"] if batch_size is None else batch_size,
    )
    tasks = recipe.steps * recipe.batch_size if series is None else series
    return InContextProtocol(
        device=device,
        tasks=check_int("series", tasks, 1),
        recipe=recipe,
        seeds=check_seeds(preset["seeds"] if seeds is None else seeds),
        shots=check_int("shots", shots, 1),
        threads=check_int("threads", threads, 1),
    )


# ------------------------------------------------------------------ task configs


def describe_tasks(config: TaskConfig) -> str:
    """A short label: the size and the fields that differ from the defaults."""
    defaults = TaskConfig(num_tasks=config.num_tasks)
    size = next((n for n, v in TASK_SIZES.items() if v == config.num_tasks), str(config.num_tasks))
    changed = [
        f"{f.name}={getattr(config, f.name)}"
        for f in dataclasses.fields(TaskConfig)
        if f.name != "num_tasks" and getattr(config, f.name) != getattr(defaults, f.name)
    ]
    return " ".join([size, *changed])


def resolve_tasks(spec: Any, *, what: str = "corpus") -> Corpus:
    """A task config, or a task config name, as a :class:`~cauker.evaluation.corpus.Corpus`."""
    if isinstance(spec, str) and spec in TASK_SIZES:
        spec = named_config(spec)
    if not isinstance(spec, TaskConfig):
        raise ParameterError(
            f"{what} must be a TaskConfig or one of {list(TASK_SIZES)} with "
            f"protocol='in-context', got {spec!r}"
        )
    return Corpus(label=describe_tasks(spec), length=spec.length, config=spec)


# ------------------------------------------------------------------ episodes


@dataclasses.dataclass
class Episode:
    """One task as arrays: ``support`` ``(s, channels, length)`` float32 and its labels,
    ``query`` and its labels, and the number of classes."""

    support: np.ndarray
    support_label: np.ndarray
    query: np.ndarray
    query_label: np.ndarray
    classes: int


def _samples(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """A ``support`` or ``query`` column: all samples ``(n, channels, length)`` and
    each row's offsets."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    offsets = column.offsets.to_numpy()
    values = column.values
    channels = 1
    if pa.types.is_fixed_size_list(values.type.value_type):
        channels = values.type.list_size
        values = values.flatten()
    length = values.type.list_size
    flat = np.asarray(values.flatten(), dtype=np.float32)
    first = offsets[0]
    n = offsets[-1] - first
    samples = flat[first * channels * length : (first + n) * channels * length]
    return samples.reshape(n, channels, length), offsets - first


def episodes(table: pa.Table | pa.RecordBatch) -> list[Episode]:
    """The tasks of Arrow task rows (``cauker.generate``, a stream in ``arrow`` format)."""
    support, s_offsets = _samples(table.column("support"))
    query, q_offsets = _samples(table.column("query"))
    support_label = table.column("support_label").to_pylist()
    query_label = table.column("query_label").to_pylist()
    classes = table.column("num_classes").to_pylist()
    return [
        Episode(
            support[s_offsets[i] : s_offsets[i + 1]],
            np.asarray(support_label[i], dtype=np.int64),
            query[q_offsets[i] : q_offsets[i + 1]],
            np.asarray(query_label[i], dtype=np.int64),
            classes[i],
        )
        for i in range(len(classes))
    ]


def task_batches(config: TaskConfig, tasks: int, batch_size: int) -> Iterator[list[Episode]]:
    """The first ``tasks`` tasks of ``config``'s train split, ``batch_size`` at a time."""
    from cauker import iter_batches

    pending: list[Episode] = []
    for batch in iter_batches(config, "train", 0, tasks):
        pending += episodes(batch)
        while len(pending) >= batch_size:
            yield pending[:batch_size]
            pending = pending[batch_size:]
    if pending:
        yield pending


@dataclasses.dataclass(frozen=True)
class TaskBatches:
    """:func:`task_batches` as an iterable that starts again when iterated again (the
    same tasks: they are a pure function of the config), so that a run of more steps
    than ``tasks / batch_size`` goes round them again without keeping them."""

    config: TaskConfig
    tasks: int
    batch_size: int

    def __iter__(self) -> Iterator[list[Episode]]:
        return task_batches(self.config, self.tasks, self.batch_size)


# ------------------------------------------------------------------ training


def tensors(batch: list[Episode], device: str) -> list[tuple]:
    """A batch of tasks as :class:`~cauker.evaluation.in_context_model.EpisodeLoss` takes
    them: each task's context and queries, its labels, its queries' labels, its classes."""
    import torch

    return [
        (
            torch.as_tensor(np.concatenate([e.support, e.query])).to(device),
            torch.as_tensor(e.support_label).to(device),
            torch.as_tensor(e.query_label).to(device),
            e.classes,
        )
        for e in batch
    ]


def train(
    batches: Iterable[list[Episode]],
    *,
    seed: int,
    recipe: InContextRecipe,
    device: str = "cpu",
    on_steps: Callable[[int], None] | None = None,
    wrap: Callable | None = None,
):
    """Train a fresh model (initialised from ``seed``) for ``recipe.steps`` steps on
    ``batches`` (lists of tasks; iterated again from the start if they run out and
    can be, as :class:`TaskBatches` and lists can).

    ``wrap`` wraps the loss module (``DistributedDataParallel`` in a DDP run).
    Returns the model (in eval mode) and the loss of every step.
    """
    import torch

    from cauker.evaluation.in_context_model import EpisodeLoss, build_model
    from cauker.evaluation.pretrain import optimise

    devices = [torch.device(device).index or 0] if device.startswith("cuda") else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        model = build_model(seed, recipe.width, recipe.depth).to(device)
        model.train()
        objective = EpisodeLoss(model)
        if wrap is not None:
            objective = wrap(objective)
        generator = torch.Generator().manual_seed(seed)  # the label codes
        source = iter(batches)

        def loss_at(step: int) -> torch.Tensor:
            nonlocal source
            batch = next(source, None)
            if batch is None:  # fewer tasks than steps x batch size: go round again
                source = iter(batches)
                batch = next(source, None)
                if batch is None:
                    raise ParameterError(
                        f"the task batches ran out after {step} of {recipe.steps} steps"
                    )
            return objective(tensors(batch, device), generator)

        losses = optimise(model, recipe, loss_at, on_steps, clip_norm=1.0)
    model.eval()
    return model, losses


# ------------------------------------------------------------------ scoring


def context(train_y: np.ndarray, shots: int, seed: int, name: str) -> np.ndarray:
    """Indices of ``shots`` train examples per class (all of a class's if it has fewer),
    drawn by ``(seed, dataset name)``: the same context for every method."""
    rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
    chosen = []
    for label in np.unique(train_y).tolist():
        members = np.flatnonzero(train_y == label)
        chosen.append(rng.choice(members, size=min(shots, len(members)), replace=False))
    return np.sort(np.concatenate(chosen))


def _episode(data, shots: int, seed: int, name: str) -> tuple[np.ndarray, ...]:
    train_x, train_y, test_x, test_y = data
    picked = context(train_y, shots, seed, name)
    classes, labels = np.unique(train_y[picked], return_inverse=True)
    return train_x[picked][:, None], labels, test_x[:, None], test_y, classes


def score_model(model, datasets, shots: int, seed: int, device: str = "cpu") -> dict:
    """``{dataset: {"in_context": accuracy}}`` of an in-context classifier, ``shots``-shot."""
    import torch

    out = {}
    with torch.no_grad():
        for name, data in datasets.items():
            support, labels, query, test_y, classes = _episode(data, shots, seed, name)
            s = torch.as_tensor(support, dtype=torch.float32).to(device)
            y = torch.as_tensor(labels).to(device)
            predicted = []
            for start in range(0, len(query), QUERY_CHUNK):
                q = torch.as_tensor(query[start : start + QUERY_CHUNK], dtype=torch.float32)
                generator = torch.Generator().manual_seed(seed)  # the same codes every chunk
                scores = model(s, y, q.to(device), len(classes), generator)
                predicted.append(scores.argmax(dim=1).cpu().numpy())
            guess = classes[np.concatenate(predicted)]
            out[name] = {CLASSIFIER: 100.0 * float(np.mean(guess == test_y))}
    return out


def score_knn(datasets, shots: int, seed: int) -> dict:
    """``{dataset: {"in_context": accuracy}}`` of 1-NN with the same contexts."""
    from cauker.tasks.knn import nearest_labels

    out = {}
    for name, data in datasets.items():
        support, labels, query, test_y, classes = _episode(data, shots, seed, name)
        guess = classes[nearest_labels(support, labels, query)]
        out[name] = {CLASSIFIER: 100.0 * float(np.mean(guess == test_y))}
    return out


def execute(task, protocol: InContextProtocol, datasets, on_steps=None) -> dict[str, Any]:
    """Run one task of the plan (kind ``pretrain``, ``random_init`` or ``knn``)."""
    import torch

    from cauker.evaluation.in_context_model import build_model

    started = time.perf_counter()
    out: dict[str, Any] = {}
    previous = torch.get_num_threads()
    torch.set_num_threads(protocol.threads)
    try:
        if task.kind == "knn":
            out["scores"] = score_knn(datasets, protocol.shots, task.seed)
        else:
            recipe = protocol.recipe
            if task.kind == "random_init":
                model = build_model(task.seed, recipe.width, recipe.depth).to(protocol.device)
                model.eval()
            else:
                batches = TaskBatches(task.corpus.config, protocol.tasks, recipe.batch_size)
                model, losses = train(
                    batches,
                    seed=task.seed,
                    recipe=recipe,
                    device=protocol.device,
                    on_steps=on_steps,
                )
                out["series"] = protocol.tasks
                out["loss_first"] = losses[0]
                out["loss_last"] = float(np.mean(losses[-10:]))
            out["scores"] = score_model(model, datasets, protocol.shots, task.seed, protocol.device)
    finally:
        torch.set_num_threads(previous)
    out["seconds"] = time.perf_counter() - started
    return out
