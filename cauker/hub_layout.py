"""Export a corpus in the Hub layout, to a folder or any fsspec URL:

    data/<config>/<split>-NNNNN-of-NNNNN.parquet
    images/<config>.png        (preview drawn from the exported rows)
    README.md                  (card: YAML ``configs:`` and ``dataset_info``)

so that ``datasets.load_dataset(DIR, "<config>")`` works, with or without
``streaming=True``. Several configs can share a folder: each export adds or
replaces its own files and card entries only.

Work is one task per shard: in this process, in a process pool
(``num_proc``), or on a Dask cluster (``scheduler``). A re-run skips the shards
that are complete, so an interrupted export resumes where it stopped.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from typing import Any

import fsspec
import pyarrow.parquet as pq
from tqdm.auto import tqdm

from cauker.card import ConfigEntry, update_card
from cauker.config import CauKerConfig
from cauker.shard_files import ShardFile, complete_shard, shard_path, write_shard
from cauker.shards import SPLITS, Shard, check_finite, plan_shards

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")

Runner = Callable[[list[Shard], Callable[[ShardFile], None]], None]


def check_config_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name) or name in {".", ".."}:
        raise ValueError(
            f"config_name must be letters, digits, '.', '_' or '-' (not starting with a "
            f"symbol), got {name!r}"
        )
    return name


def check_runner(num_proc: Any, scheduler: Any) -> None:
    """Refuse a bad ``num_proc`` or ``scheduler`` before any work starts."""
    _check_num_proc(num_proc)
    if scheduler is not None:
        from cauker.distributed import check_scheduler

        check_scheduler(scheduler)


def _check_num_proc(num_proc: Any) -> int:
    if num_proc is None:
        return 1
    if isinstance(num_proc, bool) or not isinstance(num_proc, int) or num_proc < 1:
        raise ValueError(f"num_proc must be a positive integer or None, got {num_proc!r}")
    return num_proc


def _run_here(url: str, name: str, config: CauKerConfig) -> Runner:
    def run(shards: list[Shard], done: Callable[[ShardFile], None]) -> None:
        for shard in shards:
            done(write_shard(url, name, config, shard))

    return run


def _run_pool(url: str, name: str, config: CauKerConfig, num_proc: int) -> Runner:
    def run(shards: list[Shard], done: Callable[[ShardFile], None]) -> None:
        # spawn: workers start clean (no inherited threads or BLAS state)
        with ProcessPoolExecutor(num_proc, mp_context=get_context("spawn")) as pool:
            futures = [pool.submit(write_shard, url, name, config, s) for s in shards]
            try:
                for future in as_completed(futures):
                    done(future.result())
            except BaseException:
                for future in futures:
                    future.cancel()
                raise

    return run


def export_shards(
    config: CauKerConfig,
    url: str,
    name: str,
    *,
    num_proc: int | None = None,
    scheduler: Any = None,
    progress: bool = True,
) -> list[ShardFile]:
    """Write every missing shard of both splits; returns all shards' files, in order."""
    fs, root = fsspec.core.url_to_fs(url)
    shards = [s for split in SPLITS for s in plan_shards(config, split)]
    files: dict[tuple[str, int], ShardFile] = {}
    for shard in shards:
        found = complete_shard(fs, root, name, config, shard)
        if found is not None:
            files[shard.split, shard.index] = found
    todo = [s for s in shards if (s.split, s.index) not in files]
    total = sum(s.num_rows for s in shards)
    with tqdm(
        total=total,
        initial=total - sum(s.num_rows for s in todo),
        unit=" rows",
        desc=f"Exporting {name}",
        disable=not progress,
    ) as bar:

        def done(file: ShardFile) -> None:
            files[file.split, file.index] = file
            bar.update(file.num_rows)

        if todo:
            if scheduler is not None:
                from cauker.distributed import dask_runner

                runner = dask_runner(url, name, config, scheduler)
            elif _check_num_proc(num_proc) > 1:
                runner = _run_pool(url, name, config, min(num_proc, len(todo)))
            else:
                runner = _run_here(url, name, config)
            runner(todo, done)
    _remove_stale(fs, root, name, shards)
    return [files[s.split, s.index] for s in shards]


