"""A corpus as files for a training script (``cauker generate``): one folder per split.

::

    <output>/train/train-NNNNN-of-NNNNN.<parquet|arrow>
    <output>/validation/validation-NNNNN-of-NNNNN.<parquet|arrow>
    <output>/cauker.json   (the corpus: config, format, and each file's SHA-256)

A folder holds one split only, since ``pyarrow.dataset`` and GluonTS'
``FileDataset`` read every file of the folder they are given; and
``datasets.load_dataset("parquet", data_dir=<output>)`` (or ``"arrow"``) names
the splits after the folders. Files follow the plan of
:mod:`cauker.files.shard_plan` (with ``local=True``: smaller files than on the
Hub, so ``num_proc`` processes have work) and are written by
:mod:`cauker.files.writers`, in any of its formats.

What a call promises:

- **One corpus per folder.** After any interruption and any later call, the
  split folders hold exactly the files of one corpus, the same bytes as a run
  into a new folder, or the call refuses before any work with one line that
  says what to do. ``cauker.json`` names the corpus (its fingerprint and
  format) and records each file's SHA-256 the moment the file is finished
  (:mod:`cauker.files.file_records`), so a file that a killed run of another
  corpus, seed or format left is never taken as complete.
- **A re-run verifies and repairs.** Every recorded file is read in full and
  hashed; a file that is missing, damaged anywhere (data, page index, footer)
  or replaced is written again, and so is one without a record. The same call
  on a complete folder writes nothing.
- **Another corpus needs** ``overwrite``, which removes the files of the corpus
  there (recorded in ``cauker.json`` or carrying cauker's mark) before writing.
- **Nothing of yours is touched.** A non-empty folder without ``cauker.json``
  is refused; in a split folder, a file with no record and no cauker mark
  stops the call (:class:`~cauker.errors.ForeignFileError`), and hidden files
  (``.name``, which the loaders skip) are left alone. Nothing outside the
  folder is deleted or replaced: ``cauker.json`` may list only files of the
  split folders, and links are refused (:mod:`cauker.files.folder_paths`).
- **Calls take turns**: a call holds a lock on the folder
  (:mod:`cauker.files.folder_lock`), so two calls into one folder run one after
  the other.
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path

import fsspec

from cauker.config import SPLITS, CauKerConfig
from cauker.errors import ForeignFileError, ParameterError
from cauker.files.atomic_files import check_writable_folder, is_temporary, remove_temporary_files
from cauker.files.file_records import FileRecords, ShardFile, parse_records, read_json
from cauker.files.folder_lock import LOCK_FILE, folder_lock
from cauker.files.folder_paths import check_file_path, check_folder_path, remove_inside
from cauker.files.runners import check_runner, write_shards
from cauker.files.shard_plan import Shard, check_not_endless, plan_shards
from cauker.files.writers import EXTENSIONS, check_format, is_cauker_file
from cauker.sampler.memory import check_memory
from cauker.tasks.corpora import check_config

#: The file that marks a folder as cauker's, and says what it holds.
MARKER = "cauker.json"
#: The only paths ``cauker.json`` may list: a file of a split folder, as cauker names them.
_SHARD_PATH = re.compile(r"^(train|validation)/\1-\d{5,}-of-\d{5,}\.(parquet|arrow)$")
_LOCAL = fsspec.filesystem("file")
_OVERWRITE = "pass --overwrite (overwrite=True) to replace it, or choose another folder"


@dataclass(frozen=True)
class CorpusFolder:
    """What a :func:`write_corpus_folder` call left in ``folder``."""

    folder: Path
    format: str
    files: tuple[str, ...]  # the data files, relative to the folder
    written: int  # files written by this call (0: the folder held this corpus, verified)
    replaced: bool = False  # the call removed another corpus first (``overwrite``)
    multivariate: bool = False  # rows of (C, L): GluonTS reads them with one_dim_target=False

    def load_hint(self) -> str:
        """The line of Python that loads the files."""
        if self.format == "parquet":
            return f"datasets.load_dataset('parquet', data_dir='{self.folder}')"
        if self.format == "gluonts":
            targets = ", one_dim_target=False" if self.multivariate else ""
            return f"gluonts.dataset.common.FileDataset('{self.folder}/train', freq='h'{targets})"
        return f"pyarrow.dataset.dataset('{self.folder}/train', format='arrow')"


def file_path(shard: Shard, format: str) -> str:
    """The shard's file, relative to the folder: ``<split>/<split>-NNNNN-of-NNNNN.<ext>``."""
    return f"{shard.split}/{shard.file_name(EXTENSIONS[format])}"


