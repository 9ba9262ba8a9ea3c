"""Kernel values computed with portable arithmetic agree with scikit-learn's."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.gaussian_process.kernels import (
    RBF,
    ConstantKernel,
    DotProduct,
    ExpSineSquared,
    Matern,
    RationalQuadratic,
    WhiteKernel,
)

from cauker.sampler.kernel_columns import (
    _integer_power,
    dense_matrix,
    is_portable_stationary,
    stationary_column,
)
from cauker.sampler.kernels import paper_bank, spec, spec_of, v2_bank

X = np.linspace(0, 1, 300)


def is_portable(kernel) -> bool:
    """Whether ``dense_matrix`` computes ``kernel`` without scikit-learn's arithmetic."""
    leaf = spec_of(kernel)
    if leaf is not None:
        return leaf.kind != "Matern" or is_portable_stationary(leaf)
    kind = type(kernel).__name__
    if kind in ("Sum", "Product"):
        return is_portable(kernel.k1) and is_portable(kernel.k2)
    if kind == "Exponentiation":
        return _integer_power(kernel) and is_portable(kernel.kernel)
    return False


def sklearn_matrix(kernel):
    return kernel(X[:, None])


@pytest.mark.parametrize("bank", [paper_bank, v2_bank])
def test_every_stationary_bank_kernel_matches_scikit_learn(bank):
    for entry in bank(X.size):
        if not is_portable(entry.kernel) or type(entry.kernel) in (
            DotProduct,
            ConstantKernel,
            WhiteKernel,
        ):
            continue
        expected = sklearn_matrix(entry.kernel)[:, 0]
        np.testing.assert_allclose(stationary_column(entry.spec, X), expected, rtol=0, atol=1e-14)


@pytest.mark.parametrize(
    "kernel",
    [
        RBF(0.3) + WhiteKernel(0.5),
        DotProduct(1.0) ** 2,
        ExpSineSquared(periodicity=0.2) * RationalQuadratic(alpha=2.0, length_scale=0.5),
        ConstantKernel(2.0) * Matern(length_scale=0.1, nu=2.5) + Matern(nu=np.inf),
        Matern(length_scale=0.3, nu=1.5) * DotProduct(0.5),
    ],
)
def test_composite_kernels_match_scikit_learn_and_are_portable(kernel):
    assert is_portable(kernel)
    np.testing.assert_allclose(
        dense_matrix(kernel, X), sklearn_matrix(kernel), rtol=1e-13, atol=1e-13
    )


def test_other_kernels_fall_back_to_scikit_learn():
    kernel = Matern(length_scale=0.2, nu=0.8)  # Bessel functions: no closed form
    assert not is_portable(kernel)
    np.testing.assert_array_equal(dense_matrix(kernel, X), sklearn_matrix(kernel))


def test_specs_of_scikit_learn_kernels():
    assert spec_of(RBF(0.3)) == spec("RBF", length_scale=0.3)
    assert spec_of(ExpSineSquared(periodicity=0.2)).get("length_scale") == 1.0
    assert spec_of(spec("RBF").to_sklearn()) == spec("RBF", length_scale=1.0)
    assert spec_of(RBF(length_scale=[1.0, 2.0])) is None  # anisotropic: not a grid kernel
    assert spec_of(RBF(0.3) + WhiteKernel(0.5)) is None  # composite: evaluated densely
