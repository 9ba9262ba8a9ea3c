"""The GP roots are exact: their covariance is scikit-learn's ``kernel(X)``."""

import functools
import operator

import numpy as np
import pytest
from sklearn.gaussian_process.kernels import (
    RBF,
    ConstantKernel,
    DotProduct,
    ExpSineSquared,
    WhiteKernel,
)

from cauker.sampler.gp import GaussianProcessSampler, expand
from cauker.sampler.kernels import kernel_bank, paper_bank, v2_bank

OPS = {0: operator.add, 1: operator.mul}


def folded_kernel(bank, ids, ops):
    """The scikit-learn kernel of a left fold, built the obvious way."""
    return functools.reduce(
        lambda k, step: OPS[step[1]](k, bank[step[0]].kernel),
        zip(ids[1:], ops),
        bank[ids[0]].kernel,
    )


def relative_error(a, b):
    return np.abs(a - b).max() / np.abs(np.diag(b)).max()


def sklearn_matrix(kernel, length):
    x = np.linspace(0, 1, length)[:, None]
    return kernel(x)


@pytest.mark.parametrize("bank_fn", [paper_bank, v2_bank])
def test_every_bank_kernel_implied_covariance_is_exact(bank_fn):
    length = 256
    bank = bank_fn(length)
    gp = GaussianProcessSampler(bank, length)
    for i, entry in enumerate(bank):
        implied = gp.implied_covariance(np.array([i]), np.array([], dtype=int))
        err = relative_error(implied, sklearn_matrix(entry.kernel, length))
        assert err < 1e-10, (entry.name, err)


def test_random_compositions_implied_covariance_is_exact():
    """Folds of up to 7 kernels, with DotProduct, Constant and White inside products,
    covering every drawing method (factor, Khatri-Rao, Schur, white, polynomial)."""
    length = 128
    bank = paper_bank(length)
    gp = GaussianProcessSampler(bank, length)
    rng = np.random.default_rng(7)
    non_stationary = {"DotProduct", "WhiteKernel", "ConstantKernel"}
    special = [i for i, e in enumerate(bank) if e.name.split("(")[0] in non_stationary]
    used = set()
    for trial in range(150):
        k = int(rng.integers(2, 8))
        ids = rng.integers(0, len(bank), k)
        ids[rng.integers(0, k)] = rng.choice(special)  # always one non-stationary factor
        ops = rng.integers(0, 2, k - 1)
        if trial % 3 == 0:
            ops[:] = 1  # one long product: Schur or Khatri-Rao
        implied = gp.implied_covariance(ids, ops)
        expected = sklearn_matrix(folded_kernel(bank, ids, ops), length)
        assert relative_error(implied, expected) < 1e-10, (ids, ops)
        used.update(gp.plan(t).method for t in expand(ids, ops))
    assert {"factor", "khatri_rao", "schur", "white", "polynomial"} <= used, used


def test_custom_bank_with_opaque_kernels_is_exact():
    length = 64
    custom = [RBF(0.3) + WhiteKernel(0.5), DotProduct(1.0) ** 2, ExpSineSquared(periodicity=0.2)]
    bank = kernel_bank(tuple(custom), length)
    gp = GaussianProcessSampler(bank, length)
    for ids, ops in [([0], []), ([1, 2], [1]), ([0, 1, 2], [1, 0]), ([2, 1, 0], [1, 1])]:
        ids, ops = np.array(ids), np.array(ops, dtype=int)
        expected = sklearn_matrix(folded_kernel(bank, ids, ops), length)
        assert relative_error(gp.implied_covariance(ids, ops), expected) < 1e-10


def empirical_check(draws, expected, z_max=5.5):
    """Every entry of the empirical covariance within z_max standard errors.

    For zero-mean Gaussian draws, Var(mean of z_i z_j) = (K_ii K_jj + K_ij^2) / n.
    With a few hundred entries, z_max = 5.5 keeps the false alarm rate below 1e-5.
    """
    n = len(draws)
    empirical = draws.T @ draws / n
    d = np.diag(expected)
    se = np.sqrt((np.outer(d, d) + expected**2) / n) + 1e-300
    z = np.abs(empirical - expected) / se
    assert z.max() < z_max, (z.max(), np.unravel_index(z.argmax(), z.shape))


