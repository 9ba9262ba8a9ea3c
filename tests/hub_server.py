"""A small Hugging Face Hub look-alike for tests, standard library only.

`LocalHub` serves, on 127.0.0.1, the part of the Hub HTTP API that `huggingface_hub` and `datasets`
use to create repos, upload files (preupload, Git LFS batch + PUT, ndjson commits), list and
download them (with Range requests), and manage tags, branches and pull requests.

Repos have a git-like history: each commit is an immutable snapshot (path -> blob) with a 40-hex
id; branches (`main`), tags and pull requests (`refs/pr/<n>`) point at commits, so a tag keeps
serving old files after newer commits. File contents are stored on disk by sha256 under
`root/objects/`; everything else lives in memory.

    hub = LocalHub(tmp_path).start()
    os.environ["HF_ENDPOINT"] = hub.url  # before huggingface_hub or datasets is imported
    ...
    hub.stop()

Writes need `Authorization: Bearer <token>`; a wrong token gets 401 on any request, as on the Hub;
private repos need the token for reads too; clients can only create repos in the `user` namespace
(403 otherwise), but a test can seed repos anywhere with `hub.create_repo(...)`. Requests the
server cannot route answer 404 and are recorded in `unknown_requests`.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import os
import re
import sys
import tempfile
import threading
import traceback
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

URL_PREFIXES = {"model": "", "dataset": "datasets/", "space": "spaces/"}
API_REPO_TYPES = {"models": "model", "datasets": "dataset", "spaces": "space"}
# Sent through LFS whatever their size (the Hub decides from the repo's .gitattributes).
LFS_SUFFIXES = (".parquet", ".arrow", ".bin", ".safetensors", ".npy", ".npz", ".pt", ".gz", ".zip")
MAX_REGULAR_FILE_SIZE = 10 * 1024 * 1024
LFS_BATCH_PATH = ["info", "lfs", "objects", "batch"]  # after /<repo>.git/
TREE_PAGE_SIZE = 1000
TREE_PAGE_SIZE_EXPANDED = 50  # the Hub answers smaller pages when `expand=True`
INITIAL_GITATTRIBUTES = b"*.parquet filter=lfs diff=lfs merge=lfs -text\n"
SAFE_FILE = {"status": "safe", "avScan": {"virusFound": False}, "pickleImportScan": None}


class HubError(Exception):
    """An error answered as JSON, with the `X-Error-Code` and `X-Error-Message` headers that
    `huggingface_hub` turns into its exceptions (RepositoryNotFoundError...)."""

    def __init__(self, status: int, message: str, code: str | None = None, headers=None, **fields):
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = headers or {}
        self.fields = fields  # extra fields of the JSON body


@dataclass(frozen=True)
class FileEntry:
    sha256: str
    size: int
    lfs: bool
    # sha1 of the git blob: of the content for a regular file, of the pointer for an LFS file
    git_oid: str

    @property
    def pointer_size(self) -> int:
        return len(lfs_pointer(self.sha256, self.size))

    @property
    def upload_oid(self) -> str:
        """The oid the preupload endpoint reports; the client compares it with its local file to
        leave unchanged files out of commits."""
        return self.sha256 if self.lfs else self.git_oid


@dataclass(frozen=True)
class Commit:
    id: str
    parent: str | None
    files: Mapping[str, FileEntry]
    title: str
    message: str
    date: datetime


@dataclass
class Repo:
    type: str
    id: str
    private: bool
    created_at: datetime
    commits: dict[str, Commit] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)  # name -> commit id
    tags: dict[str, str] = field(default_factory=dict)
    pull_requests: dict[int, str] = field(default_factory=dict)  # number -> commit id

    @property
    def namespace(self) -> str:
        return self.id.split("/")[0]

    @property
    def url_path(self) -> str:
        return f"/{URL_PREFIXES[self.type]}{self.id}"

    def resolve(self, revision: str) -> Commit | None:
        """The commit that a branch, a tag, a `refs/...` name or a (short) commit id points at."""
        if revision.startswith("refs/heads/"):
            commit_id = self.branches.get(revision.removeprefix("refs/heads/"))
        elif revision.startswith("refs/tags/"):
            commit_id = self.tags.get(revision.removeprefix("refs/tags/"))
        elif match := re.fullmatch(r"refs/pr/(\d+)", revision):
            commit_id = self.pull_requests.get(int(match.group(1)))
        elif revision in self.branches or revision in self.tags:
            commit_id = self.branches.get(revision) or self.tags[revision]
        elif re.fullmatch(r"[0-9a-f]{7,40}", revision):
            matches = [commit_id for commit_id in self.commits if commit_id.startswith(revision)]
            commit_id = matches[0] if len(matches) == 1 else None
        else:
            commit_id = None
        return self.commits.get(commit_id) if commit_id else None

    def history(self, commit: Commit) -> Iterator[Commit]:
        """`commit` and its ancestors, newest first."""
        while commit is not None:
            yield commit
            commit = self.commits.get(commit.parent) if commit.parent else None


class LocalHub:
    def __init__(self, root: Path, token: str = "hf_test_token", user: str = "someuser"):
        self.root = Path(root)
        self.token = token
        self.user = user
        self.url = ""
        self.requests: list[tuple[str, str]] = []  # (method, path without the query string)
        self.unknown_requests: list[tuple[str, str]] = []
        self.lock = threading.RLock()  # guards the repos and the fault injection counter
        self._repos: dict[tuple[str, str], Repo] = {}
        self._uploads_left: int | None = None
        self._commit_counter = itertools.count()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- public API --

    def start(self) -> LocalHub:
        self.root.mkdir(parents=True, exist_ok=True)
        handler = type("Handler", (_Handler,), {"hub": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join()
            self._server = self._thread = None

    def __enter__(self) -> LocalHub:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def fail_uploads_after(self, n: int | None) -> None:
        """After `n` more successful uploads (LFS PUTs, or commits carrying regular files), answer
        every further upload with HTTP 500, until called again with None."""
        with self.lock:
            self._uploads_left = n

    def files(self, repo_id: str, revision: str = "main", repo_type: str = "dataset") -> dict:
        """The files (path -> bytes) of a repo at a revision; KeyError if there are none."""
        with self.lock:
            commit = self._repos[(repo_type, repo_id)].resolve(revision)
            if commit is None:
                raise KeyError(f"{repo_id} has no revision {revision!r}")
            return {path: self.read_blob(entry.sha256) for path, entry in commit.files.items()}

    def create_repo(self, repo_id: str, repo_type: str = "dataset", private: bool = False) -> Repo:
        """Create a repo, in any namespace (the HTTP API only allows `user`'s)."""
        with self.lock:
            if (repo_type, repo_id) in self._repos:
                raise HubError(409, f"You already created this {repo_type} repo")
            repo = Repo(type=repo_type, id=repo_id, private=private, created_at=now())
            self._repos[(repo_type, repo_id)] = repo
            # Like the Hub, start the history with a commit holding a .gitattributes file.
            files = {".gitattributes": self.regular_entry(INITIAL_GITATTRIBUTES)}
            repo.branches["main"] = self.new_commit(repo, None, files, "initial commit", "").id
            return repo

    # -- storage --

    def _blob_path(self, sha256: str) -> Path:
        return self.root / "objects" / sha256[:2] / sha256

    def blob_size(self, sha256: str) -> int | None:
        path = self._blob_path(sha256)
        return path.stat().st_size if path.is_file() else None

    def store_blob(self, data: bytes) -> str:
        sha256 = hashlib.sha256(data).hexdigest()
        path = self._blob_path(sha256)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            # Write then rename, so that concurrent readers never see a partial object.
            with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as tmp:
                tmp.write(data)
            os.replace(tmp.name, path)
        return sha256

    def read_blob(self, sha256: str, start: int = 0, end: int | None = None) -> bytes:
        """Bytes [start, end) of a stored object."""
        with open(self._blob_path(sha256), "rb") as file:
            file.seek(start)
            return file.read() if end is None else file.read(end - start)

    # -- fault injection --

    def reserve_upload(self) -> bool:
        """Take one of the uploads still allowed (atomically: the client uploads in parallel)."""
        with self.lock:
            if self._uploads_left is None:
                return True
            if self._uploads_left == 0:
                return False
            self._uploads_left -= 1
            return True

    def release_upload(self) -> None:
        """Give back an upload reserved by a request that then failed for another reason."""
        with self.lock:
            if self._uploads_left is not None:
                self._uploads_left += 1

    # -- repos and commits --

    def get_repo(self, repo_type: str, repo_id: str) -> Repo | None:
        return self._repos.get((repo_type, repo_id))

    def delete_repo(self, repo_type: str, repo_id: str) -> None:
        with self.lock:
            del self._repos[(repo_type, repo_id)]

    def regular_entry(self, data: bytes) -> FileEntry:
        return FileEntry(self.store_blob(data), len(data), lfs=False, git_oid=git_blob_oid(data))

    def new_commit(
        self, repo: Repo, parent: Commit | None, files, title: str, message: str
    ) -> Commit:
        parent_id = parent.id if parent else None
        date = now()
        seed = [repo.id, parent_id, title, message, iso(date), next(self._commit_counter)]
        seed += sorted((path, entry.git_oid) for path, entry in files.items())
        commit_id = hashlib.sha1(json.dumps(seed).encode()).hexdigest()
        commit = Commit(commit_id, parent_id, MappingProxyType(dict(files)), title, message, date)
        repo.commits[commit_id] = commit
        return commit


def now() -> datetime:
    return datetime.now(timezone.utc)


def iso(date: datetime) -> str:
    return date.strftime("%Y-%m-%dT%H:%M:%S.") + f"{date.microsecond // 1000:03d}Z"


def git_blob_oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    return (
        f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()
    )


def lfs_entry(sha256: str, size: int) -> FileEntry:
    return FileEntry(sha256, size, lfs=True, git_oid=git_blob_oid(lfs_pointer(sha256, size)))


def upload_mode(path: str, size: int, sample: bytes) -> str:
    """`lfs` for data files, big files and binary content, `regular` for small text files.

    Answering `regular` for Parquet would break `Dataset.push_to_hub`: it deletes each shard
    right after its preupload, while regular files are only read when the commit is sent."""
    binary = path.lower().endswith(LFS_SUFFIXES) or b"\0" in sample
    return "lfs" if size > 0 and (binary or size > MAX_REGULAR_FILE_SIZE) else "regular"


def split_revision(segments: list[str]) -> tuple[str, list[str]]:
    """Split URL segments into a revision and the rest. Clients quote revisions into a single
    segment (`refs%2Fpr%2F1`), but special refs may also come unquoted."""
    if len(segments) >= 3 and segments[0] == "refs" and segments[1] in ("pr", "convert"):
        return "/".join(segments[:3]), segments[3:]
    if not segments or not segments[0]:
        raise HubError(400, "Missing revision")
    return segments[0], segments[1:]


def tree_paths(files: Mapping[str, FileEntry], folder: str, recursive: bool) -> list[str]:
    """The sorted paths of the files and sub-folders in `folder` ("" for the root)."""
    prefix = f"{folder}/" if folder else ""
    paths = set()
    for path in files:
        if path.startswith(prefix):
            parts = path[len(prefix) :].split("/")
            depths = range(1, len(parts) + 1) if recursive else [1]
            paths.update(prefix + "/".join(parts[:depth]) for depth in depths)
    return sorted(paths)


def path_state(files: Mapping[str, FileEntry], path: str) -> FileEntry | tuple:
    """What is at `path` in a snapshot: a file entry, or the folder content (empty if nothing)."""
    if path in files:
        return files[path]
    return tuple(sorted((p, e.git_oid) for p, e in files.items() if p.startswith(f"{path}/")))


# -- dataset card front matter --
# The Hub returns the YAML header of README.md as `cardData`. The standard library has no YAML
# parser, so this reads the block style that dataset cards use (nested mappings and sequences,
# scalars, inline lists); other YAML leaves `cardData` out rather than getting it wrong.

_YAML_KEY = re.compile(r"""^(?P<key>"[^"]*"|'[^']*'|[^\s"'#][^:]*?)\s*:(?:\s+(?P<value>.*))?$""")


def parse_front_matter(text: str) -> dict | None:
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return None
    end = next((i for i, line in enumerate(lines[1:], 1) if line.strip() == "---"), None)
    if end is None:
        return None
    rows = [[len(line) - len(line.lstrip(" ")), line.strip()] for line in lines[1:end]]
    rows = [row for row in rows if row[1] and not row[1].startswith("#")]
    try:
        value, end_row = _yaml_block(rows, 0) if rows else ({}, 0)
    except (ValueError, IndexError):
        return None
    return value if isinstance(value, dict) and end_row == len(rows) else None


def _is_item(text: str) -> bool:
    return text == "-" or text.startswith("- ")


def _yaml_block(rows: list, i: int) -> tuple[Any, int]:
    """Parse the block starting at row `i`; return its value and the index of the next row."""
    if _is_item(rows[i][1]):
        return _yaml_sequence(rows, i, rows[i][0])
    return _yaml_mapping(rows, i, rows[i][0])


def _yaml_sequence(rows: list, i: int, indent: int) -> tuple[list, int]:
    items = []
    while i < len(rows) and rows[i][0] == indent and _is_item(rows[i][1]):
        rest = rows[i][1][1:].lstrip()
        if not rest:
            has_child = i + 1 < len(rows) and rows[i + 1][0] > indent
            value, i = _yaml_block(rows, i + 1) if has_child else (None, i + 1)
        elif _YAML_KEY.match(rest):
            # "- key: value" opens a mapping whose keys are aligned with "key".
            rows[i] = [indent + len(rows[i][1]) - len(rest), rest]
            value, i = _yaml_mapping(rows, i, rows[i][0])
        else:
            value, i = _yaml_scalar(rest), i + 1
        items.append(value)
    return items, i


def _yaml_mapping(rows: list, i: int, indent: int) -> tuple[dict, int]:
    mapping = {}
    while i < len(rows) and rows[i][0] == indent and not _is_item(rows[i][1]):
        match = _YAML_KEY.match(rows[i][1])
        if match is None:
            raise ValueError(f"Unsupported YAML line: {rows[i][1]!r}")
        key, value, i = _yaml_scalar(match["key"]), match["value"], i + 1
        if value:
            mapping[key] = _yaml_scalar(value)
            continue
        # PyYAML indents the items of a sequence in a mapping like the mapping's keys.
        has_child = i < len(rows) and (
            rows[i][0] > indent or (rows[i][0] == indent and _is_item(rows[i][1]))
        )
        mapping[key], i = _yaml_block(rows, i) if has_child else (None, i)
    return mapping, i


def _yaml_scalar(text: str) -> Any:
    text = text.strip()
    if text.startswith('"'):
        return json.loads(text)  # close enough to YAML's double-quoted style
    if text.startswith("'") and text.endswith("'") and len(text) >= 2:
        return text[1:-1].replace("''", "'")
    if text.startswith("[") and text.endswith("]"):
        inner = text[1:-1]
        return [_yaml_scalar(part) for part in inner.split(",")] if inner.strip() else []
    if text == "{}":
        return {}
    if text[0] in "'|>{[&*!%@`":
        raise ValueError(f"Unsupported YAML scalar: {text!r}")
    keywords = {"null": None, "~": None, "true": True, "false": False}
    if text.lower() in keywords:
        return keywords[text.lower()]
    if re.fullmatch(r"[-+]?\d+", text):
        return int(text)
    if re.fullmatch(r"[-+]?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?", text):
        return float(text)
    return text


# -- HTTP --


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the clients pool their connections
    hub: LocalHub  # set by LocalHub.start

    def do_GET(self):
        self.dispatch("GET")

    def do_HEAD(self):
        self.dispatch("HEAD")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def log_message(self, format, *args):
        pass  # quiet; see LocalHub.requests

    # -- plumbing --

    def dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        self.hub.requests.append((method, url.path))
        self.query = parse_qs(url.query)
        self.body = self.read_body()  # read even on errors, so that the connection stays usable
        try:
            handler = self.route(method, [unquote(part) for part in url.path.split("/")[1:]])
            if handler is None:
                self.hub.unknown_requests.append((method, url.path))
                print(f"LocalHub: unknown request {method} {self.path}", file=sys.stderr)
                raise HubError(404, f"LocalHub does not implement {method} {url.path}")
            handler()
        except HubError as error:
            headers = {"X-Error-Message": error.message, **error.headers}
            if error.code:
                headers["X-Error-Code"] = error.code
            self.send_json({"error": error.message, **error.fields}, error.status, headers)
        except Exception as error:
            traceback.print_exc()
            self.send_json({"error": f"LocalHub internal error: {error!r}"}, 500)

    def read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline().strip():
                pass  # trailers
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def send(self, status: int, body: bytes, content_type: str, headers=None, length=None) -> None:
        """Answer. HEAD answers carry no body, but the Content-Length (`length`) of a GET's."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        for name, value in (headers or {}).items():
            self.send_header(name, str(value))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, obj: Any, status: int = 200, headers: dict | None = None) -> None:
        self.send(status, json.dumps(obj).encode(), "application/json", headers)

    def json_body(self) -> Any:
        try:
            return json.loads(self.body or b"{}")
        except ValueError:
            raise HubError(400, "Invalid JSON body") from None

    def query_flag(self, name: str) -> bool:
        return self.query.get(name, ["false"])[-1].lower() in ("1", "true")

    # -- routing --

    def route(self, method: str, segments: list[str]):
        """The handler of a request (a callable without arguments), None if unknown."""
        if segments[0] == "api":
            return self.route_api(method, segments[1:])
        if segments[0] == "_lfs":  # the URLs handed out by the LFS batch endpoint
            if method == "PUT" and len(segments) == 2:
                return lambda: self.lfs_put(segments[1])
            if method == "POST" and segments[2:] == ["verify"]:
                return lambda: self.lfs_verify(segments[1])
            return None
        # /[datasets/|spaces/]<namespace>/<name>.git/info/lfs/objects/batch
        # /[datasets/|spaces/]<namespace>/<name>/resolve/<revision>/<path>
        repo_type = "model"
        if segments[0] in ("datasets", "spaces"):
            repo_type, segments = API_REPO_TYPES[segments[0]], segments[1:]
        if len(segments) < 3:
            return None
        namespace, name, action, rest = segments[0], segments[1], segments[2], segments[3:]
        if method == "POST" and name.endswith(".git") and segments[2:] == LFS_BATCH_PATH:
            return lambda: self.lfs_batch(repo_type, f"{namespace}/{name.removesuffix('.git')}")
        if method in ("GET", "HEAD") and action == "resolve":
            revision, path = split_revision(rest)
            return lambda: self.resolve(repo_type, f"{namespace}/{name}", revision, "/".join(path))
        return None

    def route_api(self, method: str, segments: list[str]):
        simple = {
            ("GET", "whoami-v2"): self.whoami,
            ("GET", "agent-harnesses"): self.agent_harnesses,
            ("POST", "validate-yaml"): self.validate_yaml,
            ("POST", "repos", "create"): self.create_repo,
            ("DELETE", "repos", "delete"): self.delete_repo,
        }
        if (method, *segments) in simple:
            return simple[(method, *segments)]
        if len(segments) < 3 or segments[0] not in API_REPO_TYPES:
            return None
        # /api/<type>s/<namespace>/<name>[/<action>[/<revision or ref name>[/<path>]]]
        repo = (API_REPO_TYPES[segments[0]], f"{segments[1]}/{segments[2]}")
        action = segments[3] if len(segments) > 3 else None
        rest = segments[4:]

        def revision() -> str:
            return split_revision(rest)[0]

        routes = {
            ("GET", None): lambda: self.repo_info(*repo, None),
            ("GET", "revision"): lambda: self.repo_info(*repo, revision()),
            ("POST", "preupload"): lambda: self.preupload(*repo, revision()),
            ("POST", "commit"): lambda: self.commit(*repo, revision()),
            ("GET", "tree"): lambda: self.tree(*repo, *split_revision(rest)),
            ("POST", "paths-info"): lambda: self.paths_info(*repo, revision()),
            ("GET", "commits"): lambda: self.list_commits(*repo, revision()),
            ("GET", "refs"): lambda: self.refs(*repo),
            ("POST", "tag"): lambda: self.create_tag(*repo, revision()),
            ("DELETE", "tag"): lambda: self.delete_tag(*repo, "/".join(rest)),
            ("POST", "branch"): lambda: self.create_branch(*repo, "/".join(rest)),
            ("DELETE", "branch"): lambda: self.delete_branch(*repo, "/".join(rest)),
            ("PUT", "settings"): lambda: self.update_settings(*repo),
        }
        return routes.get((method, action))

    # -- authentication --

    def authenticated(self) -> bool:
        """True with the right token, False without any; a wrong token is refused everywhere."""
        header = self.headers.get("Authorization")
        if not header:
            return False
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token.strip() == self.hub.token:
            return True
        raise HubError(401, "Invalid credentials in Authorization header")

    def require_token(self) -> None:
        if not self.authenticated():
            raise HubError(401, "You must be authenticated to access this resource")

    def readable_repo(self, repo_type: str, repo_id: str) -> Repo:
        authenticated = self.authenticated()
        repo = self.hub.get_repo(repo_type, repo_id)
        if repo is None:
            raise HubError(404, "Repository not found", "RepoNotFound")
        if repo.private and not authenticated:
            # Like the Hub, do not tell that a private repo exists.
            raise HubError(401, "Invalid username or password.", "RepoNotFound")
        return repo

    def writable_repo(self, repo_type: str, repo_id: str) -> Repo:
        self.require_token()
        repo = self.readable_repo(repo_type, repo_id)
        if repo.namespace != self.hub.user:
            raise HubError(403, f"You don't have the rights to write to {repo_type} {repo_id}")
        return repo

    @staticmethod
    def resolved(repo: Repo, revision: str | None) -> Commit:
        commit = repo.resolve(revision or "main")
        if commit is None:
            raise HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        return commit

    # -- account --

    def whoami(self) -> None:
        if not self.authenticated():
            raise HubError(401, "Invalid credentials in Authorization header")
        name = self.hub.user
        token = {"displayName": "local-hub", "role": "write"}
        auth = {"type": "access_token", "accessToken": token}
        self.send_json({"type": "user", "id": name, "name": name, "orgs": [], "auth": auth})

    def agent_harnesses(self) -> None:
        # Fetched once per process by huggingface_hub to build its User-Agent.
        self.send_json({"standardEnvVars": [], "harnesses": {}})

    def validate_yaml(self) -> None:
        lines = self.json_body().get("content", "").splitlines()
        if (
            lines
            and lines[0].strip() == "---"
            and "---" not in (line.strip() for line in lines[1:])
        ):
            message = "The YAML metadata block is not closed by a '---' line"
            self.send_json({"error": message, "errors": [{"message": message}]}, 400)
            return
        self.send_json({"errors": [], "warnings": []})

    # -- repos --

    def create_repo(self) -> None:
        self.require_token()
        payload = self.json_body()
        repo_type = payload.get("type") or "model"
        namespace = payload.get("organization") or self.hub.user
        name = payload.get("name") or ""
        if repo_type not in URL_PREFIXES or not re.fullmatch(r"[\w.-]+", name):
            raise HubError(400, f"Invalid repo type or name: {repo_type} {name!r}")
        if namespace != self.hub.user:
            message = f'You don\'t have the rights to create a {repo_type} under "{namespace}"'
            raise HubError(403, message)
        default_visibility = "private" if payload.get("private") else "public"
        private = payload.get("visibility", default_visibility) == "private"
        repo_id = f"{namespace}/{name}"
        url = f"{self.hub.url}/{URL_PREFIXES[repo_type]}{repo_id}"
        try:
            self.hub.create_repo(repo_id, repo_type, private)
        except HubError as error:
            error.fields["url"] = url
            raise
        self.send_json({"url": url, "name": repo_id, "id": repo_id})

    def delete_repo(self) -> None:
        payload = self.json_body()
        repo_type = payload.get("type") or "model"
        repo_id = f"{payload.get('organization') or self.hub.user}/{payload.get('name')}"
        self.writable_repo(repo_type, repo_id)
        self.hub.delete_repo(repo_type, repo_id)
        self.send_json({})

    def update_settings(self, repo_type: str, repo_id: str) -> None:
        repo = self.writable_repo(repo_type, repo_id)
        payload = self.json_body()
        if "visibility" in payload:
            repo.private = payload["visibility"] == "private"
        elif payload.get("private") is not None:
            repo.private = bool(payload["private"])
        self.send_json({"private": repo.private})

    def repo_info(self, repo_type: str, repo_id: str, revision: str | None) -> None:
        repo = self.readable_repo(repo_type, repo_id)
        with self.hub.lock:
            commit = self.resolved(repo, revision)
        siblings = []
        for path, entry in sorted(commit.files.items()):
            sibling = {"rfilename": path}
            if self.query_flag("blobs"):
                sibling |= {"size": entry.size, "blobId": entry.git_oid}
                if entry.lfs:
                    lfs = {"size": entry.size, "sha256": entry.sha256}
                    sibling["lfs"] = lfs | {"pointerSize": entry.pointer_size}
            siblings.append(sibling)
        card_data = None
        if readme := commit.files.get("README.md"):
            card_data = parse_front_matter(
                self.hub.read_blob(readme.sha256).decode("utf-8", "replace")
            )
        info = {
            "_id": hashlib.sha1(repo.id.encode()).hexdigest()[:24],
            "id": repo.id,
            "author": repo.namespace,
            "sha": commit.id,
            "createdAt": iso(repo.created_at),
            "lastModified": iso(commit.date),
            "private": repo.private,
            "gated": False,
            "disabled": False,
            "downloads": 0,
            "likes": 0,
            "tags": self.repo_tags(repo, commit, card_data or {}),
            "siblings": siblings,
            "usedStorage": sum(entry.size for entry in commit.files.values()),
        }
        if card_data is not None:
            info["cardData"] = card_data
        if repo.type == "model":
            info["modelId"] = repo.id
        if expand := self.query.get("expand") or self.query.get("expand[]"):
            info = {key: value for key, value in info.items() if key in ("_id", "id", *expand)}
        self.send_json(info)

    @staticmethod
    def repo_tags(repo: Repo, commit: Commit, card_data: dict) -> list[str]:
        tags = [tag for tag in card_data.get("tags") or [] if isinstance(tag, str)]
        if isinstance(card_data.get("license"), str):
            tags.append(f"license:{card_data['license']}")
        if repo.type == "dataset" and any(path.endswith(".parquet") for path in commit.files):
            tags.append("format:parquet")
        return tags + ["region:us"]

    # -- uploads --

    def preupload(self, repo_type: str, repo_id: str, revision: str) -> None:
        repo = self.writable_repo(repo_type, repo_id)
        with self.hub.lock:
            existing = repo.resolve(revision)
        files = []
        for file in self.json_body().get("files", []):
            path, size = file["path"], file.get("size", 0)
            mode = upload_mode(path, size, base64.b64decode(file.get("sample", "")))
            entry = existing.files.get(path) if existing else None
            oid = entry.upload_oid if entry else None
            files.append({"path": path, "uploadMode": mode, "shouldIgnore": False, "oid": oid})
        self.send_json({"files": files, "commitOid": existing.id if existing else None})

    def lfs_batch(self, repo_type: str, repo_id: str) -> None:
        self.writable_repo(repo_type, repo_id)
        payload = self.json_body()
        if payload.get("operation") != "upload":
            raise HubError(422, "LocalHub only implements the LFS upload operation")
        objects = []
        for obj in payload.get("objects", []):
            oid, size = obj["oid"], obj["size"]
            if self.hub.blob_size(oid) == size:
                objects.append({"oid": oid, "size": size})  # stored already: nothing to upload
                continue
            href = f"{self.hub.url}/_lfs/{oid}"
            actions = {"upload": {"href": href}, "verify": {"href": f"{href}/verify"}}
            objects.append({"oid": oid, "size": size, "authenticated": True, "actions": actions})
        body = {"transfer": "basic", "objects": objects, "hash_algo": "sha256"}
        self.send(200, json.dumps(body).encode(), "application/vnd.git-lfs+json")

    def lfs_put(self, oid: str) -> None:
        # Like a pre-signed storage URL, this comes without a token: the content is checked instead.
        if not self.hub.reserve_upload():
            raise HubError(500, "Injected upload failure (LocalHub.fail_uploads_after)")
        if hashlib.sha256(self.body).hexdigest() != oid:
            self.hub.release_upload()
            raise HubError(400, f"Uploaded content does not match oid {oid}")
        self.hub.store_blob(self.body)
        self.send(200, b"", "text/plain", {"ETag": f'"{oid}"'})

    def lfs_verify(self, oid: str) -> None:
        self.require_token()
        size = self.json_body().get("size")
        if self.hub.blob_size(oid) != size:
            raise HubError(404, f"LFS object {oid} of size {size} not found")
        self.send_json({"success": True})

    def commit(self, repo_type: str, repo_id: str, revision: str) -> None:
        repo = self.writable_repo(repo_type, repo_id)
        header, operations = self.parse_commit_body()
        create_pr = self.query_flag("create_pr")
        is_upload = any(key == "file" for key, _ in operations)
        if is_upload and not self.hub.reserve_upload():
            raise HubError(500, "Injected upload failure (LocalHub.fail_uploads_after)")
        try:
            with self.hub.lock:
                commit, pr_number = self.apply_commit(repo, revision, header, operations, create_pr)
        except HubError:
            if is_upload:
                self.hub.release_upload()
            raise
        url = f"{self.hub.url}{repo.url_path}"
        pr_url = f"{url}/discussions/{pr_number}" if pr_number else None
        self.send_json(
            {
                "success": True,
                "commitOid": commit.id,
                "commitUrl": f"{url}/commit/{commit.id}",
                "hookOutput": "",
                "pullRequestUrl": pr_url,
            }
        )

    def parse_commit_body(self) -> tuple[dict, list[tuple[str, dict]]]:
        """The header and the (key, value) operations of an ndjson commit payload."""
        try:
            lines = [json.loads(line) for line in self.body.splitlines() if line.strip()]
        except ValueError:
            raise HubError(400, "The commit payload must be ndjson") from None
        headers = [line["value"] for line in lines if line.get("key") == "header"]
        if not headers:
            raise HubError(400, "The commit payload has no header line")
        return headers[0], [
            (line["key"], line["value"]) for line in lines if line["key"] != "header"
        ]

    def apply_commit(self, repo: Repo, revision: str, header: dict, operations, create_pr: bool):
        """Create the commit (under the hub lock); return it and the number of the pull request
        it opened, if any."""
        refs, name = self.commit_target(repo, revision)
        head = repo.commits[refs[name]]
        parent_commit = header.get("parentCommit")
        if parent_commit and not create_pr and not head.id.startswith(parent_commit):
            raise HubError(412, "A commit has happened since. Please refresh and try again.")
        files = dict(head.files)
        for key, value in operations:
            self.apply_operation(files, key, value)
        title, message = header.get("summary") or "", header.get("description") or ""
        commit = self.hub.new_commit(repo, head, files, title, message)
        if create_pr:
            refs, name = repo.pull_requests, max(repo.pull_requests, default=0) + 1
        refs[name] = commit.id
        return commit, name if create_pr else None

    @staticmethod
    def commit_target(repo: Repo, revision: str) -> tuple[dict, str | int]:
        """The ref that a commit on `revision` moves: a branch, or a pull request."""
        if match := re.fullmatch(r"refs/pr/(\d+)", revision):
            refs, name = repo.pull_requests, int(match.group(1))
        else:
            refs, name = repo.branches, revision.removeprefix("refs/heads/")
        if name not in refs:
            if repo.resolve(revision) is not None:
                raise HubError(400, f"Invalid rev id: {revision} is not a branch")
            raise HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        return refs, name

    def apply_operation(self, files: dict[str, FileEntry], key: str, value: dict) -> None:
        path = value.get("path", "")
        if key == "file":
            content = value.get("content", "")
            is_base64 = value.get("encoding", "base64") == "base64"
            files[path] = self.hub.regular_entry(
                base64.b64decode(content) if is_base64 else content.encode()
            )
        elif key == "lfsFile":
            oid, size = value["oid"], self.hub.blob_size(value["oid"])
            if size is None or value.get("size", size) != size:
                raise HubError(422, f"LFS object {oid} for {path} was not uploaded")
            files[path] = lfs_entry(oid, size)
        elif key == "deletedFile":
            if files.pop(path, None) is None:
                raise HubError(404, f"A file with this name doesn't exist: {path}", "EntryNotFound")
        elif key == "deletedFolder":
            prefix = path.rstrip("/") + "/"
            deleted = [file_path for file_path in files if file_path.startswith(prefix)]
            if not deleted:
                raise HubError(404, f"No folder with this name: {path}", "EntryNotFound")
            for file_path in deleted:
                del files[file_path]
        else:
            raise HubError(400, f"Unknown commit operation {key!r}")

    # -- refs --

    def refs(self, repo_type: str, repo_id: str) -> None:
        repo = self.readable_repo(repo_type, repo_id)

        def describe(refs: dict, ref_prefix: str, name_prefix: str = "") -> list[dict]:
            return [
                {"name": f"{name_prefix}{name}", "ref": f"{ref_prefix}{name}", "targetCommit": oid}
                for name, oid in refs.items()
            ]

        with self.hub.lock:
            answer = {
                "branches": describe(repo.branches, "refs/heads/"),
                "converts": [],
                "tags": describe(repo.tags, "refs/tags/"),
            }
            if self.query_flag("include_prs"):
                answer["pullRequests"] = describe(repo.pull_requests, "refs/pr/", "refs/pr/")
        self.send_json(answer)

    def create_ref(self, refs: dict[str, str], repo: Repo, name: str, revision: str) -> None:
        with self.hub.lock:
            commit = self.resolved(repo, revision)
            if not name or name in refs:
                raise HubError(409, f"Reference already exists: {name}")
            refs[name] = commit.id
        self.send_json({})

    def delete_ref(self, refs: dict[str, str], name: str) -> None:
        with self.hub.lock:
            if refs.pop(name, None) is None:
                raise HubError(404, f"Invalid rev id: {name}", "RevisionNotFound")
        self.send_json({})

    def create_tag(self, repo_type: str, repo_id: str, revision: str) -> None:
        repo = self.writable_repo(repo_type, repo_id)
        self.create_ref(repo.tags, repo, self.json_body().get("tag", ""), revision)

    def delete_tag(self, repo_type: str, repo_id: str, tag: str) -> None:
        self.delete_ref(self.writable_repo(repo_type, repo_id).tags, tag)

    def create_branch(self, repo_type: str, repo_id: str, branch: str) -> None:
        repo = self.writable_repo(repo_type, repo_id)
        starting_point = self.json_body().get("startingPoint") or "main"
        self.create_ref(repo.branches, repo, branch, starting_point)

    def delete_branch(self, repo_type: str, repo_id: str, branch: str) -> None:
        repo = self.writable_repo(repo_type, repo_id)
        if branch == "main":
            raise HubError(403, "The default branch cannot be deleted")
        self.delete_ref(repo.branches, branch)

    # -- reads --

    def path_info(self, repo: Repo, commit: Commit, path: str, expand: bool) -> dict:
        """A file or folder as the tree and paths-info endpoints describe it."""
        state = path_state(commit.files, path)
        if isinstance(state, FileEntry):
            info = {"type": "file", "oid": state.git_oid, "size": state.size, "path": path}
            if state.lfs:
                lfs = {"oid": state.sha256, "size": state.size}
                info["lfs"] = lfs | {"pointerSize": state.pointer_size}
        else:
            oid = hashlib.sha1(repr(state).encode()).hexdigest()
            info = {"type": "directory", "oid": oid, "size": 0, "path": path}
        if expand:
            # The last commit that changed the path: the oldest of the latest commits that agree.
            last = commit
            for older in itertools.islice(repo.history(commit), 1, None):
                if path_state(older.files, path) != state:
                    break
                last = older
            info["lastCommit"] = {"id": last.id, "title": last.title, "date": iso(last.date)}
            if isinstance(state, FileEntry):
                info["securityFileStatus"] = SAFE_FILE
        return info

    def tree(self, repo_type: str, repo_id: str, revision: str, folder: list[str]) -> None:
        repo = self.readable_repo(repo_type, repo_id)
        folder = "/".join(folder).strip("/")
        expand = self.query_flag("expand")
        page_size = TREE_PAGE_SIZE_EXPANDED if expand else TREE_PAGE_SIZE
        start = int(self.query.get("cursor", ["0"])[-1])
        with self.hub.lock:
            commit = self.resolved(repo, revision)
            paths = tree_paths(commit.files, folder, self.query_flag("recursive"))
            if folder and (folder in commit.files or not paths):
                raise HubError(404, f"No folder {folder} at {revision}", "EntryNotFound")
            page = [self.path_info(repo, commit, p, expand) for p in paths[start:][:page_size]]
        headers = {}
        if start + page_size < len(paths):
            query = {key: values[-1] for key, values in self.query.items()}
            query["cursor"] = start + page_size
            next_url = f"{self.hub.url}{urlsplit(self.path).path}?{urlencode(query)}"
            headers["Link"] = f'<{next_url}>; rel="next"'
        self.send_json(page, headers=headers)

    def paths_info(self, repo_type: str, repo_id: str, revision: str) -> None:
        repo = self.readable_repo(repo_type, repo_id)
        if self.headers.get("Content-Type", "").startswith("application/json"):
            payload = self.json_body()
            paths, expand = payload.get("paths", []), bool(payload.get("expand"))
        else:  # huggingface_hub sends a form
            form = parse_qs(self.body.decode())
            paths = form.get("paths", [])
            expand = form.get("expand", ["false"])[-1].lower() in ("1", "true")
        with self.hub.lock:
            commit = self.resolved(repo, revision)
            paths = [path.strip("/") for path in paths]
            found = [path for path in paths if path_state(commit.files, path)]
            infos = [self.path_info(repo, commit, path, expand) for path in found]
        self.send_json(infos)

    def list_commits(self, repo_type: str, repo_id: str, revision: str) -> None:
        repo = self.readable_repo(repo_type, repo_id)
        author = {"user": self.hub.user, "avatar": None}
        with self.hub.lock:
            commits = [
                {
                    "id": commit.id,
                    "title": commit.title,
                    "message": commit.message,
                    "date": iso(commit.date),
                    "authors": [author],
                }
                for commit in repo.history(self.resolved(repo, revision))
            ]
        self.send_json(commits)

    def resolve(self, repo_type: str, repo_id: str, revision: str, path: str) -> None:
        repo = self.readable_repo(repo_type, repo_id)
        with self.hub.lock:
            commit = self.resolved(repo, revision)
        entry = commit.files.get(path)
        if entry is None:
            # hf_hub_download caches the absence of the file at this commit.
            headers = {"X-Repo-Commit": commit.id}
            raise HubError(404, "Entry not found", "EntryNotFound", headers=headers)
        headers = {
            "X-Repo-Commit": commit.id,
            "ETag": f'"{entry.git_oid}"',
            "Accept-Ranges": "bytes",
        }
        if entry.lfs:
            # hf_hub_download prefers these to ETag and Content-Length (made for CDN redirects).
            headers |= {"X-Linked-Etag": f'"{entry.sha256}"', "X-Linked-Size": entry.size}
        start, end, status = 0, entry.size, 200
        if range_header := self.headers.get("Range"):
            start, end = self.parse_range(range_header, entry.size)
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{entry.size}"
        body = b"" if self.command == "HEAD" else self.hub.read_blob(entry.sha256, start, end)
        self.send(status, body, "application/octet-stream", headers, length=end - start)

    @staticmethod
    def parse_range(header: str, size: int) -> tuple[int, int]:
        """[start, end) of a `bytes=a-b`, `bytes=a-` or `bytes=-n` header; 416 if unsatisfiable."""
        match = re.fullmatch(r"bytes=(\d*)-(\d*)", header.strip())
        if match is None or match.groups() == ("", ""):
            raise HubError(400, f"Unsupported Range header: {header}")
        first, last = match.groups()
        if first:
            start, end = int(first), min(int(last) + 1, size) if last else size
        else:
            start, end = max(size - int(last), 0), size
        if start >= end:
            headers = {"Content-Range": f"bytes */{size}"}
            raise HubError(416, "Range Not Satisfiable", headers=headers)
        return start, end
