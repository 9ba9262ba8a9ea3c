"""The configuration of a CauKer corpus: one immutable, validated value.

Every field is checked when the config is built, before any work starts, and a
bad value raises :class:`~cauker.errors.ParameterError` (a ``ValueError``)
naming the field, the value and what is allowed. The defaults are those of the
authors' V1 script (the one that produced the paper's numbers).

Each field is declared once, here, with its :class:`Flag` in the field's
metadata: its help text and how the command line reads and writes it. Every
subcommand's config flags (:mod:`cauker.cli.config_flags`), the ``datasets``
builder config (:mod:`cauker.hf.builder`) and the command that resumes a push
(:func:`config_flags`) are derived from the fields. The field's check is
declared beside it too (:class:`Interval`, :class:`Bank`, :class:`Switch`, as
scikit-learn declares its parameter constraints), so a new field takes one
line in :class:`CauKerConfig`.

Every size is bounded by what the sampler supports (the ``MAX_*`` constants,
each with its reason). Whether this machine has the memory for ``length`` is
asked where work starts, not here (:func:`cauker.sampler.memory.check_memory`):
a config is the same value on every machine.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Collection, Sequence
from typing import Any

from cauker.banks import (
    ACTIVATION_BANKS,
    ACTIVATIONS,
    KERNEL_BANKS,
    MEAN_BANKS,
    MEANS,
    check_kernels,
    exact_description,
)
from cauker.errors import ParameterError
from cauker.validation import check_bool, check_int

#: Version of the generating algorithm. Any change to the bytes produced for a
#: given config and seed bumps it (see CHANGELOG.md).
ALGORITHM_VERSION = "2.0.0"

#: The splits of every corpus, in order.
SPLITS = ("train", "validation")

#: The paper's corpus sizes, by name.
NAMED_SIZES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000, "10m": 10_000_000}

#: Rows of the ``validation`` split of an endless corpus (``num_series=None``)
#: when ``num_validation`` is not given: a fixed held-out set, as large as the
#: ``1m`` config's.
ENDLESS_VALIDATION = 10_000

#: Most rows of a split: 10^6 shards of 10,000 rows, a thousand times the
#: paper's largest corpus (20 TB of float32 at length 512); the shard plan and
#: the card stay small.
MAX_ROWS = 10**10
#: Most nodes per graph: drawing a DAG sorts ``num_nodes ** 2`` random keys per
#: graph (8 MiB at 1,024 nodes); the paper studied 10 to 50.
MAX_NUM_NODES = 1024
#: Most kernels per root. A product of ``j`` DotProduct(10) kernels of the paper
#: bank has a standard deviation up to ``101 ** (j / 2)``, which overflows
#: float32 beyond ``j = 38`` (the graph would be redrawn forever); the paper
#: studied 3 to 7.
MAX_KERNELS = 32
#: Largest seed: seeds are written in the card's YAML and the shards' JSON
#: metadata, which other tools read as 64-bit integers.
MAX_SEED = 2**63 - 1


def _check_bank(name: str, value: Any, banks: dict, entries: dict | None) -> str | tuple:
    """Normalise a bank: a known bank name, or a non-empty sequence of entries.

    ``entries`` lists the allowed entry names (mean and activation banks); for
    the kernel bank it is None and the entries must be scikit-learn kernels.
    """
    if isinstance(value, str):
        if value not in banks:
            raise ParameterError(
                f"{name} must be one of {sorted(banks)} or a sequence, got {value!r}"
            )
        return value
    if not isinstance(value, Sequence) or len(value) == 0:
        raise ParameterError(f"{name} must be a bank name or a non-empty sequence, got {value!r}")
    value = tuple(value)
    if entries is None:
        from sklearn.gaussian_process.kernels import Kernel  # heavy: only for custom banks
    for entry in value:
        if entries is None:
            if not isinstance(entry, Kernel):
                raise ParameterError(f"{name} entries must be scikit-learn kernels, got {entry!r}")
        elif not isinstance(entry, str) or entry not in entries:
            raise ParameterError(f"{name} entries must be among {sorted(entries)}, got {entry!r}")
    return value


def split_rows(split: str, train: int | None, num_validation: int | None) -> int | None:
    """Rows of ``split`` of a corpus whose train split has ``train`` rows (None:
    endless): the validation split has ``num_validation``, or 1% of ``train`` (at
    least 1), or ``ENDLESS_VALIDATION`` for an endless corpus."""
    if split == "train":
        return train
    if split == "validation":
        if num_validation is not None:
            return num_validation
        if train is None:
            return ENDLESS_VALIDATION
        return max(1, train // 100)
    raise ParameterError(f"split must be 'train' or 'validation', got {split!r}")


# -- the command-line form of a field ---------------------------------------


@dataclasses.dataclass(frozen=True)
class Flag:
    """How a config field is given on the command line: ``--length 1024``.

    ``parse`` reads the flag's text; None makes the flag a switch without a
    value (``--multivariate``: True). :meth:`text` writes a value back so that
    ``parse`` reads the same value.
    """

    help: str
    parse: Callable[[str], Any] | None = int
    write: Callable[[Any], str] | None = None

    @property
    def switch(self) -> bool:
        return self.parse is None

    def text(self, value: Any) -> str | None:
        """The flag text of ``value``; None if it has none (a bank of scikit-learn kernels).

        >>> Flag("", parse_bank).text(("relu", "sin")), Flag("", parse_bank).text(("relu",))
        ('relu,sin', 'relu,')
        """
        if self.write is not None:
            return self.write(value)
        if value is None:
            return "none"
        if isinstance(value, tuple):
            if not all(isinstance(entry, str) for entry in value):
                return None
            return ",".join(value) + ("," if len(value) == 1 else "")
        return str(value)


def parse_optional_int(text: str) -> int | None:
    """``none`` is None, anything else an integer."""
    return None if text.strip().lower() == "none" else int(text)


def parse_bank(text: str) -> str | tuple[str, ...]:
    """A bank name stays a name (``paper``); a comma list is a tuple of entries
    (``relu,sin``; ``relu,`` is a bank of one entry)."""
    if "," not in text:
        return text.strip()
    return tuple(entry.strip() for entry in text.split(",") if entry.strip())


def parse_count(text: str) -> int | tuple[int, int]:
    """``4`` is an integer, ``1:16`` the range ``(1, 16)`` (both ends included)."""
    low, colon, high = text.partition(":")
    return (int(low), int(high)) if colon else int(text)


def write_count(value: int | tuple[int, int]) -> str:
    """The text :func:`parse_count` reads back: ``4``, or ``1:16``.

    >>> write_count((1, 16)), parse_count(write_count((1, 16)))
    ('1:16', (1, 16))
    """
    return f"{value[0]}:{value[1]}" if isinstance(value, tuple) else str(value)


# -- the check of a field, declared with it ----------------------------------


@dataclasses.dataclass(frozen=True)
class Interval:
    """An integer field in ``[low, high]``; either bound may be computed from the
    fields declared before it, and a ``high`` of None leaves it open. With
    ``none``, None passes too (the field's doc says what it stands for).

    >>> Interval(1, 1024)("num_nodes", 0, None)
    Traceback (most recent call last):
        ...
    cauker.errors.ParameterError: num_nodes must be in [1, 1024], got 0
    """

    low: int | Callable[[Any], int]
    high: int | Callable[[Any], int] | None = None
    none: bool = False

    def __call__(self, name: str, value: Any, config: Any) -> int | None:
        if value is None and self.none:
            return None
        low = self.low(config) if callable(self.low) else self.low
        high = self.high(config) if callable(self.high) else self.high
        return check_int(name, value, low, high)


@dataclasses.dataclass(frozen=True)
class Bank:
    """A bank field: one of the named ``banks``, or a non-empty sequence of
    ``entries`` names (``entries`` None: of scikit-learn kernels, each checked on
    the config's grid)."""

    banks: Collection[str]
    entries: Collection[str] | None

    def __call__(self, name: str, value: Any, config: Any) -> str | tuple:
        value = _check_bank(name, value, self.banks, self.entries)
        if self.entries is None and not isinstance(value, str):
            check_kernels(value, config.length)
        return value


@dataclasses.dataclass(frozen=True)
class Switch:
    """A field that is True or False."""

    def __call__(self, name: str, value: Any, config: Any) -> bool:
        return check_bool(name, value)


def _depth(name: str, value: Any, config: Any) -> int | None:
    """``dag_depth``: at most ``num_nodes - 1`` edges, and a layered DAG of depth
    1 or more needs parents."""
    value = Interval(0, lambda c: c.num_nodes - 1, none=True)(name, value, config)
    if value and config.max_parents == 0:
        raise ParameterError(f"dag_depth={value} needs max_parents >= 1, got max_parents=0")
    return value


def _count(name: str, value: Any, config: Any) -> int | tuple[int, int]:
    """``series_per_graph``: an int, or a range ``(low, high)``, ``low < high``, which
    needs ``multivariate`` (checked here: it is declared after this field)."""
    if not isinstance(value, tuple | list):
        return check_int(name, value, 1, config.num_nodes)
    if len(value) != 2:
        raise ParameterError(
            f"series_per_graph must be an integer or a range (low, high), got {value!r}"
        )
    low = check_int("series_per_graph low", value[0], 1, config.num_nodes)
    high = check_int("series_per_graph high", value[1], low, config.num_nodes)
    if low == high:
        return low
    if not check_bool("multivariate", config.multivariate):
        raise ParameterError(
            f"series_per_graph={low}:{high} is a range, which needs multivariate=True: row i "
            "of a univariate corpus is series i % k of graph i // k, so streaming and random "
            "access need one count k"
        )
    return (low, high)


def _edges(name: str, value: Any, config: Any) -> bool:
    """``edges``: True needs ``multivariate``."""
    if check_bool(name, value) and not config.multivariate:
        raise ParameterError("edges=True needs multivariate=True (a univariate row has no edges)")
    return value


def config_field(
    default: Any = dataclasses.MISSING,
    *,
    help: str,
    check: Callable,
    parse=int,
    write=None,
    flag=Flag,
) -> Any:
    """A config field with its command-line :class:`Flag` and its check, declared
    together: ``check(name, value, config)`` returns the normalised value or
    raises :class:`~cauker.errors.ParameterError` (:func:`check_fields` runs it)."""
    return dataclasses.field(
        default=default, metadata={"flag": flag(help, parse, write), "check": check}
    )


def check_fields(config: Any) -> None:
    """Check the fields of a frozen dataclass ``config`` in declaration order, each
    with the check declared with it, and store the normalised values (a numpy
    integer becomes an ``int``, a bank sequence a tuple)."""
    for field in dataclasses.fields(config):
        value = field.metadata["check"](field.name, getattr(config, field.name), config)
        object.__setattr__(config, field.name, value)


def option(name: str) -> str:
    """The command-line option of field ``name``: ``--max-kernels`` for ``max_kernels``."""
    return "--" + name.replace("_", "-")


def flag_of(field: dataclasses.Field) -> Flag:
    """The :class:`Flag` declared with a field of :class:`CauKerConfig`."""
    return field.metadata["flag"]


@dataclasses.dataclass(frozen=True)
class CauKerConfig:
    """Parameters of a CauKer corpus.

    Parameters
    ----------
    num_series : int or None
        Number of rows of the ``train`` split (series, or graphs when
        ``multivariate``). ``None`` makes the ``train`` split endless: it can
        only be streamed (``cauker.load_dataset(..., streaming=True)``), and its
        row ``i`` is row ``i`` of every finite corpus with the same parameters.
    length : int, default=512
        Points per series, on the grid ``linspace(0, 1, length)``.
    num_nodes : int, default=18
        Nodes of each random causal graph.
    max_parents : int, default=6
        Largest number of parents of a node.
    max_kernels : int, default=7
        Largest number of bank kernels composed into one root's covariance.
    series_per_graph : int or (int, int), default=4
        Distinct nodes kept from each graph. A range ``(low, high)`` (both ends
        included; multivariate only) gives every graph its own count, drawn
        uniformly in the range from a stream of its own, so that an int gives
        the 2.0.0 rows exactly. A univariate corpus needs one count ``k``:
        its row ``i`` is series ``i % k`` of graph ``i // k``, which streams
        and random access rely on. ``(k, k)`` is ``k``.
    dag_depth : int or None, default=None
        None draws the paper's DAG. An integer ``d`` draws a layered DAG whose
        longest root-to-node path has exactly ``d`` edges; ``0`` makes every
        node an independent GP root (the KernelSynth ablations).
    kernel_bank : {"paper", "v2"} or sequence of sklearn kernels, default="paper"
    mean_bank : {"paper", "zero"} or sequence of mean names, default="paper"
    activation_bank : {"paper", "v2"} or sequence of activation names, default="paper"
    multivariate : bool, default=False
        Keep a graph's chosen nodes together as one row of shape
        ``(series_per_graph, length)``.
    seed : int, default=0
        Root of every random stream.
    num_validation : int or None, default=None
        Rows of the ``validation`` split; None means 1% of ``num_series``
        (at least 1), or ``ENDLESS_VALIDATION`` (10,000) when ``num_series`` is
        None. Drawn from a seed stream disjoint from ``train``.
    redraw_constant : bool, default=False
        Not in the paper: redraw a graph if one of its chosen series is
        constant (about 2-4% of V1 series are). Off by default (faithful).
    max_lag : int, default=0
        Not in the paper: each edge draws a lag in ``[0, max_lag]`` grid steps,
        and the child reads its parent that many steps earlier. The GP roots
        are drawn on the grid extended to the left by ``burn_in`` points (the
        same spacing), so every kept point reads real values; 0 is the paper's
        same-time law, with the same bytes.
    edges : bool, default=False
        Add the ``edges`` column (the edges among a row's channels) to a
        multivariate corpus with one count and no lags; with a range of counts
        or ``max_lag > 0`` the column is always there. (A config of 2.0.0
        keeps its bytes.)

    Raises
    ------
    ParameterError
        Naming the first bad field, its value and what is allowed.

    Examples
    --------
    >>> from cauker import CauKerConfig
    >>> config = CauKerConfig(num_series=10_000, max_kernels=3, max_parents=2)
    >>> config.split_size("validation"), config.fingerprint() == CauKerConfig(
    ...     num_series=10_000, max_kernels=3, max_parents=2
    ... ).fingerprint()
    (100, True)
    >>> CauKerConfig(num_series=10, num_nodes=0)
    Traceback (most recent call last):
        ...
    cauker.errors.ParameterError: num_nodes must be in [1, 1024], got 0
    """

    num_series: int | None = config_field(
        help="rows of the train split (default: the size CONFIG names)",
        check=Interval(1, MAX_ROWS, none=True),  # None: an endless train split
    )
    length: int = config_field(512, help="points per series", check=Interval(2))
    num_nodes: int = config_field(
        18, help="nodes per causal graph", check=Interval(1, MAX_NUM_NODES)
    )
    max_parents: int = config_field(
        6, help="largest number of parents of a node", check=Interval(0, MAX_NUM_NODES - 1)
    )
    max_kernels: int = config_field(
        7, help="largest number of kernels composed per root", check=Interval(1, MAX_KERNELS)
    )
    series_per_graph: int | tuple[int, int] = config_field(
        4,
        help="distinct nodes kept per graph; LOW:HIGH (multivariate only) draws each "
        "graph's count uniformly in [LOW, HIGH]",
        check=_count,
        parse=parse_count,
        write=write_count,
    )
    dag_depth: int | None = config_field(
        None,
        help="exact depth of a layered DAG; 'none' is the paper's DAG",
        check=_depth,
        parse=parse_optional_int,
    )
    kernel_bank: str | tuple = config_field(
        "paper",
        help=f"one of {', '.join(KERNEL_BANKS)}",
        check=Bank(KERNEL_BANKS, None),
        parse=parse_bank,
    )
    mean_bank: str | tuple = config_field(
        "paper",
        help=f"one of {', '.join(MEAN_BANKS)}, or a comma list of {','.join(MEANS)}",
        check=Bank(MEAN_BANKS, MEANS),
        parse=parse_bank,
    )
    activation_bank: str | tuple = config_field(
        "paper",
        help=f"one of {', '.join(ACTIVATION_BANKS)}, or a comma list of {','.join(ACTIVATIONS)}",
        check=Bank(ACTIVATION_BANKS, ACTIVATIONS),
        parse=parse_bank,
    )
    multivariate: bool = config_field(
        False, help="keep a graph's series together as one row", check=Switch(), parse=None
    )
    seed: int = config_field(0, help="root seed", check=Interval(0, MAX_SEED))
    num_validation: int | None = config_field(
        None,
        help="rows of the validation split; 'none' is 1% of num_series (at least 1)",
        check=Interval(0, MAX_ROWS, none=True),
        parse=parse_optional_int,
    )
    redraw_constant: bool = config_field(
        False,
        help="redraw graphs with a constant series (not in the paper)",
        check=Switch(),
        parse=None,
    )
    max_lag: int = config_field(
        0,
        help="largest lag of an edge, in grid steps; 0 is the paper's same-time edges",
        check=Interval(0, lambda c: c.length - 1),
    )
    edges: bool = config_field(
        False,
        help="add the edges column to a multivariate corpus of one count without lags "
        "(it is always there with a range of counts or lags)",
        check=_edges,
        parse=None,
    )

    def __post_init__(self) -> None:
        check_fields(self)

    @property
    def channel_range(self) -> tuple[int, int]:
        """The smallest and largest number of series kept from a graph."""
        k = self.series_per_graph
        return k if isinstance(k, tuple) else (k, k)

    @property
    def burn_in(self) -> int:
        """Grid points drawn before ``x = 0`` so that lagged edges read real values:
        ``max_lag`` times the most edges a root-to-node path can have."""
        if self.dag_depth is not None:
            longest = self.dag_depth
        else:
            longest = self.num_nodes - 1 if self.max_parents else 0
        return self.max_lag * longest

    @property
    def has_edges(self) -> bool:
        """Whether rows carry the ``edges`` column (multivariate, and asked for, or
        a range of counts, or lags)."""
        lagged_or_ranged = self.max_lag > 0 or isinstance(self.series_per_graph, tuple)
        return self.multivariate and (self.edges or lagged_or_ranged)

    def __hash__(self) -> int:  # custom kernel banks hold scikit-learn kernels, which do not hash
        return hash(self.fingerprint())

    @property
    def endless(self) -> bool:
        """True if the ``train`` split has no end (``num_series=None``)."""
        return self.num_series is None

    @property
    def rows_per_graph(self) -> int:
        """Rows that one graph gives: ``series_per_graph``, or 1 if ``multivariate``."""
        return 1 if self.multivariate else self.series_per_graph

    def graphs_for(self, rows: int) -> int:
        """Graphs drawn for ``rows`` rows (the last graph's rows may be cut)."""
        return -(-rows // self.rows_per_graph)

    def split_size(self, split: str) -> int | None:
        """Rows of ``split``: ``train`` is ``num_series`` (None: endless);
        ``validation`` 1% of it."""
        return split_rows(split, self.num_series, self.num_validation)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able fields; custom kernels appear as their ``repr``."""
        out = dataclasses.asdict(self)
        for name, default in _LATER_FIELDS.items():
            if out[name] == default:  # a config 2.0.0 could write keeps its fields
                del out[name]
        if isinstance(self.series_per_graph, tuple):
            out["series_per_graph"] = list(self.series_per_graph)
        if not isinstance(self.kernel_bank, str):
            out["kernel_bank"] = [repr(k) for k in self.kernel_bank]
        for name in ("mean_bank", "activation_bank"):
            if not isinstance(out[name], str):
                out[name] = list(out[name])
        return out

    def fingerprint(self) -> str:
        """A short stable hash of the fields and the algorithm version.

        Custom kernels enter it with every hyperparameter to the last bit
        (scikit-learn's ``repr`` rounds them to 3 digits, which would give
        ``RBF(0.3)`` and ``RBF(0.30001)`` the same fingerprint).

        Computed once per config: files, batches and caches all ask for it."""
        known = self.__dict__.get("_fingerprint")
        if known is not None:
            return known
        fields = self.to_dict()
        if not isinstance(self.kernel_bank, str):
            fields["kernel_bank"] = [exact_description(k) for k in self.kernel_bank]
        payload = json.dumps([ALGORITHM_VERSION, fields], sort_keys=True)
        known = hashlib.sha256(payload.encode()).hexdigest()[:16]
        object.__setattr__(self, "_fingerprint", known)  # not a field: eq and repr ignore it
        return known


#: Fields added after 2.0.0, and their defaults: :meth:`CauKerConfig.to_dict` (and so
#: the fingerprint, the card and the shards' metadata) leaves them out at their
#: default, so that every config 2.0.0 could write keeps its fingerprint and bytes.
_LATER_FIELDS = {"max_lag": 0, "edges": False}


def named_config(name: str, **overrides: Any) -> CauKerConfig:
    """The paper's corpus ``name`` (``10k``, ``100k``, ``1m``, ``10m``), with overrides.

    (``cauker.named_config``, :func:`cauker.named_configs.named_config`, also
    knows the task corpora.)

    Parameters
    ----------
    name : {"10k", "100k", "1m", "10m"}
        The size of the ``train`` split (``NAMED_SIZES``); every other field has
        its default.
    **overrides
        Fields of :class:`CauKerConfig`, ``num_series`` included.

    Raises
    ------
    ParameterError
        For an unknown name or field, or a bad value (see :class:`CauKerConfig`).

    Examples
    --------
    >>> config = named_config("100k", length=1024, dag_depth=4)
    >>> config.num_series, config.length, config.dag_depth, config.num_nodes
    (100000, 1024, 4, 18)
    """
    if not isinstance(name, str) or name not in NAMED_SIZES:
        raise ParameterError(f"config name must be one of {list(NAMED_SIZES)}, got {name!r}")
    fields = {f.name for f in dataclasses.fields(CauKerConfig)}
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise ParameterError(f"unknown config field(s) {unknown}; allowed: {sorted(fields)}")
    overrides.setdefault("num_series", NAMED_SIZES[name])
    return CauKerConfig(**overrides)


def config_flags(config: CauKerConfig, base: CauKerConfig) -> list[str] | None:
    """The command-line flags that turn ``base`` into ``config``, in field order.

    Returns None if a value that differs has no command-line form (a bank of
    scikit-learn kernels, or a switch turned off).

    Examples
    --------
    >>> config = named_config("10k", length=1024, mean_bank=("zero",), multivariate=True)
    >>> config_flags(config, named_config("10k"))
    ['--length', '1024', '--mean-bank', 'zero,', '--multivariate']
    """
    words: list[str] = []
    for field in dataclasses.fields(type(config)):  # a CauKerConfig or a TaskConfig
        value, flag = getattr(config, field.name), flag_of(field)
        if value == getattr(base, field.name):
            continue
        text = ("" if value else None) if flag.switch else flag.text(value)
        if text is None:
            return None
        words += [option(field.name), text] if text else [option(field.name)]
    return words
