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

Every request to the Hub has a time limit (``timeout``, 30 s by default, or
``CAUKER_HUB_TIMEOUT``) for connecting, sending and each wait for an answer,
and every Hub call is tried up to three times when it fails for a reason that
may pass (a time limit, a dropped connection, HTTP 408, 429 or 5xx). So a Hub
that accepts connections and never answers ends the push with one error, after
about three times the limit, instead of hanging. (``huggingface_hub``'s HTTP
client has no time limit of its own: :func:`hub_session` installs one.)
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import shlex
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import fsspec
from huggingface_hub import (
    HfApi,
    get_session,
    get_token,
    hf_hub_url,
    hf_raise_for_status,
    set_client_factory,
)
from huggingface_hub import utils as hf_utils
from huggingface_hub.errors import (
    EntryNotFoundError,
    HfHubHTTPError,
    HFValidationError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.utils import build_hf_headers, validate_repo_id

from cauker.config import ALGORITHM_VERSION, NAMED_SIZES, CauKerConfig, config_flags
from cauker.errors import ForeignFileError, HubError, ParameterError
from cauker.files.atomic_files import check_writable_folder, write_atomically
from cauker.files.runners import check_runner
from cauker.files.shard_plan import check_not_endless
from cauker.hub.card import check_license, tag_name, update_card
from cauker.hub.layout import check_card, check_config_name, export_config
from cauker.named_configs import named_config
from cauker.sampler.memory import check_memory
from cauker.task_config import TASK_SIZES, is_task_config
from cauker.tasks.corpora import check_config

_LOCAL = fsspec.filesystem("file")
_T = TypeVar("_T")

#: Seconds a request to the Hub may take to connect, to send a chunk, or to get
#: each part of an answer, unless ``timeout`` or ``CAUKER_HUB_TIMEOUT`` says
#: otherwise. Generous for a commit of many files, short enough that a silent Hub
#: ends a push (three tries) within about a minute and a half.
DEFAULT_TIMEOUT = 30.0
TIMEOUT_ENV = "CAUKER_HUB_TIMEOUT"
#: Seconds between the tries of a Hub call that failed for a reason that may pass.
RETRY_WAITS = (1.0, 2.0)
#: HTTP statuses that may pass: timeout, rate limit, server errors.
_TRANSIENT_STATUS = {408, 429, 500, 502, 503, 504}
#: The HTTP client's errors that may pass (by class name: huggingface_hub 1.x uses
#: ``httpx``, 2.x its fork ``httpx2``, whose classes have the same names).
_TRANSIENT_ERRORS = {"TimeoutException", "NetworkError", "RemoteProtocolError"}


def check_repo_id(repo_id: Any) -> str:
    """``repo_id`` if it names a repo of a user or organisation (``user/name``), as
    ``huggingface_hub`` validates repo ids; else :class:`~cauker.errors.ParameterError`.

    >>> check_repo_id("you/cauker")
    'you/cauker'
    """
    try:
        validate_repo_id(repo_id)
    except HFValidationError:
        repo_id_ok = False
    else:
        repo_id_ok = isinstance(repo_id, str) and repo_id.count("/") == 1
    if not repo_id_ok:
        raise ParameterError(f"repo_id must look like 'user/name', got {repo_id!r}")
    return repo_id


def hub_timeout(timeout: Any = None) -> float:
    """``timeout`` if given, else ``CAUKER_HUB_TIMEOUT``, else ``DEFAULT_TIMEOUT``:
    seconds, a positive finite number (else :class:`~cauker.errors.ParameterError`).

    Examples
    --------
    >>> hub_timeout(), hub_timeout(5)
    (30.0, 5.0)
    """
    name, value = "timeout", timeout
    if timeout is None:
        name, value = TIMEOUT_ENV, os.environ.get(TIMEOUT_ENV, DEFAULT_TIMEOUT)
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = math.nan
    if isinstance(value, bool) or not 0 < seconds < math.inf:
        raise ParameterError(f"{name} must be a positive number of seconds, got {value!r}")
    return seconds


@contextlib.contextmanager
def hub_session(timeout: float) -> Iterator[None]:
    """Give every request of ``huggingface_hub`` (in this process, for the block)
    a limit of ``timeout`` seconds to connect, send and wait for each answer."""
    from huggingface_hub.utils import _http  # the factory in use has no public getter

    previous = getattr(_http, "_GLOBAL_CLIENT_FACTORY", _http.default_client_factory)

    def limited():
        client = previous()
        client.timeout = type(client.timeout)(timeout)
        return client

    set_client_factory(limited)  # closes the shared client: the next call makes a new one
    try:
        yield
    finally:
        set_client_factory(previous)


def _is_transient(error: BaseException | None) -> bool:
    """Whether ``error``, or an error it was raised from, may pass on a new try."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if _TRANSIENT_ERRORS & {kind.__name__ for kind in type(error).__mro__}:
            return True
        if isinstance(error, HfHubHTTPError) and _status(error) in _TRANSIENT_STATUS:
            return True
        error = error.__cause__ or error.__context__
    return False


def _retried(call: Callable[[], _T]) -> _T:
    """``call()``, tried again after each of ``RETRY_WAITS`` if it fails for a
    reason that may pass."""
    for wait in RETRY_WAITS:
        try:
            return call()
        except Exception as error:  # noqa: BLE001 - sorted by _is_transient
            if not _is_transient(error):
                raise
        time.sleep(wait)
    return call()


def cache_folder() -> Path:
    """``CAUKER_CACHE``, else ``cauker`` in ``XDG_CACHE_HOME``, else ``~/.cache/cauker``:
    the rule ``huggingface_hub`` follows for its own cache (``HF_HOME``), on every system.

    Examples
    --------
    >>> import os
    >>> saved = dict(os.environ)
    >>> os.environ.pop("CAUKER_CACHE", None) and None
    >>> os.environ["XDG_CACHE_HOME"] = "/scratch/cache"
    >>> str(cache_folder()), str(default_staging_dir("you/cauker"))
    ('/scratch/cache/cauker', '/scratch/cache/cauker/push/you--cauker')
    >>> os.environ.clear(); os.environ.update(saved)
    """
    if os.environ.get("CAUKER_CACHE"):
        return Path(os.environ["CAUKER_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "cauker"


def default_staging_dir(repo_id: str) -> Path:
    """Where a push of ``repo_id`` generates its files unless told otherwise."""
    return cache_folder() / "push" / repo_id.replace("/", "--")


def _status(error: BaseException) -> int | None:
    response = getattr(error, "response", None)
    return getattr(response, "status_code", None)


def _clean(message: str, token: str | None) -> str:
    message = " ".join(str(message).split())
    return message.replace(token, "***") if token else message


def check_write_access(api: HfApi, repo_id: str, token: str) -> str:
    """The token's user name, if it may write to ``repo_id``'s namespace."""
    try:
        me = _retried(lambda: api.whoami(token=token))
    except HfHubHTTPError as error:
        if _status(error) == 401:
            raise HubError(
                "the Hub rejected the token (HTTP 401); pass a valid token, set HF_TOKEN or "
                "run `hf auth login`"
            ) from None
        raise HubError(f"could not reach the Hub: {_clean(error, token)}") from None
    except Exception as error:  # noqa: BLE001 - the HTTP client's network errors
        cause = _clean(error, token) or "no answer"
        raise HubError(
            f"could not reach the Hub at {api.endpoint} ({type(error).__name__}: {cause}, "
            f"{len(RETRY_WAITS) + 1} tries); check the network connection or HF_ENDPOINT, "
            f"or allow more time per request with --timeout or {TIMEOUT_ENV} (seconds)"
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
        _retried(
            lambda: api.create_repo(
                repo_id, repo_type="dataset", private=private, exist_ok=True, token=token
            )
        )
    except HfHubHTTPError as error:
        if _status(error) in (401, 403):
            raise HubError(f"no write access to {repo_id} (HTTP {_status(error)})") from None
        raise HubError(f"could not create {repo_id}: {_clean(error, token)}") from None


def _read_card(api: HfApi, repo_id: str, revision: str, token: str) -> str | None:
    """The repo's README.md at ``revision``, or None if it has none (only the
    Hub's answer "no such file" means none; a network failure is raised).

    Read with one request, not with ``hf_hub_download``: after a failed try, its
    metadata request is tried again with a limit of 60 s, five times, whatever
    the session's limit (and it copies the card into the cache)."""
    url = hf_hub_url(
        repo_id, "README.md", repo_type="dataset", revision=revision, endpoint=api.endpoint
    )

    def read() -> str:
        response = get_session().get(url, headers=build_hf_headers(token=token))
        hf_raise_for_status(response)
        return response.content.decode("utf-8")

    try:
        return _retried(read)
    except EntryNotFoundError:
        return None


def _foreign_card(repo_id: str) -> HubError:
    return HubError(
        f"the README.md of {repo_id} is not a cauker dataset card (its YAML has no 'cauker:' "
        "block), and cauker never replaces a README it did not write; push to another repo, "
        "or remove that README.md first"
    )


def _check_repo_card(api: HfApi, repo_id: str, token: str, config: CauKerConfig, name: str) -> None:
    """Refuse, before any work, a repo whose README.md is a user's own, or a cauker
    card that this config could not be merged into."""
    try:
        card = _read_card(api, repo_id, "main", token)
    except (RepositoryNotFoundError, RevisionNotFoundError):
        return  # created below
    except Exception as error:  # noqa: BLE001 - the HTTP client's network errors
        raise HubError(
            f"could not read the README.md of {repo_id} ({type(error).__name__}: "
            f"{_clean(error, token)}); check the network connection, then push again"
        ) from None
    if card is None:
        return
    try:
        check_card(card, f"the README.md of {repo_id}", config, name)
    except ForeignFileError as error:
        if "is not a cauker dataset card" in str(error):
            raise _foreign_card(repo_id) from None
        raise HubError(str(error)) from None


def _push_card(
    api: HfApi, repo_id: str, entry, token: str, staging: Path, license: str | None
) -> str:
    """Merge this config into the repo's card and commit it; returns the commit id.

    The commit names the head it read as its parent, so a concurrent push of
    another config cannot be overwritten: on a conflict the card is re-read.
    """
    for _ in range(5):
        head = _retried(lambda: api.repo_info(repo_id, repo_type="dataset", token=token)).sha
        try:
            card = str(update_card(_read_card(api, repo_id, head, token), entry, repo_id, license))
        except ForeignFileError:
            raise _foreign_card(repo_id) from None
        write_atomically(_LOCAL, str((staging / "README.md").absolute()), card.encode("utf-8"))
        try:
            commit = _retried(
                functools.partial(
                    api.upload_file,
                    path_or_fileobj=card.encode("utf-8"),
                    path_in_repo="README.md",
                    repo_id=repo_id,
                    repo_type="dataset",
                    token=token,
                    parent_commit=head,
                    commit_message=f"Card: add CauKer config {entry.name} (v{ALGORITHM_VERSION})",
                )
            )
        except HfHubHTTPError as error:
            if _status(error) in (409, 412):  # the head moved: read the card again
                continue
            raise
        return commit.oid
    raise HubError(f"the card of {repo_id} kept changing under this push; try again")


def _tag(api: HfApi, repo_id: str, tag: str, revision: str, token: str) -> None:
    def create() -> None:
        api.create_tag(repo_id, tag=tag, revision=revision, repo_type="dataset", token=token)

    try:
        _retried(create)
    except HfHubHTTPError as error:
        if _status(error) != 409:
            raise
        # Same config name and version pushed again: the tag follows the new push.
        _retried(lambda: api.delete_tag(repo_id, tag=tag, repo_type="dataset", token=token))
        _retried(create)


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


def _upload(
    api: HfApi, repo_id: str, name: str, staging: Path, entry, token: str, license: str | None
) -> None:
    """Data and preview, then the merged card, then the tag on that last commit."""
    old_previews = f"images/{name}-{'[0-9a-f]' * 8}.png"  # not another config's "<name>-x-..."
    _retried(
        lambda: api.upload_folder(
            repo_id=repo_id,
            repo_type="dataset",
            folder_path=staging,
            allow_patterns=[f"data/{name}/*.parquet", entry.preview],
            delete_patterns=[f"data/{name}/*", old_previews],
            commit_message=f"Add CauKer config {name} (v{ALGORITHM_VERSION})",
            token=token,
        )
    )
    commit = _push_card(api, repo_id, entry, token, staging, license)
    _tag(api, repo_id, tag_name(name), commit, token)


def resume_command(
    config: CauKerConfig, name: str, repo_id: str, staging: Path, license: str | None = None
) -> str:
    """The ``cauker push`` command that resumes this push (never with the token).

    Examples
    --------
    >>> from pathlib import Path
    >>> config = named_config("10k", num_series=48, seed=11)
    >>> resume_command(config, "a", "you/cauker", Path("staging"))
    'cauker push 10k --repo you/cauker --name a --num-series 48 --seed 11 --staging-dir staging'
    >>> resume_command(config, "10k", "me/c", Path("s"), "cc-by-4.0")
    'cauker push 10k --repo me/c --num-series 48 --seed 11 --staging-dir s --license cc-by-4.0'
    """
    names = TASK_SIZES if is_task_config(config) else NAMED_SIZES
    base_name = name if name in names else next(iter(names))
    flags = config_flags(config, named_config(base_name))
    if flags is None:
        return "re-run the same push_to_hub call (custom kernel banks have no command line)"
    words = ["cauker", "push", base_name, "--repo", repo_id]
    if name != base_name:
        words += ["--name", name]
    words += [*flags, "--staging-dir", str(staging)]
    return shlex.join(words + (["--license", license] if license else []))


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
    timeout: float | None = None,
    license: str | None = None,
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
        Where the files are generated first (default: ``push/<user>--<name>`` in
        ``CAUKER_CACHE``, else in ``$XDG_CACHE_HOME/cauker``, else in ``~/.cache/cauker``);
        kept, so that a failed push resumes.
    num_proc, scheduler, progress
        As in :func:`cauker.export`.
    timeout : float, optional
        Seconds a request to the Hub may take to connect, send, or get each part
        of its answer (default: ``CAUKER_HUB_TIMEOUT``, else 30). A call that
        fails for a reason that may pass is tried three times, so a Hub that
        never answers ends the push after about three times ``timeout``.
    license : str, optional
        The card's license, a Hub identifier (``cc-by-4.0``); by default the
        repo's card keeps the license it names, and a new card gets
        ``apache-2.0`` (:data:`cauker.hub.card.LICENSE`).

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
    check_not_endless(config)
    check_memory(config)
    check_repo_id(repo_id)
    name = check_config_name("default" if config_name is None else config_name)
    check_runner(num_proc, scheduler)
    check_license(license)
    if staging_dir is not None and os.fspath(staging_dir) == "":
        raise ParameterError("staging_dir must be a folder, got ''")
    staging = Path(staging_dir) if staging_dir is not None else default_staging_dir(repo_id)
    check_writable_folder(staging, "staging_dir")  # before the repo is created
    seconds = hub_timeout(timeout)
    token = token or get_token()
    if not token:
        raise HubError(
            "no Hugging Face token: pass --token (token=...), set HF_TOKEN or run `hf auth login`"
        )
    api = HfApi(token=token)
    with hub_session(seconds):
        with _hub_progress(progress):
            check_write_access(api, repo_id, token)
            _check_repo_card(api, repo_id, token, config, name)
            _create_repo(api, repo_id, private, token)
        staging.mkdir(parents=True, exist_ok=True)
        # The card is merged once, into the repo's own (_push_card), not the staging one.
        entry = export_config(
            config,
            str(staging),
            name,
            num_proc=num_proc,
            scheduler=scheduler,
            progress=progress,
            repo_id=repo_id,
            card=False,
        ).entry
        try:
            with _hub_progress(progress):
                _upload(api, repo_id, name, staging, entry, token, license)
        except HubError:
            raise
        except Exception as error:  # network, HTTP, or the client's wrapped upload errors
            cause = error.__cause__ or error
            raise HubError(
                f"upload to {repo_id} failed ({type(cause).__name__}: {_clean(cause, token)}); "
                f"the generated shards are kept in {staging}; resume with: "
                f"{resume_command(config, name, repo_id, staging, license)} (complete shards are "
                "not regenerated, uploaded files are not sent again)"
            ) from None
    return f"{api.endpoint}/datasets/{repo_id}"
