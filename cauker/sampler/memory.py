"""What one generating process needs in memory, and the check against this machine.

A config is a value: whether this machine can generate it is asked where work
starts (:func:`check_memory`: ``generate``, ``export``, ``push_to_hub``, the
``datasets`` builder, a stream), so that a config too long for the machine fails
at once with the limit named, not after minutes with a ``MemoryError``.
"""

from __future__ import annotations

import math
import os

from cauker.config import CauKerConfig
from cauker.errors import ParameterError

#: Graphs computed together (the batch of the Schur factorisation). The output
#: does not depend on it; the memory of a process does.
GRAPHS_PER_BATCH = 128

#: Memory model of one generating process, fitted to peak RSS measured at
#: lengths 512 to 8,192 (1.8 GiB at 8,192 with the defaults): the interpreter
#: and libraries, a few ``length x length`` float64 matrices while a kernel is
#: factored, and a batch of graphs whose nodes and kernel terms hold a series each.
_BASE_BYTES = 256 << 20
_MATRIX_BYTES = 28  # per length ** 2
MEMORY_ENV = "CAUKER_MEMORY_GIB"


def machine_memory() -> int | None:
    """Bytes of memory this process may use: ``CAUKER_MEMORY_GIB`` if set, else the
    smaller of the physical memory and the cgroup (container) limit; None if unknown."""
    text = os.environ.get(MEMORY_ENV)
    if text is not None:
        try:
            gib = float(text)
        except ValueError:
            gib = math.nan
        if not gib > 0 or math.isinf(gib):
            raise ParameterError(f"{MEMORY_ENV} must be a positive number of GiB, got {text!r}")
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
    batch = GRAPHS_PER_BATCH * 8 * length * (num_nodes + 4 * max_kernels)
    return _BASE_BYTES + _MATRIX_BYTES * length**2 + batch


def check_memory(config: CauKerConfig) -> None:
    """Refuse, before any work, a config whose series need more memory than this
    machine has (:class:`~cauker.errors.ParameterError` naming the largest length
    that fits).

    Examples
    --------
    >>> import os, cauker
    >>> os.environ["CAUKER_MEMORY_GIB"] = "1"
    >>> check_memory(cauker.CauKerConfig(num_series=10, length=4096))  # about 0.8 GiB
    >>> check_memory(cauker.CauKerConfig(num_series=10, length=8192))
    Traceback (most recent call last):
        ...
    cauker.errors.ParameterError: length=8192 needs about 2.4 GiB in each generating process ...
    >>> del os.environ["CAUKER_MEMORY_GIB"]
    """
    _check_length(config.length, config.num_nodes, config.max_kernels)
    burn_in = getattr(config, "burn_in", 0)  # lagged edges: the roots' grid is longer
    if burn_in:
        _check_length(config.length + burn_in, config.num_nodes, config.max_kernels)


def _check_length(length: int, num_nodes: int, max_kernels: int) -> None:
    available = machine_memory()
    needed = memory_needed(length, num_nodes, max_kernels)
    if available is None or needed <= available:
        return
    # The largest length that fits: solve memory_needed(L) = available for L.
    a, b = _MATRIX_BYTES, GRAPHS_PER_BATCH * 8 * (num_nodes + 4 * max_kernels)
    c = _BASE_BYTES - available
    largest = max(0, int((-b + math.sqrt(b * b - 4 * a * c)) / (2 * a))) if c < 0 else 0
    raise ParameterError(
        f"length={length} needs about {needed / 2**30:,.1f} GiB in each generating process "
        f"(length x length kernel matrices, and a batch of graphs), more than the "
        f"{available / 2**30:.1f} GiB of this machine: length must be at most {largest:,} here "
        f"(with num_nodes={num_nodes}, max_kernels={max_kernels}; set {MEMORY_ENV} to size "
        "the check for the machines that will generate)"
    )
