"""Export a corpus in the Hub layout, to a folder or any fsspec URL:

    data/<config>/<split>-NNNNN-of-NNNNN-<tag>.parquet
    data/<config>/.cauker-files.json  (each shard's SHA-256, recorded as it is written)
    images/<config>-<tag>.png  (preview drawn from the exported rows)
    README.md                  (card: YAML ``configs:`` and ``dataset_info``)

(``<tag>``: 8 hex digits of the config fingerprint), so that
``datasets.load_dataset(DIR, "<config>")`` works, with or without
``streaming=True``. Several configs can share a folder: each export adds or
replaces its own files and card entries only.

Work is one task per shard: in this process, in a process pool
(``num_proc``), or on a Dask cluster (``scheduler``). A re-run verifies every
shard against its record (:mod:`cauker.files.file_records`: a whole-file
SHA-256, so damage in the data pages, the page index or the footer is found)
and writes again those that do not match or have no record, so an interrupted
or damaged export is resumed and repaired.

What an export promises (the user guide's "Crashes, concurrent exports and
your files" says the same for users):

- It never replaces or deletes a file it did not write: a README.md that is not
  a cauker card (or whose ``cauker:`` block cannot be merged), an image at its
  preview's path, a file at a shard's path, a link or a file where a folder
  must be, stops it before any work (:class:`~cauker.errors.ForeignFileError`);
  other files are left alone. Only files that cauker recorded or marked (a
  shard's footer metadata, a preview's text chunk, a temporary name) are ever
  removed, and only inside the folder (:mod:`cauker.files.folder_paths`).
- The folder always loads as its card says: new shards are written beside the
  old ones under other names, the card is switched in one rename at the end,
  and only then are the old config's files removed.
- On a local disk, exports into one folder take turns (:mod:`cauker.files.folder_lock`):
  one config at a time per config name, one card merge at a time.
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass
from typing import Any

import fsspec
import pyarrow.parquet as pq

from cauker.config import SPLITS, CauKerConfig
from cauker.errors import ForeignFileError, ParameterError
from cauker.files.atomic_files import (
    check_writable_folder,
    is_local,
    remove_temporary_files,
    write_atomically,
)
from cauker.files.file_records import FileRecords, parse_records, read_json
from cauker.files.folder_lock import folder_lock
from cauker.files.folder_paths import check_file_path, check_folder_path, remove_inside
from cauker.files.runners import Written, check_runner, write_shards
from cauker.files.shard_plan import Shard, check_not_endless, plan_shards
from cauker.files.writers import ShardFile, is_cauker_file
from cauker.hub.card import ConfigEntry, check_license, is_cauker_card, update_card
from cauker.sampler.memory import check_memory
from cauker.tasks.corpora import check_config

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def check_config_name(name: str) -> str:
    """``name`` if it can name a config in a repo (letters, digits, ``.``, ``_``, ``-``)."""
    if not isinstance(name, str) or not _NAME.match(name) or name in {".", ".."}:
        raise ParameterError(
            f"config_name must be letters, digits, '.', '_' or '-' (not starting with a "
            f"symbol), got {name!r}"
        )
    return name


def file_tag(config: CauKerConfig) -> str:
    """The part of the file names that tells configs apart: 8 hex digits of the fingerprint."""
    return config.fingerprint()[:8]


def shard_path(config_name: str, config: CauKerConfig, shard: Shard) -> str:
    """The shard's file, relative to the folder:
    ``data/<config>/<split>-NNNNN-of-NNNNN-<tag>.parquet``."""
    name = f"{shard.split}-{shard.index:05d}-of-{shard.count:05d}-{file_tag(config)}.parquet"
    return f"data/{config_name}/{name}"


def data_files_pattern(config_name: str, config: CauKerConfig, shard: Shard) -> str:
    """The card's glob of the shards of ``shard``'s split, and of no other file."""
    split, count, tag = shard.split, shard.count, file_tag(config)
    return f"data/{config_name}/{split}-*-of-{count:05d}-{tag}.parquet"


def _shards(config: CauKerConfig) -> list[Shard]:
    return [s for split in SPLITS for s in plan_shards(config, split)]


#: The records of a config's shards, in its data folder (hidden: no glob matches it).
RECORDS = ".cauker-files.json"


def records_path(root: str, name: str) -> str:
    """The records file of config ``name``."""
    return posixpath.join(root, "data", name, RECORDS)


def _records(fs, root: str, name: str) -> FileRecords:
    """The records of config ``name``'s shards; unreadable records are none (every
    shard is then written again)."""
    path = records_path(root, name)
    try:
        data, text = read_json(fs, path)
    except ParameterError:
        return FileRecords(fs, path, {})
    return FileRecords(fs, path, {}, parse_records((data or {}).get("files")), saved=text)


def export_shards(
    config: CauKerConfig,
    url: str,
    name: str,
    *,
    num_proc: int | None = None,
    scheduler: Any = None,
    progress: bool = True,
) -> Written:
    """Verify the recorded shards of both splits and write the others; returns all
    shards' files, in order, and how many were written."""
    fs, root = fsspec.core.url_to_fs(url)
    tasks = [(s, shard_path(name, config, s)) for s in _shards(config)]
    written = write_shards(
        config,
        url,
        "parquet",
        tasks,
        num_proc=num_proc,
        scheduler=scheduler,
        progress=progress,
        desc=f"Exporting {name}",
        records=_records(fs, root, name),
    )
    # temporary files of writers killed mid-write (their shards were redone); the
    # caller holds the config's lock, so none of them is another export's in flight
    remove_temporary_files(fs, posixpath.join(root, "data", name))
    return written


