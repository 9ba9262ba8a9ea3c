"""The compiled kernels (numba) give the bits of their numpy twins, and are used
only when ``cauker.sampler.acceleration`` says so."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import cauker
from cauker.sampler import acceleration, linalg
from cauker.sampler import portable_math as pm
from cauker.sampler.activations import ACTIVATIONS
from cauker.sampler.gp import GaussianProcessSampler
from cauker.sampler.kernels import paper_bank
from cauker.sampler.means import compute_means
from cauker.sampler.scm import Sampler
from cauker.sampler.toeplitz import RESCALE, _schur_pass

compiled = pytest.importorskip("cauker.sampler.compiled")
numba = pytest.importorskip("numba")


@pytest.fixture
def reset_acceleration(monkeypatch):
    monkeypatch.setattr(acceleration, "_state", dict(acceleration.INITIAL_STATE))


def sampler(length):
    gp = GaussianProcessSampler(paper_bank(length), length)
    return gp, [i for i, c in enumerate(gp.components) if c.kind == "stationary"]


@pytest.mark.parametrize("jitter", [1e-12, 0.0])  # 0.0: many matrices break down
def test_schur_pass_is_bit_for_bit_the_numpy_one(jitter):
    gp, stationary = sampler(128)
    rng = np.random.default_rng(0)
    columns = np.stack([gp._column(list(rng.choice(stationary, 3))) for _ in range(40)])
    owner = np.concatenate([np.arange(40), [3, 3, 17]])  # extra draws of two matrices
    normals = rng.standard_normal((owner.size, 128))
    expected, held = _schur_pass(columns, normals, owner, jitter)
    got, got_held = compiled.schur_pass(columns, normals, owner, jitter, RESCALE)
    assert np.array_equal(held, got_held)
    assert (jitter == 0.0) == (not held.all())  # the breakdown case is exercised
    rows = np.isin(owner, np.flatnonzero(held))
    assert np.array_equal(expected[rows], got[rows])


def test_an_exact_breakdown_is_reported_not_raised():
    """An all-ones column breaks down exactly (a division by zero at the first step):
    the compiled sweep reports the matrix as not held, as numpy does, and raises nothing."""
    columns = np.ones((2, 16))
    columns[1] = 0.5 ** np.arange(16)  # a healthy matrix beside it
    normals = np.random.default_rng(2).standard_normal((2, 16))
    owner = np.arange(2)
    expected, held = _schur_pass(columns, normals, owner, 0.0)
    got, got_held = compiled.schur_pass(columns, normals, owner, 0.0, RESCALE)
    assert held.tolist() == got_held.tolist() == [False, True]
    assert np.array_equal(got[1], expected[1])


def test_khatri_rao_draw_is_bit_for_bit_the_numpy_one():
    gp, stationary = sampler(256)
    rng = np.random.default_rng(1)
    for _ in range(5):
        first, rest = (gp.factor(i) for i in rng.choice(stationary, 2))
        mixing = rng.standard_normal((first.shape[0], rest.shape[0]))
        expected = linalg.rowwise_dot(first, linalg.combine(mixing, rest))
        assert np.array_equal(compiled.khatri_rao_draw(first, rest, mixing), expected)


def math_inputs() -> np.ndarray:
    """Edge cases (signed zeros, subnormals, inf, nan, the ends of exp's range, the
    switch of expm1, multiples of pi/2), 50,000 numbers over every scale and
    10,000 whose exp is subnormal."""
    edges = [0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, -1e-320, 1e-300, 0.5, -1.0]
    edges += [709.78, 709.79, 710.0, 800.0, -708.4, -745.1, -745.2, -746.0, -800.0]
    edges += [40.0, -41.0, 0.34657359027997264, np.nextafter(0.34657359027997264, 1.0)]
    edges += [k * np.pi / 4 for k in range(-8, 9)] + [1e6, 2.0**28 - 1, -(2.0**28 - 1)]
    edges += [-0.9999999, -1.0000001, 1e308]
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


@numba.njit
def _each(function, x, portable):
    out = np.empty_like(x)
    for i in range(x.size):
        out[i] = function(x[i], portable)
    return out


@pytest.mark.parametrize("name", ["exp", "sin", "sigmoid"])
def test_scalar_math_is_bit_for_bit_portable_math(name):
    x = math_inputs()
    with np.errstate(all="ignore"):
        expected = getattr(pm, name)(x)
        got = _each(getattr(compiled, f"portable_{name}"), x, compiled.PORTABLE)
    if name == "sin":  # beyond 2**28 the caller uses numpy (checked below)
        assert np.isnan(got[np.abs(x) >= 2.0**28]).all()
        keep = ~(np.isfinite(x) & (np.abs(x) >= 2.0**28))
        x, expected, got = x[keep], expected[keep], got[keep]
    assert np.array_equal(np.isnan(got), np.isnan(expected))
    assert np.array_equal(got.view(np.int64)[~np.isnan(x)], expected.view(np.int64)[~np.isnan(x)])


@pytest.mark.parametrize("huge", [False, True])
def test_compiled_propagation_is_bit_for_bit_the_numpy_one(monkeypatch, reset_acceleration, huge):
    """Every activation (a bank of all ten: the kernel hands those outside the
    paper's bank back to numpy), and roots scaled up so that some sines get
    arguments beyond 2**28, which it also hands back."""
    config = cauker.CauKerConfig(
        num_series=400, length=64, seed=3, activation_bank=tuple(ACTIVATIONS)
    )
    sampler = Sampler(config)
    batch = sampler.plan(0, list(range(100)), dict.fromkeys(range(100), 0))
    if huge:
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
    monkeypatch.setenv("CAUKER_COMPILED", "0")
    expected = sampler.propagate(batch)
    batch.values[:] = values
    monkeypatch.setenv("CAUKER_COMPILED", "1")
    got = sampler.propagate(batch)
    assert acceleration._state["module"] is compiled
    assert handed_back.count(compiled.NUMPY) > 20  # tanh, softplus, swish, gaussian
    assert (handed_back.count(compiled.SIN) > 0) == huge
    assert np.isfinite(expected).mean() > 0.5  # not a comparison of nans
    assert np.array_equal(got.view(np.int64), expected.view(np.int64))


def test_compiled_means_are_bit_for_bit_the_numpy_ones(monkeypatch, reset_acceleration):
    """Exponential means (and the other kinds around them) of 5,000 roots, with
    parameters from the paper's ranges and beyond (exp's overflow and underflow)."""
    from cauker.sampler.means import EXPONENTIAL, draw_mean_numbers, mean_bank

    rng = np.random.default_rng(11)
    draws = draw_mean_numbers(rng, 96, mean_bank("paper"), 5000)
    draws.u[:100] = rng.uniform(-800.0, 800.0, (100, 2, 2))  # b far outside U(0.5, 1.5)
    x = np.linspace(0.0, 1.0, 96)
    calls = []
    kernel = compiled.exponential_rows
    monkeypatch.setattr(
        compiled, "exponential_rows", lambda *args: calls.append(1) or kernel(*args)
    )
    with np.errstate(all="ignore"):
        monkeypatch.setenv("CAUKER_COMPILED", "0")
        expected = compute_means(draws, x)
        monkeypatch.setenv("CAUKER_COMPILED", "1")
        got = compute_means(draws, x)
    assert calls and (draws.kinds == EXPONENTIAL).sum() > 2000
    assert not np.isfinite(expected.values).all()  # exp overflowed somewhere
    assert np.array_equal(got.values.view(np.int64), expected.values.view(np.int64))


def test_rows_are_the_same_with_and_without_compiled_kernels(monkeypatch, reset_acceleration):
    config = cauker.CauKerConfig(num_series=120, length=64, seed=5)
    monkeypatch.setenv("CAUKER_COMPILED", "0")
    numpy_rows = cauker.generate(config)
    assert acceleration._state["module"] is None
    monkeypatch.setenv("CAUKER_COMPILED", "1")
    compiled_rows = cauker.generate(config)
    assert acceleration._state["module"] is compiled
    assert compiled_rows.equals(numpy_rows)


class FakeCompiler:
    """Stands for the background compiling process (``poll``: None while it runs)."""

    def __init__(self) -> None:
        self.returncode = None

    def poll(self):
        return self.returncode


def test_policy(monkeypatch, reset_acceleration, tmp_path):
    monkeypatch.setenv("CAUKER_COMPILED", "auto")
    monkeypatch.setattr(acceleration, "cached_on_disk", lambda: True)
    acceleration.expect_graphs(acceleration.LOAD_AFTER - 1)
    assert acceleration.compiled() is None  # a small job: loading numba would not pay
    acceleration.expect_graphs(acceleration.LOAD_AFTER)
    assert acceleration.compiled() is compiled  # cached on disk and a large enough job

    # Not cached: compiled in another process, while this one draws with numpy.
    fresh = acceleration.INITIAL_STATE
    lock = tmp_path / "compile.lock"
    started = []

    def start(source, lock_path):
        assert source == Path(compiled.__file__) and lock_path == lock
        started.append(FakeCompiler())
        return started[-1]

    monkeypatch.setattr(acceleration, "_state", dict(fresh))
    monkeypatch.setattr(acceleration, "cached_on_disk", lambda: False)
    monkeypatch.setattr(acceleration, "compile_lock", lambda source: lock)
    monkeypatch.setattr(acceleration, "_start_compiler", start)
    acceleration.expect_graphs(acceleration.LOAD_AFTER - 1)
    assert acceleration.compiled() is None and not started  # a small job starts nothing
    acceleration.expect_graphs(acceleration.COMPILE_AFTER)
    assert acceleration.compiled() is None and len(started) == 1 and lock.exists()
    acceleration.note_graphs(1)
    assert acceleration.compiled() is None and len(started) == 1  # still compiling

    # Another process sees the lock and waits for that compile, without its own.
    monkeypatch.setattr(acceleration, "_state", dict(fresh))
    acceleration.expect_graphs(acceleration.COMPILE_AFTER)
    assert acceleration.compiled() is None and len(started) == 1
    # ...unless the lock is stale: its compiler died, and the compile is taken over.
    old = time.time() - acceleration.COMPILE_LOCK_SECONDS - 1
    os.utime(lock, (old, old))
    acceleration.note_graphs(1)
    assert acceleration.compiled() is None and len(started) == 2

    # The compile ended without a cache: a large job compiles here, a small one does not.
    started[-1].returncode = 1
    acceleration.note_graphs(1)
    assert acceleration.compiled() is compiled
    monkeypatch.setattr(acceleration, "_state", {**fresh, "compiler": started[-1]})
    acceleration.expect_graphs(acceleration.LOAD_AFTER)
    assert acceleration.compiled() is None

    # No process can be started: a large job compiles here, and leaves no lock.
    def cannot_start(source, lock_path):
        raise OSError("no processes left")

    lock.unlink()
    monkeypatch.setattr(acceleration, "_start_compiler", cannot_start)
    monkeypatch.setattr(acceleration, "_state", dict(fresh))
    acceleration.expect_graphs(acceleration.COMPILE_AFTER)
    assert acceleration.compiled() is compiled and not lock.exists()

    # Without numba there is nothing to compile with: no process is started.
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name: None if name == "numba" else find_spec(name)
    )
    monkeypatch.setattr(acceleration, "_start_compiler", start)
    monkeypatch.setattr(acceleration, "_state", dict(fresh))
    acceleration.expect_graphs(acceleration.LOAD_AFTER)
    count = len(started)
    assert acceleration.compiled() is None and len(started) == count and not lock.exists()
    monkeypatch.setattr(importlib.util, "find_spec", find_spec)

    monkeypatch.setattr(acceleration, "_state", {**fresh, "graphs": 10**9})
    monkeypatch.setenv("CAUKER_COMPILED", "0")
    assert acceleration.compiled() is None


BACKGROUND_JOB = """
import json, time
import cauker
from cauker.sampler import acceleration, compiled

