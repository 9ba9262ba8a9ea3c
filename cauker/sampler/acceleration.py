"""Whether the compiled kernels of :mod:`cauker.sampler.compiled` (numba) run, or their numpy twins.

Both give the same bits, so the choice only changes the speed: the compiled
Schur sweep is about 8 times faster than the numpy one, the compiled
Khatri-Rao draw about 2 times. But numba costs about half a second to import
and load, and, the first time on a machine, about 3 seconds to compile (the code
is then cached on disk, where numba keeps it: next to
``cauker/sampler/compiled.py``, or in ``NUMBA_CACHE_DIR``). So the compiled
kernels run

- when their compiled code is already cached on disk and this process has
  drawn, or is about to draw, ``LOAD_AFTER`` graphs;
- or, not cached yet, when this process has drawn, or is about to draw,
  ``COMPILE_AFTER`` graphs, where compiling pays for itself: a large job
  compiles before its first graph rather than after its first ``COMPILE_AFTER``.

Whether the cache is on disk is looked up at most once per batch of graphs
(another process may compile meanwhile), never once per draw.

Graphs are counted at length 512: a graph of length ``L`` counts ``(L / 512)**2``
(the Schur sweep, which the compiled kernels speed up most, costs ``L**2``).

``CAUKER_COMPILED=0`` never uses them, ``CAUKER_COMPILED=1`` always does.
Without numba (an interpreter it does not support yet) the numpy versions run.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

#: Graphs a process draws, or is asked to draw, before it compiles the kernels
#: (about 16,000 series at length 512): compiling costs about 3.5 s of CPU on a
#: 2-core AMD EPYC (numba's import and start-up included) and saves about 0.25
#: ms per series (1,650 against 2,900 series/s), so it pays from about 13,000
#: series on.
COMPILE_AFTER = 4096
#: Graphs a process draws, or is asked to draw, before it loads compiled
#: kernels cached on disk (about 4,000 series): where loading numba pays.
LOAD_AFTER = 1024

#: The compiled functions, by name (their cache files must all exist).
KERNELS = ("schur_sweep", "khatri_rao_sum", "propagate_nodes")

#: What a process knows before its first graph (``_state`` starts as a copy).
INITIAL_STATE = {"graphs": 0, "expected": 0, "module": None, "on_disk": None, "missing": False}
_state = dict(INITIAL_STATE)


def _weight(length: int) -> float:
    return max(1.0, (length / 512) ** 2)


def note_graphs(count: int, length: int = 512) -> None:
    """Count graphs drawn by this process (the sampler calls this)."""
    _state["graphs"] += count * _weight(length)
    _state["on_disk"] = None  # look again at the next decision


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


def cached_on_disk() -> bool:
    """Whether numba's cache (:func:`cache_folders`) holds every kernel of
    ``cauker/sampler/compiled.py``, newer than the source."""
    found = importlib.util.find_spec("cauker.sampler.compiled")
    if found is None or found.origin is None:
        return False
    source = Path(found.origin)
    try:
        newer = source.stat().st_mtime
    except OSError:
        return False

    def holds(folder: Path, name: str) -> bool:
        try:
            return any(f.stat().st_mtime >= newer for f in folder.glob(f"compiled.{name}-*.nbi"))
        except OSError:
            return False

    return any(all(holds(folder, name) for name in KERNELS) for folder in cache_folders(source))


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
        if planned < COMPILE_AFTER:
            if _state["on_disk"] is None:
                _state["on_disk"] = cached_on_disk()
            if not _state["on_disk"]:
                return None
    try:
        from cauker.sampler import compiled as module
    except ImportError:  # no numba, or one that does not support this numpy
        _state["missing"] = True
        return None
    _state["module"] = module
    return module
