"""Push to the Hub, against the local Hub stand-in, through the real clients."""

import dataclasses
import os
import subprocess
import sys
import time
import uuid

import datasets
import pytest
from hub_server import silent_endpoint
from huggingface_hub import DatasetCard, HfApi

import cauker
from cauker.cli import main
from cauker.errors import HubError
from cauker.files import runners
from cauker.hub import card as card_module
from cauker.hub import layout
from cauker.hub.push import push_to_hub

pytestmark = pytest.mark.usefixtures("small_files")  # many files from small corpora

A = cauker.CauKerConfig(num_series=48, length=32)
B = cauker.CauKerConfig(num_series=24, length=16, seed=4, multivariate=True)


def new_repo(hub):
    return f"{hub.user}/cauker-{uuid.uuid4().hex[:8]}"


def targets(config, split="train"):
    return cauker.generate(config, split=split).column("target").to_pylist()


def test_two_configs_load_by_name_and_stream(hub, tmp_path):
    repo = new_repo(hub)
    push_to_hub(A, repo, config_name="a", staging_dir=tmp_path / "a", progress=False)
    push_to_hub(B, repo, config_name="b", staging_dir=tmp_path / "b", progress=False)
    assert datasets.get_dataset_config_names(repo) == ["a", "b"]
    for name, config in (("a", A), ("b", B)):
        loaded = datasets.load_dataset(repo, name)
        assert loaded["train"]["target"] == targets(config)
        assert loaded["validation"]["target"] == targets(config, "validation")
        streamed = datasets.load_dataset(repo, name, split="train", streaming=True)
        assert [row["target"] for row in streamed] == targets(config)
    card = DatasetCard.load(repo, repo_type="dataset")
    assert [c["config_name"] for c in card.data["configs"]] == ["a", "b"]
    preview = f"images/b-{B.fingerprint()[:8]}.png"
    assert f"![b samples]({preview})" in card.text and f'load_dataset("{repo}", "a")' in card.text
    tags = {t.name for t in HfApi().list_repo_refs(repo, repo_type="dataset").tags}
    version = cauker.ALGORITHM_VERSION
    assert tags == {f"a-v{version}", f"b-v{version}"}
    assert not hub.unknown_requests


def test_repush_replaces_one_config_and_keeps_the_other(hub, tmp_path):
    repo = new_repo(hub)
    push_to_hub(A, repo, config_name="a", staging_dir=tmp_path / "a", progress=False)
    push_to_hub(B, repo, config_name="b", staging_dir=tmp_path / "b", progress=False)
    smaller = dataclasses.replace(A, num_series=16, seed=2)
    push_to_hub(smaller, repo, config_name="a", staging_dir=tmp_path / "a2", progress=False)
    files = hub.files(repo)
    tag = smaller.fingerprint()[:8]
    assert sorted(f for f in files if f.startswith("data/a/")) == [
        f"data/a/train-{i:05d}-of-00004-{tag}.parquet" for i in range(4)
    ] + [f"data/a/validation-00000-of-00001-{tag}.parquet"]
    assert sorted(f for f in files if f.startswith("images/")) == [
        f"images/a-{tag}.png",
        f"images/b-{B.fingerprint()[:8]}.png",
    ]
    assert datasets.load_dataset(repo, "a", split="train")["target"] == targets(smaller)
    assert datasets.load_dataset(repo, "b", split="train")["target"] == targets(B)
    card = DatasetCard.load(repo, repo_type="dataset")
    blocks = {b["config_name"]: b for b in card.data["cauker"]}
    assert blocks["a"]["parameters"]["num_series"] == 16 and blocks["b"]["parameters"]["seed"] == 4


def test_version_tag_still_loads_the_old_version(hub, tmp_path, monkeypatch):
    repo = new_repo(hub)
    push_to_hub(A, repo, config_name="a", staging_dir=tmp_path / "v1", progress=False)
    # A new algorithm version changes the bytes: simulate it with another seed.
    monkeypatch.setattr(card_module, "ALGORITHM_VERSION", "99.0.0")
    newer = dataclasses.replace(A, seed=7)
    push_to_hub(newer, repo, config_name="a", staging_dir=tmp_path / "v2", progress=False)
    old = f"a-v{cauker.ALGORITHM_VERSION}"
    assert datasets.load_dataset(repo, "a", split="train", revision=old)["target"] == targets(A)
    assert datasets.load_dataset(repo, "a", split="train", revision="a-v99.0.0")[
        "target"
    ] == targets(newer)
    assert datasets.load_dataset(repo, "a", split="train")["target"] == targets(newer)


