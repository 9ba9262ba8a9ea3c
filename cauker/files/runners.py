"""Writing the files of a corpus: the missing ones, in this process, a process pool
or on a Dask cluster, with a progress bar.

A task is one file: a shard of the plan (:mod:`cauker.files.shard_plan`) and
its path, written by :func:`cauker.files.writers.write_shard`. Given the
folder's records (:mod:`cauker.files.file_records`), files whose bytes still
match their record are kept, and every file written is recorded the moment it
is finished, so an interrupted run resumes where it stopped. A file at a
task's path that has no record and no cauker mark is someone else's: the run
stops before any work (:class:`~cauker.errors.ForeignFileError`). Rows depend
only on the config and the shard's range, so the files are the same bytes
whichever runner writes them.

A runner is ``run(tasks, done)``: it writes every ``(shard, path)`` of
``tasks`` and calls ``done(file)`` in this process as each one is finished.

- in this process (``num_proc`` None or 1);
- a pool of ``num_proc`` spawned processes (they start clean: no inherited
  threads or BLAS state; and they end when this process ends, however it ends:
  :mod:`cauker.lifeline`);
- a Dask cluster (``scheduler``; :mod:`cauker.files.dask_runner`).
"""

from __future__ import annotations

import functools
import posixpath
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from typing import Any, NamedTuple

import fsspec
from tqdm.auto import tqdm

from cauker.config import CauKerConfig
from cauker.errors import ForeignFileError
from cauker.files.file_records import FileRecords, verify_files
from cauker.files.folder_paths import check_file_path
from cauker.files.writers import Runner, ShardFile, Task, is_cauker_file, write_shard
from cauker.lifeline import die_with_parent, quiet_resource_tracker
from cauker.tasks.corpora import job
from cauker.validation import check_int


def check_runner(num_proc: Any, scheduler: Any) -> None:
    """Refuse a bad ``num_proc`` or ``scheduler`` before any work starts.

    Raises
    ------
    ParameterError
        If ``num_proc`` is not None or an integer >= 1, or ``scheduler`` is not
        a Dask client, address, scheduler file or ``"local"``.
    MissingDependencyError
        If a ``scheduler`` is given and Dask is not installed.
    """
    check_int("num_proc", num_proc, 1, optional=True)
    if scheduler is not None:
        from cauker.files.dask_runner import check_scheduler

        check_scheduler(scheduler)


def _run_here(write: Callable[..., ShardFile], config: CauKerConfig) -> Runner:
    def run(tasks: Sequence[Task], done: Callable[[ShardFile], None]) -> None:
        with job(config, sum(shard.num_rows for shard, _ in tasks)):  # one for all the files
            for shard, path in tasks:
                done(write(shard, path))

    return run


def _run_pool(write: Callable[..., ShardFile], num_proc: int) -> Runner:
    def run(tasks: Sequence[Task], done: Callable[[ShardFile], None]) -> None:
        quiet_resource_tracker()
        with ProcessPoolExecutor(
            num_proc,
            mp_context=get_context("spawn"),
            initializer=die_with_parent,
            initargs=(True,),  # and PR_SET_PDEATHSIG on Linux
        ) as pool:
            futures = [pool.submit(write, shard, path) for shard, path in tasks]
            try:
                for future in as_completed(futures):
                    done(future.result())
            except BaseException:
                for future in futures:
                    future.cancel()
                raise

    return run


class Written(NamedTuple):
    """What :func:`write_shards` leaves: every task's file, in order, and how many
    of them it wrote (the others were complete)."""

    files: list[ShardFile]
    count: int


def write_shards(
    config: CauKerConfig,
    url: str,
    format: str,
    tasks: Sequence[Task],
    *,
    num_proc: int | None = None,
    scheduler: Any = None,
    progress: bool = True,
    desc: str = "Writing",
    records: FileRecords | None = None,
) -> Written:
    """Write the files of ``tasks`` under ``url`` that are not complete.

    Parameters
    ----------
    config : CauKerConfig
    url : str
        The output folder or fsspec URL; the tasks' paths are relative to it.
    format : {"parquet", "arrow", "gluonts"}
    tasks : sequence of (Shard, str)
        Each shard and the path of its file.
    num_proc : int, optional
        Worker processes on this machine.
    scheduler : dask.distributed.Client, address or "local", optional
        Write on a Dask cluster instead.
    progress : bool, default=True
        Progress bars of the bytes verified and of the rows written, labelled ``desc``.
    records : FileRecords, optional
        The folder's records: a file whose bytes match its record is kept, and
        each file written is recorded as soon as it is finished. Without
        records, every file is written.

    Returns
    -------
    Written

    Raises
    ------
    ForeignFileError
        Before any work, if a file that has neither a record nor cauker's mark
        stands at a task's path.

    Examples
    --------
    >>> import tempfile, cauker
    >>> from cauker.files.shard_plan import plan_shards
    >>> config = cauker.CauKerConfig(num_series=8, length=16)
    >>> tasks = [(shard, f"{shard.split}.arrow") for shard in plan_shards(config, "train")]
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     written = write_shards(config, folder, "arrow", tasks, progress=False)
    >>> [f.num_rows for f in written.files], written.count
    ([8], 1)
    """
    fs, root = fsspec.core.url_to_fs(url)
    for _, path in tasks:  # never through a link, even to a file with the right bytes
        check_file_path(fs, posixpath.join(root, path), "a file of the corpus")
    recorded = records.files if records is not None else {}
    wanted = {path: recorded[path] for _, path in tasks if path in recorded}
    files = verify_files(fs, root, wanted, progress=progress)
    todo = [(s, p) for s, p in tasks if p not in files]
    for _, path in todo:
        _check_replaceable(fs, posixpath.join(root, path), path in recorded)
    path_of = {(s.split, s.index): p for s, p in tasks}
    total = sum(s.num_rows for s, _ in tasks)
    left = sum(s.num_rows for s, _ in todo)
    with tqdm(
        total=total,
        initial=total - left,
        unit=" rows",
        desc=desc,
        disable=not progress or not todo,
    ) as bar:

        def done(file: ShardFile) -> None:
            path = path_of[file.split, file.index]
            files[path] = file
            if records is not None:
                records.add(path, file)
            bar.update(file.num_rows)

        if todo:
            _runner(url, config, format, num_proc, scheduler, len(todo))(todo, done)
    return Written([files[p] for _, p in tasks], len(todo))


def _check_replaceable(fs: fsspec.AbstractFileSystem, path: str, recorded: bool) -> None:
    """Refuse to write over a file at ``path`` that cauker did not write: one with
    no record of this folder and no cauker mark."""
    if recorded or not fs.exists(path) or is_cauker_file(fs, path):
        return
    raise ForeignFileError(
        f"{path} was not written by cauker (no record of it, and no cauker metadata) and "
        "stands where cauker must write a file of the corpus; cauker never replaces a file "
        "it did not write: move it away, or choose another folder"
    )


def _runner(url, config, format, num_proc, scheduler, count: int) -> Runner:
    if scheduler is not None:
        from cauker.files.dask_runner import dask_runner

        return dask_runner(url, config, format, scheduler)
    write = functools.partial(write_shard, url, config, format)
    if (num_proc or 1) > 1 and count > 1:
        return _run_pool(write, min(num_proc, count))
    return _run_here(write, config)
