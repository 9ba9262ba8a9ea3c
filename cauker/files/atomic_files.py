"""Files that appear whole or not at all, through ``fsspec``.

On a local file system a file is written under a temporary name in its own
folder, then renamed over its final name (``os.replace``, atomic on POSIX and
Windows). On an object store (``s3://``, ``gcs://``, ``hf://``) an object
appears only when its upload completes: small files are sent in one request
(``pipe_file``); shards are written under their final name, and a partial
upload is caught by the check of their footer (:mod:`cauker.files.writers`).

A temporary name is ``.<final name>.tmp-<32 hex digits>``: hidden, and ending
in neither ``.parquet`` nor ``.png``, so it never matches the card's globs, the
Hub upload's patterns or ``datasets``' default patterns. A process killed
mid-write leaves it behind; :func:`remove_temporary_files` deletes it later, and
callers do that under the folder's lock (:mod:`cauker.files.folder_lock`), so that no
other process's file in flight is touched.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import re
import uuid
from collections.abc import Callable, Iterator
from typing import IO

import fsspec
from fsspec.implementations.local import LocalFileSystem

from cauker.errors import ParameterError

_TEMPORARY = re.compile(r"^\.(?P<final>.+)\.tmp-[0-9a-f]{32}$")


def is_local(fs: fsspec.AbstractFileSystem) -> bool:
    """A local file system: files are written under a temporary name, then renamed."""
    return isinstance(fs, LocalFileSystem)


def is_temporary(name: str) -> bool:
    """Whether a file name is one of :func:`temporary_path`'s."""
    return _TEMPORARY.match(name) is not None


def temporary_path(path: str) -> str:
    """A fresh temporary name for ``path``, in the same folder."""
    folder, name = posixpath.split(path)
    return posixpath.join(folder, f".{name}.tmp-{uuid.uuid4().hex}")


@contextlib.contextmanager
def open_atomically(fs: fsspec.AbstractFileSystem, path: str) -> Iterator[IO[bytes]]:
    """A binary file to write; on a local disk it replaces ``path`` only if the
    block ends without an error (else it is removed). An ``OSError`` that names
    no file (a full disk seen by a writer) is raised again naming ``path``."""
    try:
        if not is_local(fs):
            with fs.open(path, "wb") as f:
                yield f
            return
        temporary = temporary_path(path)
        try:
            with fs.open(temporary, "wb") as f:
                yield f
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.remove(temporary)
            raise
    except OSError as error:
        if error.filename is not None:
            raise
        if error.errno is None:
            raise OSError(f"{error} (writing {path})") from error
        raise OSError(error.errno, error.strerror or str(error), path) from error


def write_atomically(fs: fsspec.AbstractFileSystem, path: str, data: bytes) -> None:
    """Write ``data`` to ``path``: the old content or the new, never a part."""
    if is_local(fs):
        with open_atomically(fs, path) as f:
            f.write(data)
    else:
        fs.pipe_file(path, data)


def remove_temporary_files(
    fs: fsspec.AbstractFileSystem, folder: str, final: Callable[[str], bool] = lambda name: True
) -> None:
    """Delete the temporary files in ``folder`` whose final name satisfies ``final``
    (left by writers that were killed). Call it only under the folder's lock."""
    try:
        paths = fs.ls(folder, detail=False)
    except (FileNotFoundError, NotADirectoryError):
        return
    for path in paths:
        match = _TEMPORARY.match(posixpath.basename(path))
        if match and final(match["final"]):
            with contextlib.suppress(FileNotFoundError):
                fs.rm(path)


def folder_problem(path: str | os.PathLike) -> str | None:
    """Why the local folder ``path`` (existing or not) cannot be created or written
    to, or None: a file in the way, or a parent that is not writable."""
    current = os.path.abspath(os.fspath(path))
    while not os.path.exists(current):
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    if not os.path.isdir(current):
        return f"{current} is a file"
    if not os.access(current, os.W_OK | os.X_OK):
        return f"{current} is not writable"
    return None


def check_writable_folder(path: str | os.PathLike, what: str) -> None:
    """Raise ``ValueError`` naming ``what`` if the local folder ``path`` cannot be
    created or written to. Meant to run before any work, so a bad output fails at once."""
    text = os.fspath(path)
    if text == "":
        raise ParameterError(f"{what} must be a folder, got ''")
    problem = folder_problem(text)
    if problem:
        raise ParameterError(f"{what} {text!r} cannot be used as a folder: {problem}")
