"""The compiled loops (numba) give the bits of numpy's (cauker.sampler.loops), their
reference, on edge cases, random inputs and whole corpora."""

from __future__ import annotations

import numpy as np
import pytest

import cauker
from cauker.banks import ACTIVATIONS
from cauker.sampler import linalg, loops
from cauker.sampler.activations import activation_bank
from cauker.sampler.backend import Backend
from cauker.sampler.gp import GaussianProcessSampler
from cauker.sampler.kernels import paper_bank
from cauker.sampler.means import EXPONENTIAL, MAX_SPIKES, MeanDraws, compute_means, mean_bank
from cauker.sampler.scm import Sampler
from cauker.sampler.toeplitz import RESCALE

compiled = pytest.importorskip("cauker.sampler.compiled")


def sampler(length):
    gp = GaussianProcessSampler(paper_bank(length), length)
    return gp, [i for i, c in enumerate(gp.components) if c.kind == "stationary"]


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and np.array_equal(a.view(np.int64), b.view(np.int64))


@pytest.mark.parametrize("jitter", [1e-12, 0.0])  # 0.0: many matrices break down
def test_schur_pass_is_bit_for_bit_numpys(jitter):
    gp, stationary = sampler(128)
    rng = np.random.default_rng(0)
    columns = np.stack([gp._column(list(rng.choice(stationary, 3))) for _ in range(40)])
    owner = np.concatenate([np.arange(40), [3, 3, 17]])  # extra draws of two matrices
    normals = rng.standard_normal((owner.size, 128))
    expected, held = loops.schur_pass(columns, normals, owner, jitter, RESCALE)
    got, got_held = compiled.schur_pass(columns, normals, owner, jitter, RESCALE)
    assert np.array_equal(held, got_held)
    assert (jitter == 0.0) == (not held.all())  # the breakdown case is exercised
    rows = np.isin(owner, np.flatnonzero(held))
    assert same_bits(expected[rows], got[rows])


def test_an_exact_breakdown_is_reported_not_raised():
    """An all-ones column breaks down exactly (a division by zero at the first step):
    the compiled sweep reports the matrix as not held, as numpy does, and raises nothing."""
    columns = np.ones((2, 16))
    columns[1] = 0.5 ** np.arange(16)  # a healthy matrix beside it
    normals = np.random.default_rng(2).standard_normal((2, 16))
    owner = np.arange(2)
    expected, held = loops.schur_pass(columns, normals, owner, 0.0, RESCALE)
    got, got_held = compiled.schur_pass(columns, normals, owner, 0.0, RESCALE)
    assert held.tolist() == got_held.tolist() == [False, True]
    assert same_bits(got[1], expected[1])


def test_khatri_rao_draws_are_bit_for_bit_numpys():
    """Draws of one or several powers (the rows of ``normals``), against numpy's loop
    and against the sums written out."""
    gp, stationary = sampler(256)
    rng = np.random.default_rng(1)
    for powers in (1, 1, 2, 3):
        first, rest = (gp.factor(i) for i in rng.choice(stationary, 2))
        normals = rng.standard_normal((powers, len(first) * len(rest)))
        expected = loops.khatri_rao_draws(first, rest, normals)
        assert same_bits(compiled.khatri_rao_draws(first, rest, normals), expected)
        mixing = normals[-1].reshape(len(first), len(rest))
        written_out = linalg.rowwise_dot(first, linalg.combine(mixing, rest))
        assert same_bits(expected[-1], written_out)


