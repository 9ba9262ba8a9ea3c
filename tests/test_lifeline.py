"""Workers die with their parent: `kill -9` or SIGTERM of `cauker ... --num-proc 2`
leaves no process behind (pool workers, or multiprocessing's resource tracker), and
nothing is printed after the kill (no "leaked semaphore objects" warning)."""

import signal
import subprocess
import sys
import time

import psutil
import pytest

BIG = ["10k", "--num-series", "20000", "--length", "512", "--num-proc", "2", "--quiet"]


def workers_of(parent: psutil.Process) -> list[psutil.Process]:
    """The pool's workers, spawned by multiprocessing."""
    try:
        children = parent.children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    found = []
    for child in children:
        try:
            if "--multiprocessing-fork" in child.cmdline():
                found.append(child)
        except psutil.NoSuchProcess:
            pass
    return found


def running(process: psutil.Process) -> bool:
    """Alive, and not a zombie (an exited process whose new parent has not reaped it)."""
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.mark.parametrize(
    "command, kill",
    [("export", signal.SIGKILL), ("generate", signal.SIGTERM)],
)
def test_workers_end_when_the_command_is_killed(command, kill, tmp_path):
    out = tmp_path / "out"
    argv = [sys.executable, "-m", "cauker", command, *BIG, "--output-dir", str(out)]
    main = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    parent = psutil.Process(main.pid)
    children = []
    try:
        deadline = time.monotonic() + 120
        while True:  # until both workers are up and a shard is being written
            children = parent.children(recursive=True)
            if len(workers_of(parent)) >= 2 and any(out.rglob(".*.tmp-*")):
                break
            assert main.poll() is None, main.stderr.read().decode()
            assert time.monotonic() < deadline, "no two workers and no shard in flight after 120 s"
            time.sleep(0.05)
        children = parent.children(recursive=True)  # the workers and the resource tracker
        main.send_signal(kill)
        main.wait(10)
        deadline = time.monotonic() + 10
        while any(running(c) for c in children) and time.monotonic() < deadline:
            time.sleep(0.1)
        alive = [c for c in children if running(c)]
        assert alive == [], [p.cmdline() for p in alive]
        # every writer of stderr has ended: what the tracker printed is all there
        assert "leaked" not in main.stderr.read().decode()
    finally:
        for process in [*children, parent]:
            try:
                process.kill()
            except psutil.NoSuchProcess:
                pass
        main.wait(10)
        main.stderr.close()
