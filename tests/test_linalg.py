"""Linear algebra without BLAS: exact factors, and sums in one fixed order."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import toeplitz

from cauker.sampler import linalg
from cauker.sampler.kernel_columns import stationary_column
from cauker.sampler.kernels import paper_bank


def test_einsum_rounds_every_product_on_this_build():
    """On x86 numpy compiles einsum without fused multiply-add; elsewhere the loop
    fallback gives the same bits, which the next test checks either way."""
    assert isinstance(linalg.einsum_is_sequential(), bool)


@pytest.mark.parametrize("shape", [(1, 1, 5), (3, 7, 33), (64, 30, 512), (2, 500, 64)])
def test_combine_and_rowwise_dot_equal_the_explicit_loops(shape):
    d, j, n = shape
    rng = np.random.default_rng(sum(shape))
    coeffs = rng.standard_normal((d, j)) * 10.0 ** rng.integers(-8, 8, (d, j))
    rows = rng.standard_normal((j, n))
    assert np.array_equal(linalg.combine(coeffs, rows), linalg._combine_loop(coeffs, rows))
    a = rng.standard_normal((j, n)) * 10.0 ** rng.integers(-8, 8, (j, 1))
    assert np.array_equal(linalg.rowwise_dot(a, rows), linalg._rowwise_dot_loop(a, rows))


def test_combine_rows_do_not_depend_on_the_batch():
    rng = np.random.default_rng(0)
    coeffs, rows = rng.standard_normal((40, 25)), rng.standard_normal((25, 300))
    together = linalg.combine(coeffs, rows)
    for d in (0, 17, 39):
        assert np.array_equal(linalg.combine(coeffs[d : d + 1], rows)[0], together[d])


@pytest.mark.parametrize("length", [64, 512])
def test_pivoted_cholesky_is_exact_for_every_stationary_bank_kernel(length):
    x = np.linspace(0, 1, length)
    for entry in paper_bank(length):
        if entry.name.split("(")[0] in ("DotProduct", "WhiteKernel", "ConstantKernel"):
            continue
        column = stationary_column(entry.spec, x)
        rows = linalg.pivoted_cholesky(
            linalg.toeplitz_column_getter(column), np.full(length, column[0])
        )
        # LAPACK's stopping rule (residual <= n eps max(diag)), plus rounding
        error = np.abs(rows.T @ rows - toeplitz(column)).max() / column[0]
        assert error <= 4 * length * np.finfo(float).eps, (entry.name, error)
        if length == 512:
            assert rows.shape[0] <= 40  # low rank: the point of the factor


def test_pivoted_cholesky_of_a_singular_and_a_zero_matrix():
    rng = np.random.default_rng(3)
    f = rng.standard_normal((50, 4))
    matrix = f @ f.T  # rank 4
    rows = linalg.pivoted_cholesky(lambda p: matrix[:, p], np.diag(matrix))
    assert rows.shape[0] == 4
    np.testing.assert_allclose(rows.T @ rows, matrix, atol=1e-12 * np.abs(matrix).max())
    assert linalg.pivoted_cholesky(lambda p: np.zeros(5), np.zeros(5)).shape == (0, 5)


def test_khatri_rao_is_a_factor_of_the_elementwise_product():
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((20, 3)), rng.standard_normal((20, 5))
    kr = linalg.khatri_rao([a, b])
    np.testing.assert_allclose(kr @ kr.T, (a @ a.T) * (b @ b.T), rtol=1e-12, atol=1e-12)
