"""Activation banks of the non-root nodes.

An entry is ``f(rng, a) -> values``: it draws its own parameters (if any) and
applies itself to the pre-activation ``a``. Each call works on one contiguous
array of one node, so the same input always takes the same numpy code path.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Activation = Callable[[np.random.Generator, np.ndarray], np.ndarray]


def linear(rng: np.random.Generator, a: np.ndarray) -> np.ndarray:
    slope = rng.uniform(0.5, 2.0)
    offset = rng.uniform(-1.0, 1.0)
    return slope * a + offset


def relu(rng: np.random.Generator, a: np.ndarray) -> np.ndarray:
    return np.maximum(a, 0.0)


def sigmoid(rng: np.random.Generator, a: np.ndarray) -> np.ndarray:
    from scipy.special import expit  # here: importing scipy.special costs 0.4 s at start-up

    return expit(a)


def sin(rng: np.random.Generator, a: np.ndarray) -> np.ndarray:
    return np.sin(a)


def mod(rng: np.random.Generator, a: np.ndarray) -> np.ndarray:
    return np.mod(a, rng.uniform(1.0, 5.0))


def leaky_relu(rng: np.random.Generator, a: np.ndarray) -> np.ndarray:
    slope = rng.uniform(0.01, 0.3)
    return np.where(a > 0.0, a, slope * a)


def tanh(rng: np.random.Generator, a: np.ndarray) -> np.ndarray:
    return np.tanh(a)


def softplus(rng: np.random.Generator, a: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, a)


def swish(rng: np.random.Generator, a: np.ndarray) -> np.ndarray:
    from scipy.special import expit

    return a * expit(a)


def gaussian(rng: np.random.Generator, a: np.ndarray) -> np.ndarray:
    return np.exp(-np.square(a))


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
