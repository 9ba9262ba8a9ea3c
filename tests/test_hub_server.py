"""Tests of the local Hub (tests/hub_server.py), only through the real clients.

tests/conftest.py starts the server and points `huggingface_hub` and `datasets` at it before they
are imported; the `hub` fixture is that server.
"""

import re
import uuid
from pathlib import Path

import datasets
import huggingface_hub
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from huggingface_hub import (
    CommitOperationAdd,
    CommitOperationDelete,
    HfApi,
    HfFileSystem,
    hf_hub_download,
)
from huggingface_hub.errors import (
    EntryNotFoundError,
    HfHubHTTPError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.utils import disable_progress_bars

# config -> split -> number of shards
LAYOUT = {"alpha": {"train": 2, "test": 1}, "beta": {"train": 2, "test": 1}}


@pytest.fixture(autouse=True)
def _no_unknown_requests(hub):
    """Every request the clients make in these tests must be one the server implements."""
    before = len(hub.unknown_requests)
    yield
    assert hub.unknown_requests[before:] == []


def new_repo_id(hub, label: str) -> str:
    return f"{hub.user}/{label}-{uuid.uuid4().hex[:8]}"


def make_table(config: str, split: str, shard: int, offset: int = 0, rows: int = 4) -> pa.Table:
    first = offset + shard * rows
    return pa.table(
        {
            "id": [f"{config}-{split}-{i}" for i in range(first, first + rows)],
            "target": pa.array(
                [[i, i / 2, -i] for i in range(first, first + rows)], pa.list_(pa.float64())
            ),
            "length": pa.array([3] * rows, pa.int64()),
        }
    )


def write_dataset(folder: Path, layout: dict, offset: int = 0) -> dict[tuple[str, str], pa.Table]:
    """Write a README.md listing one config per layout entry and its Parquet shards; return the
    expected table of each (config, split)."""
    card = ["---", "configs:"]
    expected = {}
    for config, splits in layout.items():
        card += [f"- config_name: {config}", "  data_files:"]
        for split, num_shards in splits.items():
            card += [f"  - split: {split}", f"    path: data/{config}/{split}-*"]
            tables = [make_table(config, split, shard, offset) for shard in range(num_shards)]
            for shard, table in enumerate(tables):
                path = folder / "data" / config / f"{split}-{shard:05d}-of-{num_shards:05d}.parquet"
                path.parent.mkdir(parents=True, exist_ok=True)
                pq.write_table(table, path)
            expected[(config, split)] = pa.concat_tables(tables)
    card += ["license: apache-2.0", "tags:", "- time-series", "---", "", "# Test dataset", ""]
    (folder / "README.md").write_text("\n".join(card))
    return expected


def assert_rows(rows, expected: pa.Table) -> None:
    """`rows` (a Dataset, or the examples of an IterableDataset) hold exactly the expected table."""
    if isinstance(rows, datasets.Dataset):
        table = rows.data.table
    else:
        table = pa.Table.from_pylist(list(rows), schema=expected.schema)
    assert table.select(expected.column_names).equals(expected)


@pytest.fixture(scope="module")
def published(hub, tmp_path_factory):
    """A dataset repo with two configs, uploaded once for the read-only tests of this module."""
    folder = tmp_path_factory.mktemp("published")
    expected = write_dataset(folder, LAYOUT)
    repo_id = new_repo_id(hub, "published")
    api = HfApi()
    api.create_repo(repo_id, repo_type="dataset")
    api.upload_folder(folder_path=folder, repo_id=repo_id, repo_type="dataset")
    return repo_id, folder, expected


def test_clients_use_the_local_hub(hub):
    assert huggingface_hub.constants.ENDPOINT == hub.url
    assert datasets.config.HF_ENDPOINT == hub.url
    assert datasets.config.USE_PARQUET_EXPORT is False
    assert HfApi().whoami()["name"] == hub.user


def test_create_repo_and_repo_info(hub):
    api = HfApi()
    repo_id = new_repo_id(hub, "create")
    url = api.create_repo(repo_id, repo_type="dataset")
    assert url == f"{hub.url}/datasets/{repo_id}"
    assert (url.repo_id, url.repo_type) == (repo_id, "dataset")

    info = api.dataset_info(repo_id)
    assert info.id == repo_id
    assert re.fullmatch(r"[0-9a-f]{40}", info.sha)
    assert info.private is False
    assert [sibling.rfilename for sibling in info.siblings] == [".gitattributes"]
    assert api.repo_exists(repo_id, repo_type="dataset")

    with pytest.raises(HfHubHTTPError) as excinfo:
        api.create_repo(repo_id, repo_type="dataset")
    assert excinfo.value.response.status_code == 409
    assert api.create_repo(repo_id, repo_type="dataset", exist_ok=True).repo_id == repo_id

    model_id = new_repo_id(hub, "model")
    api.create_repo(model_id)
    assert api.model_info(model_id).id == model_id
    assert not api.repo_exists(model_id, repo_type="dataset")


def test_missing_repo_raises_repository_not_found(hub):
    repo_id = f"{hub.user}/does-not-exist"
    with pytest.raises(RepositoryNotFoundError):
        HfApi().dataset_info(repo_id)
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download(repo_id, "README.md", repo_type="dataset")
    with pytest.raises(RepositoryNotFoundError):
        HfApi().upload_file(
            path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=repo_id, repo_type="dataset"
        )


def test_wrong_token_gets_401(hub):
    with pytest.raises(HfHubHTTPError) as excinfo:
        HfApi(token="hf_wrong").create_repo(new_repo_id(hub, "denied"), repo_type="dataset")
    assert excinfo.value.response.status_code == 401
    assert excinfo.value.response.json() == {"error": "Invalid credentials in Authorization header"}
    assert "Invalid credentials in Authorization header" in str(excinfo.value)


def test_other_namespace_gets_403(hub):
    api = HfApi()
    with pytest.raises(HfHubHTTPError) as excinfo:
        api.create_repo("someone-else/data", repo_type="dataset")
    assert excinfo.value.response.status_code == 403
    assert "You don't have the rights" in str(excinfo.value)

    # A repo seeded in another namespace is readable but not writable.
    repo_id = f"someone-else/shared-{uuid.uuid4().hex[:8]}"
    hub.create_repo(repo_id, repo_type="dataset")
    assert api.dataset_info(repo_id).id == repo_id
    with pytest.raises(HfHubHTTPError) as excinfo:
        api.upload_file(
            path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=repo_id, repo_type="dataset"
        )
    assert excinfo.value.response.status_code == 403


def test_upload_folder_download_tags_and_old_revisions(hub, tmp_path):
    api = HfApi()
    repo_id = new_repo_id(hub, "tags")
    api.create_repo(repo_id, repo_type="dataset")
    expected_v1 = write_dataset(tmp_path / "v1", LAYOUT)
    first = api.upload_folder(folder_path=tmp_path / "v1", repo_id=repo_id, repo_type="dataset")

    local_files = {
        path.relative_to(tmp_path / "v1").as_posix() for path in (tmp_path / "v1").rglob("*.*")
    }
    assert set(api.list_repo_files(repo_id, repo_type="dataset")) == {
        ".gitattributes",
        *local_files,
    }
    shard = "data/alpha/train-00000-of-00002.parquet"
    downloaded = hf_hub_download(repo_id, shard, repo_type="dataset")
    assert Path(downloaded).read_bytes() == (tmp_path / "v1" / shard).read_bytes()

    api.create_tag(repo_id, tag="v1", repo_type="dataset")
    refs = api.list_repo_refs(repo_id, repo_type="dataset")
    assert [(ref.name, ref.target_commit) for ref in refs.branches] == [("main", first.oid)]
    assert [(ref.name, ref.target_commit) for ref in refs.tags] == [("v1", first.oid)]
    with pytest.raises(HfHubHTTPError) as excinfo:
        api.create_tag(repo_id, tag="v1", repo_type="dataset")
    assert excinfo.value.response.status_code == 409

    # Second commit: replace the files of config "alpha" (one new name, one overwritten).
    expected_v2 = write_dataset(tmp_path / "v2", {"alpha": {"train": 1, "test": 1}}, offset=100)
    second = api.upload_folder(
        folder_path=tmp_path / "v2" / "data" / "alpha",
        path_in_repo="data/alpha",
        repo_id=repo_id,
        repo_type="dataset",
        delete_patterns="*",
    )
    assert sorted(path for path in hub.files(repo_id) if path.startswith("data/alpha/")) == [
        "data/alpha/test-00000-of-00001.parquet",
        "data/alpha/train-00000-of-00001.parquet",
    ]
    assert hub.files(repo_id, "v1")[shard] == (tmp_path / "v1" / shard).read_bytes()

    for split in ("train", "test"):
        old = datasets.load_dataset(repo_id, "alpha", split=split, revision="v1")
        assert_rows(old, expected_v1[("alpha", split)])
        new = datasets.load_dataset(repo_id, "alpha", split=split)
        assert_rows(new, expected_v2[("alpha", split)])
        old_streamed = datasets.load_dataset(
            repo_id, "alpha", split=split, revision="v1", streaming=True
        )
        assert_rows(old_streamed, expected_v1[("alpha", split)])

    api.create_branch(repo_id, branch="v1-fixes", revision="v1", repo_type="dataset")
    api.delete_tag(repo_id, tag="v1", repo_type="dataset")
    refs = api.list_repo_refs(repo_id, repo_type="dataset")
    assert {(ref.name, ref.target_commit) for ref in refs.branches} == {
        ("main", second.oid),
        ("v1-fixes", first.oid),
    }
    assert refs.tags == []


@pytest.mark.parametrize("config", ["alpha", "beta"])
def test_load_dataset(published, config):
    repo_id, _, expected = published
    dataset_dict = datasets.load_dataset(repo_id, config)
    assert sorted(dataset_dict) == ["test", "train"]
    for split, dataset in dataset_dict.items():
        assert_rows(dataset, expected[(config, split)])


@pytest.mark.parametrize("config", ["alpha", "beta"])
def test_load_dataset_streaming(published, config):
    repo_id, _, expected = published
    dataset_dict = datasets.load_dataset(repo_id, config, streaming=True)
    assert sorted(dataset_dict) == ["test", "train"]
    for split, dataset in dataset_dict.items():
        assert_rows(dataset, expected[(config, split)])


def test_repo_info_card_data_and_file_metadata(published):
    repo_id, folder, _ = published
    info = HfApi().dataset_info(repo_id, files_metadata=True)
    assert [config["config_name"] for config in info.card_data["configs"]] == ["alpha", "beta"]
    assert info.card_data["configs"][0]["data_files"][0] == {
        "split": "train",
        "path": "data/alpha/train-*",
    }
    assert "time-series" in info.tags and "license:apache-2.0" in info.tags
    siblings = {sibling.rfilename: sibling for sibling in info.siblings}
    shard = siblings["data/beta/test-00000-of-00001.parquet"]
    assert shard.lfs.size == shard.size == (folder / shard.rfilename).stat().st_size
    assert siblings["README.md"].lfs is None


def test_hf_file_system_listing_and_ranges(published):
    repo_id, folder, _ = published
    fs = HfFileSystem()
    root = f"datasets/{repo_id}"
    assert fs.ls(f"{root}/data", detail=False) == [f"{root}/data/alpha", f"{root}/data/beta"]
    assert len(fs.glob(f"{root}/data/**/train-*.parquet")) == 4
    shard = "data/alpha/train-00001-of-00002.parquet"
    content = (folder / shard).read_bytes()
    assert fs.info(f"{root}/{shard}")["size"] == len(content)
    with fs.open(f"{root}/{shard}", "rb", block_size=16) as file:  # reads through Range requests
        file.seek(5)
        assert file.read(20) == content[5:25]
        file.seek(-8, 2)
        assert file.read() == content[-8:]


def test_missing_revision_and_entry(published):
    repo_id, _, _ = published
    api = HfApi()
    with pytest.raises(RevisionNotFoundError):
        api.dataset_info(repo_id, revision="refs/convert/parquet")
    with pytest.raises(RevisionNotFoundError):
        hf_hub_download(repo_id, "README.md", repo_type="dataset", revision="refs/convert/parquet")
    with pytest.raises(EntryNotFoundError):
        hf_hub_download(repo_id, "missing.txt", repo_type="dataset")
    assert not api.file_exists(repo_id, "missing.txt", repo_type="dataset")
    assert api.file_exists(repo_id, "README.md", repo_type="dataset")


def test_dataset_push_to_hub(hub):
    repo_id = new_repo_id(hub, "push")
    gamma = datasets.Dataset.from_dict({"id": ["a", "b", "c"], "target": [[1.0], [2.0, 3.0], []]})
    delta = datasets.Dataset.from_dict({"id": ["d"], "target": [[4.0, 5.0]]})
    before = len(hub.requests)
    gamma.push_to_hub(repo_id, config_name="gamma")
    delta.push_to_hub(repo_id, config_name="delta", split="test")

    lfs_puts = [path for method, path in hub.requests[before:] if method == "PUT"]
    assert len(lfs_puts) == 2  # one Parquet shard per push, uploaded through LFS
    assert set(hub.files(repo_id)) == {  # datasets 5 puts the shards in <config_name>/
        ".gitattributes",
        "README.md",
        "gamma/train-00000-of-00001.parquet",
        "delta/test-00000-of-00001.parquet",
    }
    assert datasets.load_dataset(repo_id, "gamma", split="train").to_list() == gamma.to_list()
    assert datasets.load_dataset(repo_id, "delta", split="test").to_list() == delta.to_list()
    card_data = HfApi().dataset_info(repo_id).card_data
    assert sorted(config["config_name"] for config in card_data["configs"]) == ["delta", "gamma"]


def test_upload_resumes_after_injected_failures(hub, tmp_path, no_backoff_sleep):
    api = HfApi()
    repo_id = new_repo_id(hub, "resume")
    api.create_repo(repo_id, repo_type="dataset")
    for part in range(3):
        pq.write_table(make_table("resume", "train", part), tmp_path / f"part-{part}.parquet")

    hub.fail_uploads_after(1)
    before = len(hub.requests)
    # huggingface_hub wraps LFS upload errors: RuntimeError("Error while uploading ...").
    with pytest.raises(RuntimeError, match="Error while uploading") as excinfo:
        # (without progress bars: those of failed uploads are never closed, and print at exit)
        with disable_progress_bars():
            api.upload_folder(folder_path=tmp_path, repo_id=repo_id, repo_type="dataset")
    assert isinstance(excinfo.value.__cause__, HfHubHTTPError)
    assert excinfo.value.__cause__.response.status_code == 500
    assert len({path for method, path in hub.requests[before:] if method == "PUT"}) == 3
    assert set(hub.files(repo_id)) == {".gitattributes"}  # nothing was committed

    hub.fail_uploads_after(None)
    before = len(hub.requests)
    api.upload_folder(folder_path=tmp_path, repo_id=repo_id, repo_type="dataset")
    # The object stored before the failure is not sent again.
    assert len([path for method, path in hub.requests[before:] if method == "PUT"]) == 2
    files = hub.files(repo_id)
    for part in range(3):
        assert files[f"part-{part}.parquet"] == (tmp_path / f"part-{part}.parquet").read_bytes()


def test_create_commit_deletions_parent_commit_and_pull_requests(hub):
    api = HfApi()
    repo_id = new_repo_id(hub, "commits")
    api.create_repo(repo_id, repo_type="dataset")
    added = [
        CommitOperationAdd(path_in_repo=path, path_or_fileobj=path.encode())
        for path in ("a.txt", "dir/b.txt", "dir/sub/c.txt", "keep.txt")
    ]
    first = api.create_commit(repo_id, added, commit_message="Add files", repo_type="dataset")
    deletions = [CommitOperationDelete("a.txt"), CommitOperationDelete("dir/")]
    second = api.create_commit(
        repo_id, deletions, commit_message="Delete", repo_type="dataset", parent_commit=first.oid
    )
    assert set(hub.files(repo_id)) == {".gitattributes", "keep.txt"}
    assert hub.files(repo_id, first.oid)["dir/sub/c.txt"] == b"dir/sub/c.txt"
    history = api.list_repo_commits(repo_id, repo_type="dataset")
    assert [commit.commit_id for commit in history[:2]] == [second.oid, first.oid]
    assert [commit.title for commit in history] == ["Delete", "Add files", "initial commit"]

    with pytest.raises(EntryNotFoundError):
        api.create_commit(
            repo_id, [CommitOperationDelete("a.txt")], commit_message="x", repo_type="dataset"
        )
    with pytest.raises(HfHubHTTPError) as excinfo:  # main has moved on since `first`
        api.create_commit(
            repo_id,
            [CommitOperationAdd(path_in_repo="late.txt", path_or_fileobj=b"late")],
            commit_message="Late",
            repo_type="dataset",
            parent_commit=first.oid,
        )
    assert excinfo.value.response.status_code == 412

    pull_request = api.create_commit(
        repo_id,
        [CommitOperationAdd(path_in_repo="proposal.txt", path_or_fileobj=b"p")],
        commit_message="Proposal",
        repo_type="dataset",
        create_pr=True,
    )
    assert pull_request.pr_revision == "refs/pr/1"
    assert "proposal.txt" in hub.files(repo_id, "refs/pr/1")
    assert "proposal.txt" not in hub.files(repo_id)


def test_private_repo_needs_a_token(hub):
    api = HfApi()
    repo_id = new_repo_id(hub, "private")
    api.create_repo(repo_id, repo_type="dataset", private=True)
    api.upload_file(
        path_or_fileobj=b"secret", path_in_repo="secret.txt", repo_id=repo_id, repo_type="dataset"
    )
    anonymous = HfApi(token=False)
    with pytest.raises(RepositoryNotFoundError):
        anonymous.dataset_info(repo_id)
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download(repo_id, "secret.txt", repo_type="dataset", token=False)
    with pytest.raises(RepositoryNotFoundError):
        anonymous.list_repo_files(repo_id, repo_type="dataset")
    assert api.dataset_info(repo_id).private is True
    downloaded = hf_hub_download(repo_id, "secret.txt", repo_type="dataset")
    assert Path(downloaded).read_bytes() == b"secret"


def test_tree_pagination_and_last_commits(hub):
    api = HfApi()
    repo_id = new_repo_id(hub, "tree")
    api.create_repo(repo_id, repo_type="dataset")
    many = [f"many/f{i:03d}.txt" for i in range(60)]
    operations = [CommitOperationAdd(path, path.encode()) for path in many]
    first = api.create_commit(repo_id, operations, commit_message="Many", repo_type="dataset")
    second = api.create_commit(
        repo_id,
        [CommitOperationAdd("many/f000.txt", b"changed")],
        commit_message="Change one",
        repo_type="dataset",
    )

    before = len(hub.requests)
    entries = list(api.list_repo_tree(repo_id, recursive=True, expand=True, repo_type="dataset"))
    tree_requests = [path for method, path in hub.requests[before:] if "/tree/" in path]
    assert len(tree_requests) == 2  # 62 entries, 50 per page when expanded
    by_path = {entry.path: entry for entry in entries}
    assert set(by_path) == {".gitattributes", "many", *many}
    assert by_path["many/f000.txt"].last_commit.oid == second.oid
    assert by_path["many/f001.txt"].last_commit.oid == first.oid
    assert by_path["many"].last_commit.oid == second.oid
    assert by_path[".gitattributes"].last_commit.title == "initial commit"

    infos = api.get_paths_info(
        repo_id, ["many/f001.txt", "many", "missing"], expand=True, repo_type="dataset"
    )
    assert [(info.path, info.last_commit.oid) for info in infos] == [
        ("many/f001.txt", first.oid),
        ("many", second.oid),
    ]
