"""Activation banks of the non-root nodes.

An entry is ``f(a, p) -> values`` applied to the pre-activations ``a`` of
several nodes at once (``(nodes, length)``), with ``p`` their parameters
(``(nodes, 2)``, :func:`parameters`). Every node draws two uniform numbers,
whatever its activation, so the random stream does not depend on the
activations drawn; the entries with parameters take them from these.
Transcendental functions come from :mod:`cauker.sampler.portable_math`: the
same bits on every machine.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from cauker.banks import ACTIVATION_BANKS
from cauker.sampler import portable_math as pm

Activation = Callable[[np.ndarray, np.ndarray], np.ndarray]


#: The parameters of the entries that have them, each ``U(low, high)``: the
#: first from ``u[:, 0]``, the second from ``u[:, 1]``.
PARAMETER_RANGES: dict[str, tuple[tuple[float, float], ...]] = {
    "linear": ((0.5, 2.0), (-1.0, 1.0)),  # slope, offset
    "mod": ((1.0, 5.0),),  # modulus
    "leaky_relu": ((0.01, 0.3),),  # slope below 0
}


def parameters(bank: tuple, kinds: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``(nodes, 2)``: the parameters of each node's entry ``bank[kinds[k]]`` from its
    two uniforms ``u[k]``, as ``Generator.uniform`` computes them, ``low + (high -
    low) * u`` (0 for the parameters an entry does not have)."""
    low, span = np.zeros((len(bank), 2)), np.zeros((len(bank), 2))
    for k, (name, _) in enumerate(bank):
        for i, (a, b) in enumerate(PARAMETER_RANGES.get(name, ())):
            low[k, i], span[k, i] = a, b - a
    return low[kinds] + span[kinds] * u


def linear(a: np.ndarray, p: np.ndarray) -> np.ndarray:
    """``slope * a + offset``, slope ~ U(0.5, 2), offset ~ U(-1, 1)."""
    return p[:, :1] * a + p[:, 1:]


def relu(a: np.ndarray, p: np.ndarray) -> np.ndarray:
    return np.where(a > 0.0, a, 0.0)


def sigmoid(a: np.ndarray, p: np.ndarray) -> np.ndarray:
    return pm.sigmoid(a)


def sin(a: np.ndarray, p: np.ndarray) -> np.ndarray:
    return pm.sin(a)


def mod(a: np.ndarray, p: np.ndarray) -> np.ndarray:
    """``a mod c``, c ~ U(1, 5)."""
    return np.mod(a, p[:, :1])


def leaky_relu(a: np.ndarray, p: np.ndarray) -> np.ndarray:
    """``a`` if positive, else ``slope * a``, slope ~ U(0.01, 0.3)."""
    return np.where(a > 0.0, a, p[:, :1] * a)


def tanh(a: np.ndarray, p: np.ndarray) -> np.ndarray:
    return pm.tanh(a)


def softplus(a: np.ndarray, p: np.ndarray) -> np.ndarray:
    return pm.softplus(a)


def swish(a: np.ndarray, p: np.ndarray) -> np.ndarray:
    return a * pm.sigmoid(a)


def gaussian(a: np.ndarray, p: np.ndarray) -> np.ndarray:
    return pm.exp(-(a * a))


#: Each activation by name, in the order of ``cauker.banks.ACTIVATIONS``.
FUNCTIONS: dict[str, Activation] = {
    f.__name__: f
    for f in (linear, relu, sigmoid, sin, mod, leaky_relu, tanh, softplus, swish, gaussian)
}


def activation_bank(bank: str | tuple[str, ...]) -> tuple[tuple[str, Activation], ...]:
    names = ACTIVATION_BANKS[bank] if isinstance(bank, str) else bank
    return tuple((name, FUNCTIONS[name]) for name in names)
