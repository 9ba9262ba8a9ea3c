"""A corpus as files for a training script (``cauker generate``): one folder per split.

::

    <output>/train/train-NNNNN-of-NNNNN.<parquet|arrow>
    <output>/validation/validation-NNNNN-of-NNNNN.<parquet|arrow>
    <output>/cauker.json   (the config, the format, and the files written)

A folder holds one split only, since ``pyarrow.dataset`` and GluonTS'
``FileDataset`` read every file of the folder they are given; and
``datasets.load_dataset("parquet", data_dir=<output>)`` (or ``"arrow"``) names
the splits after the folders. Files follow the plan of
:mod:`cauker.files.shard_plan` (with ``local=True``: smaller files than on the
Hub, so ``num_proc`` processes have work) and are written by
:mod:`cauker.files.writers`, in any of its formats.

``cauker.json`` marks the folder as cauker's. A folder that is not empty and
has none is never written into (it is the user's), nor one that holds another
corpus, or this one in another format, unless ``overwrite`` (which removes only
the files that ``cauker.json`` lists). An interrupted run resumes: complete
files are kept; the same call again writes nothing.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from cauker.config import SPLITS, CauKerConfig
from cauker.errors import ParameterError
from cauker.files.atomic_files import check_writable_folder
from cauker.files.runners import check_runner, write_shards
from cauker.files.shard_plan import Shard, check_finite, plan_shards
from cauker.files.writers import EXTENSIONS, check_format
from cauker.tasks.corpora import check_config

#: The file that marks a folder as cauker's, and says what it holds.
MARKER = "cauker.json"


@dataclass(frozen=True)
class CorpusFolder:
    """What a :func:`write_corpus_folder` call left in ``folder``."""

    folder: Path
    format: str
    files: tuple[str, ...]  # the data files, relative to the folder
    written: bool  # False: the folder already held this corpus, complete

    def load_hint(self) -> str:
        """The line of Python that loads the files."""
        if self.format == "parquet":
            return f"datasets.load_dataset('parquet', data_dir='{self.folder}')"
        if self.format == "gluonts":
            return f"gluonts.dataset.common.FileDataset('{self.folder}/train', freq='h')"
        return f"pyarrow.dataset.dataset('{self.folder}/train', format='arrow')"


def file_path(shard: Shard, format: str) -> str:
    """The shard's file, relative to the folder: ``<split>/<split>-NNNNN-of-NNNNN.<ext>``."""
    return f"{shard.split}/{shard.file_name(EXTENSIONS[format])}"


def _held_corpus(output: Path) -> dict | None:
    """What ``cauker.json`` says a non-empty ``output`` holds; None if it is new or empty."""
    if not output.exists() or not any(output.iterdir()):
        return None
    marker = output / MARKER
    if not marker.is_file():  # not ours to write into
        raise ParameterError(
            f"output_dir {output} is not empty and holds no cauker corpus; choose an "
            "empty or new folder"
        )
    held = json.loads(marker.read_text())
    held.setdefault("format", "parquet")
    return held


def _remove_corpus(output: Path, held: dict) -> None:
    """Delete the files that an earlier call wrote (listed in its ``cauker.json``)."""
    for name in held.get("files", []):
        (output / name).unlink(missing_ok=True)
    for folder in SPLITS:
        if (output / folder).is_dir() and not any((output / folder).iterdir()):
            (output / folder).rmdir()


def _check_held(output: Path, held: dict, config: CauKerConfig, format: str) -> None:
    if held.get("fingerprint") != config.fingerprint():
        raise ParameterError(
            f"output_dir {output} already holds another corpus; pass --overwrite "
            "(overwrite=True) to replace it, or choose another folder"
        )
    if held["format"] != format:
        raise ParameterError(
            f"output_dir {output} already holds this corpus as {held['format']} files; pass "
            f"--overwrite (overwrite=True) to replace them with {format} files, or choose "
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
    """Write both splits of ``config`` as ``format`` files under the local folder ``output_dir``.

    Parameters
    ----------
    config : CauKerConfig or TaskConfig
        A finite corpus (``num_series`` or ``num_tasks`` not None).
    output_dir : str or path
        A local folder: new, empty, or holding this corpus from an earlier call.
    format : {"parquet", "arrow", "gluonts"}, default="parquet"
        See :mod:`cauker.files.writers` (a task corpus: parquet or arrow).
    num_proc : int, optional
        Worker processes.
    overwrite : bool, default=False
        Replace another corpus (or this one in another format) written there by cauker.
    progress : bool, default=True
        A progress bar of rows.

    Returns
    -------
    CorpusFolder

    Raises
    ------
    ParameterError
        Before anything is written: a bad argument, or a folder that is not
        cauker's or holds another corpus (without ``overwrite``).

    Examples
    --------
    >>> import tempfile, cauker
    >>> config = cauker.CauKerConfig(num_series=8, length=16)
    >>> done = write_corpus_folder(config, tempfile.mkdtemp(), "arrow", progress=False)
    >>> done.files, done.written
    (('train/train-00000-of-00001.arrow', 'validation/validation-00000-of-00001.arrow'), True)
    """
    check_config(config)
    check_finite(config)
    format = check_format(format, config)
    check_runner(num_proc, None)
    check_writable_folder(output_dir, "output_dir")
    output = Path(output_dir)
    held = _held_corpus(output)
    if held is not None and not overwrite:
        _check_held(output, held, config, format)
    shards = [s for split in SPLITS for s in plan_shards(config, split, local=True)]
    tasks = [(s, file_path(s, format)) for s in shards]
    files = tuple(path for _, path in tasks)
    same = held is not None and held.get("fingerprint") == config.fingerprint()
    same = same and held["format"] == format
    if same and held.get("complete") and all((output / name).exists() for name in held["files"]):
        return CorpusFolder(output, format, tuple(held["files"]), written=False)
    if held is not None and not same:
        _remove_corpus(output, held)
    output.mkdir(parents=True, exist_ok=True)
    about = {"fingerprint": config.fingerprint(), "config": config.to_dict(), "format": format}
    marker = output / MARKER
    marker.write_text(json.dumps({**about, "complete": False, "files": []}, indent=1))
    write_shards(
        config, str(output), format, tasks, num_proc=num_proc, progress=progress, desc="Generating"
    )
    marker.write_text(json.dumps({**about, "complete": True, "files": list(files)}, indent=1))
    return CorpusFolder(output, format, files, written=True)
