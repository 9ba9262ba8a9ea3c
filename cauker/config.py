"""The configuration of a CauKer corpus: one immutable, validated value.

Every field is checked when the config is built, before any work starts, and a
bad value raises :class:`~cauker.errors.ParameterError` (a ``ValueError``)
naming the field, the value and what is allowed. The defaults are those of the
authors' V1 script (the one that produced the paper's numbers).

Each field is declared once, here, with its :class:`Flag` in the field's
metadata: its help text and how the command line reads and writes it. Every
subcommand's config flags (:mod:`cauker.cli.config_flags`), the ``datasets``
builder config (:mod:`cauker.hf.builder`) and the command that resumes a push
(:func:`config_flags`) are derived from the fields, so a new field takes one
edit: a line in :class:`CauKerConfig` and its check in ``__post_init__``.

Every size is bounded by what the sampler supports (the ``MAX_*`` constants,
each with its reason) and ``length`` by the memory of this machine
(:func:`memory_needed`), so that an impossible config fails at once with the
limit named, not after minutes with a ``MemoryError``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
from collections.abc import Callable, Sequence
from typing import Any

from cauker.errors import ParameterError
from cauker.sampler.activations import ACTIVATION_BANKS, ACTIVATIONS
from cauker.sampler.kernels import KERNEL_BANKS, check_kernels, exact_description
from cauker.sampler.means import MEAN_BANKS, MEANS
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

#: Memory model of one generating process, fitted to peak RSS measured at
#: lengths 512 to 8,192 (1.8 GiB at 8,192 with the defaults): the interpreter
#: and libraries, a few ``length x length`` float64 matrices while a kernel is
#: factored, and a batch of graphs whose nodes and kernel terms hold a series each.
_BASE_BYTES = 256 << 20
_MATRIX_BYTES = 28  # per length ** 2
#: ``cauker.sampler.rows.GRAPHS_PER_BATCH`` (not imported: rows imports this module).
_GRAPHS_PER_BATCH = 128
_MEMORY_ENV = "CAUKER_MEMORY_GIB"


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


def machine_memory() -> int | None:
    """Bytes of memory this process may use: ``CAUKER_MEMORY_GIB`` if set, else the
    smaller of the physical memory and the cgroup (container) limit; None if unknown."""
    text = os.environ.get(_MEMORY_ENV)
    if text is not None:
        try:
            gib = float(text)
        except ValueError:
            gib = math.nan
        if not gib > 0 or math.isinf(gib):
            raise ParameterError(f"{_MEMORY_ENV} must be a positive number of GiB, got {text!r}")
        return int(gib * 2**30)
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not a POSIX system
        return None
    for limit in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(limit) as f:
                total = min(total, int(f.read().strip()))
        except (OSError, ValueError):  # absent, or "max"
            continue
    return total


def memory_needed(length: int, num_nodes: int, max_kernels: int) -> int:
    """Bytes one generating process needs, about, for series of ``length`` points."""
    batch = _GRAPHS_PER_BATCH * 8 * length * (num_nodes + 4 * max_kernels)
    return _BASE_BYTES + _MATRIX_BYTES * length**2 + batch


def _check_memory(length: int, num_nodes: int, max_kernels: int) -> None:
    available = machine_memory()
    needed = memory_needed(length, num_nodes, max_kernels)
    if available is None or needed <= available:
        return
    # The largest length that fits: solve memory_needed(L) = available for L.
    a, b = _MATRIX_BYTES, _GRAPHS_PER_BATCH * 8 * (num_nodes + 4 * max_kernels)
    c = _BASE_BYTES - available
    largest = max(0, int((-b + math.sqrt(b * b - 4 * a * c)) / (2 * a))) if c < 0 else 0
    raise ParameterError(
        f"length={length} needs about {needed / 2**30:,.1f} GiB in each generating process "
        f"(length x length kernel matrices, and a batch of graphs), more than the "
        f"{available / 2**30:.1f} GiB of this machine: length must be at most {largest:,} here "
        f"(with num_nodes={num_nodes}, max_kernels={max_kernels}; set {_MEMORY_ENV} to size "
        "the check for the machines that will generate)"
    )


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


def _field(default: Any = dataclasses.MISSING, *, help: str, parse=int, write=None) -> Any:
    return dataclasses.field(default=default, metadata={"flag": Flag(help, parse, write)})


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

    num_series: int | None = _field(help="rows of the train split (default: the size CONFIG names)")
    length: int = _field(512, help="points per series")
    num_nodes: int = _field(18, help="nodes per causal graph")
    max_parents: int = _field(6, help="largest number of parents of a node")
    max_kernels: int = _field(7, help="largest number of kernels composed per root")
    series_per_graph: int | tuple[int, int] = _field(
        4,
        help="distinct nodes kept per graph; LOW:HIGH (multivariate only) draws each "
        "graph's count uniformly in [LOW, HIGH]",
        parse=parse_count,
        write=write_count,
    )
    dag_depth: int | None = _field(
        None,
        help="exact depth of a layered DAG; 'none' is the paper's DAG",
        parse=parse_optional_int,
    )
    kernel_bank: str | tuple = _field(
        "paper", help=f"one of {', '.join(KERNEL_BANKS)}", parse=parse_bank
    )
    mean_bank: str | tuple = _field(
        "paper",
        help=f"one of {', '.join(MEAN_BANKS)}, or a comma list of {','.join(MEANS)}",
        parse=parse_bank,
    )
    activation_bank: str | tuple = _field(
        "paper",
        help=f"one of {', '.join(ACTIVATION_BANKS)}, or a comma list of {','.join(ACTIVATIONS)}",
        parse=parse_bank,
    )
    multivariate: bool = _field(False, help="keep a graph's series together as one row", parse=None)
    seed: int = _field(0, help="root seed")
    num_validation: int | None = _field(
        None,
        help="rows of the validation split; 'none' is 1% of num_series (at least 1)",
        parse=parse_optional_int,
    )
    redraw_constant: bool = _field(
        False, help="redraw graphs with a constant series (not in the paper)", parse=None
    )
    max_lag: int = _field(
        0, help="largest lag of an edge, in grid steps; 0 is the paper's same-time edges"
    )
    edges: bool = _field(
        False,
        help="add the edges column to a multivariate corpus of one count without lags "
        "(it is always there with a range of counts or lags)",
        parse=None,
    )

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        if self.num_series is not None:  # None: an endless train split
            set_(self, "num_series", check_int("num_series", self.num_series, 1, MAX_ROWS))
        set_(self, "length", check_int("length", self.length, 2))
        set_(self, "num_nodes", check_int("num_nodes", self.num_nodes, 1, MAX_NUM_NODES))
        set_(self, "max_parents", check_int("max_parents", self.max_parents, 0, MAX_NUM_NODES - 1))
        set_(self, "max_kernels", check_int("max_kernels", self.max_kernels, 1, MAX_KERNELS))
        _check_memory(self.length, self.num_nodes, self.max_kernels)
        check_bool("multivariate", self.multivariate)
        set_(self, "series_per_graph", self._check_count())
        set_(self, "max_lag", check_int("max_lag", self.max_lag, 0, self.length - 1))
        check_bool("edges", self.edges)
        if self.edges and not self.multivariate:
            raise ParameterError(
                "edges=True needs multivariate=True (a univariate row has no edges)"
            )
        if self.dag_depth is not None:
            set_(self, "dag_depth", check_int("dag_depth", self.dag_depth, 0, self.num_nodes - 1))
            if self.dag_depth > 0 and self.max_parents == 0:
                raise ParameterError(
                    f"dag_depth={self.dag_depth} needs max_parents >= 1, got max_parents=0"
                )
        if self.burn_in:  # the roots' grid is longer
            _check_memory(self.length + self.burn_in, self.num_nodes, self.max_kernels)
        set_(self, "kernel_bank", _check_bank("kernel_bank", self.kernel_bank, KERNEL_BANKS, None))
        if not isinstance(self.kernel_bank, str):
            check_kernels(self.kernel_bank, self.length)
        set_(self, "mean_bank", _check_bank("mean_bank", self.mean_bank, MEAN_BANKS, MEANS))
        set_(
            self,
            "activation_bank",
            _check_bank("activation_bank", self.activation_bank, ACTIVATION_BANKS, ACTIVATIONS),
        )
        check_bool("redraw_constant", self.redraw_constant)
        set_(self, "seed", check_int("seed", self.seed, 0, MAX_SEED))
        if self.num_validation is not None:
            set_(
                self,
                "num_validation",
                check_int("num_validation", self.num_validation, 0, MAX_ROWS),
            )

    def _check_count(self) -> int | tuple[int, int]:
        """``series_per_graph`` normalised: an int, or a range ``(low, high)``, ``low < high``."""
        value = self.series_per_graph
        if not isinstance(value, tuple | list):
            return check_int("series_per_graph", value, 1, self.num_nodes)
        if len(value) != 2:
            raise ParameterError(
                f"series_per_graph must be an integer or a range (low, high), got {value!r}"
            )
        low = check_int("series_per_graph low", value[0], 1, self.num_nodes)
        high = check_int("series_per_graph high", value[1], low, self.num_nodes)
        if low == high:
            return low
        if not self.multivariate:
            raise ParameterError(
                f"series_per_graph={low}:{high} is a range, which needs multivariate=True: row i "
                "of a univariate corpus is series i % k of graph i // k, so streaming and random "
                "access need one count k"
            )
        return (low, high)

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
        ``RBF(0.3)`` and ``RBF(0.30001)`` the same fingerprint)."""
        fields = self.to_dict()
        if not isinstance(self.kernel_bank, str):
            fields["kernel_bank"] = [exact_description(k) for k in self.kernel_bank]
        payload = json.dumps([ALGORITHM_VERSION, fields], sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


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
