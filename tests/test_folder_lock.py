"""The lock on an output folder: exclusive, released on exit, nothing left behind."""

import threading
import time

import fsspec
import pytest

from cauker.files import folder_lock as lock_module
from cauker.files.folder_lock import LOCK_FILE, folder_lock

LOCAL = fsspec.filesystem("file")


@pytest.fixture(params=["flock on the folder", "lock file"])
def mode(request, monkeypatch):
    if request.param == "lock file":  # as on Windows, or a file system without flock
        monkeypatch.setattr(lock_module, "fcntl", None)
    return request.param


def test_a_second_holder_waits_for_the_first(tmp_path, mode, capsys):
    folder = str(tmp_path / "out")
    order = []
    held = threading.Event()

    def first():
        with folder_lock(LOCAL, folder):
            held.set()
            time.sleep(0.3)
            order.append("first done")

    thread = threading.Thread(target=first)
    thread.start()
    assert held.wait(5)
    with folder_lock(LOCAL, folder, "waiting for the other"):
        order.append("second in")
    thread.join()
    assert order == ["first done", "second in"]
    assert "waiting for the other" in capsys.readouterr().err
    left = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert left == ([] if mode == "flock on the folder" else [LOCK_FILE])


def test_the_lock_is_released_when_the_block_raises(tmp_path, mode):
    folder = str(tmp_path / "out")
    with pytest.raises(RuntimeError), folder_lock(LOCAL, folder):
        raise RuntimeError("boom")
    done = threading.Event()

    def again():
        with folder_lock(LOCAL, folder):
            done.set()

    thread = threading.Thread(target=again)
    thread.start()
    thread.join(5)
    assert done.is_set()


def test_object_stores_are_not_locked():
    fs = fsspec.filesystem("memory")
    with folder_lock(fs, "/cauker-lock-test"), folder_lock(fs, "/cauker-lock-test"):
        pass  # no lock, so no deadlock
    assert not fs.exists("/cauker-lock-test")