def preview_path(name: str, config: CauKerConfig) -> str:
    """Where the preview of config ``name`` goes, relative to the folder."""
    return f"images/{name}-{file_tag(config)}.png"


def _preview_marker(fs, path: str) -> dict:
    from cauker.files.preview import preview_marker

    try:
        return preview_marker(fs.cat_file(path)) or {}
    except OSError:
        return {}


def _is_our_preview(fs, path: str, name: str) -> bool:
    return _preview_marker(fs, path).get("config_name") == name


def check_output(fs, root: str, name: str, config: CauKerConfig) -> None:
    """Refuse, before any work, an output where the export would replace a file it
    did not write or write through a link: a README.md that is not a cauker card
    (or cannot be merged), an image at the preview's path that is not a cauker
    preview, a file where a folder must be, a folder where a file must be."""
    if is_local(fs):
        check_writable_folder(root, "output_dir")
    data = posixpath.join(root, "data")
    check_folder_path(fs, data, "the data folder")
    check_folder_path(fs, posixpath.join(data, name), f"the folder of config {name!r}")
    check_file_path(fs, records_path(root, name), "the records of the shards")
    check_folder_path(fs, posixpath.join(root, "images"), "the images folder")
    image = posixpath.join(root, preview_path(name, config))
    check_file_path(fs, image, "the preview")
    if fs.exists(image) and not _is_our_preview(fs, image, name):
        raise ForeignFileError(
            f"{image} was not written by cauker and would be replaced by the preview of "
            f"config {name!r}; move it away, or export into another folder"
        )
    readme = posixpath.join(root, "README.md")
    check_file_path(fs, readme, "the dataset card")
    if fs.isfile(readme):
        check_card(fs.cat_file(readme).decode("utf-8", "replace"), readme, config, name)


def check_card(text: str, where: str, config: CauKerConfig, name: str) -> None:
    """Refuse, before any work, a card that the export of ``config`` as ``name``
    could not merge into: one cauker did not write, or whose ``cauker:`` block is
    damaged (it is merged for a trial, with the shards' sizes unknown)."""
    if not is_cauker_card(text):
        raise _foreign_readme(where)
    shards = _shards(config)
    sizes = [ShardFile(s.split, s.index, s.num_rows, 0, 0, "0" * 64) for s in shards]
    try:
        update_card(text, config_entry(config, name, shards, sizes, None), "your-name/cauker")
    except Exception as error:  # noqa: BLE001 - whatever the merge trips on, refuse now
        cause = " ".join(str(error).split()) or "no message"
        raise ForeignFileError(
            f"{where} has a 'cauker:' block that cannot be merged ({type(error).__name__}: "
            f"{cause}); fix or remove that block (cauker never rewrites a card it cannot "
            "read), or use another folder or repo"
        ) from None


def _foreign_readme(path: str) -> ForeignFileError:
    return ForeignFileError(
        f"{path} is not a cauker dataset card (its YAML has no 'cauker:' block), and cauker "
        "never replaces a README it did not write; move it away, or export into another folder"
    )


