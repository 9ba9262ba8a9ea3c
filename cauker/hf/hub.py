"""Publish a corpus to the Hugging Face Hub, so that anyone can run
``datasets.load_dataset(repo_id, config_name)`` with no code from us.

A push:

1. checks the staging folder, the token, the write access and that the repo's
   README.md (if any) is a cauker card, before any generation (a user's README
   is never replaced);
2. exports the config into a local staging folder (shards written atomically,
   complete ones skipped on a re-run; nothing is ever deleted on failure);
3. uploads this config's files with ``HfApi.upload_folder``, replacing only
   ``data/<config>/`` (with ``hf_xet`` installed this is huggingface_hub's
   resumable multi-commit upload; without it, one commit whose already-uploaded
   LFS objects are skipped on a re-run);
4. merges the card: reads the repo's README.md, adds or replaces this config's
   entries, keeps the others, and commits it on top of the head it read;
5. tags that commit ``<config>-v<version>``, so
   ``load_dataset(repo, config, revision=tag)`` pins a version.

The token is never printed, logged or written anywhere.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
from pathlib import Path
from typing import Any

import fsspec
from huggingface_hub import HfApi, get_token
from huggingface_hub import utils as hf_utils
from huggingface_hub.errors import (
    EntryNotFoundError,
    HfHubHTTPError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from cauker.config import ALGORITHM_VERSION, NAMED_SIZES, CauKerConfig, config_flags
from cauker.errors import ForeignFileError, HubError, ParameterError
from cauker.files.atomic_files import check_writable_folder, write_atomically
from cauker.files.card import is_cauker_card, tag_name, update_card
from cauker.files.hub_folder import check_config_name, export_config
from cauker.files.runners import check_runner
from cauker.files.shard_plan import check_finite
from cauker.named_configs import named_config
from cauker.task_config import TASK_SIZES, is_task_config
from cauker.tasks.corpora import check_config

_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")
_LOCAL = fsspec.filesystem("file")


def default_staging_dir(repo_id: str) -> Path:
    cache = os.environ.get("CAUKER_CACHE") or Path.home() / ".cache" / "cauker"
    return Path(cache) / "push" / repo_id.replace("/", "--")


def _status(error: BaseException) -> int | None:
    response = getattr(error, "response", None)
    return getattr(response, "status_code", None)


def _clean(message: str, token: str | None) -> str:
    message = " ".join(str(message).split())
    return message.replace(token, "***") if token else message


def check_write_access(api: HfApi, repo_id: str, token: str) -> str:
    """The token's user name, if it may write to ``repo_id``'s namespace."""
    try:
        me = api.whoami(token=token)
    except HfHubHTTPError as error:
        if _status(error) == 401:
            raise HubError(
                "the Hub rejected the token (HTTP 401); pass a valid token, set HF_TOKEN or "
                "run `hf auth login`"
            ) from None
        raise HubError(f"could not reach the Hub: {_clean(error, token)}") from None
    except Exception as error:  # noqa: BLE001 - the HTTP client's network errors
        raise HubError(
            f"could not reach the Hugging Face Hub at {api.endpoint} "
            f"({type(error).__name__}: {_clean(error, token)}); check the network "
            "connection, or HF_ENDPOINT"
        ) from None
    role = ((me.get("auth") or {}).get("accessToken") or {}).get("role")
    if role == "read":
        raise HubError(f"the token of '{me.get('name')}' is read-only; pushing needs a write token")
    namespace = repo_id.split("/")[0]
    allowed = {me.get("name")} | {org.get("name") for org in me.get("orgs") or []}
    if namespace not in allowed:
        raise HubError(
            f"no write access to {repo_id}: the token belongs to '{me.get('name')}', which can "
            f"write to {sorted(n for n in allowed if n)} only"
        )
    return me.get("name")


def _create_repo(api: HfApi, repo_id: str, private: bool, token: str) -> None:
    try:
        api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True, token=token)
    except HfHubHTTPError as error:
        if _status(error) in (401, 403):
            raise HubError(f"no write access to {repo_id} (HTTP {_status(error)})") from None
        raise HubError(f"could not create {repo_id}: {_clean(error, token)}") from None


def _read_card(api: HfApi, repo_id: str, revision: str, token: str) -> str | None:
    try:
        path = api.hf_hub_download(
            repo_id, "README.md", repo_type="dataset", revision=revision, token=token
        )
    except EntryNotFoundError:
        return None
    return Path(path).read_text(encoding="utf-8")


def _foreign_card(repo_id: str) -> HubError:
    return HubError(
        f"the README.md of {repo_id} is not a cauker dataset card (its YAML has no 'cauker:' "
        "block), and cauker never replaces a README it did not write; push to another repo, "
        "or remove that README.md first"
    )


def _check_repo_card(api: HfApi, repo_id: str, token: str) -> None:
    """Refuse, before any work, a repo whose README.md is a user's own."""
    try:
        card = _read_card(api, repo_id, "main", token)
    except (RepositoryNotFoundError, RevisionNotFoundError):
        return  # created below
    if card is not None and not is_cauker_card(card):
        raise _foreign_card(repo_id)


