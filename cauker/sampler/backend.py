"""Which loops a sampler's batches run: numpy's (:mod:`cauker.sampler.loops`) or
their compiled twins (:mod:`cauker.sampler.compiled`, numba), which give the same bits.

A sampler holds one :class:`Backend`, made when the sampler is, and asks it for
the loops of each batch (:meth:`Backend.loops`), which it passes down to the
GP, Toeplitz, means and propagation code. The choice only changes the speed:
the compiled loops draw about twice as many series per second
(``benchmarks/throughput.py``), but importing numba and loading them from its
cache costs about a second, and compiling them where the cache is empty about
four. ``CAUKER_COMPILED=0`` runs numpy's loops, ``CAUKER_COMPILED=1`` the
compiled ones (compiling them in the process if it must), and the default,
``auto``, runs

- numpy's loops until the sampler has drawn, or is about to draw in the calls
  drawing now (:meth:`Backend.job`), ``LOAD_AFTER`` graphs;
- then the compiled loops if numba's cache holds them (looked at once per
  batch, since another process may be compiling them);
- not cached, numpy's loops while another process compiles them into numba's
  cache (one at a time: a lock file in the temporary folder), then the
  compiled ones. A call that is to draw ``COMPILE_AFTER`` graphs or more, where
  compiling pays for itself, starts that process if none runs; it ends with
  the last call drawing, done or not (numba keeps each function it has
  compiled), and with this process however that ends (its standard input
  closes). A shorter call does not start one: it would slow the call down
  and be cut short;
- else, once the sampler has drawn or is about to draw ``COMPILE_AFTER``
  graphs, this process compiles them itself.

Graphs count at length 512: a graph of length ``L`` counts ``(L / 512)**2``
(the Schur sweep, which the compiled loops speed up most, costs ``L**2``).
Without numba (an interpreter or numpy it does not support) numpy's loops run.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

from cauker.errors import ParameterError
from cauker.sampler import loops

#: Graphs from which loading the compiled loops from numba's cache pays (about
#: 4,000 series at length 512).
LOAD_AFTER = 1024
#: Graphs from which compiling them pays for itself (about 16,000 series at length
#: 512: some 4 s of CPU, against about twice the series per second after).
COMPILE_AFTER = 4096
#: A lock older than this (seconds) belongs to a compiling process that was
#: killed with the process that started it: it is taken over.
COMPILE_LOCK_SECONDS = 300

#: ``CAUKER_COMPILED`` values, and the modes they name.
MODES = {"0": "numpy", "false": "numpy", "1": "compiled", "true": "compiled", "auto": "auto"}

#: The compiling process: it ends at once when the process that started it
#: closes its standard input, or ends.
COMPILER = """
import os, sys, threading

def end_with_parent():
    sys.stdin.read()
    os._exit(1)

