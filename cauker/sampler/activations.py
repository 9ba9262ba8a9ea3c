"""Activation banks of the non-root nodes.

An entry is ``f(a, u) -> values`` applied to the pre-activations ``a`` of
several nodes at once (``(nodes, length)``); ``u`` holds two uniform numbers per
node, from which entries with parameters take them (every node gets two,
whatever its activation, so the random stream does not depend on the
activations drawn). Transcendental functions come from
:mod:`cauker.sampler.portable_math`: the same bits on every machine.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from cauker.sampler import portable_math as pm

Activation = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _uniform(u: np.ndarray, low: float, high: float) -> np.ndarray:
    """``U(low, high)`` from ``U(0, 1)``, as ``Generator.uniform`` computes it."""
    return (low + (high - low) * u)[:, None]


def linear(a: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``slope * a + offset``, slope ~ U(0.5, 2), offset ~ U(-1, 1)."""
    return _uniform(u[:, 0], 0.5, 2.0) * a + _uniform(u[:, 1], -1.0, 1.0)


def relu(a: np.ndarray, u: np.ndarray) -> np.ndarray:
    return np.where(a > 0.0, a, 0.0)


def sigmoid(a: np.ndarray, u: np.ndarray) -> np.ndarray:
    return pm.sigmoid(a)


def sin(a: np.ndarray, u: np.ndarray) -> np.ndarray:
    return pm.sin(a)


def mod(a: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``a mod c``, c ~ U(1, 5)."""
    return np.mod(a, _uniform(u[:, 0], 1.0, 5.0))


def leaky_relu(a: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``a`` if positive, else ``slope * a``, slope ~ U(0.01, 0.3)."""
    return np.where(a > 0.0, a, _uniform(u[:, 0], 0.01, 0.3) * a)


def tanh(a: np.ndarray, u: np.ndarray) -> np.ndarray:
    return pm.tanh(a)


def softplus(a: np.ndarray, u: np.ndarray) -> np.ndarray:
    return pm.softplus(a)


def swish(a: np.ndarray, u: np.ndarray) -> np.ndarray:
    return a * pm.sigmoid(a)


def gaussian(a: np.ndarray, u: np.ndarray) -> np.ndarray:
    return pm.exp(-(a * a))


ACTIVATIONS: dict[str, Activation] = {
    f.__name__: f
    for f in (linear, relu, sigmoid, sin, mod, leaky_relu, tanh, softplus, swish, gaussian)
}

ACTIVATION_BANKS: dict[str, tuple[str, ...]] = {
    "paper": ("linear", "relu", "sigmoid", "sin", "mod", "leaky_relu"),
    "v2": ("sigmoid", "sin", "mod", "tanh", "softplus", "swish", "gaussian"),
}


def activation_bank(bank: str | tuple[str, ...]) -> tuple[tuple[str, Activation], ...]:
    names = ACTIVATION_BANKS[bank] if isinstance(bank, str) else bank
    return tuple((name, ACTIVATIONS[name]) for name in names)
