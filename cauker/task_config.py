"""The configuration of a corpus of labelled tasks: one immutable, validated value.

A task is a small classification problem for in-context classifiers: a
labelled context (``support``) and labelled queries, drawn from ``C`` classes
of CauKer series (:mod:`cauker.tasks`). :class:`TaskConfig` holds the task
fields, then every field of :class:`~cauker.config.CauKerConfig` that applies
to the series (with the same defaults and checks). Each field carries its
:class:`~cauker.config.Flag`, so the command line, the ``datasets`` builder and
the resume command of a push are derived from the fields, as for corpora.

The named configs ``tasks-10k``, ``tasks-100k`` and ``tasks-1m`` are the
defaults with that many tasks in the ``train`` split; a default
``TaskConfig()`` is ``tasks-10k``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from numbers import Real
from typing import Any

from cauker.config import (
    MAX_ROWS,
    CauKerConfig,
    Flag,
    Interval,
    check_fields,
    config_field,
    split_rows,
)
from cauker.errors import ParameterError
from cauker.validation import check_choice

#: Version of the task algorithm (on top of the series' ``ALGORITHM_VERSION``).
#: Any change to the bytes of a task for a given config and seed bumps it.
TASK_VERSION = "1.0.0"

#: The named task configs, by name: tasks in the ``train`` split.
TASK_SIZES = {"tasks-10k": 10_000, "tasks-100k": 100_000, "tasks-1m": 1_000_000}

#: What a class is (laws in :mod:`cauker.tasks.mechanisms`).
CLASS_DEFINITIONS = ("graph", "shift")
#: Augmentations, in the order they are applied (laws in :mod:`cauker.tasks.augment`).
AUGMENTATIONS = ("mixup", "crop", "time_shift", "scale", "noise")

#: Most classes of a task (in-context classifiers take at most 10; more for one-vs-rest).
MAX_CLASSES = 100
#: Most labelled examples, or queries, per class.
MAX_PER_CLASS = 1000
#: Largest task, in float64 bytes of its series while it is drawn (support, queries,
#: mixup partners and the nodes they come from): a task is drawn whole.
MAX_TASK_BYTES = 256 << 20

#: The fields of CauKerConfig that make the series of a task (with their defaults).
PRIOR_FIELDS = (
    "length",
    "num_nodes",
    "max_parents",
    "max_kernels",
    "series_per_graph",
    "dag_depth",
    "kernel_bank",
    "mean_bank",
    "activation_bank",
    "multivariate",
    "seed",
    "num_validation",
)


class NamesFlag(Flag):
    """A flag holding a list of names: ``mixup,noise``; ``none`` for no name."""

    def text(self, value: Any) -> str | None:
        return "none" if value == () else super().text(value)


def parse_names(text: str) -> tuple[str, ...]:
    """``none`` (or nothing) is no name; else a comma list (``mixup,`` is one name)."""
    if text.strip().lower() in ("", "none"):
        return ()
    return tuple(entry.strip() for entry in text.split(",") if entry.strip())


def _prior_field(name: str) -> Any:
    """The field ``name`` of CauKerConfig: its default, flag and check."""
    field = next(f for f in dataclasses.fields(CauKerConfig) if f.name == name)
    return dataclasses.field(default=field.default, metadata=field.metadata)


def _fraction(name: str, value: Any, config: Any) -> float:
    """``value`` as a float if it is a real number in (0, 1]."""
    if isinstance(value, bool) or not isinstance(value, Real) or not 0 < value <= 1:
        raise ParameterError(f"{name} must be a number in (0, 1], got {value!r}")
    return float(value)


@dataclasses.dataclass(frozen=True)
class Names:
    """A field holding distinct names among ``allowed``, kept in ``allowed``'s order."""

    allowed: tuple[str, ...]

    def __call__(self, name: str, value: Any, config: Any) -> tuple[str, ...]:
        if isinstance(value, str):
            value = parse_names(value)
        if not isinstance(value, (tuple, list)):
            raise ParameterError(
                f"{name} must be a sequence of names among {list(self.allowed)}, got {value!r}"
            )
        for entry in value:
            check_choice(f"{name} entries", entry, self.allowed)
        if len(set(value)) != len(value):
            raise ParameterError(f"{name} must not repeat a name, got {list(value)!r}")
        return tuple(a for a in self.allowed if a in value)


@dataclasses.dataclass(frozen=True)
class Choice:
    """A field holding one of ``allowed``."""

    allowed: tuple[str, ...]

    def __call__(self, name: str, value: Any, config: Any) -> str:
        return check_choice(name, value, self.allowed)


