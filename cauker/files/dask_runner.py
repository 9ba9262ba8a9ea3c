"""Run an export on a Dask cluster (``pip install cauker[dask]``): one task per shard.

Each task is :func:`cauker.files.writers.write_shard`: it generates its shard on
the worker and writes it, atomically, through fsspec to the output URL. This
process only submits the tasks, collects each shard's metadata as it arrives
and, back in :func:`cauker.export`, writes the card. Rows depend only
on the config and the shard's range, so the files are byte-identical to a
single-process export whatever the cluster does.

Faults are Dask's to handle:

- a task that raises (a transient object-store error) is retried ``RETRIES`` times;
- a task whose worker dies is rescheduled on another worker, up to the
  scheduler's ``distributed.scheduler.allowed-failures`` times;
- a shard that still fails stops the export with a :class:`ShardWriteError`
  naming the shard and the cause, and cancels the remaining tasks.

Nothing here is imported by the core: ``cauker.files.hub_folder`` imports this module
only when a ``scheduler`` is given.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import fsspec

from cauker.config import CauKerConfig
from cauker.errors import (
    MissingDependencyError,
    ParameterError,
    SchedulerError,
    ShardWriteError,
)
from cauker.files.shard_plan import Shard
from cauker.files.writers import ShardFile, complete_shard, is_local, shard_path, write_shard

#: Automatic re-runs of a shard task that raised, before the export gives up.
RETRIES = 2

#: Dask settings for workers that run shard tasks. The statistical profiler
#: samples the task's thread every 10 ms, which slowed shards by 5-10% here
#: (cauker/DISTRIBUTED_NOTES.md). On a cluster you start yourself, set
#: ``DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False``.
WORKER_CONFIG = {"distributed.worker.profile.enabled": False}

_HOST_PORT = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+)(:\d{1,5})?/?$")
_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx")
_INSTALL = "Dask is needed for scheduler=...: install it with `pip install cauker[dask]`"


def _import_distributed():
    try:
        import distributed
    except ImportError as error:
        raise MissingDependencyError(f"{_INSTALL} ({error})") from error
    return distributed


def check_scheduler(scheduler: Any) -> Any:
    """``scheduler`` if it is a ``dask.distributed.Client``, ``"local"``, a scheduler
    address (``"tcp://host:8786"``) or a scheduler file (``"scheduler.json"``);
    else a ``ValueError`` naming it. Needs Dask (``ImportError`` if absent)."""
    distributed = _import_distributed()
    allowed = (
        "a dask.distributed.Client, a scheduler address such as 'tcp://10.0.0.1:8786', "
        "a scheduler file such as 'scheduler.json', or 'local'"
    )
    if isinstance(scheduler, distributed.Client):
        if scheduler.status in ("closing", "closed"):
            raise ParameterError(
                f"scheduler must be {allowed}; the Client given is {scheduler.status}"
            )
        return scheduler
    if not isinstance(scheduler, str):
        raise ParameterError(f"scheduler must be {allowed}, got {type(scheduler).__name__}")
    if scheduler == "local" or _is_scheduler_file(scheduler):
        return scheduler
    if not _is_address(scheduler):
        raise ParameterError(f"scheduler must be {allowed}, got {scheduler!r}")
    return scheduler


def _is_address(text: str) -> bool:
    """``scheme://host[:port]`` with a Dask scheme, or ``host:port``."""
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "", text
    match = _HOST_PORT.match(rest)
    if match is None:
        return False
    return scheme in _SCHEMES if scheme else match[2] is not None


def _is_scheduler_file(scheduler: str) -> bool:
    # It may not exist yet: a scheduler starting in the same batch job writes it.
    return scheduler.endswith(".json")


def local_cluster(n_workers: int | None = None):
    """The ``LocalCluster`` that ``scheduler="local"`` starts: ``n_workers`` worker
    processes (default: one per core) of one thread each, since generation holds
    the GIL between BLAS calls, with ``WORKER_CONFIG``."""
    distributed = _import_distributed()
    import dask.config

    if n_workers is None:
        cores = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
        n_workers = len(cores) if cores else os.cpu_count() or 1
    with dask.config.set(WORKER_CONFIG):  # the nannies pass it on to every worker they start
        return distributed.LocalCluster(
            n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=":0"
        )


@contextlib.contextmanager
def _connect(scheduler: Any) -> Iterator[Any]:
    """A ``Client`` for ``scheduler``; closes what it opened (never a Client given)."""
    distributed = _import_distributed()
    if isinstance(scheduler, distributed.Client):
        yield scheduler
    elif scheduler == "local":
        with local_cluster() as cluster, distributed.Client(cluster) as client:
            yield client
    else:
        try:
            if _is_scheduler_file(scheduler):
                _wait_for_file(scheduler)  # the Client would wait for it forever
                client = distributed.Client(scheduler_file=scheduler)
            else:
                client = distributed.Client(scheduler)
        except OSError as error:
            raise SchedulerError(
                f"cannot reach the Dask scheduler at {scheduler!r}: {error}"
            ) from error
        with client:
            yield client


