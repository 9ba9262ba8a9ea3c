"""A lock on an output folder on a local disk, so that exports into one folder
take turns at what they must not do together: write the same config's files, or
read, merge and rewrite the card.

Why by hand: ``filelock`` locks a lock *file* and leaves it in the folder (it
may not delete it and stay race-free), and a lock file beside every export is
litter. A ``flock`` on the folder itself leaves nothing, and the kernel releases
it when the process dies, however it dies. Where a folder cannot be locked that
way (Windows, some network file systems), ``filelock`` on a hidden file
``.cauker.lock`` in the folder takes over.

The folders that the lock had to create are removed again when it is released
if they are still empty (a run that failed before writing anything leaves no
empty folder behind). A waiter that then gets the lock of a removed folder
sees it and locks the new one.

On object stores (``s3://``, ``gcs://``, ``hf://``) there is no lock: two
exports into one URL at the same time are not made safe (the user guide says so).
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from collections.abc import Iterator

import fsspec

from cauker.files.atomic_files import is_local

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

#: The errors of a file system that cannot lock a folder (not: it is locked).
_CANNOT_LOCK = {errno.EBADF, errno.EINVAL, errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS}
LOCK_FILE = ".cauker.lock"


@contextlib.contextmanager
def folder_lock(
    fs: fsspec.AbstractFileSystem, folder: str, waiting: str | None = None
) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` (created if needed) for the block.

    Waits for another holder to finish; ``waiting``, if given, is printed to
    stderr first. A no-op on object stores.
    """
    if not is_local(fs):
        yield
        return
    created = _missing_folders(folder)
    fd = _lock_folder(folder, waiting)
    if fd is None:
        with _file_lock(folder, waiting):
            yield
        return
    try:
        yield
    finally:
        for path in created:  # deepest first, while locked; stops at one that is not empty
            try:
                os.rmdir(path)
            except OSError:
                break
        os.close(fd)  # releases the lock


def _missing_folders(folder: str) -> list[str]:
    """The folders of ``folder``'s path that do not exist, deepest first (not created)."""
    missing = []
    current = os.path.abspath(folder)
    while not os.path.exists(current) and os.path.dirname(current) != current:
        missing.append(current)
        current = os.path.dirname(current)
    return missing


@contextlib.contextmanager
def _file_lock(folder: str, waiting: str | None) -> Iterator[None]:
    """The lock of a folder that cannot be ``flock``-ed: a hidden file in it."""
    from filelock import FileLock, Timeout

    lock = FileLock(os.path.join(folder, LOCK_FILE))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        _tell(waiting)
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


def _lock_folder(folder: str, waiting: str | None) -> int | None:
    """A descriptor of ``folder`` holding its ``flock``, or None if it cannot be locked."""
    if fcntl is None:
        os.makedirs(folder, exist_ok=True)
        return None
    while True:
        os.makedirs(folder, exist_ok=True)
        try:
            fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        except OSError:
            return None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                _tell(waiting)
                waiting = None  # said once
                fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError as error:
            os.close(fd)
            if error.errno in _CANNOT_LOCK:
                return None
            raise
        except BaseException:  # interrupted while waiting
            os.close(fd)
            raise
        if _same_folder(fd, folder):
            return fd
        os.close(fd)  # the holder removed the folder (it left it empty): lock the new one


def _same_folder(fd: int, folder: str) -> bool:
    try:
        now = os.stat(folder)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (held.st_dev, held.st_ino) == (now.st_dev, now.st_ino)


def _tell(waiting: str | None) -> None:
    if waiting:
        print(waiting, file=sys.stderr, flush=True)
