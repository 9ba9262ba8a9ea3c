"""Test session setup: all tests talk to a local Hub (tests/hub_server.py), never to huggingface.co.

`huggingface_hub` and `datasets` read their environment once, when first imported. pytest imports
this file before any test module, so it starts one `LocalHub` for the session and points the clients
at it here, at import time. Nothing may import those clients earlier (a plugin, a conftest.py above
this one): that is checked below.

Using the server from a test:

    from huggingface_hub import HfApi

    def test_push(hub):  # `hub` is the session's LocalHub
        repo_id = f"{hub.user}/push-test"  # names must be unique: repos live for the whole session
        HfApi().create_repo(repo_id, repo_type="dataset")  # the token comes from HF_TOKEN
        ...
        assert "README.md" in hub.files(repo_id)  # files at "main", or pass a revision

- `hub.token` is the valid token, already in HF_TOKEN; pass `token=False` for anonymous calls.
- `hub.create_repo(repo_id)` seeds a repo in any namespace, e.g. one you can read but not write.
- `hub.requests` logs each (method, path) received, `hub.unknown_requests` the unsupported ones.
- `hub.fail_uploads_after(n)` makes uploads fail with HTTP 500 after n more successful ones; this
  is turned off again after each test. The client retries 5xx answers to LFS uploads five
  times, sleeping 1+2+4+8+8 s, and cauker tries each Hub call three times, sleeping 1+2 s: use
  the `no_backoff_sleep` fixture in such tests.
"""

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pytest
from hub_server import LocalHub

for _client in ("huggingface_hub", "datasets"):
    if _client in sys.modules:
        raise RuntimeError(f"{_client} was imported before tests/conftest.py set HF_ENDPOINT")

_WORKDIR = Path(tempfile.mkdtemp(prefix="cauker-tests-"))
HUB = LocalHub(_WORKDIR / "hub").start()
os.environ.update(
    {
        "HF_ENDPOINT": HUB.url,
        "HF_TOKEN": HUB.token,
        "HF_HOME": str(_WORKDIR / "hf_home"),
        "HF_HUB_CACHE": str(_WORKDIR / "hf_home" / "hub"),
        "HF_DATASETS_CACHE": str(_WORKDIR / "hf_home" / "datasets"),
        "HF_HUB_DISABLE_XET": "1",  # LocalHub implements the LFS upload protocol, not Xet
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_UPDATE_DOWNLOAD_COUNTS": "0",  # else `load_dataset` sends a HEAD to s3.amazonaws.com
    }
)
for _name in (
    "HF_HUB_OFFLINE",
    "HF_DATASETS_OFFLINE",
    "TRANSFORMERS_OFFLINE",
    "HUGGINGFACE_CO_STAGING",
    "HUGGING_FACE_HUB_TOKEN",
    "HF_TOKEN_PATH",
    "HUGGINGFACE_HUB_CACHE",
    "HF_XET_CACHE",
):
    os.environ.pop(_name, None)


def pytest_sessionfinish(session, exitstatus):
    HUB.stop()
    shutil.rmtree(_WORKDIR, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def _no_parquet_export():
    """Keep `load_dataset` from asking datasets-server.<HF_ENDPOINT host> for a Parquet export."""
    import datasets

    datasets.config.USE_PARQUET_EXPORT = False


@pytest.fixture(scope="session")
def hub() -> LocalHub:
    return HUB


@pytest.fixture(scope="module")
def small_files():
    """Files of a few rows: the 64 files that parallel export wants, however small the
    corpus, so that tests of crashes, resumes and stale files have many of them.
    (Real files hold at least cauker.files.shard_plan.MIN_FILE_BYTES, see tests/test_shards.py.)"""
    import cauker.files.shard_plan

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cauker.files.shard_plan, "MIN_FILE_BYTES", 1)
        yield


@pytest.fixture(autouse=True)
def _reset_fault_injection():
    yield
    HUB.fail_uploads_after(None)
    HUB.silent_on(None)


class _TimeWithoutSleep:
    def __getattr__(self, name):
        return getattr(time, name)

    @staticmethod
    def sleep(seconds):
        pass


@pytest.fixture
def no_backoff_sleep(monkeypatch):
    """Skip the sleeps of huggingface_hub's retries (`http_backoff`), and of cauker's
    own retries of Hub calls, in this test."""
    from huggingface_hub.utils import _http

    import cauker.hub.push

    monkeypatch.setattr(_http, "time", _TimeWithoutSleep())
    monkeypatch.setattr(cauker.hub.push, "RETRY_WAITS", (0.0, 0.0))
