"""Mean bank of the GP roots: each entry draws its parameters and returns a mean.

A root's mean is two entries drawn with replacement, combined with ``+`` or
``*`` (probability 1/2 each). An entry is ``f(rng, x) -> (values, description)``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

MeanFunction = Callable[[np.random.Generator, np.ndarray], tuple[np.ndarray, str]]


def zero(rng: np.random.Generator, x: np.ndarray) -> tuple[np.ndarray, str]:
    return np.zeros_like(x), "zero"


def linear(rng: np.random.Generator, x: np.ndarray) -> tuple[np.ndarray, str]:
    a, b = rng.uniform(-1.0, 1.0, 2)
    return a * x + b, f"linear(a={a:.3g}, b={b:.3g})"


def exponential(rng: np.random.Generator, x: np.ndarray) -> tuple[np.ndarray, str]:
    a, b = rng.uniform(0.5, 1.5, 2)
    return a * np.exp(b * x), f"exponential(a={a:.3g}, b={b:.3g})"


def anomalies(rng: np.random.Generator, x: np.ndarray) -> tuple[np.ndarray, str]:
    """1 to 5 spikes, each at a uniform index, each adding U(-5, 5)."""
    count = int(rng.integers(1, 6))
    where = rng.integers(0, x.size, count)
    heights = rng.uniform(-5.0, 5.0, count)
    values = np.zeros_like(x)
    np.add.at(values, where, heights)
    return values, f"anomalies({count})"


MEANS: dict[str, MeanFunction] = {
    "zero": zero,
    "linear": linear,
    "exponential": exponential,
    "anomalies": anomalies,
}

MEAN_BANKS: dict[str, tuple[str, ...]] = {
    "paper": ("zero", "linear", "exponential", "anomalies"),
    "zero": ("zero",),
}


def mean_bank(bank: str | tuple[str, ...]) -> tuple[MeanFunction, ...]:
    names = MEAN_BANKS[bank] if isinstance(bank, str) else bank
    return tuple(MEANS[name] for name in names)


def draw_mean(
    rng: np.random.Generator, x: np.ndarray, bank: tuple[MeanFunction, ...]
) -> tuple[np.ndarray, str]:
    """Two entries with replacement, joined by ``+`` or ``*``."""
    first, second = rng.integers(0, len(bank), 2)
    multiply = bool(rng.integers(0, 2))
    m1, d1 = bank[first](rng, x)
    m2, d2 = bank[second](rng, x)
    if multiply:
        return m1 * m2, f"{d1} * {d2}"
    return m1 + m2, f"{d1} + {d2}"
