"""Direct tests of the local Hub (tests/hub_server.py), through the real clients.

The Hub behaviour cauker relies on is covered by tests/test_hub.py and tests/test_export.py;
these tests pin what the stand-in promises on its own: a client round trip, tags, tokens and
namespaces, the client's exceptions, commit conflicts, fault injection and card validation.
"""

import uuid
from pathlib import Path

import datasets
import httpx2
import huggingface_hub
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hub_server import LocalHub
from huggingface_hub import DatasetCard, HfApi, HfFileSystem, hf_hub_download
from huggingface_hub.errors import (
    EntryNotFoundError,
    HfHubHTTPError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.utils import disable_progress_bars

CARD = """---
configs:
- config_name: alpha
  data_files:
  - split: train
    path: data/train-*
license: apache-2.0
---

# Test dataset
"""


@pytest.fixture(autouse=True)
def _no_unknown_requests(hub):
    """Every request the clients make in these tests must be one the server implements."""
    before = len(hub.unknown_requests)
    yield
    assert hub.unknown_requests[before:] == []


def new_repo(hub) -> str:
    repo_id = f"{hub.user}/server-{uuid.uuid4().hex[:8]}"
    HfApi().create_repo(repo_id, repo_type="dataset")
    return repo_id


def write_shards(folder: Path, count: int, offset: int = 0) -> pa.Table:
    """`count` Parquet shards of 4 rows in folder/data, and the card; returns all their rows."""
    tables = []
    for shard in range(count):
        first = offset + 4 * shard
        table = pa.table({"id": list(range(first, first + 4)), "x": [i / 2 for i in range(4)]})
        path = folder / "data" / f"train-{shard:05d}-of-{count:05d}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path)
        tables.append(table)
    (folder / "README.md").write_text(CARD)
    return pa.concat_tables(tables)


def test_clients_use_the_local_hub(hub):
    assert huggingface_hub.constants.ENDPOINT == datasets.config.HF_ENDPOINT == hub.url
    assert HfApi().whoami()["name"] == hub.user


def test_round_trip(hub, tmp_path):
    api = HfApi()
    repo_id = new_repo(hub)
    assert api.create_repo(repo_id, repo_type="dataset", exist_ok=True).repo_id == repo_id
    expected = write_shards(tmp_path, 2)
    commit = api.upload_folder(folder_path=tmp_path, repo_id=repo_id, repo_type="dataset")

    info = api.dataset_info(repo_id)
    assert info.sha == commit.oid
    assert info.card_data["configs"][0]["data_files"][0] == {
        "split": "train",
        "path": "data/train-*",
    }
    files = {path.relative_to(tmp_path).as_posix() for path in tmp_path.rglob("*.*")}
    assert set(api.list_repo_files(repo_id, repo_type="dataset")) == files | {".gitattributes"}
    shard = "data/train-00001-of-00002.parquet"
    content = (tmp_path / shard).read_bytes()
    assert Path(hf_hub_download(repo_id, shard, repo_type="dataset")).read_bytes() == content
    with HfFileSystem().open(f"datasets/{repo_id}/{shard}", "rb", block_size=16) as file:
        file.seek(5)  # read through Range requests
        assert file.read(20) == content[5:25]

    loaded = datasets.load_dataset(repo_id, "alpha", split="train")
    assert loaded.data.table.equals(expected)
    streamed = datasets.load_dataset(repo_id, "alpha", split="train", streaming=True)
    assert pa.Table.from_pylist(list(streamed), schema=expected.schema).equals(expected)


def test_a_tag_keeps_serving_the_files_it_points_at(hub, tmp_path):
    api = HfApi()
    repo_id = new_repo(hub)
    path = "notes.txt"
    first = api.upload_file(
        path_or_fileobj=b"v1", path_in_repo=path, repo_id=repo_id, repo_type="dataset"
    )
    api.create_tag(repo_id, tag="v1", repo_type="dataset")
    with pytest.raises(HfHubHTTPError) as excinfo:
        api.create_tag(repo_id, tag="v1", repo_type="dataset")
    assert excinfo.value.response.status_code == 409
    second = api.upload_file(
        path_or_fileobj=b"v2", path_in_repo=path, repo_id=repo_id, repo_type="dataset"
    )

    old = hf_hub_download(repo_id, path, repo_type="dataset", revision="v1")
    assert Path(old).read_bytes() == b"v1" and hub.files(repo_id)[path] == b"v2"
    assert hub.files(repo_id, first.oid)[path] == b"v1"
    refs = api.list_repo_refs(repo_id, repo_type="dataset")
    assert [(ref.name, ref.target_commit) for ref in refs.branches] == [("main", second.oid)]
    assert [(ref.name, ref.target_commit) for ref in refs.tags] == [("v1", first.oid)]
    api.delete_tag(repo_id, tag="v1", repo_type="dataset")
    assert api.list_repo_refs(repo_id, repo_type="dataset").tags == []


def test_tokens_and_namespaces(hub):
    repo_id = new_repo(hub)
    wrong = HfApi(token="hf_wrong")
    for call in (wrong.whoami, lambda: wrong.dataset_info(repo_id)):
        with pytest.raises(HfHubHTTPError) as excinfo:
            call()
        assert excinfo.value.response.status_code == 401
        assert excinfo.value.response.json() == {
            "error": "Invalid credentials in Authorization header"
        }
    assert HfApi(token=False).dataset_info(repo_id).id == repo_id  # public reads need no token

    upload = {"path_or_fileobj": b"x", "path_in_repo": "x.txt", "repo_type": "dataset"}
    with pytest.raises(HfHubHTTPError) as excinfo:
        HfApi(token=False).upload_file(repo_id=repo_id, **upload)
    assert excinfo.value.response.status_code == 401

    api = HfApi()
    with pytest.raises(HfHubHTTPError) as excinfo:
        api.create_repo("someone-else/data", repo_type="dataset")
    assert excinfo.value.response.status_code == 403
    foreign = f"someone-else/shared-{uuid.uuid4().hex[:8]}"
    hub.create_repo(foreign)  # seeded: readable, not writable
    assert api.dataset_info(foreign).id == foreign
    with pytest.raises(HfHubHTTPError) as excinfo:
        api.upload_file(repo_id=foreign, **upload)
    assert excinfo.value.response.status_code == 403
    assert "You don't have the rights" in str(excinfo.value)


def test_missing_repo_revision_and_file_raise_the_clients_errors(hub):
    missing = f"{hub.user}/does-not-exist"
    with pytest.raises(RepositoryNotFoundError):
        HfApi().dataset_info(missing)
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download(missing, "README.md", repo_type="dataset")
    repo_id = new_repo(hub)
    with pytest.raises(RevisionNotFoundError):
        HfApi().dataset_info(repo_id, revision="no-such-tag")
    with pytest.raises(EntryNotFoundError):
        hf_hub_download(repo_id, "missing.txt", repo_type="dataset")
    assert not HfApi().file_exists(repo_id, "missing.txt", repo_type="dataset")


def test_stale_parent_commit_conflicts_and_unchanged_files_are_not_committed(hub):
    api = HfApi()
    repo_id = new_repo(hub)
    upload = {"path_in_repo": "card.md", "repo_id": repo_id, "repo_type": "dataset"}
    head = api.dataset_info(repo_id).sha
    first = api.upload_file(path_or_fileobj=b"one", parent_commit=head, **upload)
    with pytest.raises(HfHubHTTPError) as excinfo:
        api.upload_file(path_or_fileobj=b"two", parent_commit=head, **upload)
    assert excinfo.value.response.status_code == 412
    assert hub.files(repo_id)["card.md"] == b"one"
    # The same content again: the client sees the oid from preupload and sends no commit.
    api.upload_file(path_or_fileobj=b"one", **upload)
    assert api.dataset_info(repo_id).sha == first.oid


def test_injected_upload_failures_and_resume(hub, tmp_path, no_backoff_sleep):
    api = HfApi()
    repo_id = new_repo(hub)
    folder = tmp_path / "shards"
    write_shards(folder, 3, offset=uuid.uuid4().int % 10**9)  # objects the hub has not seen
    (folder / "README.md").unlink()
    hub.fail_uploads_after(1)
    before = len(hub.requests)
    with pytest.raises(RuntimeError, match="Error while uploading") as excinfo:
        with disable_progress_bars():  # those of failed uploads are never closed
            api.upload_folder(folder_path=folder, repo_id=repo_id, repo_type="dataset")
    assert excinfo.value.__cause__.response.status_code == 500
    assert len({path for method, path in hub.requests[before:] if method == "PUT"}) == 3
    assert set(hub.files(repo_id)) == {".gitattributes"}  # nothing committed

    hub.fail_uploads_after(None)
    before = len(hub.requests)
    api.upload_folder(folder_path=folder, repo_id=repo_id, repo_type="dataset")
    assert len([path for method, path in hub.requests[before:] if method == "PUT"]) == 2

    hub.fail_uploads_after(0)  # a commit of a regular file is an upload too
    with pytest.raises(HfHubHTTPError) as excinfo:
        api.upload_file(
            path_or_fileobj=b"text", path_in_repo="notes.txt", repo_id=repo_id, repo_type="dataset"
        )
    assert excinfo.value.response.status_code == 500
    assert "notes.txt" not in hub.files(repo_id)


def test_card_yaml_is_validated(hub):
    DatasetCard(CARD).validate(repo_type="dataset")
    repo_id = new_repo(hub)
    for bad in ("---\nconfigs: [unclosed\n---\n", "---\nlicense: mit\n", "---\n- a list\n---\n"):
        with pytest.raises(ValueError, match="Invalid metadata in README.md"):
            HfApi().upload_file(
                path_or_fileobj=bad.encode(),
                path_in_repo="README.md",
                repo_id=repo_id,
                repo_type="dataset",
            )
    assert "README.md" not in hub.files(repo_id)


def test_unknown_requests_get_404_and_are_recorded(hub):
    repo_id = new_repo(hub)
    before = len(hub.unknown_requests)
    with pytest.raises(HfHubHTTPError) as excinfo:
        HfApi().list_repo_commits(repo_id, repo_type="dataset")  # not served
    assert excinfo.value.response.status_code == 404
    assert hub.unknown_requests[before:] == [("GET", f"/api/datasets/{repo_id}/commits/main")]
    del hub.unknown_requests[before:]


def test_a_stopped_hub_is_unreachable(tmp_path):
    other = LocalHub(tmp_path).start()
    assert HfApi(endpoint=other.url, token=other.token).whoami()["name"] == other.user
    other.stop()
    with pytest.raises(httpx2.ConnectError):
        HfApi(endpoint=other.url, token=other.token).whoami(cache=False)
