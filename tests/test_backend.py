"""The backend chooses each batch's loops once (cauker.sampler.backend), and no
process it starts outlives the call, or the process, that started it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time

import pytest

import cauker.sampler
from cauker.errors import ParameterError
from cauker.sampler import backend, loops
from cauker.sampler.backend import COMPILE_AFTER, LOAD_AFTER, Backend

compiled = pytest.importorskip("cauker.sampler.compiled")
psutil = pytest.importorskip("psutil")


class FakeProcess:
    """Stands for the compiling process (``poll``: None while it runs)."""

    def __init__(self, *args, **kwargs) -> None:
        self.returncode = None
        self.terminated = False
        self.stdin = open(os.devnull, "w")  # noqa: SIM115 (closed by the backend)

    def poll(self):
        return self.returncode

    def terminate(self) -> None:
        self.terminated, self.returncode = True, -15

    def wait(self):
        return self.returncode


@pytest.fixture
def world(monkeypatch, tmp_path):
    """numba's cache (``world.cached``), the processes started (``world.started``), and
    the temporary folder of the compile lock, all fakes."""

    class World:
        cached = False
        started: list[FakeProcess] = []

        def start(self, *args, **kwargs):
            if self.cannot_start:
                raise OSError("no processes left")
            self.started.append(FakeProcess())
            return self.started[-1]

        cannot_start = False

        def locks(self):
            return list(tmp_path.glob("cauker-numba-*.lock"))

    world = World()
    world.started = []
    monkeypatch.setenv("CAUKER_COMPILED", "auto")
    monkeypatch.setattr(compiled, "cached", lambda: world.cached)
    monkeypatch.setattr(backend.subprocess, "Popen", world.start)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return world


def test_the_mode_comes_from_cauker_compiled(monkeypatch):
    for value, mode in [("0", "numpy"), ("1", "compiled"), ("auto", "auto"), (" TRUE", "compiled")]:
        monkeypatch.setenv("CAUKER_COMPILED", value)
        assert Backend().mode == mode
    monkeypatch.delenv("CAUKER_COMPILED")
    assert Backend().mode == "auto"
    monkeypatch.setenv("CAUKER_COMPILED", "yes")
    with pytest.raises(ParameterError, match="CAUKER_COMPILED must be one of"):
        Backend()
    with pytest.raises(ParameterError, match="mode must be one of"):
        Backend("fast")


def test_small_jobs_run_numpy_and_large_ones_load_the_cache(world):
    world.cached = True
    small, large = Backend(), Backend()
    with small.job(LOAD_AFTER - 128, 512):
        assert small.loops(128, 512) is loops
    with large.job(LOAD_AFTER, 512):
        assert large.loops(128, 512) is compiled
    assert large.loops(1, 16) is compiled  # once loaded, for good
    with small.job(128, 2048):  # (2048 / 512)**2 = 16 times the work of a graph at 512
        assert small.loops(128, 2048) is compiled
    assert not world.started
    numpy_only = Backend("numpy")
    with numpy_only.job(10**9, 512):
        assert numpy_only.loops(128, 512) is loops


def test_numba_s_cache_is_looked_at_once_per_batch(world, monkeypatch):
    looks = []
    monkeypatch.setattr(compiled, "cached", lambda: looks.append(1) or False)
    world.started.append(FakeProcess())  # as if another process compiled: numpy meanwhile
    monkeypatch.setattr(backend.Backend, "_compiling_elsewhere", lambda self, c, start: True)
    chosen = Backend()
    with chosen.job(LOAD_AFTER, 512):
        assert all(chosen.loops(1, 512) is loops for _ in range(10))
    assert len(looks) == 10


def test_a_fresh_cache_is_compiled_in_another_process_during_the_job(world):
    chosen = Backend()
    with chosen.job(COMPILE_AFTER, 512):
        assert chosen.loops(128, 512) is loops and len(world.started) == 1
        assert len(world.locks()) == 1
        assert chosen.loops(128, 512) is loops and len(world.started) == 1  # still compiling
        world.started[0].returncode, world.cached = 0, True  # done
        assert chosen.loops(128, 512) is compiled
        assert not world.locks()
    assert not world.started[0].terminated


def test_the_compiling_process_ends_with_the_last_job(world):
    chosen = Backend()
    with chosen.job(COMPILE_AFTER, 512):
        with chosen.job(128, 512):  # a call inside the first (a file of a corpus, say)
            assert chosen.loops(128, 512) is loops and len(world.started) == 1
        assert not world.started[0].terminated  # the outer call still draws
    assert world.started[0].terminated and not world.locks()
    with chosen.job(COMPILE_AFTER, 512):  # cut short, so another call starts one again
        assert chosen.loops(128, 512) is loops and len(world.started) == 2


def test_no_process_is_started_outside_a_job_or_for_a_small_one(world):
    """A call too short for compiling to pay starts no process (it would slow the call
    down, and be cut short with it); once the sampler has drawn enough graphs, this
    process compiles the loops itself."""
    chosen, short = Backend(), Backend()
    assert chosen.loops(LOAD_AFTER, 512) is loops and not world.started  # outside a job
    with short.job(COMPILE_AFTER - 1, 512):
        assert short.loops(128, 512) is loops and not world.started
    assert chosen.loops(COMPILE_AFTER, 512) is compiled  # compiled here: it pays
    assert not world.started and not world.locks()


def test_a_job_counts_what_it_has_left(world):
    """The graphs a job has drawn are not counted again with those it has left: a
    job just under ``COMPILE_AFTER`` graphs never compiles, whatever its batches."""
    chosen = Backend()
    with chosen.job(COMPILE_AFTER - 1, 512):
        assert all(chosen.loops(128, 512) is loops for _ in range(COMPILE_AFTER // 128 - 1))
    assert not world.started


def test_another_process_s_compile_is_waited_for_unless_its_lock_is_stale(world):
    first, second = Backend(), Backend()
    with first.job(COMPILE_AFTER, 512), second.job(2 * COMPILE_AFTER, 512):
        assert first.loops(128, 512) is loops and len(world.started) == 1
        assert second.loops(128, 512) is loops and len(world.started) == 1  # waits
        (lock,) = world.locks()
        old = time.time() - backend.COMPILE_LOCK_SECONDS - 1
        os.utime(lock, (old, old))  # as if its compiler had been killed with its process
        assert second.loops(128, 512) is loops and len(world.started) == 2  # takes over


def test_without_a_compiling_process_a_large_job_compiles_itself(world):
    failed = Backend()
    with failed.job(COMPILE_AFTER, 512):
        assert failed.loops(128, 512) is loops and len(world.started) == 1
        world.started[0].returncode = 1  # ended without a cache
        assert failed.loops(128, 512) is compiled and len(world.started) == 1
    world.cannot_start = True
    small, large = Backend(), Backend()
    with small.job(LOAD_AFTER, 512):
        assert small.loops(128, 512) is loops
    with large.job(COMPILE_AFTER, 512):
        assert large.loops(128, 512) is compiled
    assert len(world.started) == 1 and not world.locks()


def test_without_numba_no_process_is_started(world, monkeypatch):
    monkeypatch.setitem(sys.modules, "cauker.sampler.compiled", None)  # its import fails
    monkeypatch.delattr(cauker.sampler, "compiled")
    for mode in ("auto", "compiled"):
        chosen = Backend(mode)
        with chosen.job(10**6, 512):
            assert chosen.loops(128, 512) is loops
    assert not world.started and not world.locks()


def run(script: str, env: dict | None = None, timeout: float = 600) -> dict:
    """Run ``script`` in a fresh interpreter; its last line of output, as JSON."""
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


#: Records the pid of every compiling process the backend starts, in ``STARTED``.
RECORD = """
import json, os, sys, time
import cauker
from cauker.sampler import backend
backend.LOAD_AFTER = backend.COMPILE_AFTER = 8  # so that a test-sized job starts the compile
STARTED = []
popen = backend.subprocess.Popen
def record(*args, **kwargs):
    process = popen(*args, **kwargs)
    STARTED.append(process.pid)
    return process
