"""Write the files of a corpus on a Dask cluster (``pip install cauker[dask]``): one
task per file.

Each task is :func:`cauker.files.writers.write_shard`: it generates its shard on
the worker and writes it, atomically, through fsspec to the output URL. This
process only submits the tasks, collects each file's metadata as it arrives
and, back in :func:`cauker.export`, writes the card. Rows depend only
on the config and the shard's range, so the files are byte-identical to a
single-process export whatever the cluster does.

Faults are Dask's to handle:

- a task that raises (a transient object-store error) is retried ``RETRIES`` times;
- a task whose worker dies is rescheduled on another worker, up to the
  scheduler's ``distributed.scheduler.allowed-failures`` times;
- a shard that still fails stops the export with a :class:`ShardWriteError`
  naming the shard and the cause, and cancels the remaining tasks.

Nothing here is imported by the core: :mod:`cauker.files.runners` imports this
module only when a ``scheduler`` is given.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import fsspec

from cauker.config import CauKerConfig
from cauker.errors import (
    MissingDependencyError,
    ParameterError,
    SchedulerError,
    ShardWriteError,
)
from cauker.files.atomic_files import is_local
from cauker.files.shard_plan import Shard
from cauker.files.writers import Runner, ShardFile, Task, write_shard

#: Automatic re-runs of a shard task that raised, before the export gives up.
RETRIES = 2

#: Dask settings for workers that run shard tasks. The statistical profiler
#: samples the task's thread every 10 ms, which slowed shards by 5-10% here
#: (``benchmarks/dask_scaling.py``).
#: On a cluster you start yourself, set ``DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False``.
WORKER_CONFIG = {"distributed.worker.profile.enabled": False}

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
    """``scheme://host[:port]`` with a scheme of Dask's network backends, or
    ``host:port``, as Dask itself parses addresses."""
    from distributed.comm.addressing import parse_address, parse_host_port
    from distributed.comm.registry import backends

    scheme, location = parse_address(text)
    if scheme not in backends or scheme == "inproc":  # inproc: no scheduler of another process
        return False
    try:
        port = 0 if "://" in text else None  # a scheme makes the port optional
        host, _ = parse_host_port(location.removesuffix("/"), default_port=port)
    except ValueError:  # no port without a scheme, a port that is not a number
        return False
    return bool(host) and not any(c.isspace() or c == "/" for c in host)


def _is_scheduler_file(scheduler: str) -> bool:
    # It may not exist yet: a scheduler starting in the same batch job writes it.
    return scheduler.endswith(".json")


def local_cluster(n_workers: int | None = None):
    """The ``LocalCluster`` that ``scheduler="local"`` starts: ``n_workers`` worker
    processes (default: one per core) of one thread each, since generation holds
    the GIL between BLAS calls, with ``WORKER_CONFIG``."""
    distributed = _import_distributed()
    import dask.config
    from dask.system import CPU_COUNT  # affinity and cgroup limits counted

    if n_workers is None:
        n_workers = CPU_COUNT
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


def _task_key(url: str, config: CauKerConfig, shard: Shard, path: str) -> str:
    """The same key for the same file of the same export, and only for it: the
    scheduler then never confuses two exports that share a cluster."""
    what = [url, path, config.fingerprint(), shard.split, shard.index, shard.count]
    token = hashlib.sha256(json.dumps(what).encode()).hexdigest()[:16]
    return f"cauker-shard-{shard.split}-{shard.index:05d}-{token}"


def _worker_url(url: str) -> str:
    """``url`` as the workers must see it: a relative local path is resolved here,
    since a worker's working directory is not this process's."""
    fs, root = fsspec.core.url_to_fs(url)
    if is_local(fs) and "::" not in url:
        return root
    return url


def _failure(error: BaseException, shard: Shard, path: str, url: str) -> ShardWriteError:
    cause = " ".join(str(error).split()) or "no message"
    hint = ""
    if type(error).__name__ == "KilledWorker":
        hint = " (every worker that ran it died: out of memory, or killed by the batch system?)"
    return ShardWriteError(
        f"shard {path} could not be written to {url} on the Dask cluster: "
        f"{type(error).__name__}: {cause}{hint}",
        shard,
    )


def _check_visible(url: str, file: ShardFile, path: str, shard: Shard) -> None:
    """Fail fast if the workers write where this process cannot read (a path local
    to each worker, ``memory://``): the card and the re-run checks need the files."""
    fs, root = fsspec.core.url_to_fs(url)
    fs.invalidate_cache()  # object-store listings cached before the workers wrote
    try:
        visible = fs.size(f"{root.rstrip('/')}/{path}") == file.file_size
    except OSError:
        visible = False
    if not visible:
        raise ShardWriteError(
            f"shard {path} was written by a Dask worker but cannot be read from this process "
            f"at {url}: the output must be storage that the workers and this process share "
            "(a shared file system mounted at the same path, s3://, gcs://, hf://)",
            shard,
        )


def dask_runner(url: str, config: CauKerConfig, format: str, scheduler: Any) -> Runner:
    """A :data:`~cauker.files.writers.Runner` that writes one Dask task per file.

    Parameters
    ----------
    url : str
        The output folder or fsspec URL. Every worker must be able to write there
        and this process to read: a shared file system, ``s3://``, ``gcs://`` or
        ``hf://``.
    config, format
        What to write.
    scheduler : dask.distributed.Client, str
        A connected ``Client`` (left open), a scheduler address
        (``"tcp://host:8786"``) or scheduler file (``"scheduler.json"``) to connect
        to for the run, or ``"local"``: a ``LocalCluster`` of one single-threaded
        worker process per core, closed at the end.

    Returns
    -------
    callable
        ``run(tasks, done)``: submits one task per ``(shard, path)`` and calls
        ``done`` here with each finished file's
        :class:`~cauker.files.writers.ShardFile`; returns when every file is
        written, or raises :class:`~cauker.errors.ShardWriteError` (after
        cancelling the other tasks) when one cannot be.

    Raises
    ------
    ParameterError
        For a ``scheduler`` of another kind.
    MissingDependencyError
        If Dask is not installed.
    """
    scheduler = check_scheduler(scheduler)
    distributed = _import_distributed()
    target = _worker_url(url)

    def run(tasks: Sequence[Task], done: Callable[[ShardFile], None]) -> None:
        if not tasks:
            return
        with _connect(scheduler) as client:
            keys = [_task_key(target, config, shard, path) for shard, path in tasks]
            write = functools.partial(write_shard, target, config, format)
            shards, paths = [s for s, _ in tasks], [p for _, p in tasks]
            futures = client.map(write, shards, paths, key=keys, retries=RETRIES)
            task_of = dict(zip(keys, tasks))
            checked = False
            try:
                for future in distributed.as_completed(futures):
                    shard, path = task_of[future.key]
                    try:
                        file = future.result()
                    except Exception as error:
                        raise _failure(error, shard, path, url) from error
                    if not checked:
                        _check_visible(url, file, path, shard)
                        checked = True
                    done(file)
            except BaseException:
                with contextlib.suppress(Exception):  # keep the error that stopped the run
                    client.cancel(futures)
                raise

    return run
