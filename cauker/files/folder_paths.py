"""What cauker may write or delete in an output folder: paths inside it, never
through a symbolic link, each of the kind it writes there.

Every command that writes files checks, before any work, each path it will
write or delete (:func:`check_folder_path`, :func:`check_file_path`), and
deletes only through :func:`remove_inside`, which resolves the path (symbolic
links included) against the output folder and refuses one that leaves it. A
link inside the folder is refused rather than followed or replaced: the user
who made it may want what it points to kept as it is. So nothing outside the
folder is ever deleted or replaced, whatever a records file lists or a link
points to.

On object stores (``s3://``, ``hf://``...) there are no links: only the kinds
of the paths are checked.
"""

from __future__ import annotations

import os
import posixpath

import fsspec

from cauker.errors import ForeignFileError, ParameterError
from cauker.files.atomic_files import is_local

_ADVICE = "move it away, or choose another folder"


def _check_not_link(fs: fsspec.AbstractFileSystem, path: str) -> None:
    if is_local(fs) and os.path.islink(path):
        raise ForeignFileError(
            f"{path} is a symbolic link (to {os.readlink(path)}); cauker never writes, replaces "
            f"or deletes through a link: {_ADVICE}"
        )


def check_folder_path(fs: fsspec.AbstractFileSystem, path: str, what: str) -> None:
    """Refuse ``path`` as the folder ``what`` (absent is fine) if it is a link, a
    file, or a local folder that cannot be written to."""
    _check_not_link(fs, path)
    if fs.exists(path) and not fs.isdir(path):
        raise ForeignFileError(f"{path} is a file, where cauker writes {what}: {_ADVICE}")
    if is_local(fs) and os.path.isdir(path) and not os.access(path, os.W_OK | os.X_OK):
        raise ParameterError(f"{path} ({what}) is not writable")


def check_file_path(fs: fsspec.AbstractFileSystem, path: str, what: str) -> None:
    """Refuse ``path`` as the file ``what`` (absent is fine) if it is a link or a folder."""
    _check_not_link(fs, path)
    if fs.isdir(path):
        raise ForeignFileError(f"{path} is a folder, where cauker writes {what}: {_ADVICE}")


def is_inside(root: str, path: str) -> bool:
    """Whether the local ``path``, its folders' links resolved, lies inside ``root``."""
    folder = os.path.realpath(os.path.dirname(os.path.abspath(path)))
    top = os.path.realpath(root)
    return os.path.commonpath([folder, top]) == top and os.path.basename(path) not in ("", "..")


def remove_inside(fs: fsspec.AbstractFileSystem, root: str, path: str) -> None:
    """Delete the file ``path`` (if there), only if it lies inside the folder ``root``.

    A local path whose folders resolve (through ``..`` or links) outside ``root``
    raises :class:`~cauker.errors.ParameterError` and nothing is deleted; a link
    is removed itself, never what it points to.

    Examples
    --------
    >>> import fsspec, tempfile
    >>> fs = fsspec.filesystem("file")
    >>> with tempfile.TemporaryDirectory() as root:
    ...     remove_inside(fs, root, f"{root}/../victim.txt")
    Traceback (most recent call last):
        ...
    cauker.errors.ParameterError: .../victim.txt is outside the folder ..., and cauker ...
    """
    if not is_local(fs):
        if fs.isfile(path):
            fs.rm(path)
        return
    if not is_inside(root, path):
        raise ParameterError(
            f"{posixpath.normpath(path)} is outside the folder {root}, and cauker deletes "
            "nothing outside it"
        )
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