def _at_least(low: str, most: int) -> Interval:
    """The upper end of a range: from the field ``low`` (checked before it) to ``most``."""
    return Interval(lambda config: getattr(config, low), most)


@dataclasses.dataclass(frozen=True)
class TaskConfig:
    """Parameters of a corpus of labelled classification tasks.

    Parameters
    ----------
    num_tasks : int or None, default=10_000
        Rows (tasks) of the ``train`` split; ``None``: endless, streaming only.
    min_classes, max_classes : int, default=2, 10
        Classes per task, drawn uniformly in this range for each task.
    min_support, max_support : int, default=1, 10
        Labelled examples per class in the context (the same for every class
        of a task), drawn uniformly in this range.
    min_queries, max_queries : int, default=1, 5
        Queries per class, drawn uniformly in this range.
    class_definition : {"graph", "shift"}, default="graph"
        What a class is. ``graph``: a node of its own random CauKer graph;
        ``shift``: the task's one graph with one mechanism changed (see
        :mod:`cauker.tasks.mechanisms`).
    shift_scale : float in (0, 1], default=1.0
        Size of a ``shift``: each changed mechanism is ``(1 - s) * old + s *
        new``; smaller is harder. Unused by ``graph``.
    augmentations : sequence of str, default=()
        Any of ``mixup``, ``crop``, ``time_shift``, ``scale``, ``noise`` (see
        :mod:`cauker.tasks.augment`); none by default.
    length, num_nodes, max_parents, max_kernels, series_per_graph, dag_depth,
    kernel_bank, mean_bank, activation_bank, seed, num_validation
        As in :class:`~cauker.config.CauKerConfig` (same defaults).
    multivariate : bool, default=False
        Each sample has ``series_per_graph`` channels: distinct nodes of the
        class's graph (``support`` is ``(n_support, C, length)``). With a range
        ``series_per_graph=(low, high)`` each task draws its count ``C``
        uniformly in it (from the seed sequence ``(TASKS_KEY, split_key,
        index)``, the parent of its attempts'), and every sample of every class
        of the task has ``C`` channels.

    Raises
    ------
    ParameterError
        Naming the first bad field, its value and what is allowed.

    Examples
    --------
    >>> from cauker import TaskConfig, named_config
    >>> TaskConfig() == named_config("tasks-10k")
    True
    >>> config = TaskConfig(num_tasks=100, max_classes=5, length=128)
    >>> config.split_size("validation"), config.channels
    (1, 1)
    >>> TaskConfig(min_classes=1)
    Traceback (most recent call last):
        ...
    cauker.errors.ParameterError: min_classes must be in [2, 100], got 1
    """

    num_tasks: int | None = config_field(
        TASK_SIZES["tasks-10k"],
        help="tasks of the train split (default: the size CONFIG names)",
        check=Interval(1, MAX_ROWS, none=True),  # None: an endless train split
    )
    min_classes: int = config_field(
        2, help="fewest classes per task", check=Interval(2, MAX_CLASSES)
    )
    max_classes: int = config_field(
        10, help="most classes per task", check=_at_least("min_classes", MAX_CLASSES)
    )
    min_support: int = config_field(
        1,
        help="fewest labelled examples per class in the context",
        check=Interval(1, MAX_PER_CLASS),
    )
    max_support: int = config_field(
        10,
        help="most labelled examples per class in the context",
        check=_at_least("min_support", MAX_PER_CLASS),
    )
    min_queries: int = config_field(
        1, help="fewest queries per class", check=Interval(1, MAX_PER_CLASS)
    )
    max_queries: int = config_field(
        5, help="most queries per class", check=_at_least("min_queries", MAX_PER_CLASS)
    )
    class_definition: str = config_field(
        "graph",
        help=f"what a class is: one of {', '.join(CLASS_DEFINITIONS)}",
        check=Choice(CLASS_DEFINITIONS),
        parse=str,
    )
    shift_scale: float = config_field(
        1.0,
        help="size of a shift in (0, 1] (class_definition shift)",
        check=_fraction,
        parse=float,
    )
    augmentations: tuple = config_field(
        (),
        help=f"comma list of {','.join(AUGMENTATIONS)}, or none",
        check=Names(AUGMENTATIONS),
        parse=parse_names,
        flag=NamesFlag,
    )
    length: int = _prior_field("length")
    num_nodes: int = _prior_field("num_nodes")
    max_parents: int = _prior_field("max_parents")
    max_kernels: int = _prior_field("max_kernels")
    series_per_graph: int | tuple[int, int] = _prior_field("series_per_graph")
    dag_depth: int | None = _prior_field("dag_depth")
    kernel_bank: str | tuple = _prior_field("kernel_bank")
    mean_bank: str | tuple = _prior_field("mean_bank")
    activation_bank: str | tuple = _prior_field("activation_bank")
    multivariate: bool = _prior_field("multivariate")
    seed: int = _prior_field("seed")
    num_validation: int | None = _prior_field("num_validation")

    def __post_init__(self) -> None:
        check_fields(self)  # the task fields, then the prior's with CauKerConfig's checks
        largest = self.max_classes * (self.max_support + self.max_queries) * 2
        needed = largest * self.channels * self.num_nodes * self.length * 8
        if needed > MAX_TASK_BYTES:
            raise ParameterError(
                f"a task of max_classes={self.max_classes} x (max_support={self.max_support} + "
                f"max_queries={self.max_queries}) samples of {self.channels} channel(s) of length "
                f"{self.length} needs about {needed / 2**20:,.0f} MiB while it is drawn, more "
                f"than {MAX_TASK_BYTES >> 20} MiB: make the tasks smaller"
            )

    def __hash__(self) -> int:  # custom kernel banks hold scikit-learn kernels, which do not hash
        return hash(self.fingerprint())

    @property
    def prior(self) -> CauKerConfig:
        """The CauKer prior of the series (a ``CauKerConfig`` of one row), built once."""
        known = self.__dict__.get("_prior")
        if known is None:
            fields = {name: getattr(self, name) for name in PRIOR_FIELDS}
            known = CauKerConfig(num_series=1, **fields)
            object.__setattr__(self, "_prior", known)  # not a field: eq and repr ignore it
        return known

    @property
    def channel_range(self) -> tuple[int, int]:
        """Fewest and most channels of a sample: ``series_per_graph`` (an int, or a
        range of which each task draws its count) if multivariate, else 1."""
        if not self.multivariate:
            return (1, 1)
        k = self.series_per_graph
        return k if isinstance(k, tuple) else (k, k)

    @property
    def channels(self) -> int:
        """Most channels of a sample (every sample of a task has its task's count)."""
        return self.channel_range[1]

    @property
    def endless(self) -> bool:
        """True if the ``train`` split has no end (``num_tasks=None``)."""
        return self.num_tasks is None

    def split_size(self, split: str) -> int | None:
        """Tasks of ``split``: ``train`` is ``num_tasks`` (None: endless);
        ``validation`` 1% of it (at least 1), or ``num_validation``."""
        return split_rows(split, self.num_tasks, self.num_validation)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able fields; custom kernels appear as their ``repr``."""
        out = dataclasses.asdict(self)
        out["augmentations"] = list(self.augmentations)
        prior = self.prior.to_dict()
        out.update({name: prior[name] for name in PRIOR_FIELDS})
        return out

    def fingerprint(self) -> str:
        """A short stable hash of the fields and both algorithm versions (the prior's
        fingerprint covers ``ALGORITHM_VERSION`` and custom kernels to the last bit)."""
        known = self.__dict__.get("_fingerprint")
        if known is None:
            fields = {k: v for k, v in self.to_dict().items() if k not in PRIOR_FIELDS}
            payload = json.dumps([TASK_VERSION, self.prior.fingerprint(), fields], sort_keys=True)
            known = hashlib.sha256(payload.encode()).hexdigest()[:16]
            object.__setattr__(self, "_fingerprint", known)  # computed once per config
        return known

    def mean_series(self) -> float:
        """Expected series per task (support and queries), for sizing files."""
        classes = (self.min_classes + self.max_classes) / 2
        per_class = (self.min_support + self.max_support + self.min_queries + self.max_queries) / 2
        return classes * per_class


def named_task_config(name: str, **overrides: Any) -> TaskConfig:
    """The named task config ``name`` (``tasks-10k``, ...), with field overrides.

    Examples
    --------
    >>> config = named_task_config("tasks-100k", max_classes=5)
    >>> config.num_tasks, config.max_classes, config.length
    (100000, 5, 512)
    """
    if name not in TASK_SIZES:
        raise ParameterError(f"task config name must be one of {list(TASK_SIZES)}, got {name!r}")
    fields = {f.name for f in dataclasses.fields(TaskConfig)}
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise ParameterError(f"unknown task config field(s) {unknown}; allowed: {sorted(fields)}")
    overrides.setdefault("num_tasks", TASK_SIZES[name])
    return TaskConfig(**overrides)


def is_task_config(config: Any) -> bool:
    """Whether ``config`` describes a corpus of tasks."""
    return isinstance(config, TaskConfig)
