"""Kernels evaluated on the grid with the same bits on every machine.

The sampler needs, for each bank kernel, either the first column of its
Toeplitz matrix (stationary kernels on the regular grid ``linspace(0, 1, L)``)
or its dense matrix (anything else). scikit-learn computes these with numpy's
CPU-specific ``exp``/``sin`` (and BLAS for dot products), so the last bits can
differ between machines, and a last bit can change a pivot or a rank of the
factor built from them. Here the formulas of scikit-learn's own kernels are
evaluated with :mod:`cauker.sampler.portable_math` and element-wise IEEE operations
only, for the kernel classes below and any sum, product or integer power of them:

- ``ExpSineSquared``, ``RBF``, ``RationalQuadratic``, ``Matern`` with
  ``nu`` in 0.5, 1.5, 2.5, inf (stationary: a Toeplitz column);
- ``DotProduct``, ``ConstantKernel``, ``WhiteKernel``, ``Sum``, ``Product``,
  ``Exponentiation`` (dense).

Any other kernel (another ``nu``, a kernel of your own) is evaluated by
scikit-learn itself, so its bits may depend on the CPU; the documentation says so.
The values agree with scikit-learn's to about 1e-15 (tests compare them).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from cauker.errors import ParameterError
from cauker.sampler import portable_math as pm
from cauker.sampler.kernels import KernelSpec, spec_of

#: Matern smoothness values with a closed form (scikit-learn's own list).
_MATERN_CLOSED_FORMS = (0.5, 1.5, 2.5, math.inf)
_STATIONARY = ("ExpSineSquared", "RBF", "RationalQuadratic", "Matern")


def toeplitz(column: np.ndarray) -> np.ndarray:
    """The symmetric Toeplitz matrix with first column ``column``."""
    index = np.arange(column.size)
    return column[np.abs(index[:, None] - index[None, :])]


def is_portable_stationary(spec: KernelSpec | None) -> bool:
    """A stationary kernel whose column this module computes itself."""
    if spec is None or spec.kind not in _STATIONARY:
        return False
    return spec.kind != "Matern" or spec.get("nu") in _MATERN_CLOSED_FORMS


def stationary_column(spec: KernelSpec, x: np.ndarray) -> np.ndarray:
    """``kernel(x, x[:1])[:, 0]``: the first Toeplitz column on the regular grid ``x``."""
    d = x - x[0]  # distances to the first point (x[0] = 0 on our grid)
    length = spec.get("length_scale")
    if spec.kind == "ExpSineSquared":
        s = pm.sin(np.pi * d / spec.get("periodicity")) / length
        return pm.exp(-2.0 * (s * s))
    if spec.kind == "RBF":
        z = d / length
        return pm.exp(-0.5 * (z * z))
    if spec.kind == "RationalQuadratic":
        alpha = spec.get("alpha")
        base = (d * d) / (2.0 * alpha * length * length)
        return pm.exp(-alpha * pm.log1p(base))
    if spec.kind == "Matern" and is_portable_stationary(spec):
        z = d / length
        nu = spec.get("nu")
        if nu == 0.5:
            return pm.exp(-z)
        if nu == 1.5:
            z = z * math.sqrt(3.0)
            return (1.0 + z) * pm.exp(-z)
        if nu == 2.5:
            z = z * math.sqrt(5.0)
            return (1.0 + z + (z * z) / 3.0) * pm.exp(-z)
        return pm.exp(-0.5 * (z * z))
    raise ParameterError(f"no portable column for {spec}")


def _leaf_matrix(spec: KernelSpec, x: np.ndarray) -> np.ndarray | None:
    if is_portable_stationary(spec):
        return toeplitz(stationary_column(spec, x))
    if spec.kind == "ConstantKernel":
        return np.full((x.size, x.size), spec.get("constant_value"))
    if spec.kind == "DotProduct":
        sigma = spec.get("sigma_0")
        return x[:, None] * x[None, :] + sigma * sigma
    if spec.kind == "WhiteKernel":
        return np.diag(np.full(x.size, spec.get("noise_level")))
    return None


def dense_matrix(kernel: Any, x: np.ndarray) -> np.ndarray:
    """``kernel(x[:, None])``, portable for the kernel classes listed in the module docstring."""
    leaf = spec_of(kernel)
    if leaf is not None:
        matrix = _leaf_matrix(leaf, x)
        if matrix is not None:
            return matrix
    kind = type(kernel).__name__
    if kind == "Sum":
        return dense_matrix(kernel.k1, x) + dense_matrix(kernel.k2, x)
    if kind == "Product":
        return dense_matrix(kernel.k1, x) * dense_matrix(kernel.k2, x)
    if kind == "Exponentiation" and _integer_power(kernel):
        base = dense_matrix(kernel.kernel, x)
        out = base
        for _ in range(int(kernel.exponent) - 1):  # repeated products, in order
            out = out * base
        return out
    return np.asarray(kernel(x[:, None]), dtype=np.float64)  # scikit-learn's own bits


def _integer_power(kernel: Any) -> bool:
    exponent = float(kernel.exponent)
    return exponent.is_integer() and exponent >= 1