def _wait_for_file(path: str) -> None:
    import dask.config
    from dask.utils import parse_timedelta

    timeout = parse_timedelta(dask.config.get("distributed.comm.timeouts.connect"), "s")
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise SchedulerError(f"scheduler file {path!r} did not appear within {timeout:.0f} s")
        time.sleep(0.1)


def _task_key(url: str, config_name: str, config: CauKerConfig, shard: Shard) -> str:
    """The same key for the same shard of the same export, and only for it: the
    scheduler then never confuses two exports that share a cluster."""
    what = [url, config_name, config.fingerprint(), shard.split, shard.index, shard.count]
    token = hashlib.sha256(json.dumps(what).encode()).hexdigest()[:16]
    return f"cauker-shard-{config_name}-{shard.split}-{shard.index:05d}-{token}"


def _worker_url(url: str) -> str:
    """``url`` as the workers must see it: a relative local path is resolved here,
    since a worker's working directory is not this process's."""
    fs, root = fsspec.core.url_to_fs(url)
    if is_local(fs) and "::" not in url:
        return root
    return url


def _file(config_name: str, config: CauKerConfig, shard: Shard) -> str:
    """The shard's file, relative to the output folder."""
    return shard_path("", config_name, config, shard).lstrip("/")


def _failure(
    error: BaseException, shard: Shard, config_name: str, config: CauKerConfig, url: str
) -> ShardWriteError:
    cause = " ".join(str(error).split()) or "no message"
    hint = ""
    if type(error).__name__ == "KilledWorker":
        hint = " (every worker that ran it died: out of memory, or killed by the batch system?)"
    return ShardWriteError(
        f"shard {_file(config_name, config, shard)} of config {config_name!r} could not be "
        f"written to {url} "
        f"on the Dask cluster: {type(error).__name__}: {cause}{hint}",
        shard,
    )


def _check_visible(url: str, config_name: str, config: CauKerConfig, shard: Shard) -> None:
    """Fail fast if the workers write where this process cannot read (a path local
    to each worker, ``memory://``): the card and the re-run checks need the files."""
    fs, root = fsspec.core.url_to_fs(url)
    fs.invalidate_cache()  # object-store listings cached before the workers wrote
    if complete_shard(fs, root, config_name, config, shard) is None:
        raise ShardWriteError(
            f"shard {_file(config_name, config, shard)} was written by a Dask worker but cannot "
            "be read from "
            f"this process at {url}: the output must be storage that the workers and this "
            "process share (a shared file system mounted at the same path, s3://, gcs://, hf://)",
            shard,
        )


def dask_runner(
    url: str, config_name: str, config: CauKerConfig, scheduler: Any
) -> Callable[[list[Shard], Callable[[ShardFile], None]], None]:
    """A runner for :func:`cauker.files.hub_folder.export_shards` that writes shards on Dask.

    Parameters
    ----------
    url : str
        The export's output folder or fsspec URL. Every worker must be able to
        write there and this process to read: a shared file system, ``s3://``,
        ``gcs://`` or ``hf://``.
    config_name, config
        What to write.
    scheduler : dask.distributed.Client, str
        A connected ``Client`` (left open), a scheduler address
        (``"tcp://host:8786"``) or scheduler file (``"scheduler.json"``) to connect
        to for the run, or ``"local"``: a ``LocalCluster`` of one single-threaded
        worker process per core, closed at the end.

    Returns
    -------
    callable
        ``run(shards, done)``: submits one task per shard and calls ``done`` here
        with each finished shard's :class:`~cauker.files.writers.ShardFile`;
        returns when every shard is written, or raises :class:`ShardWriteError`
        (after cancelling the other tasks) when one cannot be.
    """
    scheduler = check_scheduler(scheduler)
    distributed = _import_distributed()
    target = _worker_url(url)

    def run(shards: list[Shard], done: Callable[[ShardFile], None]) -> None:
        if not shards:
            return
        with _connect(scheduler) as client:
            keys = [_task_key(target, config_name, config, s) for s in shards]
            task = functools.partial(write_shard, target, config_name, config)
            futures = client.map(task, shards, key=keys, retries=RETRIES)
            shard_of = dict(zip(keys, shards))
            checked = False
            try:
                for future in distributed.as_completed(futures):
                    shard = shard_of[future.key]
                    try:
                        file = future.result()
                    except Exception as error:
                        raise _failure(error, shard, config_name, config, url) from error
                    if not checked:
                        _check_visible(url, config_name, config, shard)
                        checked = True
                    done(file)
            except BaseException:
                with contextlib.suppress(Exception):  # keep the error that stopped the run
                    client.cancel(futures)
                raise

    return run