acceleration.LOAD_AFTER = 8  # so that a test-sized job starts the compile
config = cauker.CauKerConfig(num_series=10**6, length=128, seed=1)
deadline = time.time() + 240
numpy_batches = 0
for batch in cauker.iter_batches(config):
    if acceleration._state["module"] is not None or time.time() > deadline:
        break
    numpy_batches += 1
# Then the default length, and a bank whose activations the kernel hands back.
cauker.generate(cauker.CauKerConfig(num_series=400, seed=2))
cauker.generate(cauker.CauKerConfig(num_series=100, activation_bank="v2", kernel_bank="v2"))
print(json.dumps({
    "started": acceleration._state["compiler"] is not None,
    "loaded": acceleration._state["module"] is compiled,
    "numpy_batches": numpy_batches,
    "kernels": {
        name: [len(getattr(compiled, name).stats.cache_hits),
               len(getattr(compiled, name).stats.cache_misses)]
        for name in acceleration.KERNELS
    },
}))
"""


def test_a_fresh_machine_compiles_in_the_background(tmp_path):
    """With an empty numba cache, a job starts compiling in another process, draws
    with numpy meanwhile, then loads the kernels that process cached: it compiles
    none itself (every kernel a cache hit, for every argument type it passes)."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba")}
    env.pop("CAUKER_COMPILED", None)
    run = subprocess.run(
        [sys.executable, "-c", BACKGROUND_JOB],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.splitlines()[-1])
    assert result["started"] and result["loaded"]
    assert result["numpy_batches"] >= 1  # it did not wait for the compile
    for name, (hits, misses) in result["kernels"].items():
        assert (hits, misses) == (1, 0), name