def _push_card(api: HfApi, repo_id: str, entry, token: str, staging: Path) -> str:
    """Merge this config into the repo's card and commit it; returns the commit id.

    The commit names the head it read as its parent, so a concurrent push of
    another config cannot be overwritten: on a conflict the card is re-read.
    """
    for _ in range(5):
        head = api.repo_info(repo_id, repo_type="dataset", token=token).sha
        try:
            card = str(update_card(_read_card(api, repo_id, head, token), entry, repo_id))
        except ForeignFileError:
            raise _foreign_card(repo_id) from None
        write_atomically(_LOCAL, str((staging / "README.md").absolute()), card.encode("utf-8"))
        try:
            commit = api.upload_file(
                path_or_fileobj=card.encode("utf-8"),
                path_in_repo="README.md",
                repo_id=repo_id,
                repo_type="dataset",
                token=token,
                parent_commit=head,
                commit_message=f"Card: add CauKer config {entry.name} (v{ALGORITHM_VERSION})",
            )
        except HfHubHTTPError as error:
            if _status(error) in (409, 412):  # the head moved: read the card again
                continue
            raise
        return commit.oid
    raise HubError(f"the card of {repo_id} kept changing under this push; try again")


def _tag(api: HfApi, repo_id: str, tag: str, revision: str, token: str) -> None:
    try:
        api.create_tag(repo_id, tag=tag, revision=revision, repo_type="dataset", token=token)
    except HfHubHTTPError as error:
        if _status(error) != 409:
            raise
        # Same config name and version pushed again: the tag follows the new push.
        api.delete_tag(repo_id, tag=tag, repo_type="dataset", token=token)
        api.create_tag(repo_id, tag=tag, revision=revision, repo_type="dataset", token=token)


@contextlib.contextmanager
def _hub_progress(enabled: bool):
    """huggingface_hub's own progress bars and messages follow ours: with
    ``progress=False`` (``--quiet``) neither bars nor its retry warnings are shown
    (a failure still ends with one error)."""
    was_disabled = hf_utils.are_progress_bars_disabled()
    verbosity = hf_utils.logging.get_verbosity()
    if not enabled:
        hf_utils.disable_progress_bars()
        hf_utils.logging.set_verbosity_error()
    try:
        yield
    finally:
        if not enabled:
            hf_utils.logging.set_verbosity(verbosity)
            if not was_disabled:
                hf_utils.enable_progress_bars()


def _upload(api: HfApi, repo_id: str, name: str, staging: Path, entry, token: str) -> None:
    """Data and preview, then the merged card, then the tag on that last commit."""
    old_previews = f"images/{name}-{'[0-9a-f]' * 8}.png"  # not another config's "<name>-x-..."
    api.upload_folder(
        repo_id=repo_id,
        repo_type="dataset",
        folder_path=staging,
        allow_patterns=[f"data/{name}/*.parquet", entry.preview],
        delete_patterns=[f"data/{name}/*", old_previews],
        commit_message=f"Add CauKer config {name} (v{ALGORITHM_VERSION})",
        token=token,
    )
    commit = _push_card(api, repo_id, entry, token, staging)
    _tag(api, repo_id, tag_name(name), commit, token)


