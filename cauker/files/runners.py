"""Writing the files of a corpus: the missing ones, in this process, a process pool
or on a Dask cluster, with a progress bar.

A task is one file: a shard of the plan (:mod:`cauker.files.shard_plan`) and
its path, written by :func:`cauker.files.writers.write_shard`. Files that are
already complete are kept, so an interrupted run resumes where it stopped.
Rows depend only on the config and the shard's range, so the files are the
same bytes whichever runner writes them.

A runner is ``run(tasks, done)``: it writes every ``(shard, path)`` of
``tasks`` and calls ``done(file)`` in this process as each one is finished.

- in this process (``num_proc`` None or 1);
- a pool of ``num_proc`` spawned processes (they start clean: no inherited
  threads or BLAS state; and they end when this process ends, however it ends:
  :mod:`cauker.files.lifeline`);
- a Dask cluster (``scheduler``; :mod:`cauker.files.dask_runner`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from typing import Any

import fsspec
from tqdm.auto import tqdm

from cauker.config import CauKerConfig
from cauker.files.lifeline import die_with_parent
from cauker.files.shard_plan import Shard
from cauker.files.writers import ShardFile, complete_shard, write_shard
from cauker.validation import check_int

Task = tuple[Shard, str]  # a shard and the path of its file, relative to the output
Runner = Callable[[Sequence[Task], Callable[[ShardFile], None]], None]


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


def _run_here(write: Callable[..., ShardFile]) -> Runner:
    def run(tasks: Sequence[Task], done: Callable[[ShardFile], None]) -> None:
        for shard, path in tasks:
            done(write(shard, path))

    return run


def _run_pool(write: Callable[..., ShardFile], num_proc: int) -> Runner:
    def run(tasks: Sequence[Task], done: Callable[[ShardFile], None]) -> None:
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
) -> list[ShardFile]:
    """Write the files of ``tasks`` under ``url`` that are not complete; returns
    every task's file, in order.

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
        A progress bar of rows, labelled ``desc``.

    Examples
    --------
    >>> import tempfile, cauker
    >>> from cauker.files.shard_plan import plan_shards
    >>> config = cauker.CauKerConfig(num_series=8, length=16)
    >>> tasks = [(shard, f"{shard.split}.arrow") for shard in plan_shards(config, "train")]
    >>> folder = tempfile.mkdtemp()
    >>> [f.num_rows for f in write_shards(config, folder, "arrow", tasks, progress=False)]
    [8]
    """
    fs, root = fsspec.core.url_to_fs(url)
    files: dict[tuple[str, int], ShardFile] = {}
    for shard, path in tasks:
        found = complete_shard(fs, f"{root.rstrip('/')}/{path}", config, shard, format)
        if found is not None:
            files[shard.split, shard.index] = found
    todo = [(s, p) for s, p in tasks if (s.split, s.index) not in files]
    total = sum(s.num_rows for s, _ in tasks)
    left = sum(s.num_rows for s, _ in todo)
    with tqdm(
        total=total, initial=total - left, unit=" rows", desc=desc, disable=not progress
    ) as bar:

        def done(file: ShardFile) -> None:
            files[file.split, file.index] = file
            bar.update(file.num_rows)

        if todo:
            _runner(url, config, format, num_proc, scheduler, len(todo))(todo, done)
    return [files[s.split, s.index] for s, _ in tasks]


def _runner(url, config, format, num_proc, scheduler, count: int) -> Runner:
    if scheduler is not None:
        from cauker.files.dask_runner import dask_runner

        return dask_runner(url, config, format, scheduler)
    write = functools.partial(write_shard, url, config, format)
    if (num_proc or 1) > 1 and count > 1:
        return _run_pool(write, min(num_proc, count))
    return _run_here(write)
