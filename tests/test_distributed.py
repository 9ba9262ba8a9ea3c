"""The Dask runner: same bytes as a single-process export, faults survived, errors not hangs.

All cluster tests share one LocalCluster of 2 single-threaded worker processes.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")

import cauker  # noqa: E402
from cauker.config import SPLITS  # noqa: E402
from cauker.errors import ShardWriteError  # noqa: E402
from cauker.files.dask_runner import check_scheduler, dask_runner  # noqa: E402
from cauker.files.file_records import FileRecords  # noqa: E402
from cauker.files.shard_plan import plan_shards  # noqa: E402
from cauker.hub.layout import RECORDS, shard_path  # noqa: E402

pytestmark = pytest.mark.usefixtures("small_files")  # many files from small corpora

SMALL = cauker.CauKerConfig(num_series=400, length=64)
# Long enough (a few seconds on 2 workers) to kill a worker in the middle.
LARGER = cauker.CauKerConfig(num_series=2000, length=256)


def num_shards(config: cauker.CauKerConfig) -> int:
    return sum(len(plan_shards(config, split)) for split in SPLITS)


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder``, by relative path."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def shard_identities(folder: Path) -> dict[str, tuple[int, int]]:
    """(inode, mtime) of each shard: a rewrite (temporary file renamed) changes both."""
    return {
        p.name: (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in (folder / "data" / "default").glob("*.parquet")
    }


def wait_until_idle(client, timeout: float = 30) -> None:
    """Until no worker runs a task, cancelled ones included."""

    def executing(dask_worker) -> int:
        return dask_worker.state.executing_count

    deadline = time.monotonic() + timeout
    while any(client.run(executing).values()):
        assert time.monotonic() < deadline, "workers still busy"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def reference(small_files, tmp_path_factory) -> dict[str, dict[str, bytes]]:
    """Single-process exports of SMALL and LARGER, made once."""
    made = {}
    for name, config in (("small", SMALL), ("larger", LARGER)):
        out = tmp_path_factory.mktemp(f"reference-{name}")
        cauker.export(config, out, num_proc=None, progress=False)
        made[name] = tree(out)
    return made


def test_dask_export_is_identical_to_single_process(client, reference, tmp_path):
    with distributed.get_task_stream(client=client) as stream:
        cauker.export(SMALL, tmp_path, scheduler=client, progress=False)
    ran = {task["key"] for task in stream.data if str(task["key"]).startswith("cauker-shard-")}
    assert len(ran) == num_shards(SMALL)  # the shards really were Dask tasks
    assert tree(tmp_path) == reference["small"]
    assert any(name.endswith(".parquet") for name in reference["small"])
    assert "README.md" in reference["small"]


def test_killed_worker_is_survived(client, reference, tmp_path):
    pids = client.run(os.getpid)
    victim = next(iter(pids.values()))
    folder = tmp_path / "data" / "default"
    total = num_shards(LARGER)
    killed_at: list[int] = []

    def kill_after_first_shard() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            written = list(folder.glob("*.parquet")) if folder.is_dir() else []
            if written:
                os.kill(victim, signal.SIGKILL)
                killed_at.append(len(written))
                return
            time.sleep(0.005)

    killer = threading.Thread(target=kill_after_first_shard, daemon=True)
    killer.start()
    cauker.export(LARGER, tmp_path, scheduler=client, progress=False)
    killer.join(5)
    assert killed_at and killed_at[0] < total, "the worker was not killed during the run"
    client.wait_for_workers(2, timeout=60)
    assert victim not in client.run(os.getpid).values()
    assert tree(tmp_path) == reference["larger"]  # complete, identical, no temporary files left


def test_rerun_after_interruption_skips_complete_shards(client, reference, tmp_path, monkeypatch):
    class Interrupted(Exception):
        pass

    real = FileRecords.add

    def interrupted_after_three(records, path, file) -> None:
        real(records, path, file)
        if len(records.files) == 3:
            raise Interrupted

    monkeypatch.setattr(FileRecords, "add", interrupted_after_three)
    with pytest.raises(Interrupted):
        cauker.export(SMALL, tmp_path, scheduler=client, progress=False)
    monkeypatch.setattr(FileRecords, "add", real)
    wait_until_idle(client)  # cancelled tasks already running finish their shard
    folder = tmp_path / "data" / "default"
    recorded = [Path(p).name for p in json.loads((folder / RECORDS).read_text())["files"]]
    before = shard_identities(tmp_path)
    assert len(recorded) == 3 and len(before) < num_shards(SMALL)

    cauker.export(SMALL, tmp_path, scheduler=client, progress=False)
    after = shard_identities(tmp_path)
    assert {name: after[name] for name in recorded} == {name: before[name] for name in recorded}
    assert len(after) == num_shards(SMALL)  # the others (in flight, unrecorded) are rewritten
    assert tree(tmp_path) == reference["small"]


def test_unwritable_output_fails_fast_naming_the_shard(client, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")  # blocks even root, unlike a chmod
    out = blocker / "out"
    # seen from here: refused before any task
    with pytest.raises(ValueError, match="output_dir .* cannot be used as a folder: .* is a file"):
        cauker.export(SMALL, out, scheduler=client, progress=False)
    # seen only by the workers (a path local to them): the runner names the shard
    started = time.monotonic()
    shards = [s for split in SPLITS for s in plan_shards(SMALL, split)]
    tasks = [(s, shard_path("default", SMALL, s)) for s in shards]
    run = dask_runner(str(out), SMALL, "parquet", client)
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(run, tasks, lambda file: None)
        with pytest.raises(ShardWriteError) as caught:
            running.result(timeout=60)
    message = str(caught.value)
    assert time.monotonic() - started < 60
    assert "could not be written" in message and "-of-" in message
    assert "NotADirectoryError" in message or "FileExistsError" in message
    assert caught.value.shard is not None


def test_output_invisible_to_this_process_is_an_error(client):
    # Each worker process has its own memory:// file system.
    with pytest.raises(ShardWriteError, match="cannot be read from this process"):
        cauker.export(SMALL, "memory://cauker-dask-invisible", scheduler=client, progress=False)


def test_local_scheduler_starts_and_closes_its_cluster(reference, tmp_path):
    cauker.export(SMALL, tmp_path, scheduler="local", progress=False)
    assert tree(tmp_path) == reference["small"]


def test_local_cluster_workers_are_single_threaded_processes_without_profiler():
    from cauker.files.dask_runner import local_cluster

    def settings() -> tuple:
        return dask.config.get("distributed.worker.profile.enabled"), os.getpid()

    with local_cluster(1) as cluster, distributed.Client(cluster) as client:
        assert list(client.nthreads().values()) == [1]
        [(profiling, pid)] = client.run(settings).values()
    assert profiling is False and pid != os.getpid()


@pytest.mark.parametrize("how", ["address", "scheduler file"])
def test_scheduler_given_by_address_or_file(how, client, reference, tmp_path):
    scheduler = client.scheduler.address
    if how == "scheduler file":
        scheduler = tmp_path / "scheduler.json"
        # What `dask scheduler --scheduler-file` writes, as far as a Client reads it.
        scheduler.write_text(json.dumps({"address": client.scheduler.address}))
        scheduler = str(scheduler)
    cauker.export(SMALL, tmp_path / "out", scheduler=scheduler, progress=False)
    assert tree(tmp_path / "out") == reference["small"]
    assert client.status == "running"  # the runner closed only its own Client


@pytest.mark.parametrize("where", ["tcp://127.0.0.1:9", "a scheduler file never written"])
def test_unreachable_scheduler_is_an_error_not_a_hang(where, tmp_path):
    if where.startswith("a scheduler file"):
        where = str(tmp_path / "missing" / "scheduler.json")
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        with pytest.raises(OSError, match="cannot reach the Dask scheduler"):
            cauker.export(SMALL, tmp_path / "out", scheduler=where, progress=False)


@pytest.mark.parametrize("bad", [3, "bogus", "http://host:8786", "tcp://", ""])
def test_bad_scheduler_is_a_value_error_naming_it(bad, tmp_path):
    with pytest.raises(ValueError, match="scheduler must be"):
        cauker.export(SMALL, tmp_path, scheduler=bad, progress=False)
    with pytest.raises(ValueError, match="scheduler"):
        check_scheduler(bad)


@pytest.mark.parametrize("good", ["local", "tcp://10.0.0.1:8786", "127.0.0.1:8786", "[::1]:1"])
def test_scheduler_addresses_are_accepted(good):
    assert check_scheduler(good) == good


def test_missing_dask_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(ImportError, match=r"cauker\[dask\]"):
        cauker.export(SMALL, tmp_path, scheduler="local", progress=False)


def test_core_does_not_import_dask():
    code = (
        "import sys, cauker, cauker.hub.layout, cauker.hub.push, cauker.cli\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'dask', 'distributed'}))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
