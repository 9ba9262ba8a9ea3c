"""What a run wrote: each file's SHA-256, size and rows, recorded as it is written.

A folder's records are one JSON file (``cauker.json`` of a ``cauker generate``
folder, ``data/<config>/.cauker-files.json`` of an export), rewritten
atomically each time a file is finished, so that whatever stops a run (a kill,
a full disk), the records name exactly the complete files it left. A file is
complete when its bytes still hash to its record: a whole-file checksum, so a
damaged byte anywhere (a data page, the page index, the footer and its
key-value metadata, an IPC file's schema) or a file put in its place is found,
in every format. A file without a record is never taken as complete.

Why SHA-256: it is what the Hub names LFS objects by, ``hashlib`` computes it
at about 800 MiB/s here (with the CPU's SHA instructions), and writers compute
it while writing (:class:`HashingFile`), so recording costs no extra read;
verifying costs one read of each file (``benchmarks/verify_shards.py``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import posixpath
from collections.abc import Iterable, Mapping
from typing import IO, Any

import fsspec
from tqdm.auto import tqdm

from cauker.errors import ParameterError
from cauker.files.atomic_files import write_atomically

#: Bytes read at a time when a file is verified.
CHUNK_BYTES = 8 * 2**20


@dataclasses.dataclass(frozen=True)
class ShardFile:
    """A written file as its records keep it: what the card, the progress bar and
    the verification of a later run need to know."""

    split: str
    index: int
    num_rows: int
    num_bytes: int  # uncompressed, as Parquet counts it (an IPC file: its size)
    file_size: int
    sha256: str  # of the whole file

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, value: Any) -> ShardFile:
        """Raises ``ValueError`` unless ``value`` is what :meth:`to_json` writes."""
        fields = [f.name for f in dataclasses.fields(cls)]
        if not isinstance(value, dict) or sorted(value) != sorted(fields):
            raise ValueError(f"a file's record must have the keys {fields}")
        file = cls(**value)
        numbers = (file.index, file.num_rows, file.num_bytes, file.file_size)
        if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in numbers):
            raise ValueError("a file's sizes must be integers >= 0")
        if not isinstance(file.split, str) or not _is_sha256(file.sha256):
            raise ValueError("a file's record needs a split and a SHA-256 of 64 hex digits")
        return file


def _is_sha256(text: Any) -> bool:
    return isinstance(text, str) and len(text) == 64 and all(c in "0123456789abcdef" for c in text)


class HashingFile:
    """A binary file being written, whose SHA-256 and size are computed from what
    goes through :meth:`write` (Parquet and IPC writers only append)."""

    def __init__(self, file: IO[bytes]) -> None:
        self._file = file
        self._hash = hashlib.sha256()
        self.size = 0

    def write(self, data) -> int:
        self._hash.update(data)
        self.size += memoryview(data).nbytes
        return self._file.write(data)

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    def __getattr__(self, name: str) -> Any:  # tell, flush, closed... of the file
        return getattr(self._file, name)


def file_sha256(fs: fsspec.AbstractFileSystem, path: str, bar: tqdm | None = None) -> str:
    """The SHA-256 of the file at ``path``, read in chunks; ``bar`` counts the bytes."""
    digest = hashlib.sha256()
    with fs.open(path, "rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            digest.update(chunk)
            if bar is not None:
                bar.update(len(chunk))
    return digest.hexdigest()


def verify_files(
    fs: fsspec.AbstractFileSystem,
    root: str,
    records: Mapping[str, ShardFile],
    *,
    progress: bool = True,
) -> dict[str, ShardFile]:
    """The records whose file (``records`` keys are paths relative to ``root``) is
    there, of the recorded size, and hashes to the recorded SHA-256; with a
    progress bar of bytes read.

    Examples
    --------
    >>> import fsspec, tempfile
    >>> fs = fsspec.filesystem("file")
    >>> with tempfile.TemporaryDirectory() as root:
    ...     _ = fs.pipe_file(f"{root}/a.bin", b"cauker")
    ...     digest = file_sha256(fs, f"{root}/a.bin")
    ...     good = ShardFile("train", 0, 1, 6, 6, digest)
    ...     bad = ShardFile("train", 1, 1, 6, 6, "0" * 64)
    ...     sorted(verify_files(fs, root, {"a.bin": good, "b.bin": bad}, progress=False))
    ['a.bin']
    """
    sizes = {}
    for path, file in records.items():
        with contextlib.suppress(OSError):
            if fs.size(posixpath.join(root, path)) == file.file_size:
                sizes[path] = file.file_size
    good = {}
    with tqdm(
        total=sum(sizes.values()),
        unit="B",
        unit_scale=True,
        desc="Verifying",
        disable=not progress or not sizes,
    ) as bar:
        for path in sizes:
            with contextlib.suppress(OSError):
                if file_sha256(fs, posixpath.join(root, path), bar) == records[path].sha256:
                    good[path] = records[path]
    return good


def read_json(fs: fsspec.AbstractFileSystem, path: str) -> tuple[dict | None, bytes | None]:
    """The JSON object in the file ``path`` and its bytes; ``(None, None)`` if there is no file.

    Raises
    ------
    ParameterError
        Naming the file, if it is not a readable file holding a JSON object.
    """
    try:
        raw = fs.cat_file(path)
    except FileNotFoundError:
        return None, None
    except OSError as error:
        raise ParameterError(f"{path} cannot be read ({error.strerror or error})") from None
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as error:
        raise ParameterError(f"{path} is not valid JSON ({error})") from None
    if not isinstance(data, dict):
        raise ParameterError(f"{path} must hold a JSON object, got a {type(data).__name__}")
    return data, raw


def parse_records(files: Any) -> dict[str, ShardFile]:
    """The valid records of a ``files`` object as :class:`FileRecords` saves it;
    others are dropped (their files are then not complete)."""
    records = {}
    for path, value in files.items() if isinstance(files, dict) else ():
        with contextlib.suppress(ValueError, TypeError):
            records[path] = ShardFile.from_json(value)
    return records


class FileRecords:
    """The records of a folder: a JSON file of ``header`` fields and ``files`` (a
    :class:`ShardFile` per path), saved atomically whenever they change.

    Parameters
    ----------
    fs : fsspec.AbstractFileSystem
    path : str
        The JSON file.
    header : dict
        Fields saved beside ``files`` (what the folder holds: a fingerprint, a format).
    files : mapping of str to ShardFile, optional
        The records to start from (paths relative to the folder).
    saved : bytes, optional
        What the JSON file holds now, if known: :meth:`save` writes only a change.
    """

    def __init__(
        self,
        fs: fsspec.AbstractFileSystem,
        path: str,
        header: Mapping[str, Any],
        files: Mapping[str, ShardFile] | None = None,
        saved: bytes | None = None,
    ) -> None:
        self.fs, self.path, self.header = fs, path, dict(header)
        self.files: dict[str, ShardFile] = dict(files or {})
        self._saved = saved

    def text(self) -> bytes:
        """The JSON: the same bytes for the same records, whatever their order of arrival."""
        files = {path: self.files[path].to_json() for path in sorted(self.files)}
        text = json.dumps({**self.header, "files": files}, indent=1, sort_keys=True)
        return (text + "\n").encode()

    def save(self) -> None:
        """Write the JSON, unless it already holds these records."""
        text = self.text()
        if text != self._saved:
            write_atomically(self.fs, self.path, text)
            self._saved = text

    def add(self, path: str, file: ShardFile) -> None:
        """Record a finished file, and save."""
        self.files[path] = file
        self.save()

    def discard(self, paths: Iterable[str]) -> None:
        """Forget removed files, and save."""
        for path in paths:
            self.files.pop(path, None)
        self.save()