def math_inputs() -> np.ndarray:
    """Edge cases (signed zeros, subnormals, inf, nan, the ends of exp's range, the
    switch of expm1, multiples of pi/2, sines beyond 2**28), 50,000 numbers over
    every scale and 10,000 whose exp is subnormal."""
    edges = [0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, -1e-320, 1e-300, 0.5, -1.0]
    edges += [709.78, 709.79, 710.0, 800.0, -708.4, -745.1, -745.2, -746.0, -800.0]
    edges += [40.0, -41.0, 0.34657359027997264, np.nextafter(0.34657359027997264, 1.0)]
    edges += [k * np.pi / 4 for k in range(-8, 9)] + [1e6, 2.0**28 - 1, -(2.0**28 - 1)]
    edges += [-0.9999999, -1.0000001, 1e308, 2.0**28, -(2.0**29) - 3]
    rng = np.random.default_rng(11)
    scales = np.ldexp(1.0, rng.integers(-1074, 1024, 10_000)) * rng.uniform(-1, 1, 10_000)
    return np.concatenate(
        [
            edges,
            rng.standard_normal(10_000) * 3,
            rng.standard_normal(10_000) * 100,
            rng.uniform(-750, 750, 10_000),
            rng.uniform(-(2.0**28), 2.0**28, 10_000),
            scales,
            # exp's subnormal results, where m * 2**e must round once (|r| small)
            rng.uniform(-745.2, -708.3, 10_000),
            np.log(2.0) * np.arange(-1074, -1021) + rng.uniform(-1e-3, 1e-3, 53),
        ]
    )


def test_exponential_rows_are_bit_for_bit_numpys():
    """``1 * exp(1 * x)`` is ``exp(x)`` exactly: the compiled twin of portable_math's
    exp on every input of ``math_inputs``, and rows with other ``a`` and ``b``."""
    x = math_inputs()
    a, b = np.array([1.0, 0.7, -2.5]), np.array([1.0, 1.3, -0.01])
    with np.errstate(all="ignore"):
        expected = loops.exponential_rows(a, b, x)
        got = compiled.exponential_rows(a, b, x)
    assert not np.isfinite(expected[0]).all() and np.isfinite(expected[0]).mean() > 0.5
    assert same_bits(got, expected)


def single_parent_nodes(parents: list[int], kinds: list[int]) -> loops.Nodes:
    """Node ``k`` writes row ``len(parents) + k`` of ``row parents[k] * 1 + 0``, with
    activation ``kinds[k]``."""
    count = len(parents)
    return loops.Nodes(
        row=np.arange(count, 2 * count),
        first_parent=np.arange(count + 1),
        parent_rows=np.array(parents),
        weights=np.ones(count),
        biases=np.zeros(count),
        kinds=np.array(kinds),
        params=np.zeros((count, 2)),
        depth=np.ones(count, dtype=np.int64),
    )


def test_sin_and_sigmoid_are_bit_for_bit_numpys(monkeypatch):
    """The compiled twins of portable_math's sin and sigmoid, through the propagation,
    on every input of ``math_inputs``. A node with a sine beyond 2**28 is handed back
    to numpy whole, so the sines are drawn twice: without those inputs (by the twin)
    and with them (by numpy)."""
    bank = activation_bank(("sin", "sigmoid"))
    x = math_inputs()
    reducible = np.where((np.abs(x) < 2.0**28) | ~np.isfinite(x), x, 0.5)  # nan and inf stay
    nodes = single_parent_nodes([0, 1, 1], [0, 0, 1])  # sin(reducible), sin(x), sigmoid(x)
    expected = np.zeros((6, x.size))
    expected[0], expected[1] = reducible, x
    got = expected.copy()
    handed_back = []
    kernel = compiled.propagate_nodes

    def counted(*args):
        stop = kernel(*args)
        handed_back.append(int(args[1][stop]) if stop < args[1].size else None)
        return stop

    monkeypatch.setattr(compiled, "propagate_nodes", counted)
    with np.errstate(all="ignore"):
        loops.propagate(expected, nodes, bank)
        compiled.propagate(got, nodes, bank)
    assert handed_back == [1, None]  # the sine of x, not that of the reducible inputs
    assert np.isnan(reducible).any() and np.isinf(reducible).any()
    assert np.isfinite(expected[3:]).mean() > 0.9
    assert same_bits(got, expected)