def remove_stale(fs, root: str, name: str, config: CauKerConfig, shards: list[Shard]) -> None:
    """Delete what earlier exports of config ``name`` left and the card no longer
    names: shards of another fingerprint or plan, and older previews. Only files
    that cauker recorded or marked are touched, never through a link; a user's
    files in the same folders are kept."""
    keep = {posixpath.join(root, shard_path(name, config, s)) for s in shards}
    folder = posixpath.join(root, "data", name)
    records = _records(fs, root, name)
    stale = []
    for path in fs.ls(folder, detail=False) if fs.isdir(folder) else []:
        if path in keep or not path.endswith(".parquet") or _is_link(fs, path):
            continue
        relative = posixpath.relpath(path, root)
        if relative in records.files or (fs.isfile(path) and is_cauker_file(fs, path)):
            remove_inside(fs, root, path)
            stale.append(relative)
    records.discard(stale)
    images = posixpath.join(root, "images")
    current = posixpath.join(root, preview_path(name, config))
    pattern = re.compile(rf"^{re.escape(name)}-[0-9a-f]{{8}}\.png$")
    for path in fs.ls(images, detail=False) if fs.isdir(images) else []:
        base = posixpath.basename(path)
        if path == current or not pattern.match(base) or _is_link(fs, path):
            continue
        if _is_our_preview(fs, path, name):
            remove_inside(fs, root, path)
    remove_temporary_files(fs, images, lambda final: bool(pattern.match(final)))


def _is_link(fs, path: str) -> bool:
    return is_local(fs) and os.path.islink(path)


def write_preview(fs, root: str, name: str, config: CauKerConfig, first: str) -> str:
    """Draw the first rows of the exported train split into ``images/<name>-<tag>.png``."""
    from cauker.files.preview import render_figure

    relative = preview_path(name, config)
    marker = {"config_name": name, "fingerprint": config.fingerprint()}
    if _preview_marker(fs, posixpath.join(root, relative)) == marker:
        return relative  # drawn by an earlier run of the same export: the same picture
    with fs.open(first, "rb") as f:
        rows = pq.read_table(f).slice(0, 16).to_pylist()
    fs.makedirs(posixpath.join(root, "images"), exist_ok=True)
    image = render_figure(rows, config, "png", marker=marker)
    write_atomically(fs, posixpath.join(root, relative), image)
    return relative


def config_entry(
    config: CauKerConfig,
    name: str,
    shards: list[Shard],
    files: list[ShardFile],
    preview: str | None,
) -> ConfigEntry:
    import datasets

    from cauker.tasks.corpora import arrow_schema

    rows = {split: 0 for split in SPLITS}
    size = {split: 0 for split in SPLITS}
    for f in files:
        rows[f.split] += f.num_rows
        size[f.split] += f.num_bytes
    return ConfigEntry(
        name=name,
        config=config,
        features=datasets.Features.from_arrow_schema(arrow_schema(config)),
        num_examples=rows,
        num_bytes=size,
        download_size=sum(f.file_size for f in files),
        data_files={
            split: data_files_pattern(name, config, next(s for s in shards if s.split == split))
            for split in SPLITS
            if rows[split] > 0
        },
        preview=preview,
    )


def write_card(fs, root: str, entry: ConfigEntry, repo_id: str, license: str | None) -> None:
    """Merge ``entry`` into the folder's card and replace it in one rename. Call it
    under the folder's lock: the read, the merge and the write must not interleave
    with another export's."""
    path = posixpath.join(root, "README.md")
    existing = fs.cat_file(path).decode("utf-8") if fs.isfile(path) else None
    try:
        card = update_card(existing, entry, repo_id, license)
    except ForeignFileError:
        raise _foreign_readme(path) from None
    write_atomically(fs, path, str(card).encode("utf-8"))
    remove_temporary_files(fs, root, lambda final: final == "README.md")


@dataclass(frozen=True)
class Exported:
    """What an export left: where, the card's entry of the config, its shards, and
    how many of them it wrote (0: the folder held them all, verified)."""

    url: str
    entry: ConfigEntry
    shards: int
    written: int