@dataclass
class _Held:
    """What a folder holds before a call: the corpus ``cauker.json`` names (or why
    it cannot be read), the records of its files, and cauker's files in the split
    folders (recorded, listed by an older ``cauker.json``, or marked)."""

    corpus: tuple[str, str] | None = None  # (fingerprint, format)
    damage: str | None = None  # why cauker.json cannot be read
    records: dict[str, ShardFile] = field(default_factory=dict)
    ours: list[str] = field(default_factory=list)
    text: bytes | None = None  # cauker.json as it is


def _read_marker(root: str) -> _Held:
    """The corpus and records of ``root/cauker.json``; refuses one that lists a path
    that is not a file of a split folder (nothing it lists may be deleted then)."""
    marker = posixpath.join(root, MARKER)
    check_file_path(_LOCAL, marker, MARKER)
    if not os.path.exists(marker):
        if set(os.listdir(root)) - {*SPLITS, LOCK_FILE}:
            raise ParameterError(
                f"output_dir {root} is not empty and holds no cauker corpus (no {MARKER}); "
                "choose an empty or new folder"
            )
        return _Held(damage=f"{marker} is missing")  # the split folders may hold cauker's files
    try:
        data, text = read_json(_LOCAL, marker)
    except ParameterError as error:
        return _Held(damage=str(error))
    files = data.get("files", [])
    listed = list(files) if isinstance(files, dict | list) else []
    for path in listed:
        if not isinstance(path, str) or not _SHARD_PATH.match(path):
            raise ParameterError(
                f"{marker} lists {path!r}, which is not a file that cauker writes (cauker.json "
                "was edited or damaged), and cauker deletes nothing else: remove that entry, or "
                "choose another folder"
            )
    fingerprint, format = data.get("fingerprint"), data.get("format", "parquet")
    if not isinstance(fingerprint, str) or format not in EXTENSIONS:
        return _Held(damage=f"{marker} names no corpus (fingerprint and format)", ours=listed)
    if isinstance(files, list):  # written by cauker before files were recorded with checksums
        return _Held((fingerprint, format), ours=listed)
    return _Held((fingerprint, format), records=parse_records(files), ours=listed, text=text)


def _inspect(root: str) -> _Held:
    """What ``root`` holds; refuses, before any work, a folder that is not cauker's,
    a link or a file where cauker writes, and a file of a split folder that cauker
    did not write."""
    names = os.listdir(root) if os.path.isdir(root) else []
    if all(name == LOCK_FILE or is_temporary(name) for name in names):
        return _Held()  # new, empty, or what a call killed before its first record left
    held = _read_marker(root)
    ours = set(held.ours)
    for split in SPLITS:
        folder = posixpath.join(root, split)
        check_folder_path(_LOCAL, folder, f"the {split} folder")
        if not os.path.isdir(folder):
            continue
        for name in sorted(os.listdir(folder)):
            path = posixpath.join(folder, name)
            if name.startswith(".") and not is_temporary(name):
                continue  # hidden: the loaders skip it, and so does cauker
            check_file_path(_LOCAL, path, "a file of the corpus")
            relative = f"{split}/{name}"
            if is_temporary(name) or relative in ours or is_cauker_file(_LOCAL, path):
                ours.add(relative)
                continue
            raise ForeignFileError(
                f"{path} was not written by cauker (no record in {MARKER}, and no cauker "
                "metadata), and a split folder must hold the corpus' files only: move it "
                "away, or choose another folder"
            )
    held.ours = sorted(ours)
    return held