def _remove_stale(fs, root: str, name: str, shards: Iterable[Shard]) -> None:
    """Delete this config's files that are not in the current plan (an older export
    with another shard count), so the card's ``<split>-*`` globs match only this one."""
    keep = {shard_path(root, name, s) for s in shards}
    folder = posixpath.join(root, "data", name)
    for path in fs.glob(posixpath.join(folder, "*.parquet")):
        if path not in keep and fs.isfile(path):
            fs.rm(path)
    # temporary files of workers killed mid-write (their shards were redone)
    for path in fs.glob(posixpath.join(folder, "*.parquet.tmp-*")):
        fs.rm(path)


def write_preview(fs, root: str, name: str, config: CauKerConfig, first: str) -> str:
    """Draw the first rows of the exported train split into ``images/<name>.png``."""
    import tempfile

    from cauker.preview import save_figure

    with fs.open(first, "rb") as f:
        rows = pq.read_table(f).slice(0, 16).to_pylist()
    relative = f"images/{name}.png"
    fs.makedirs(posixpath.join(root, "images"), exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        image = os.path.join(tmp, "preview.png")
        save_figure(rows, config, image)
        fs.put_file(image, posixpath.join(root, relative))
    return relative


def config_entry(
    config: CauKerConfig, name: str, files: list[ShardFile], preview: str | None
) -> ConfigEntry:
    import datasets

    from cauker.schema import arrow_schema

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
        preview=preview,
    )


def write_card(fs, root: str, entry: ConfigEntry, repo_id: str) -> None:
    path = posixpath.join(root, "README.md")
    existing = fs.cat_file(path).decode("utf-8") if fs.exists(path) else None
    card = update_card(existing, entry, repo_id)
    with fs.open(path, "wb") as f:
        f.write(str(card).encode("utf-8"))


def export(
    config: CauKerConfig,
    output_dir: str | os.PathLike,
    *,
    config_name: str | None = None,
    num_proc: int | None = None,
    scheduler: Any = None,
    progress: bool = True,
    repo_id: str | None = None,
) -> str:
    """Write ``config`` in the Hub layout under ``output_dir`` (a folder or fsspec URL).

    Parameters
    ----------
    config : CauKerConfig
    output_dir : str or path
        A local folder, or an fsspec URL (``s3://bucket/cauker``, ``hf://datasets/...``).
    config_name : str, optional
        Name of the config in the repo; defaults to ``"default"``.
    num_proc : int, optional
        Worker processes on this machine.
    scheduler : dask.distributed.Client, address or "local", optional
        Run one Dask task per shard instead (``pip install cauker[dask]``).
    progress : bool, default=True
    repo_id : str, optional
        The Hub repo the card's examples name, if the folder will be uploaded there.

    Returns
    -------
    str
        ``output_dir``.
    """
    if not isinstance(config, CauKerConfig):
        raise ValueError(f"config must be a CauKerConfig, got {type(config).__name__}")
    check_finite(config)
    name = check_config_name(config_name or "default")
    check_runner(num_proc, scheduler)
    url = os.fspath(output_dir)
    export_config(
        config,
        url,
        name,
        num_proc=num_proc,
        scheduler=scheduler,
        progress=progress,
        repo_id=repo_id or _repo_hint(url),
    )
    return url


def export_config(
    config: CauKerConfig,
    url: str,
    name: str,
    *,
    num_proc: int | None,
    scheduler: Any,
    progress: bool,
    repo_id: str,
) -> ConfigEntry:
    """Shards, preview and card of an already validated export; returns the card entry."""
    files = export_shards(
        config, url, name, num_proc=num_proc, scheduler=scheduler, progress=progress
    )
    fs, root = fsspec.core.url_to_fs(url)
    first = shard_path(root, name, plan_shards(config, "train")[0])
    entry = config_entry(config, name, files, write_preview(fs, root, name, config, first))
    write_card(fs, root, entry, repo_id)
    return entry


def _repo_hint(url: str) -> str:
    """The repo the card's examples load: known for hf:// URLs, else a placeholder
    (not the local path: the same export must give the same bytes anywhere)."""
    if url.startswith("hf://datasets/"):
        return "/".join(url[len("hf://datasets/") :].split("/")[:2])
    return "your-name/cauker"