def draw_many(gp, ids, ops, n, seed):
    """``n`` independent draws of the fold, all terms drawn in one batch."""
    rng = np.random.default_rng(seed)
    plans = gp.root_plans(ids, ops) * n
    values = gp.draw(plans, [rng.standard_normal(gp.normals_shape(p)) for p in plans])
    terms = len(plans) // n
    return np.array([sum(values[d * terms : (d + 1) * terms]) for d in range(n)])


@pytest.mark.parametrize("bank_fn", [paper_bank, v2_bank])
def test_every_bank_kernel_empirical_covariance(bank_fn):
    length, n = 24, 3000
    bank = bank_fn(length)
    gp = GaussianProcessSampler(bank, length)
    for i, entry in enumerate(bank):
        draws = draw_many(gp, np.array([i]), np.array([], dtype=int), n, seed=i)
        empirical_check(draws, sklearn_matrix(entry.kernel, length))


def test_composition_empirical_covariance():
    """Products with DotProduct, Constant and White inside, through every method."""
    length, n = 24, 4000
    bank = paper_bank(length)
    gp = GaussianProcessSampler(bank, length)
    names = [e.name for e in bank]
    cases = [
        (["ExpSineSquared(p=730/24)", "DotProduct(1)", "RBF(10)"], [1, 1], "khatri_rao"),
        (
            ["ExpSineSquared(p=7/24)", "ExpSineSquared(p=730/24)", "RationalQuadratic(alpha=0.1)"],
            [1, 1],
            "schur",
        ),
        (["RBF(1)", "WhiteKernel(0.1)", "ConstantKernel(1)", "DotProduct(10)"], [0, 1, 1], "white"),
        (["DotProduct(0)", "DotProduct(1)", "ConstantKernel(1)"], [1, 0], "polynomial"),
    ]
    for case, (kernels, ops, method) in enumerate(cases):
        ids = np.array([names.index(k) for k in kernels])
        ops = np.array(ops)
        assert method in {gp.plan(t).method for t in expand(ids, ops)}
        expected = sklearn_matrix(folded_kernel(bank, ids, ops), length)
        empirical_check(draw_many(gp, ids, ops, n, seed=100 + case), expected)


def test_empirical_check_detects_a_wrong_covariance():
    """The statistical check is not vacuous: 25% too much variance fails it."""
    length, n = 24, 4000
    bank = paper_bank(length)
    gp = GaussianProcessSampler(bank, length)
    draws = draw_many(gp, np.array([22]), np.array([], dtype=int), n, seed=1)  # RBF(0.1)
    with pytest.raises(AssertionError):
        empirical_check(draws * np.sqrt(1.25), sklearn_matrix(bank[22].kernel, length))


def test_expand_distributes_products_over_sums():
    assert expand(np.array([1, 2, 3, 4]), np.array([0, 1, 0])) == [(1, 3), (2, 3), (4,)]
    assert expand(np.array([5, 1, 2]), np.array([1, 1])) == [(1, 2, 5)]


def test_constant_kernel_bank_entry_is_rank_one():
    gp = GaussianProcessSampler(kernel_bank((ConstantKernel(2.0),), 16), 16)
    implied = gp.implied_covariance(np.array([0]), np.array([], dtype=int))
    np.testing.assert_allclose(implied, np.full((16, 16), 2.0), rtol=1e-12)


def test_cached_plans_share_their_arrays():
    """Plans refer to arrays shared by many (factors, polynomial scales, white
    scales), so the cache can hold tens of thousands within its budget: a Schur
    plan keeps its components, not the product of their columns."""
    from cauker.sampler.gp import PLAN_CACHE_BYTES, PLAN_OVERHEAD

    length = 256
    gp = GaussianProcessSampler(paper_bank(length), length)
    assert gp.plan.cache_parameters()["maxsize"] == PLAN_CACHE_BYTES // PLAN_OVERHEAD
    rng = np.random.default_rng(5)
    plans = []
    for _ in range(3000):
        ids = rng.integers(0, len(gp.components), rng.integers(1, 6))
        ops = rng.integers(0, 2, ids.size - 1)
        plans += gp.root_plans(ids, ops)
    methods = {p.method for p in plans}
    assert {"schur", "white", "khatri_rao"} <= methods
    arrays = {
        id(a) for p in plans for a in (p.scales, p.rows, *p.others) if isinstance(a, np.ndarray)
    }
    distinct = len({id(p) for p in plans})
    assert distinct > 1000
    assert len(arrays) < distinct / 10, (len(arrays), distinct)
    assert not any(hasattr(p, "column") for p in plans)