def resume_command(config: CauKerConfig, name: str, repo_id: str, staging: Path) -> str:
    """The ``cauker push`` command that resumes this push (never with the token).

    Examples
    --------
    >>> from pathlib import Path
    >>> config = named_config("10k", num_series=48, seed=11)
    >>> resume_command(config, "a", "you/cauker", Path("staging"))
    'cauker push 10k --repo you/cauker --name a --num-series 48 --seed 11 --staging-dir staging'
    """
    names = TASK_SIZES if is_task_config(config) else NAMED_SIZES
    base_name = name if name in names else next(iter(names))
    flags = config_flags(config, named_config(base_name))
    if flags is None:
        return "re-run the same push_to_hub call (custom kernel banks have no command line)"
    words = ["cauker", "push", base_name, "--repo", repo_id]
    if name != base_name:
        words += ["--name", name]
    return shlex.join([*words, *flags, "--staging-dir", str(staging)])


def push_to_hub(
    config: CauKerConfig,
    repo_id: str,
    *,
    config_name: str | None = None,
    token: str | None = None,
    private: bool = False,
    staging_dir: str | os.PathLike | None = None,
    num_proc: int | None = None,
    scheduler: Any = None,
    progress: bool = True,
) -> str:
    """Generate ``config`` and publish it as config ``config_name`` of ``repo_id``.

    Parameters
    ----------
    config : CauKerConfig
    repo_id : str
        ``user/name``: the dataset repo, created if needed.
    config_name : str, optional
        The config's name in the repo (default ``"default"``).
    token : str, optional
        A write token (default: ``HF_TOKEN`` or the saved login); never printed.
    private : bool, default=False
        Create the repo private.
    staging_dir : str or path, optional
        Where the files are generated first (default: under ``~/.cache/cauker``);
        kept, so that a failed push resumes.
    num_proc, scheduler, progress
        As in :func:`cauker.export`.

    Returns
    -------
    str
        The repo's URL.

    Raises
    ------
    ParameterError
        Before any work: a bad argument.
    HubError
        With a message that says what to do (for a network failure: the command
        that resumes the push).

    Examples
    --------
    >>> import cauker
    >>> config = cauker.named_config("100k", length=1024)
    >>> cauker.push_to_hub(config, "you/cauker", config_name="100k-L1024")  # doctest: +SKIP
    'https://huggingface.co/datasets/you/cauker'
    """
    check_config(config)
    check_finite(config)
    if not isinstance(repo_id, str) or not _REPO_ID.match(repo_id):
        raise ParameterError(f"repo_id must look like 'user/name', got {repo_id!r}")
    name = check_config_name("default" if config_name is None else config_name)
    check_runner(num_proc, scheduler)
    if staging_dir is not None and os.fspath(staging_dir) == "":
        raise ParameterError("staging_dir must be a folder, got ''")
    staging = Path(staging_dir) if staging_dir is not None else default_staging_dir(repo_id)
    check_writable_folder(staging, "staging_dir")  # before the repo is created
    token = token or get_token()
    if not token:
        raise HubError(
            "no Hugging Face token: pass --token (token=...), set HF_TOKEN or run `hf auth login`"
        )
    api = HfApi(token=token)
    with _hub_progress(progress):
        check_write_access(api, repo_id, token)
        _check_repo_card(api, repo_id, token)
        _create_repo(api, repo_id, private, token)
    staging.mkdir(parents=True, exist_ok=True)
    # A local copy of the card; the pushed card merges the repo's own.
    entry = export_config(
        config,
        str(staging),
        name,
        num_proc=num_proc,
        scheduler=scheduler,
        progress=progress,
        repo_id=repo_id,
    )
    try:
        with _hub_progress(progress):
            _upload(api, repo_id, name, staging, entry, token)
    except HubError:
        raise
    except Exception as error:  # network, HTTP, or the client's wrapped upload errors
        cause = error.__cause__ or error
        raise HubError(
            f"upload to {repo_id} failed ({_clean(cause, token)}); the generated shards are "
            f"kept in {staging}; resume with: {resume_command(config, name, repo_id, staging)} "
            "(complete shards are not regenerated, uploaded files are not sent again)"
        ) from None
    return f"{api.endpoint}/datasets/{repo_id}"