threading.Thread(target=end_with_parent, daemon=True).start()
from cauker.sampler import compiled
compiled.warm_up()
"""


def mode_from_environment() -> str:
    """The mode ``CAUKER_COMPILED`` names: ``"numpy"``, ``"compiled"`` or ``"auto"`` (unset)."""
    value = os.environ.get("CAUKER_COMPILED", "auto")
    if value.strip().lower() not in MODES:
        raise ParameterError(f"CAUKER_COMPILED must be one of 0, 1 or auto, got {value!r}")
    return MODES[value.strip().lower()]


def _weight(length: int) -> float:
    return max(1.0, (length / 512) ** 2)


class Backend:
    """The loops a sampler's batches run: ``mode`` is ``"numpy"``, ``"compiled"`` or
    ``"auto"`` (default: ``CAUKER_COMPILED``'s).

    Examples
    --------
    >>> backend = Backend("auto")
    >>> with backend.job(100, 512):  # a small job: numba would not pay
    ...     backend.loops(100, 512).__name__
    'cauker.sampler.loops'
    """

    def __init__(self, mode: str | None = None) -> None:
        if mode is not None and mode not in MODES.values():
            raise ParameterError(f"mode must be one of numpy, compiled or auto, got {mode!r}")
        self.mode = mode_from_environment() if mode is None else mode
        self.drawn = 0.0  # graphs drawn, weighted by length
        self.current: ModuleType = loops  # the compiled module once it runs
        self._jobs: list[list[float]] = []  # the graphs each call drawing now has left
        self._compiled: ModuleType | None = None
        self._missing = False  # numba cannot be imported
        self._compiler: subprocess.Popen | None = None
        self._lock_file: Path | None = None
        self._started = False  # a compiling process was started, and not cut short
        self._mutex = threading.Lock()

    @contextlib.contextmanager
    def job(self, graphs: int, length: int) -> Iterator[None]:
        """A call that is to draw ``graphs`` graphs of ``length``, in one batch or
        several: the loops of its batches are chosen knowing it, and a compiling
        process started meanwhile ends with the last call drawing."""
        left = [graphs * _weight(length)]
        with self._mutex:
            self._jobs.append(left)
        try:
            yield
        finally:
            with self._mutex:
                self._jobs = [job for job in self._jobs if job is not left]
                if not self._jobs:
                    self._end_compiler()

    def loops(self, graphs: int, length: int) -> ModuleType:
        """The loops of a batch of ``graphs`` graphs of ``length`` (decided here,
        once per batch): :mod:`cauker.sampler.loops` or :mod:`cauker.sampler.compiled`."""
        with self._mutex:
            weight = graphs * _weight(length)
            left = max([job[0] for job in self._jobs] + [weight])  # this batch on
            planned = self.drawn + left
            self.drawn += weight
            for job in self._jobs:
                job[0] = max(job[0] - weight, 0.0)
            if self.mode == "numpy" or self.current is not loops:
                return self.current
            if self.mode == "auto" and not self._compiled_pays(planned, left):
                return loops
            self.current = self._import() or loops
            return self.current

    def _compiled_pays(self, planned: float, left: float) -> bool:
        """Whether the compiled loops run from this batch on (``auto``), the sampler
        having drawn or being about to draw ``planned`` graphs, ``left`` in the calls
        drawing now."""
        if planned < LOAD_AFTER or self._compiling_here():
            return False
        compiled = self._import()
        if compiled is None:
            return False
        if compiled.cached():
            return True
        if self._compiling_elsewhere(compiled, start=left >= COMPILE_AFTER):
            return False
        return planned >= COMPILE_AFTER  # no other process compiles them: this one does

    def _import(self) -> ModuleType | None:
        """:mod:`cauker.sampler.compiled`, or None where numba cannot be imported."""
        if self._compiled is None and not self._missing:
            try:
                from cauker.sampler import compiled
            except ImportError:
                self._missing = True
            else:
                self._compiled = compiled
        return self._compiled

    def _compiling_here(self) -> bool:
        """Whether the process this backend started still compiles."""
        if self._compiler is None:
            return False
        if self._compiler.poll() is None:
            return True
        self._end_compiler()  # done, or failed: either way not started again
        return False

    def _compiling_elsewhere(self, compiled: ModuleType, start: bool) -> bool:
        """Whether another process compiles the loops into numba's cache, starting one
        if none does and ``start`` (a call drawing now has enough graphs left)."""
        folder = compiled.schur_sweep.stats.cache_path
        key = hashlib.sha1(folder.encode()).hexdigest()[:16]
        lock = Path(tempfile.gettempdir()) / f"cauker-numba-{key}.lock"
        with contextlib.suppress(FileNotFoundError):
            if time.time() - lock.stat().st_mtime < COMPILE_LOCK_SECONDS:
                return True
            lock.unlink()
        if self._started or not (self._jobs and start):
            return False
        try:
            os.close(os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return True  # another process took it just now
        except OSError:
            return False
        env = dict(os.environ)  # the same cauker, whatever the current folder
        root = str(Path(compiled.__file__).parents[2])
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
        try:
            self._compiler = subprocess.Popen(
                [sys.executable, "-c", COMPILER],
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                # A session of its own: where the scheduler shares the CPU between
                # sessions (Linux's autogroups), the compile does not halve this
                # process's share. It still ends with this process (its stdin).
                start_new_session=True,
            )
        except OSError:
            lock.unlink(missing_ok=True)
            return False
        self._lock_file, self._started = lock, True
        return True

    def _end_compiler(self) -> None:
        """End the compiling process (if it still runs) and remove its lock."""
        if self._compiler is None:
            return
        if self._compiler.poll() is None:
            self._compiler.terminate()
            self._started = False  # cut short: a later call may start one again
        self._compiler.wait()
        self._compiler.stdin.close()
        self._compiler = None
        self._lock_file.unlink(missing_ok=True)
