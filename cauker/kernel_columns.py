"""scikit-learn kernels evaluated on the grid with the same bits on every machine.

The sampler needs, for each bank kernel, either the first column of its
Toeplitz matrix (stationary kernels on the regular grid ``linspace(0, 1, L)``)
or its dense matrix (anything else). scikit-learn computes these with numpy's
CPU-specific ``exp``/``sin`` (and BLAS for dot products), so the last bits can
differ between machines, and a last bit can change a pivot or a rank of the
factor built from them. Here the formulas of scikit-learn's own kernels are
evaluated with :mod:`cauker.portable_math` and element-wise IEEE operations
only, for the kernel types below and any sum, product or integer power of them:

- ``ExpSineSquared``, ``RBF``, ``RationalQuadratic``, ``Matern`` with
  ``nu`` in 0.5, 1.5, 2.5, inf (stationary: a Toeplitz column);
- ``DotProduct``, ``ConstantKernel``, ``WhiteKernel``, ``Sum``, ``Product``,
  ``Exponentiation`` (dense).

Any other kernel (another ``nu``, a kernel of your own) is evaluated by
scikit-learn itself, so its bits may depend on the CPU; the README says so.
The values agree with scikit-learn's to about 1e-15 (tests compare them).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.linalg import toeplitz
from sklearn.gaussian_process.kernels import (
    RBF,
    ConstantKernel,
    DotProduct,
    Exponentiation,
    ExpSineSquared,
    Kernel,
    Matern,
    Product,
    RationalQuadratic,
    Sum,
    WhiteKernel,
)

from cauker import portable_math as pm

#: Matern smoothness values with a closed form (scikit-learn's own list).
_MATERN_CLOSED_FORMS = (0.5, 1.5, 2.5, math.inf)


def _scalar(value, name: str, kernel: Kernel) -> float:
    array = np.asarray(value, dtype=np.float64)
    if array.size != 1:
        raise ValueError(
            f"kernel {kernel!r} has a {name} of {array.size} values; the grid is "
            "one-dimensional, so only a single value is allowed"
        )
    return float(array.reshape(-1)[0])


def is_portable_stationary(kernel: Kernel) -> bool:
    """A stationary kernel whose column this module computes itself."""
    if type(kernel) is Matern:
        return float(kernel.nu) in _MATERN_CLOSED_FORMS
    return type(kernel) in (ExpSineSquared, RBF, RationalQuadratic)


def stationary_column(kernel: Kernel, x: np.ndarray) -> np.ndarray:
    """``kernel(x, x[:1])[:, 0]``: the first Toeplitz column on the regular grid ``x``."""
    d = x - x[0]  # distances to the first point (x[0] = 0 on our grid)
    kind = type(kernel)
    if kind is ExpSineSquared:
        length = _scalar(kernel.length_scale, "length_scale", kernel)
        period = _scalar(kernel.periodicity, "periodicity", kernel)
        s = pm.sin(np.pi * d / period) / length
        return pm.exp(-2.0 * (s * s))
    if kind is RBF:
        z = d / _scalar(kernel.length_scale, "length_scale", kernel)
        return pm.exp(-0.5 * (z * z))
    if kind is RationalQuadratic:
        length = _scalar(kernel.length_scale, "length_scale", kernel)
        alpha = float(kernel.alpha)
        base = (d * d) / (2.0 * alpha * length * length)
        return pm.exp(-alpha * pm.log1p(base))
    if kind is Matern:
        z = d / _scalar(kernel.length_scale, "length_scale", kernel)
        nu = float(kernel.nu)
        if nu == 0.5:
            return pm.exp(-z)
        if nu == 1.5:
            z = z * math.sqrt(3.0)
            return (1.0 + z) * pm.exp(-z)
        if nu == 2.5:
            z = z * math.sqrt(5.0)
            return (1.0 + z + (z * z) / 3.0) * pm.exp(-z)
        return pm.exp(-0.5 * (z * z))
    raise TypeError(f"no portable column for {kernel!r}")


def dense_matrix(kernel: Kernel, x: np.ndarray) -> np.ndarray:
    """``kernel(x[:, None])``, portable for the kernel types listed in the module docstring."""
    kind = type(kernel)
    if is_portable_stationary(kernel):
        return toeplitz(stationary_column(kernel, x))
    if kind is ConstantKernel:
        return np.full((x.size, x.size), float(kernel.constant_value))
    if kind is DotProduct:
        sigma = _scalar(kernel.sigma_0, "sigma_0", kernel)
        return x[:, None] * x[None, :] + sigma * sigma
    if kind is WhiteKernel:
        return np.diag(np.full(x.size, float(kernel.noise_level)))
    if kind is Sum:
        return dense_matrix(kernel.k1, x) + dense_matrix(kernel.k2, x)
    if kind is Product:
        return dense_matrix(kernel.k1, x) * dense_matrix(kernel.k2, x)
    if kind is Exponentiation and float(kernel.exponent).is_integer() and kernel.exponent >= 1:
        base = dense_matrix(kernel.kernel, x)
        out = base
        for _ in range(int(kernel.exponent) - 1):  # repeated products, in order
            out = out * base
        return out
    return np.asarray(kernel(x[:, None]), dtype=np.float64)  # scikit-learn's own bits


def is_portable(kernel: Kernel) -> bool:
    """Whether :func:`dense_matrix` computes ``kernel`` without scikit-learn's arithmetic."""
    kind = type(kernel)
    if is_portable_stationary(kernel) or kind in (ConstantKernel, DotProduct, WhiteKernel):
        return True
    if kind in (Sum, Product):
        return is_portable(kernel.k1) and is_portable(kernel.k2)
    if kind is Exponentiation:
        exponent = float(kernel.exponent)
        return exponent.is_integer() and exponent >= 1 and is_portable(kernel.kernel)
    return False