backend.subprocess.Popen = record
"""


def recording(body: str) -> str:
    return RECORD + textwrap.dedent(body)


def empty_cache(tmp_path) -> dict:
    return {"NUMBA_CACHE_DIR": str(tmp_path / "numba"), "CAUKER_COMPILED": "auto"}


def test_a_fresh_machine_compiles_in_the_background(tmp_path):
    """With an empty numba cache, a job starts compiling in another process, draws
    with numpy meanwhile, then loads the loops that process cached: it compiles
    none itself (every function a cache hit, for every argument type it passes)."""
    script = recording("""
    from cauker.sampler import compiled, loops
    from cauker.sampler.rows import sampler_for
    config = cauker.CauKerConfig(num_series=10**6, length=128, seed=1)
    deadline = time.time() + 240
    numpy_batches = 0
    for batch in cauker.iter_batches(config):
        if sampler_for(config).backend.current is compiled or time.time() > deadline:
            break
        numpy_batches += 1
    # Then the default length, and a bank whose activations the loop hands back.
    cauker.generate(cauker.CauKerConfig(num_series=400, seed=2))
    cauker.generate(cauker.CauKerConfig(num_series=100, activation_bank="v2", kernel_bank="v2"))
    print(json.dumps({
        "started": len(STARTED),
        "loaded": sampler_for(config).backend.current is compiled,
        "numpy_batches": numpy_batches,
        "functions": {
            f.__name__: [len(f.stats.cache_hits), len(f.stats.cache_misses)]
            for f in compiled.CACHED
        },
    }))
    """)
    result = run(script, empty_cache(tmp_path))
    assert result["started"] == 1 and result["loaded"]
    assert result["numpy_batches"] >= 1  # it did not wait for the compile
    for name, (hits, misses) in result["functions"].items():
        assert (hits, misses) == (1, 0), name


def test_no_process_outlives_a_library_call_on_an_empty_cache(tmp_path):
    """A call that starts the compile and returns before it is done leaves no
    process behind (it ends the one it started)."""
    script = recording("""
    import psutil
    cauker.generate(cauker.CauKerConfig(num_series=400, length=32))
    print(json.dumps({"started": STARTED, "children": len(psutil.Process().children())}))
    """)
    result = run(script, empty_cache(tmp_path))
    assert len(result["started"]) == 1
    assert result["children"] == 0
    assert not any(alive(pid) for pid in result["started"])


def test_no_process_outlives_the_generate_command_on_an_empty_cache(tmp_path):
    script = recording(f"""
    from cauker.cli import main
    try:
        main(["generate", "10k", "--num-series", "3000", "--length", "32", "--quiet",
              "--output-dir", {str(tmp_path / "corpus")!r}])
    except SystemExit as end:
        assert not end.code, end.code
    print(json.dumps({{"started": STARTED}}))
    """)
    result = run(script, empty_cache(tmp_path))
    assert result["started"]
    time.sleep(0.5)
    assert not any(alive(pid) for pid in result["started"])


def test_the_compiling_process_ends_when_its_process_is_killed(tmp_path):
    script = recording("""
    import signal
    batches = cauker.iter_batches(cauker.CauKerConfig(num_series=10**5, length=32))
    next(batches)
    print(json.dumps({"started": STARTED}), flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
    """)
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, **empty_cache(tmp_path)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == -signal.SIGKILL
    (pid,) = json.loads(done.stdout.splitlines()[-1])["started"]
    deadline = time.time() + 2  # at once: long before a compile could be done
    while alive(pid) and time.time() < deadline:
        time.sleep(0.05)
    assert not alive(pid)


def test_the_cache_is_fresh_once_warm_up_has_found_it_valid(tmp_path):
    """numba (0.68 on) keys its cache on the source's content, so a cache written
    before the file was last touched (a reinstall of the same version) is still
    valid: ``cached`` takes it for stale until ``warm_up`` finds it valid and dates
    it now. An empty cache is not a warm one."""
    env = {"NUMBA_CACHE_DIR": str(tmp_path)}
    look = "from cauker.sampler import compiled; import json; print(json.dumps(compiled.cached()))"
    warm = "from cauker.sampler import compiled; compiled.warm_up(); print('null')"
    assert run(look, env) is False
    run(warm, env)
    assert run(look, env) is True
    for index in tmp_path.rglob("*.nbi"):
        os.utime(index, (0, 0))  # older than any source file
    assert run(look, env) is False
    run(warm, env)  # cache hits: nothing compiled
    assert run(look, env) is True
