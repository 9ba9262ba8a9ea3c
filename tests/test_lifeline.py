"""Workers die with their parent: `kill -9` or SIGTERM of `cauker ... --num-proc 2`
leaves no process behind (pool workers, or multiprocessing's resource tracker)."""

import signal
import subprocess
import sys
import time

import psutil
import pytest

BIG = ["10k", "--num-series", "20000", "--length", "512", "--num-proc", "2", "--quiet"]


def workers_of(parent: psutil.Process) -> list[psutil.Process]:
    try:
        return parent.children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def running(process: psutil.Process) -> bool:
    """Alive, and not a zombie (an exited process whose new parent has not reaped it)."""
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def busy(process: psutil.Process) -> bool:
    """Generating (not importing): some CPU time spent since it started."""
    try:
        return sum(process.cpu_times()[:2]) > 1.0
    except psutil.NoSuchProcess:
        return False


@pytest.mark.parametrize(
    "command, kill",
    [("export", signal.SIGKILL), ("generate", signal.SIGTERM)],
)
def test_workers_end_when_the_command_is_killed(command, kill, tmp_path):
    argv = [sys.executable, "-m", "cauker", command, *BIG, "--output-dir", str(tmp_path / "out")]
    main = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    parent = psutil.Process(main.pid)
    workers = []
    try:
        deadline = time.monotonic() + 60
        while True:  # until two workers generate
            workers = workers_of(parent)
            if sum(busy(w) for w in workers) >= 2:
                break
            assert main.poll() is None, main.stderr.read().decode()
            assert time.monotonic() < deadline, "no two workers generating after 60 s"
            time.sleep(0.2)
        main.send_signal(kill)
        main.wait(10)
        deadline = time.monotonic() + 10
        while any(running(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        alive = [w for w in workers if running(w)]
        assert alive == [], [p.cmdline() for p in alive]
    finally:
        for process in [*workers, parent]:
            try:
                process.kill()
            except psutil.NoSuchProcess:
                pass
        main.wait(10)
        main.stderr.close()
