"""Worker processes end when the process that started them ends.

A pool's workers (``generate`` and ``export`` with ``--num-proc``: a
``ProcessPoolExecutor``; ``datasets``' ``multiprocess`` pool when the builder
prepares a corpus with ``num_proc``) are children of the command. If the
command is killed (``kill -9``, ``SIGTERM``, the OOM killer, a batch system),
nothing tells them: they would be re-parented to PID 1 and keep generating,
then wait forever on their task queue.

:func:`die_with_parent` makes a worker watch its parent: a daemon thread checks
twice a second that the parent is still the process that started it, and ends
the worker at once if not. It acts only in processes started by
``multiprocessing`` or ``multiprocess`` (never in a user's main process), so
it is safe to call from code that runs anywhere, such as the generation loop.
With ``kernel_signal=True`` (for pools that cauker starts itself) Linux also
sends the worker ``SIGKILL`` the moment its parent dies (``PR_SET_PDEATHSIG``).

:func:`children_die_with_this_process` covers the processes that a library
forks for us (``datasets``' pool and the ``multiprocess`` manager process it
starts beside the pool, which never runs cauker code): while it is active,
every child forked by ``multiprocessing`` or ``multiprocess`` starts watching
its parent before it does anything else (their after-fork hooks).

Why by hand: neither ``concurrent.futures``, ``multiprocessing`` nor
``datasets`` offers it; it is a dozen lines.

A pool of spawned workers also starts ``multiprocessing``'s resource tracker,
which outlives a killed command by the moment its workers take to end, then
unlinks the pool's semaphores and warns, on the terminal of the command that
was killed, that they "leaked". :func:`quiet_resource_tracker` starts it
without that warning (the unlinking, which is the useful part, still happens).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator

#: Seconds between two checks of the parent.
INTERVAL = 0.5
_PR_SET_PDEATHSIG = 1
_watched: int | None = None


def _parent_pid() -> int | None:
    """The pid of the process that started this one, if ``multiprocessing`` (or its
    fork ``multiprocess``, used by ``datasets``) started it."""
    for module in ("multiprocessing", "multiprocess"):
        if module not in sys.modules:
            continue
        parent = sys.modules[module].parent_process()
        if parent is not None:
            return parent.pid
    return None


def die_with_parent(kernel_signal: bool = False) -> None:
    """End this process when its parent ends, if it is a pool's worker (else nothing)."""
    global _watched
    parent = _parent_pid()
    if parent is None or _watched == os.getpid():
        return
    _watched = os.getpid()  # once per process (a forked child checks again)
    if kernel_signal and sys.platform.startswith("linux"):
        _set_parent_death_signal()
    if os.getppid() != parent:  # the parent died before we got here
        os._exit(1)
    threading.Thread(target=_watch, args=(parent,), name="cauker-lifeline", daemon=True).start()


class _Registration:
    """Kept alive while children must watch us: the after-fork registries hold it weakly."""


def _after_fork(registration: _Registration) -> None:
    die_with_parent()


@contextlib.contextmanager
def children_die_with_this_process() -> Iterator[None]:
    """Make every process forked by ``multiprocessing`` or ``multiprocess`` during
    the block end when this process ends."""
    registration = _Registration()
    for module in ("multiprocessing", "multiprocess"):
        try:
            util = importlib.import_module(f"{module}.util")
        except ImportError:
            continue
        util.register_after_fork(registration, _after_fork)
    try:
        yield
    finally:
        del registration  # the registries forget it


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(INTERVAL)
    os._exit(1)  # no cleanup: the parent's next run removes what this one left


def _set_parent_death_signal() -> None:
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # no prctl: the watching thread is enough
        pass


#: The warning of a resource tracker that cleans up after a killed process.
_LEAKED = "ignore:resource_tracker:UserWarning"


def quiet_resource_tracker() -> None:
    """Start ``multiprocessing``'s resource tracker, if it is not running yet,
    with its "leaked semaphore objects" warning turned off: a command that was
    killed leaves nothing to report. (The tracker is a fresh interpreter that
    takes this process's ``-W`` options, ``sys.warnoptions``.)"""
    from multiprocessing import resource_tracker

    sys.warnoptions.append(_LEAKED)
    try:
        resource_tracker.ensure_running()
    finally:
        sys.warnoptions.remove(_LEAKED)