def _check_held(output: str, held: _Held, corpus: tuple[str, str], overwrite: bool) -> bool:
    """Whether the folder holds this corpus; refuses another one without ``overwrite``."""
    if held.corpus == corpus:
        return True
    if overwrite or (held.corpus is None and held.damage is None):
        return False
    if held.damage is not None:
        raise ParameterError(f"output_dir {output}: {held.damage}; {_OVERWRITE}")
    if held.corpus[0] != corpus[0]:
        raise ParameterError(f"output_dir {output} already holds another corpus; {_OVERWRITE}")
    raise ParameterError(
        f"output_dir {output} already holds this corpus as {held.corpus[1]} files; pass "
        f"--overwrite (overwrite=True) to replace them with {corpus[1]} files, or choose "
        "another folder"
    )


def write_corpus_folder(
    config: CauKerConfig,
    output_dir: str | os.PathLike,
    format: str = "parquet",
    *,
    num_proc: int | None = None,
    overwrite: bool = False,
    progress: bool = True,
) -> CorpusFolder:
    """Write both splits of ``config`` as ``format`` files under the local folder
    ``output_dir``, or verify and repair them there.

    Parameters
    ----------
    config : CauKerConfig or TaskConfig
        A finite corpus (``num_series`` or ``num_tasks`` not None).
    output_dir : str or path
        A local folder: new, empty, or holding a corpus from an earlier call.
    format : {"parquet", "arrow", "gluonts"}, default="parquet"
        See :mod:`cauker.files.writers` (a task corpus: parquet or arrow).
    num_proc : int, optional
        Worker processes.
    overwrite : bool, default=False
        Replace another corpus (or this one in another format) written there by cauker.
    progress : bool, default=True
        Progress bars of the bytes verified and of the rows written.

    Returns
    -------
    CorpusFolder

    Raises
    ------
    ParameterError
        Before anything is written: a bad argument, or a folder that is not
        cauker's or holds another corpus (without ``overwrite``).
    ForeignFileError
        Before anything is written: a file that cauker did not write, or a link,
        stands where it must write or delete.

    Examples
    --------
    >>> import tempfile, cauker
    >>> config = cauker.CauKerConfig(num_series=8, length=16)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     done = write_corpus_folder(config, folder, "arrow", progress=False)
    ...     again = write_corpus_folder(config, folder, "arrow", progress=False)
    >>> done.files, done.written, again.written
    (('train/train-00000-of-00001.arrow', 'validation/validation-00000-of-00001.arrow'), 2, 0)
    """
    check_config(config)
    check_not_endless(config)
    check_memory(config)
    format = check_format(format, config)
    check_runner(num_proc, None)
    check_writable_folder(output_dir, "output_dir")
    root = os.path.realpath(output_dir)  # a link to the folder is the user's choice
    shards = [s for split in SPLITS for s in plan_shards(config, split, local=True)]
    tasks = [(s, file_path(s, format)) for s in shards]
    files = tuple(path for _, path in tasks)
    planned = set(files)
    corpus = (config.fingerprint(), format)
    waiting = f"waiting for another cauker generate into {output_dir} to finish"
    with folder_lock(_LOCAL, root, waiting if progress else None):
        held = _inspect(root)
        same = _check_held(os.fspath(output_dir), held, corpus, overwrite)
        records = FileRecords(
            _LOCAL,
            posixpath.join(root, MARKER),
            {"fingerprint": corpus[0], "format": format, "config": config.to_dict()},
            {p: f for p, f in held.records.items() if p in planned} if same else {},
            saved=held.text,
        )
        # Everything of cauker's that is not a recorded file of this corpus goes first,
        # while cauker.json still names what is there (a kill here loses nothing).
        for path in held.ours:
            if path not in records.files:
                remove_inside(_LOCAL, root, posixpath.join(root, path))
        remove_temporary_files(_LOCAL, root, lambda final: final == MARKER)
        records.save()
        written = write_shards(
            config,
            root,
            format,
            tasks,
            num_proc=num_proc,
            progress=progress,
            desc="Generating",
            records=records,
        )
        for split in SPLITS:  # a split that this corpus does not have: no folder
            folder = Path(root, split)
            if not any(path.startswith(f"{split}/") for path in files) and folder.is_dir():
                if not any(folder.iterdir()):
                    folder.rmdir()
    replaced = not same and bool(held.ours)
    return CorpusFolder(
        Path(output_dir), format, files, written.count, replaced, config.multivariate
    )
