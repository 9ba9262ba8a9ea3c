"""Whether the compiled kernels of :mod:`cauker.sampler.compiled` (numba) run, or their numpy twins.

Both give the same bits, so the choice only changes the speed: the compiled
Schur sweep is about 8 times faster than the numpy one, the compiled
Khatri-Rao draw about 2 times, the compiled propagation about 3 times. But
numba costs about half a second to import and load, and, the first time on a
machine, about 4.5 seconds to compile (the code is then cached on disk, where
numba keeps it: next to ``cauker/sampler/compiled.py``, or in
``NUMBA_CACHE_DIR``). So the compiled kernels run

- when their compiled code is already cached on disk and this process has
  drawn, or is about to draw, ``LOAD_AFTER`` graphs;
- not cached yet: a process that has drawn, or is about to draw, ``LOAD_AFTER``
  graphs starts compiling them in the background, in another process that
  writes numba's cache, and draws with numpy until the cache is there (it looks
  once per batch of graphs). One process compiles at a time (a lock file in the
  temporary folder); others wait for its cache. The compiling process outlives
  a job that ends first, and the next run finds the cache;
- if that cannot run (no process could be started, or it ended without
  writing the cache), a process compiles them itself once it has drawn, or is
  about to draw, ``COMPILE_AFTER`` graphs, where compiling pays for itself.

Whether the cache is on disk is looked up at most once per batch of graphs
(another process may compile meanwhile), never once per draw.

Graphs are counted at length 512: a graph of length ``L`` counts ``(L / 512)**2``
(the Schur sweep, which the compiled kernels speed up most, costs ``L**2``).

``CAUKER_COMPILED=0`` never uses them, ``CAUKER_COMPILED=1`` always does (and
compiles them in this process if they are not cached).
Without numba (an interpreter it does not support yet) the numpy versions run.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

#: Graphs a process draws, or is asked to draw, before it compiles the kernels
#: itself, when no other process can (about 16,000 series at length 512):
#: compiling costs about 4.5 s of CPU on a 2-core AMD EPYC (numba's import and
#: start-up included) and saves about 0.27 ms per series (1,650 against 3,000
#: series/s), so it pays from about 17,000 series on.
COMPILE_AFTER = 4096
#: Graphs a process draws, or is asked to draw, before it loads compiled
#: kernels cached on disk (about 4,000 series): where loading numba pays.
LOAD_AFTER = 1024

#: The compiled functions, by name (their cache files must all exist).
KERNELS = ("schur_sweep", "khatri_rao_sum", "propagate_nodes", "exponential_rows")

#: A compile lock older than this belongs to a compiling process that died: it
#: is taken over (compiling takes seconds).
COMPILE_LOCK_SECONDS = 300

#: What a process knows before its first graph (``_state`` starts as a copy).
#: ``compiler``: the process compiling in the background that this one started;
#: ``waiting``: whether one was compiling at this batch's first look.
INITIAL_STATE = {
    "graphs": 0,
    "expected": 0,
    "module": None,
    "on_disk": None,
    "missing": False,
    "compiler": None,
    "waiting": None,
}
_state = dict(INITIAL_STATE)


def _weight(length: int) -> float:
    return max(1.0, (length / 512) ** 2)


def note_graphs(count: int, length: int = 512) -> None:
    """Count graphs drawn by this process (the sampler calls this)."""
    _state["graphs"] += count * _weight(length)
    _state["on_disk"] = None  # look again at the next decision
    _state["waiting"] = None


def expect_graphs(count: int, length: int = 512) -> None:
    """Announce the graphs a call is about to draw (``cauker.sampler.rows`` calls this)."""
    _state["expected"] = max(_state["expected"], count * _weight(length))


def _mode() -> str:
    value = os.environ.get("CAUKER_COMPILED", "auto").strip().lower()
    return {"0": "never", "false": "never", "1": "always", "true": "always"}.get(value, "auto")


def cache_folders(source: Path) -> list[Path]:
    """Where numba keeps the compiled code of the module ``source``, in the order it
    looks: ``NUMBA_CACHE_DIR`` if set (and then only there), else the module's
    ``__pycache__``, else the user-wide cache (when ``__pycache__`` is not writable).

    Written out rather than asked of numba, whose import costs what we try to save
    (``numba.core.caching``: ``UserProvidedCacheLocator``, ``InTreeCacheLocator``,
    ``UserWideCacheLocator``).
    """
    folder = os.path.dirname(os.path.abspath(source))
    subpath = f"{os.path.basename(folder)}_{hashlib.sha1(folder.encode()).hexdigest()}"
    if os.environ.get("NUMBA_CACHE_DIR"):
        return [Path(os.environ["NUMBA_CACHE_DIR"]) / subpath]
    if sys.platform == "win32":
        user = Path(os.environ.get("LOCALAPPDATA", Path.home())) / "numba" / "Cache"
    elif sys.platform == "darwin":
        user = Path.home() / "Library" / "Caches" / "numba"
    else:
        user = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "numba"
    return [Path(folder) / "__pycache__", user / subpath]


def _source() -> Path | None:
    """The file of :mod:`cauker.sampler.compiled` (found without importing it, or numba)."""
    found = importlib.util.find_spec("cauker.sampler.compiled")
    return None if found is None or found.origin is None else Path(found.origin)


def cache_indexes(folder: Path, name: str) -> list[Path]:
    """numba's index files of the kernel ``name`` of ``compiled.py`` in ``folder``."""
    return list(folder.glob(f"compiled.{name}-*.nbi"))