def test_failed_upload_resumes_without_regenerating(hub, tmp_path, monkeypatch, no_backoff_sleep):
    repo = new_repo(hub)
    staging = tmp_path / "staging"
    fresh = dataclasses.replace(A, seed=11)  # blobs the server has never seen
    hub.fail_uploads_after(3)
    with pytest.raises(HubError) as info:
        push_to_hub(fresh, repo, config_name="a", staging_dir=staging, progress=False)
    message = str(info.value)
    command = f"cauker push 10k --repo {repo} --name a --num-series 48 --length 32 --seed 11"
    assert f"resume with: {command}" in message
    assert f"--staging-dir {staging}" in message and hub.token not in message
    shards = sorted((staging / "data" / "a").glob("*.parquet"))
    assert len(shards) == 13  # nothing deleted on failure
    hub.fail_uploads_after(None)

    writes = []
    real = runners.write_shard
    monkeypatch.setattr(runners, "write_shard", lambda *a: writes.append(a) or real(*a))
    push_to_hub(fresh, repo, config_name="a", staging_dir=staging, progress=False)
    assert writes == []  # resumed from the staged shards
    assert datasets.load_dataset(repo, "a", split="train")["target"] == targets(fresh)


def test_missing_token_fails_before_any_generation(tmp_path, monkeypatch):
    monkeypatch.delenv("HF_TOKEN")
    monkeypatch.setenv("HF_TOKEN_PATH", str(tmp_path / "no-token"))
    monkeypatch.setattr(runners, "write_shard", pytest.fail)
    with pytest.raises(HubError, match="no Hugging Face token: pass --token"):
        push_to_hub(A, "someuser/x", staging_dir=tmp_path / "s", progress=False)
    assert not (tmp_path / "s").exists()


def test_bad_token_and_foreign_namespace_fail_early(hub, tmp_path, monkeypatch):
    monkeypatch.setattr(runners, "write_shard", pytest.fail)
    with pytest.raises(HubError, match="the Hub rejected the token"):
        push_to_hub(A, "someuser/x", token="hf_wrong", staging_dir=tmp_path, progress=False)
    with pytest.raises(HubError, match="no write access to otheruser/x"):
        push_to_hub(A, "otheruser/x", staging_dir=tmp_path, progress=False)
    with pytest.raises(ValueError, match="repo_id must look like 'user/name'"):
        push_to_hub(A, "no-slash", staging_dir=tmp_path, progress=False)


def test_token_is_never_written_or_printed(hub, tmp_path, capsys, caplog):
    repo = new_repo(hub)
    staging = tmp_path / "staging"
    code = main(
        ["push", "10k", "--num-series", "16", "--length", "16", "--repo", repo, "--name", "t"]
        + ["--token", hub.token, "--staging-dir", str(staging), "--quiet"]
    )
    out = capsys.readouterr()
    assert code == 0, out.err
    assert f"load_dataset('{repo}', 't')" in out.out
    assert hub.token not in out.out + out.err + caplog.text
    for path in staging.rglob("*"):
        if path.is_file():
            assert hub.token.encode() not in path.read_bytes(), path
    for content in hub.files(repo).values():
        assert hub.token.encode() not in content