def export(
    config: CauKerConfig,
    output_dir: str | os.PathLike,
    *,
    config_name: str | None = None,
    num_proc: int | None = None,
    scheduler: Any = None,
    progress: bool = True,
    repo_id: str | None = None,
    license: str | None = None,
) -> str:
    """Write ``config`` in the Hub layout under ``output_dir`` (a folder or fsspec URL).

    Parameters
    ----------
    config : CauKerConfig or TaskConfig
    output_dir : str or path
        A local folder, or an fsspec URL (``s3://bucket/cauker``, ``hf://datasets/...``).
    config_name : str, optional
        Name of the config in the repo; defaults to ``"default"``.
    num_proc : int, optional
        Worker processes on this machine.
    scheduler : dask.distributed.Client, address or "local", optional
        Run one Dask task per shard instead (``pip install cauker[dask]``).
    progress : bool, default=True
        Progress bars of the shards verified and written.
    repo_id : str, optional
        The Hub repo the card's examples name, if the folder will be uploaded there.
    license : str, optional
        The card's license, a Hub identifier (``cc-by-4.0``); by default the
        folder's card keeps the license it names, and a new card gets
        ``apache-2.0`` (:data:`cauker.hub.card.LICENSE`).

    Returns
    -------
    str
        ``output_dir``.

    Raises
    ------
    ParameterError
        Before any work: a bad argument, an endless config, or an output that
        cannot be a folder.
    ForeignFileError
        Before any work: a README.md, an image or a shard that cauker did not
        write, or a link, stands where it would write.
    ShardWriteError
        A shard could not be written (on a Dask cluster: after the retries).

    Examples
    --------
    >>> import tempfile, cauker, datasets
    >>> config = cauker.CauKerConfig(num_series=8, length=16)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     out = cauker.export(config, folder, config_name="tiny", progress=False)
    ...     datasets.load_dataset(folder, "tiny", split="train").num_rows
    8
    """
    return export_config(
        config,
        output_dir,
        config_name,
        num_proc=num_proc,
        scheduler=scheduler,
        progress=progress,
        repo_id=repo_id,
        license=license,
    ).url


def check_export(
    config: CauKerConfig,
    output_dir: str | os.PathLike,
    config_name: str | None,
    num_proc: int | None,
    scheduler: Any,
    license: str | None = None,
) -> tuple[str, str]:
    """The URL and config name of an export, once its arguments are checked
    (:class:`~cauker.errors.ParameterError` before any work)."""
    check_config(config)
    check_not_endless(config)
    check_memory(config)
    name = check_config_name("default" if config_name is None else config_name)
    check_runner(num_proc, scheduler)
    check_license(license)
    url = os.fspath(output_dir)
    if not isinstance(url, str) or url == "":
        raise ParameterError(f"output_dir must be a folder or an fsspec URL, got {output_dir!r}")
    return url, name


def export_config(
    config: CauKerConfig,
    output_dir: str | os.PathLike,
    config_name: str | None = None,
    *,
    num_proc: int | None = None,
    scheduler: Any = None,
    progress: bool = True,
    repo_id: str | None = None,
    license: str | None = None,
    card: bool = True,
) -> Exported:
    """:func:`export`, telling what it did: its shards, how many it wrote, the card's
    entry (``cauker export`` prints them).

    The order keeps the folder loadable as its card says at every moment: the new
    shards and preview are written beside the old ones (other names), the card is
    switched in one rename, and only then are the old files removed. With
    ``card=False`` the folder's card is left as it is (a push merges the entry
    into the repo's card instead, once).

    Examples
    --------
    >>> import tempfile, cauker
    >>> config = cauker.CauKerConfig(num_series=8, length=16)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     first = export_config(config, folder, "tiny", progress=False)
    ...     again = export_config(config, folder, "tiny", progress=False)
    >>> first.shards, first.written, again.written, first.entry.name
    (2, 2, 0, 'tiny')
    """
    url, name = check_export(config, output_dir, config_name, num_proc, scheduler, license)
    repo_id = repo_id or _repo_hint(url)
    fs, root = fsspec.core.url_to_fs(url)
    check_output(fs, root, name, config)
    waiting = f"waiting for another export of config {name!r} into {url} to finish"
    with folder_lock(fs, posixpath.join(root, "data", name), waiting if progress else None):
        written = export_shards(
            config, url, name, num_proc=num_proc, scheduler=scheduler, progress=progress
        )
        shards = _shards(config)
        first = posixpath.join(root, shard_path(name, config, shards[0]))
        preview = write_preview(fs, root, name, config, first)
        entry = config_entry(config, name, shards, written.files, preview)
        if card:
            waiting = f"waiting for another export to finish writing the card of {url}"
            with folder_lock(fs, root, waiting if progress else None):
                write_card(fs, root, entry, repo_id, license)
        remove_stale(fs, root, name, config, shards)
    return Exported(url, entry, len(shards), written.count)


def _repo_hint(url: str) -> str:
    """The repo the card's examples load: known for hf:// URLs, else a placeholder
    (not the local path: the same export must give the same bytes anywhere)."""
    if url.startswith("hf://datasets/"):
        return "/".join(url[len("hf://datasets/") :].split("/")[:2])
    return "your-name/cauker"
