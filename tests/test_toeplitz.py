"""The batched Schur factorisation: exact, never failing, independent of the batch."""

import numpy as np
import pytest
from scipy.linalg import toeplitz
from sklearn.gaussian_process.kernels import RBF, ExpSineSquared, Matern, RationalQuadratic

from cauker.sampler import toeplitz as tz
from cauker.sampler.toeplitz import DENSE, toeplitz_draws


def columns(length):
    x = np.linspace(0, 1, length)[:, None]
    kernels = [
        ExpSineSquared(periodicity=24 / length),
        ExpSineSquared(periodicity=7 / length),
        RBF(0.1),
        RationalQuadratic(alpha=0.1),
        Matern(length_scale=1 / length, nu=0.5),
    ]
    cols = np.array([k(x, x[:1])[:, 0] for k in kernels])
    # singular products (periodic x smooth) and a well-conditioned one (Matern)
    return np.array(
        [cols[0] * cols[1] * cols[2], cols[0] * cols[3], cols[2], cols[4], cols[1] * cols[4]]
    )


def factor_rows(column):
    """R with T = R^T R, read off by drawing with identity normals."""
    n = len(column)
    rows, jitter = toeplitz_draws(column[None], np.eye(n), np.zeros(n, dtype=int))
    return rows, jitter[0]


@pytest.mark.parametrize("length", [128, 512])
def test_factor_reproduces_the_matrix(length):
    for column in columns(length):
        rows, jitter = factor_rows(column)
        err = np.abs(rows.T @ rows - toeplitz(column)).max() / column[0]
        assert err < 1e-10, (err, jitter)
        assert np.allclose(np.tril(rows, -1), 0)  # upper triangular


def test_draws_do_not_depend_on_the_batch():
    length = 256
    cols = columns(length)
    rng = np.random.default_rng(0)
    normals = rng.standard_normal((len(cols), length))
    together, _ = toeplitz_draws(cols, normals)
    for b in range(len(cols)):
        alone, _ = toeplitz_draws(cols[b : b + 1], normals[b : b + 1])
        assert alone.tobytes() == together[b].tobytes()
    # extra draws of one matrix (the owner map) give the same bytes as a lone draw
    owner = np.array([0, 1, 2, 3, 4, 2, 2])
    more = np.concatenate([normals, normals[2:3], normals[2:3]])
    drawn, _ = toeplitz_draws(cols, more, owner)
    assert drawn[5].tobytes() == together[2].tobytes() == drawn[6].tobytes()


def test_breakdown_falls_back_to_a_dense_factor(monkeypatch):
    """With no jitter the Schur sweep breaks down on a singular matrix; the dense
    pivoted Cholesky takes over and the draws keep the right covariance."""
    monkeypatch.setattr(tz, "JITTERS", (0.0,))
    length = 256
    column = columns(length)[2]  # RBF(0.1): numerical rank about 30
    rows, jitter = factor_rows(column)
    assert jitter == DENSE
    assert np.abs(rows.T @ rows - toeplitz(column)).max() / column[0] < 1e-10


def test_jitter_is_reported_and_bounded():
    length = 512
    _, jitter = toeplitz_draws(columns(length), np.zeros((5, length)))
    assert set(jitter) <= set(tz.JITTERS)
    assert jitter.max() <= 1e-10