def mark_fresh(folder: Path) -> None:
    """Date every kernel's index in ``folder`` now, for :func:`cached_on_disk`: numba
    (0.68) keys its cache on the source's content, so a valid cache may be older
    than the source file (``compiled.warm_up`` calls this once it has loaded or
    compiled them all)."""
    for name in KERNELS:
        for index in cache_indexes(folder, name):
            os.utime(index)


def cached_on_disk() -> bool:
    """Whether numba's cache (:func:`cache_folders`) holds every kernel of
    ``cauker/sampler/compiled.py``, newer than the source."""
    source = _source()
    if source is None:
        return False
    try:
        newer = source.stat().st_mtime
    except OSError:
        return False

    def holds(folder: Path, name: str) -> bool:
        try:
            return any(f.stat().st_mtime >= newer for f in cache_indexes(folder, name))
        except OSError:
            return False

    return any(all(holds(folder, name) for name in KERNELS) for folder in cache_folders(source))


def compile_lock(source: Path) -> Path:
    """The lock file of a background compile of ``source`` into its numba cache."""
    key = f"{source.resolve()}|{os.environ.get('NUMBA_CACHE_DIR', '')}"
    return (
        Path(tempfile.gettempdir())
        / f"cauker-numba-{hashlib.sha1(key.encode()).hexdigest()[:16]}.lock"
    )


def _start_compiler(source: Path, lock: Path) -> subprocess.Popen:
    """A process that compiles the kernels into numba's cache, then removes ``lock``:
    the same interpreter, importing cauker from the same folder."""
    env = dict(os.environ, CAUKER_COMPILE_LOCK=str(lock))
    package_root = str(source.parents[2])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    return subprocess.Popen(
        [sys.executable, "-c", "from cauker.sampler import compiled; compiled.warm_up()"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # a Ctrl-C of the job does not cut a compile short
    )


def _compiling_elsewhere() -> bool:
    """Whether another process is compiling the kernels into numba's cache (starting
    one if none is): meanwhile this one draws with numpy. False when none can, or
    this process's ended: then this process may compile them itself."""
    child = _state["compiler"]
    if child is not None:
        return child.poll() is None
    source = _source()
    if source is None or importlib.util.find_spec("numba") is None:
        return False  # nothing to compile with: no process is started for nothing
    lock = compile_lock(source)
    for _ in range(2):
        try:
            os.close(os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            try:
                if time.time() - lock.stat().st_mtime < COMPILE_LOCK_SECONDS:
                    return True  # another process compiles
                lock.unlink()  # its compiler died: take over
            except FileNotFoundError:
                pass  # just finished: try again
            continue
        except OSError:
            return False
        try:
            _state["compiler"] = _start_compiler(source, lock)
        except OSError:
            lock.unlink(missing_ok=True)
            return False
        return True
    return False


def compiled() -> ModuleType | None:
    """:mod:`cauker.sampler.compiled` if it should run now, else None (use the numpy versions)."""
    if _state["module"] is not None:
        return _state["module"]
    mode = _mode()
    if mode == "never" or _state["missing"]:
        return None
    if mode == "auto":
        planned = _state["graphs"] + _state["expected"]
        if planned < LOAD_AFTER:
            return None
        if _state["on_disk"] is None:
            _state["on_disk"] = cached_on_disk()
        if not _state["on_disk"]:
            if _state["waiting"] is None:
                _state["waiting"] = _compiling_elsewhere()
            if _state["waiting"] or planned < COMPILE_AFTER:
                return None
    try:
        from cauker.sampler import compiled as module
    except ImportError:  # no numba, or one that does not support this numpy
        _state["missing"] = True
        return None
    _state["module"] = module
    return module