def test_the_disk_is_looked_at_once_per_batch_not_once_per_draw(monkeypatch, reset_acceleration):
    monkeypatch.setenv("CAUKER_COMPILED", "auto")
    looks = []
    monkeypatch.setattr(acceleration, "cached_on_disk", lambda: looks.append(1) or False)
    acceleration.expect_graphs(acceleration.LOAD_AFTER)
    assert all(acceleration.compiled() is None for _ in range(100))
    assert len(looks) == 1
    acceleration.note_graphs(128)  # the next batch: another process may have compiled since
    assert acceleration.compiled() is None
    assert len(looks) == 2


def test_the_cache_is_looked_for_where_numba_keeps_it(monkeypatch, tmp_path):
    """cache_folders names numba's own cache paths for the module: NUMBA_CACHE_DIR
    alone when set, else __pycache__ then the user-wide folder."""
    from numba.core import caching, config

    source = Path(compiled.__file__)
    function = compiled.schur_sweep.py_func
    monkeypatch.setattr(config, "CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    expected = caching.UserProvidedCacheLocator(function, str(source)).get_cache_path()
    assert acceleration.cache_folders(source) == [Path(expected)]

    monkeypatch.delenv("NUMBA_CACHE_DIR")
    in_tree = caching.InTreeCacheLocator(function, str(source)).get_cache_path()
    user_wide = caching.UserWideCacheLocator(function, str(source)).get_cache_path()
    assert acceleration.cache_folders(source) == [Path(in_tree), Path(user_wide)]


def test_a_valid_cache_older_than_the_source_is_marked_fresh(tmp_path):
    """numba 0.68 keys its cache on the source's content, so a cache written before
    the file was last touched (a reinstall of the same version) is still valid:
    warm_up, finding it valid, marks it fresh for ``cached_on_disk``."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    warm = [sys.executable, "-c", "from cauker.sampler import compiled; compiled.warm_up()"]
    look = [
        sys.executable,
        "-c",
        "from cauker.sampler import acceleration; print(acceleration.cached_on_disk())",
    ]
    subprocess.run(warm, env=env, check=True)
    for index in tmp_path.rglob("*.nbi"):
        os.utime(index, (0, 0))  # older than any source file
    assert subprocess.run(look, env=env, capture_output=True, text=True).stdout.split() == ["False"]
    subprocess.run(warm, env=env, check=True)  # cache hits: nothing compiled
    assert subprocess.run(look, env=env, capture_output=True, text=True).stdout.split() == ["True"]


def test_an_empty_numba_cache_dir_is_not_a_warm_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    assert not acceleration.cached_on_disk()
    folder = acceleration.cache_folders(Path(compiled.__file__))[0]
    folder.mkdir(parents=True)
    for name in acceleration.KERNELS:
        (folder / f"compiled.{name}-1.py311.nbi").write_bytes(b"")
    assert acceleration.cached_on_disk()
