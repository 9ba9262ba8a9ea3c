"""Mean bank of the GP roots.

A root's mean is two bank entries drawn with replacement, combined with ``+``
or ``*`` (probability 1/2 each). The entries:

- ``zero``;
- ``linear``: ``a * x + b`` with ``a, b ~ U(-1, 1)``;
- ``exponential``: ``a * exp(b * x)`` with ``a, b ~ U(0.5, 1.5)``;
- ``anomalies``: 1 to 5 spikes, each at a uniform index, each adding ``U(-5, 5)``.

:func:`compute_means` computes the means of many roots at once from a fixed
set of random numbers per root, whatever its entries (:class:`MeanDraws`,
drawn by ``cauker.sampler.scm``), with the same bits on every machine (``exp``
from :mod:`cauker.sampler.portable_math`).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

import numpy as np

from cauker.banks import MEAN_BANKS, MEANS

ZERO, LINEAR, EXPONENTIAL, ANOMALIES = range(len(MEANS))  # codes, in the order of MEANS

#: Largest number of spikes of an ``anomalies`` entry.
MAX_SPIKES = 5


def mean_bank(bank: str | tuple[str, ...]) -> np.ndarray:
    """The bank's entries, as codes (``ZERO``, ``LINEAR``, ...)."""
    names = MEAN_BANKS[bank] if isinstance(bank, str) else bank
    return np.array([MEANS.index(name) for name in names], dtype=np.int64)


@dataclass(frozen=True)
class Means:
    """The means of some roots: values ``(roots, length)`` and what made them."""

    values: np.ndarray
    kinds: np.ndarray  # (roots, 2) entry codes
    multiply: np.ndarray  # (roots,) 0 or 1
    params: np.ndarray  # (roots, 2, 2): (a, b) of each entry (linear, exponential)
    spikes: np.ndarray  # (roots, 2): spike counts of each entry (anomalies)

    def slice(self, start: int, stop: int) -> Means:
        """The means of roots ``start`` to ``stop``."""
        return Means(
            self.values[start:stop],
            self.kinds[start:stop],
            self.multiply[start:stop],
            self.params[start:stop],
            self.spikes[start:stop],
        )

    def describe(self, root: int) -> str:
        parts = []
        params = self.params[root].tolist()  # Python floats: the same text, faster
        for slot, kind in enumerate(self.kinds[root].tolist()):
            a, b = params[slot]
            if kind in (LINEAR, EXPONENTIAL):
                parts.append(f"{MEANS[kind]}(a={a:.3g}, b={b:.3g})")
            elif kind == ANOMALIES:
                parts.append(f"anomalies({self.spikes[root, slot]})")
            else:
                parts.append("zero")
        return f"{parts[0]} {'*' if self.multiply[root] else '+'} {parts[1]}"


@dataclass(frozen=True)
class MeanDraws:
    """The random numbers behind the means of some roots (a fixed set per root)."""

    kinds: np.ndarray  # (roots, 2) entry codes
    multiply: np.ndarray  # (roots,) 0 or 1
    u: np.ndarray  # (roots, 2, 2) uniforms for (a, b)
    spikes: np.ndarray  # (roots, 2)
    where: np.ndarray  # (roots, 2, MAX_SPIKES)
    heights: np.ndarray  # (roots, 2, MAX_SPIKES)


def compute_means(draws: MeanDraws, x: np.ndarray, loops: ModuleType) -> Means:
    """The means from their random numbers, with ``loops``' exponential (see
    ``cauker.sampler.backend``); each root's values depend on its own only."""
    kinds, u, spikes = draws.kinds, draws.u, draws.spikes
    count = kinds.shape[0]
    # U(low, high) = low + (high - low) * u, as Generator.uniform computes it.
    params = np.where((kinds == EXPONENTIAL)[..., None], 0.5 + 1.0 * u, -1.0 + 2.0 * u)
    flat_kinds = kinds.reshape(-1)
    flat_params = params.reshape(-1, 2)
    slots = np.zeros((flat_kinds.size, x.size))
    linear = np.flatnonzero(flat_kinds == LINEAR)
    if linear.size:
        slots[linear] = flat_params[linear, :1] * x + flat_params[linear, 1:]
    exponential = np.flatnonzero(flat_kinds == EXPONENTIAL)
    if exponential.size:
        a, b = flat_params[exponential, 0], flat_params[exponential, 1]
        slots[exponential] = loops.exponential_rows(a, b, x)
    anomalies = (flat_kinds == ANOMALIES)[:, None] & (np.arange(MAX_SPIKES) < spikes.reshape(-1, 1))
    if anomalies.any():
        # In slot order, then spike order: the same sums as one slot at a time.
        offsets = np.arange(flat_kinds.size)[:, None] * x.size + draws.where.reshape(-1, MAX_SPIKES)
        heights = draws.heights.reshape(-1, MAX_SPIKES)
        np.add.at(slots.reshape(-1), offsets[anomalies], heights[anomalies])
    slots = slots.reshape(count, 2, x.size)
    values = slots[:, 0] + slots[:, 1]
    product = draws.multiply == 1
    values[product] = slots[product, 0] * slots[product, 1]
    return Means(values, kinds, draws.multiply, params, spikes)