def test_cli_push_errors_are_one_line(hub, tmp_path, capsys, monkeypatch):
    code = main(
        [
            "push",
            "10k",
            "--num-series",
            "8",
            "--repo",
            "otheruser/y",
            "--staging-dir",
            str(tmp_path),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "no write access to otheruser/y" in err


def test_a_repo_readme_that_is_not_a_cauker_card_is_never_replaced(hub, tmp_path, monkeypatch):
    repo = new_repo(hub)
    api = HfApi()
    api.create_repo(repo, repo_type="dataset")
    mine = b"---\nlicense: mit\n---\n# My dataset\n\nImportant notes.\n"
    api.upload_file(
        path_or_fileobj=mine, path_in_repo="README.md", repo_id=repo, repo_type="dataset"
    )
    monkeypatch.setattr(runners, "write_shard", pytest.fail)  # nothing generated
    with pytest.raises(HubError, match=f"the README.md of {repo} is not a cauker dataset card"):
        push_to_hub(A, repo, config_name="a", staging_dir=tmp_path, progress=False)
    assert hub.files(repo)["README.md"] == mine


def test_a_push_merges_the_card_once_into_the_repos_with_the_license_given(
    hub, tmp_path, monkeypatch
):
    repo = new_repo(hub)
    monkeypatch.setattr(layout, "write_card", pytest.fail)  # no merge into the staging card
    push_to_hub(A, repo, config_name="a", staging_dir=tmp_path, progress=False, license="mit")
    card = DatasetCard.load(repo, repo_type="dataset")
    assert card.data.license == "mit" and "released under the mit license" in card.text
    assert (tmp_path / "README.md").read_bytes() == hub.files(repo)["README.md"]  # its copy
    with pytest.raises(ValueError, match="license must be"):
        push_to_hub(A, repo, staging_dir=tmp_path, progress=False, license="")
    assert [main(["push", "10k", "--repo", "a/b", "--license", "MIT"])] == [2]


def test_a_staging_dir_that_cannot_be_a_folder_fails_before_the_repo_is_created(hub, tmp_path):
    repo = new_repo(hub)
    afile = tmp_path / "afile"
    afile.write_text("x")
    for staging in (afile, afile / "sub", ""):
        with pytest.raises(ValueError, match="staging_dir"):
            push_to_hub(A, repo, config_name="a", staging_dir=staging, progress=False)
    assert not [r for r in hub.requests if repo in r[1]]  # not even asked about


def test_an_unreachable_hub_is_named(tmp_path, monkeypatch, no_backoff_sleep):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    with pytest.raises(HubError) as info:
        push_to_hub(A, "someuser/x", staging_dir=tmp_path, progress=False)
    message = str(info.value)
    assert "could not reach the Hub at http://127.0.0.1:9" in message
    assert "ConnectError" in message and "3 tries" in message


def test_a_silent_hub_ends_the_push_in_one_line_within_the_time_limit(tmp_path):
    """D3: a Hub that accepts the connection and never answers. The limit per request
    comes from CAUKER_HUB_TIMEOUT; three tries, then one line and status 2."""
    argv = [sys.executable, "-m", "cauker", "push", "10k", "--num-series", "8", "--length", "16"]
    argv += ["--repo", "someuser/x", "--staging-dir", str(tmp_path / "staging"), "--quiet"]
    with silent_endpoint() as url:
        env = {**os.environ, "HF_ENDPOINT": url, "CAUKER_HUB_TIMEOUT": "0.5"}
        start = time.monotonic()
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
        elapsed = time.monotonic() - start
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert f"could not reach the Hub at {url} (ReadTimeout" in done.stderr
    assert elapsed < 30  # 3 x 0.5 s, 1 + 2 s between the tries, and the start of Python
    assert not (tmp_path / "staging").exists()  # before any generation


def test_a_hub_that_hangs_mid_push_ends_with_the_resume_command(
    hub, tmp_path, capsys, monkeypatch, no_backoff_sleep
):
    """Every Hub call has the time limit, not only the first: here the commit hangs."""
    repo = new_repo(hub)
    hub.silent_on(r"/commit/")
    argv = ["push", "10k", "--num-series", "16", "--length", "16", "--repo", repo]
    argv += ["--staging-dir", str(tmp_path), "--quiet", "--timeout", "0.5"]
    start = time.monotonic()
    code = main(argv)
    err = capsys.readouterr().err
    assert time.monotonic() - start < 30
    assert code == 2 and err.count("\n") == 1, err
    assert f"upload to {repo} failed (ReadTimeout" in err and "resume with: cauker push" in err
    hub.silent_on(None)
    code = main(argv)  # the resume command's push
    assert code == 0, capsys.readouterr().err
    assert datasets.load_dataset(repo, "10k", split="train")["target"] == targets(
        cauker.named_config("10k", num_series=16, length=16)
    )


def test_a_card_that_cannot_be_read_is_never_taken_for_no_card(hub, tmp_path, no_backoff_sleep):
    """A failed download of the repo's README.md stops the push: the card merged from
    "no card" would drop the other configs."""
    repo = new_repo(hub)
    push_to_hub(B, repo, config_name="b", staging_dir=tmp_path / "b", progress=False)
    hub.silent_on(r"/resolve/.*/README\.md$")
    start = time.monotonic()
    with pytest.raises(HubError, match=f"could not read the README.md of {repo}"):
        push_to_hub(
            A, repo, config_name="a", staging_dir=tmp_path / "a", progress=False, timeout=0.5
        )
    assert time.monotonic() - start < 30  # three tries of 0.5 s, not the client's own retries
    hub.silent_on(None)
    card = DatasetCard.load(repo, repo_type="dataset")
    assert [c["config_name"] for c in card.data["configs"]] == ["b"]


@pytest.mark.parametrize(
    "setting, message",
    [
        ({"timeout": 0}, "timeout must be a positive number of seconds, got 0"),
        ({"timeout": float("nan")}, "timeout must be a positive number of seconds, got nan"),
        ({"env": "soon"}, "CAUKER_HUB_TIMEOUT must be a positive number of seconds, got 'soon'"),
    ],
)
def test_a_bad_time_limit_is_refused_before_any_work(setting, message, tmp_path, monkeypatch):
    monkeypatch.setattr(runners, "write_shard", pytest.fail)
    if "env" in setting:
        monkeypatch.setenv("CAUKER_HUB_TIMEOUT", setting["env"])
    timeout = setting.get("timeout")
    with pytest.raises(ValueError, match=message):
        push_to_hub(A, "someuser/x", staging_dir=tmp_path, progress=False, timeout=timeout)


def test_quiet_push_prints_no_retry_messages(hub, tmp_path, capsys, monkeypatch, no_backoff_sleep):
    import logging

    # huggingface_hub's handler holds the stderr of its import time: point it at this test's
    for handler in logging.getLogger("huggingface_hub").handlers:
        monkeypatch.setattr(handler, "stream", sys.stderr)
    repo = new_repo(hub)
    argv = ["push", "10k", "--num-series", "16", "--length", "16", "--seed", "21"]
    argv += ["--repo", repo, "--name", "q", "--staging-dir", str(tmp_path)]
    for quiet in (True, False):
        hub.fail_uploads_after(2)
        code = main(argv + (["--quiet"] if quiet else []))
        err = capsys.readouterr().err
        assert code == 2 and "upload to" in err.splitlines()[-1]
        if quiet:
            assert err.count("\n") == 1, err
        else:  # the messages the quiet run must hide are there without --quiet
            assert "Retrying in" in err
