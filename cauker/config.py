"""The configuration of a CauKer corpus: one immutable, validated value.

Every field is checked when the config is built, before any work starts, and a
bad value raises :class:`ValueError` naming the field, the value and what is
allowed. The defaults are those of the authors' V1 script (the one that produced
the paper's numbers).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Sequence
from numbers import Integral
from typing import Any

from cauker.activations import ACTIVATION_BANKS, ACTIVATIONS
from cauker.kernels import KERNEL_BANKS
from cauker.means import MEAN_BANKS, MEANS

#: Version of the generating algorithm. Any change to the bytes produced for a
#: given config and seed bumps it (see the README).
ALGORITHM_VERSION = "2.0.0"

#: The paper's corpus sizes, by name.
NAMED_SIZES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000, "10m": 10_000_000}

#: Rows of the ``validation`` split of an endless corpus (``num_series=None``)
#: when ``num_validation`` is not given: a fixed held-out set, as large as the
#: ``1m`` config's.
ENDLESS_VALIDATION = 10_000


def _check_int(name: str, value: Any, low: int, high: int | None = None) -> int:
    """Return ``value`` as an int if it is an integer in ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < low or (high is not None and value > high):
        allowed = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    return int(value)


def _check_bank(name: str, value: Any, banks: dict, entries: dict | None) -> str | tuple:
    """Normalise a bank: a known bank name, or a non-empty sequence of entries.

    ``entries`` lists the allowed entry names (mean and activation banks); for
    the kernel bank it is None and the entries must be scikit-learn kernels.
    """
    if isinstance(value, str):
        if value not in banks:
            raise ValueError(f"{name} must be one of {sorted(banks)} or a sequence, got {value!r}")
        return value
    if not isinstance(value, Sequence) or len(value) == 0:
        raise ValueError(f"{name} must be a bank name or a non-empty sequence, got {value!r}")
    value = tuple(value)
    if entries is None:
        from sklearn.gaussian_process.kernels import Kernel  # heavy: only for custom banks
    for entry in value:
        if entries is None:
            if not isinstance(entry, Kernel):
                raise ValueError(f"{name} entries must be scikit-learn kernels, got {entry!r}")
        elif entry not in entries:
            raise ValueError(f"{name} entries must be among {sorted(entries)}, got {entry!r}")
    return value


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
    series_per_graph : int, default=4
        Distinct nodes kept from each graph.
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
    """

    num_series: int | None
    length: int = 512
    num_nodes: int = 18
    max_parents: int = 6
    max_kernels: int = 7
    series_per_graph: int = 4
    dag_depth: int | None = None
    kernel_bank: str | tuple = "paper"
    mean_bank: str | tuple = "paper"
    activation_bank: str | tuple = "paper"
    multivariate: bool = False
    seed: int = 0
    num_validation: int | None = None
    redraw_constant: bool = False

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        if self.num_series is not None:  # None: an endless train split
            set_(self, "num_series", _check_int("num_series", self.num_series, 1))
        set_(self, "length", _check_int("length", self.length, 2))
        set_(self, "num_nodes", _check_int("num_nodes", self.num_nodes, 1))
        set_(self, "max_parents", _check_int("max_parents", self.max_parents, 0))
        set_(self, "max_kernels", _check_int("max_kernels", self.max_kernels, 1))
        set_(
            self,
            "series_per_graph",
            _check_int("series_per_graph", self.series_per_graph, 1, self.num_nodes),
        )
        if self.dag_depth is not None:
            set_(self, "dag_depth", _check_int("dag_depth", self.dag_depth, 0, self.num_nodes - 1))
            if self.dag_depth > 0 and self.max_parents == 0:
                raise ValueError(
                    f"dag_depth={self.dag_depth} needs max_parents >= 1, got max_parents=0"
                )
        set_(self, "kernel_bank", _check_bank("kernel_bank", self.kernel_bank, KERNEL_BANKS, None))
        set_(self, "mean_bank", _check_bank("mean_bank", self.mean_bank, MEAN_BANKS, MEANS))
        set_(
            self,
            "activation_bank",
            _check_bank("activation_bank", self.activation_bank, ACTIVATION_BANKS, ACTIVATIONS),
        )
        if not isinstance(self.multivariate, bool):
            raise ValueError(f"multivariate must be True or False, got {self.multivariate!r}")
        if not isinstance(self.redraw_constant, bool):
            raise ValueError(f"redraw_constant must be True or False, got {self.redraw_constant!r}")
        set_(self, "seed", _check_int("seed", self.seed, 0))
        if self.num_validation is not None:
            set_(self, "num_validation", _check_int("num_validation", self.num_validation, 0))

    @property
    def endless(self) -> bool:
        """True if the ``train`` split has no end (``num_series=None``)."""
        return self.num_series is None

    def split_size(self, split: str) -> int | None:
        """Rows of ``split``: ``train`` is ``num_series`` (None: endless);
        ``validation`` 1% of it."""
        if split == "train":
            return self.num_series
        if split == "validation":
            if self.num_validation is not None:
                return self.num_validation
            if self.num_series is None:
                return ENDLESS_VALIDATION
            return max(1, self.num_series // 100)
        raise ValueError(f"split must be 'train' or 'validation', got {split!r}")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able fields; custom kernels appear as their ``repr``."""
        out = dataclasses.asdict(self)
        if not isinstance(self.kernel_bank, str):
            out["kernel_bank"] = [repr(k) for k in self.kernel_bank]
        for name in ("mean_bank", "activation_bank"):
            if not isinstance(out[name], str):
                out[name] = list(out[name])
        return out

    def fingerprint(self) -> str:
        """A short stable hash of the fields and the algorithm version."""
        payload = json.dumps([ALGORITHM_VERSION, self.to_dict()], sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


def named_config(name: str, **overrides: Any) -> CauKerConfig:
    """The paper's corpus ``name`` (``10k``, ``100k``, ``1m``, ``10m``), with overrides."""
    if name not in NAMED_SIZES:
        raise ValueError(f"config name must be one of {list(NAMED_SIZES)}, got {name!r}")
    fields = {f.name for f in dataclasses.fields(CauKerConfig)}
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise ValueError(f"unknown config field(s) {unknown}; allowed: {sorted(fields)}")
    overrides.setdefault("num_series", NAMED_SIZES[name])
    return CauKerConfig(**overrides)