@pytest.mark.parametrize("huge", [False, True])
def test_propagation_is_bit_for_bit_numpys(monkeypatch, huge):
    """Every activation (a bank of all ten: the compiled loop hands those outside the
    paper's bank back to numpy), and roots scaled up so that some sines get
    arguments beyond 2**28, which it also hands back."""
    config = cauker.CauKerConfig(
        num_series=400, length=64, seed=3, activation_bank=tuple(ACTIVATIONS)
    )
    sampler = Sampler(config)
    batch = sampler.plan(0, list(range(100)), dict.fromkeys(range(100), 0), loops)
    if huge:
        with np.errstate(over="ignore"):
            batch.values *= 1e12
    handed_back = []
    kernel = compiled.propagate_nodes

    def counted(*args):
        stop = kernel(*args)
        order, kinds = args[1], args[7]
        if stop < order.size:
            handed_back.append(int(kinds[order[stop]]))
        return stop

    monkeypatch.setattr(compiled, "propagate_nodes", counted)
    values = batch.values.copy()
    expected = sampler.propagate(batch, loops)
    batch.values[:] = values
    got = sampler.propagate(batch, compiled)
    assert handed_back.count(compiled.NUMPY) > 20  # tanh, softplus, swish, gaussian
    assert (handed_back.count(compiled.SIN) > 0) == huge
    assert np.isfinite(expected).mean() > 0.5  # not a comparison of nans
    assert same_bits(got, expected)


def test_means_are_bit_for_bit_numpys():
    """Exponential means (and the other kinds around them) of 5,000 roots, with
    parameters from the paper's ranges and beyond (exp's overflow and underflow)."""
    rng = np.random.default_rng(11)
    count, bank, length = 5000, mean_bank("paper"), 96
    draws = MeanDraws(
        kinds=bank[rng.integers(0, bank.size, (count, 2))],
        multiply=rng.integers(0, 2, count),
        u=rng.random((count, 2, 2)),
        spikes=rng.integers(1, MAX_SPIKES + 1, (count, 2)),
        where=rng.integers(0, length, (count, 2, MAX_SPIKES)),
        heights=rng.uniform(-5.0, 5.0, (count, 2, MAX_SPIKES)),
    )
    draws.u[:100] = rng.uniform(-800.0, 800.0, (100, 2, 2))  # b far outside U(0.5, 1.5)
    x = np.linspace(0.0, 1.0, length)
    with np.errstate(all="ignore"):
        expected = compute_means(draws, x, loops)
        got = compute_means(draws, x, compiled)
    assert (draws.kinds == EXPONENTIAL).sum() > 2000
    assert not np.isfinite(expected.values).all()  # exp overflowed somewhere
    assert same_bits(got.values, expected.values)


@pytest.mark.parametrize(
    "overrides",
    [{}, {"kernel_bank": "v2", "activation_bank": "v2", "dag_depth": 3, "length": 200}],
)
def test_a_job_gives_the_same_bytes_with_either_backend(overrides):
    """The same graphs drawn by a sampler whose backend runs numpy's loops and by one
    whose backend runs the compiled loops."""
    config = cauker.CauKerConfig(**{"num_series": 240, "length": 64, "seed": 5, **overrides})
    by = {}
    for mode in ("numpy", "compiled"):
        sampler = Sampler(config, Backend(mode))
        graphs = sampler.graphs("train", range(60))
        assert sampler.backend.current is (loops if mode == "numpy" else compiled)
        by[mode] = [(g.values.tobytes(), g.kernel, g.mean, g.activation) for g in graphs]
    assert by["numpy"] == by["compiled"]


def test_cauker_compiled_picks_the_backend_of_a_call(monkeypatch):
    config = cauker.CauKerConfig(num_series=120, length=64, seed=5)
    monkeypatch.setenv("CAUKER_COMPILED", "0")
    numpy_rows = cauker.generate(config)
    assert cauker.sampler.rows.sampler_for(config).backend.current is loops
    monkeypatch.setenv("CAUKER_COMPILED", "1")
    compiled_rows = cauker.generate(config)
    assert cauker.sampler.rows.sampler_for(config).backend.current is compiled
    assert compiled_rows.equals(numpy_rows)
