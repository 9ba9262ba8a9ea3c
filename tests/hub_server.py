"""A Hugging Face Hub stand-in for the tests: only what cauker and the real clients call.

`LocalHub` serves, on 127.0.0.1, the dataset-repo endpoints that `huggingface_hub` 2.x and
`datasets` 5.x call when cauker pushes a corpus and a user loads it back: account and repo
creation, the upload protocol (preupload, Git LFS batch + PUT, ndjson commit), tags, tree
listing and downloads (with Range requests). Each endpoint is one `_Handler` method whose
docstring names the client call that needs it; anything else answers 404 and is recorded in
`unknown_requests`, so a client that starts calling something new shows up in the tests.

    hub = LocalHub(tmp_path).start()
    os.environ["HF_ENDPOINT"] = hub.url  # before huggingface_hub or datasets is imported
    ...
    hub.stop()

As on the Hub: a wrong token gets 401 on any request; writes need the token (401) and a repo in
the token's namespace, `user` (403; a test can seed repos anywhere with `hub.create_repo`);
commits are snapshots with 40-hex ids, so a tag keeps serving old files after newer commits;
a commit naming a parent that is no longer the head gets 412. `fail_uploads_after(n)` makes
uploads fail with HTTP 500 after n more successful ones; `silent_on(pattern)` makes the requests
whose path matches go unanswered (a Hub that hangs). File contents live on disk under `root`,
keyed by sha256; everything else lives in memory. `silent_endpoint()` is a bare TCP endpoint
that accepts connections and never answers anything.

Written by hand because no library serves the Hub API; the card's YAML is read with PyYAML.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import itertools
import json
import re
import socket
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import yaml

# Sent through LFS whatever their size (the Hub decides from the repo's .gitattributes).
LFS_SUFFIXES = (".parquet", ".arrow", ".bin", ".safetensors", ".npy", ".npz", ".pt", ".gz", ".zip")
MAX_REGULAR_FILE_SIZE = 10 * 1024 * 1024
INITIAL_GITATTRIBUTES = b"*.parquet filter=lfs diff=lfs merge=lfs -text\n"
UPLOAD_FAILURE = "Injected upload failure (LocalHub.fail_uploads_after)"


class HubError(Exception):
    """An error answer: JSON `{"error": message}` plus the `X-Error-Code` header from which
    `huggingface_hub` picks its exception (RepositoryNotFoundError, EntryNotFoundError...)."""

    def __init__(self, status: int, message: str, code: str | None = None, headers=None):
        super().__init__(message)
        self.status, self.message, self.code = status, message, code
        self.headers = headers or {}


def git_blob_oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    return (
        f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()
    )


@dataclass(frozen=True)
class File:
    sha256: str  # of the content, which is stored under this name
    size: int
    lfs: bool
    git_oid: str  # sha1 of the git blob: of the content, or of the LFS pointer

    @property
    def oid(self) -> str:
        """What preupload and downloads report: the client compares it with its local file, to
        leave unchanged files out of commits and to key its download cache."""
        return self.sha256 if self.lfs else self.git_oid


@dataclass
class Repo:
    id: str
    head: str = ""  # the commit of `main`, the only branch
    commits: dict[str, dict[str, File]] = field(default_factory=dict)  # id -> path -> file
    tags: dict[str, str] = field(default_factory=dict)  # name -> commit id

    def resolve(self, revision: str) -> tuple[str, dict[str, File]]:
        """The commit id and files of `main`, a tag or a commit id."""
        commit_id = self.head if revision == "main" else self.tags.get(revision, revision)
        if commit_id not in self.commits:
            raise HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        return commit_id, self.commits[commit_id]


class LocalHub:
    def __init__(self, root: Path, token: str = "hf_test_token", user: str = "someuser"):
        self.root = Path(root)
        self.token = token
        self.user = user
        self.url = ""
        self.requests: list[tuple[str, str]] = []  # (method, path without the query string)
        self.unknown_requests: list[tuple[str, str]] = []
        self.lock = threading.RLock()  # guards the repos and the upload counter
        self._repos: dict[str, Repo] = {}
        self._uploads_left: int | None = None
        self._silent: str | None = None  # a regex of the paths left unanswered
        self._commit_numbers = itertools.count()
        self._server: ThreadingHTTPServer | None = None
        self._connections: set[socket.socket] = set()  # kept alive by the clients' pools

    def start(self) -> LocalHub:
        self.root.mkdir(parents=True, exist_ok=True)
        self._server = ThreadingHTTPServer(
            ("127.0.0.1", 0), type("Handler", (_Handler,), {"hub": self})
        )
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving: later requests fail to connect, as to an unreachable Hub."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
            for connection in list(self._connections):
                with contextlib.suppress(OSError):  # closed meanwhile
                    connection.shutdown(socket.SHUT_RDWR)

    def fail_uploads_after(self, n: int | None) -> None:
        """After `n` more successful uploads (LFS PUTs, or commits carrying regular files), answer
        every further upload with HTTP 500, until called again with None."""
        with self.lock:
            self._uploads_left = n

    def silent_on(self, pattern: str | None) -> None:
        """Leave every request whose path matches the regex `pattern` unanswered (the
        connection stays open, silent), until called again with None."""
        self._silent = pattern

    def is_silent(self, path: str) -> bool:
        pattern = self._silent
        return pattern is not None and re.search(pattern, path) is not None

    def create_repo(self, repo_id: str) -> Repo:
        """Create a dataset repo, in any namespace (the HTTP API only allows `user`'s); like the
        Hub, its history starts with a commit holding a .gitattributes file."""
        with self.lock:
            if repo_id in self._repos:
                raise HubError(409, "You already created this dataset repo")
            repo = self._repos[repo_id] = Repo(repo_id)
            self.new_commit(repo, {".gitattributes": self.regular_file(INITIAL_GITATTRIBUTES)})
            return repo

    def files(self, repo_id: str, revision: str = "main") -> dict[str, bytes]:
        """The files (path -> content) of a repo at a revision."""
        with self.lock:
            _, files = self._repos[repo_id].resolve(revision)
        return {path: self.read(file.sha256) for path, file in files.items()}

    # -- used by the handler --

    def repo(self, repo_id: str) -> Repo:
        if repo_id not in self._repos:
            raise HubError(404, "Repository not found", "RepoNotFound")
        return self._repos[repo_id]

    def new_commit(self, repo: Repo, files: dict[str, File]) -> str:
        seed = f"{repo.id} {next(self._commit_numbers)}"
        repo.head = hashlib.sha1(seed.encode()).hexdigest()
        repo.commits[repo.head] = files
        return repo.head

    def count_upload(self) -> None:
        """One more upload; HTTP 500 if `fail_uploads_after` allows no more."""
        with self.lock:
            if self._uploads_left == 0:
                raise HubError(500, UPLOAD_FAILURE)
            if self._uploads_left is not None:
                self._uploads_left -= 1

    def store(self, data: bytes) -> str:
        sha256 = hashlib.sha256(data).hexdigest()
        path = self.root / sha256
        if not path.exists():  # write then rename: concurrent readers never see half a file
            temporary = path.with_name(f"{sha256}.{threading.get_ident()}.tmp")
            temporary.write_bytes(data)
            temporary.replace(path)
        return sha256

    def stored_size(self, sha256: str) -> int | None:
        path = self.root / sha256
        return path.stat().st_size if path.is_file() else None

    def read(self, sha256: str, start: int = 0, end: int | None = None) -> bytes:
        with open(self.root / sha256, "rb") as file:
            file.seek(start)
            return file.read(-1 if end is None else end - start)

    def regular_file(self, data: bytes) -> File:
        return File(self.store(data), len(data), lfs=False, git_oid=git_blob_oid(data))


def front_matter(text: str) -> dict | None:
    """The YAML header of a README.md (the Hub's `cardData`); None without one. Raises
    yaml.YAMLError or ValueError if it is not a closed block holding a mapping."""
    if not text.startswith("---"):
        return None
    match = re.match(r"---[ \t]*\r?\n(.*?)^---[ \t]*$", text, re.DOTALL | re.MULTILINE)
    if match is None:
        raise ValueError("The YAML metadata block is not closed by a '---' line")
    data = yaml.safe_load(match.group(1))
    if not isinstance(data, (dict, type(None))):
        raise ValueError("The YAML metadata must be a mapping")
    return data or {}


def tree_entries(files: dict[str, File], folder: str, recursive: bool) -> dict[str, dict]:
    """The files and sub-folders in `folder` ("" for the root), as the tree endpoint lists them."""
    prefix = f"{folder}/" if folder else ""
    entries = {}
    for path, file in files.items():
        if not path.startswith(prefix):
            continue
        parts = path[len(prefix) :].split("/")
        for depth in range(1, len(parts)) if recursive else range(1, min(len(parts), 2)):
            sub = prefix + "/".join(parts[:depth])
            content = sorted((p, f.git_oid) for p, f in files.items() if p.startswith(f"{sub}/"))
            oid = hashlib.sha1(repr(content).encode()).hexdigest()
            entries[sub] = {"type": "directory", "oid": oid, "size": 0, "path": sub}
        if recursive or len(parts) == 1:
            entries[path] = {"type": "file", "oid": file.git_oid, "size": file.size, "path": path}
            if file.lfs:
                pointer_size = len(lfs_pointer(file.sha256, file.size))
                entries[path]["lfs"] = {
                    "oid": file.sha256,
                    "size": file.size,
                    "pointerSize": pointer_size,
                }
    return entries


REPO = r"(?P<repo_id>[\w.-]+/[\w.-]+)"
REVISION = r"(?P<revision>[^/]+)"  # clients quote a revision into one segment
ROUTES = [  # (methods, path pattern, handler), matched on the still-quoted path
    ("GET", r"/api/whoami-v2", "whoami"),
    ("POST", r"/api/validate-yaml", "validate_yaml"),
    ("POST", r"/api/repos/create", "create_repo"),
    ("GET", rf"/api/datasets/{REPO}(?:/revision/{REVISION})?", "repo_info"),
    ("GET", rf"/api/datasets/{REPO}/refs", "refs"),
    ("POST", rf"/api/datasets/{REPO}/tag/{REVISION}", "create_tag"),
    ("DELETE", rf"/api/datasets/{REPO}/tag/(?P<tag>[^/]+)", "delete_tag"),
    ("GET", rf"/api/datasets/{REPO}/tree/{REVISION}(?:/(?P<folder>.*))?", "tree"),
    ("POST", rf"/api/datasets/{REPO}/preupload/{REVISION}", "preupload"),
    ("POST", rf"/datasets/{REPO}\.git/info/lfs/objects/batch", "lfs_batch"),
    ("PUT", r"/_lfs/(?P<oid>[0-9a-f]{64})", "lfs_upload"),
    ("POST", rf"/api/datasets/{REPO}/commit/{REVISION}", "commit"),
    ("GET HEAD", rf"/datasets/{REPO}/resolve/{REVISION}/(?P<path>.+)", "download"),
]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the clients pool their connections
    hub: LocalHub  # set by LocalHub.start

    def log_message(self, format, *args):
        pass  # quiet; see LocalHub.requests

    def setup(self):
        super().setup()
        self.hub._connections.add(self.connection)

    def finish(self):
        self.hub._connections.discard(self.connection)
        super().finish()

    def dispatch(self) -> None:
        url = urlsplit(self.path)
        self.hub.requests.append((self.command, url.path))
        self.query = url.query
        if self.headers.get("Transfer-Encoding"):
            self.send_json({"error": "LocalHub needs a Content-Length"}, 411)
            self.close_connection = True
            return
        # Read the body even before an error answer, so that the connection stays usable.
        self.body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.hub.is_silent(url.path):
            while self.hub.is_silent(url.path) and self.hub._server is not None:
                time.sleep(0.05)
            self.close_connection = True  # never answered: the client gave up meanwhile
            return
        try:
            for methods, pattern, name in ROUTES:
                if self.command in methods.split() and (match := re.fullmatch(pattern, url.path)):
                    arguments = {k: unquote(v) for k, v in match.groupdict().items() if v}
                    return getattr(self, name)(**arguments)
            self.hub.unknown_requests.append((self.command, url.path))
            print(f"LocalHub: unknown request {self.command} {self.path}", file=sys.stderr)
            raise HubError(404, f"LocalHub does not implement {self.command} {url.path}")
        except HubError as error:
            headers = {"X-Error-Message": error.message, **error.headers}
            if error.code:
                headers["X-Error-Code"] = error.code
            self.send_json({"error": error.message}, error.status, headers)
        except Exception as error:
            traceback.print_exc()
            self.send_json({"error": f"LocalHub internal error: {error!r}"}, 500)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = dispatch

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

    def send_json(self, obj, status: int = 200, headers: dict | None = None) -> None:
        self.send(status, json.dumps(obj).encode(), "application/json", headers)

    def json_body(self):
        try:
            return json.loads(self.body or b"{}")
        except ValueError:
            raise HubError(400, "Invalid JSON body") from None

    # -- authentication --

    def authenticated(self) -> bool:
        """True with the right token, False without any; a wrong token is refused everywhere."""
        header = self.headers.get("Authorization")
        if not header:
            return False
        if header == f"Bearer {self.hub.token}":
            return True
        raise HubError(401, "Invalid credentials in Authorization header")

    def readable_repo(self, repo_id: str) -> Repo:
        self.authenticated()
        return self.hub.repo(repo_id)

    def writable_repo(self, repo_id: str) -> Repo:
        if not self.authenticated():
            raise HubError(401, "You must be authenticated to access this resource")
        repo = self.hub.repo(repo_id)
        if repo_id.split("/")[0] != self.hub.user:
            raise HubError(403, f"You don't have the rights to write to dataset {repo_id}")
        return repo

    # -- account and repos --

    def whoami(self) -> None:
        """`HfApi.whoami`: cauker checks the token and its namespaces before generating."""
        if not self.authenticated():
            raise HubError(401, "Invalid credentials in Authorization header")
        token = {"displayName": "local-hub", "role": "write"}
        auth = {"type": "access_token", "accessToken": token}
        self.send_json({"type": "user", "name": self.hub.user, "orgs": [], "auth": auth})

    def validate_yaml(self) -> None:
        """`upload_folder`/`create_commit` with a README.md, and `DatasetCard.validate`: the card's
        YAML header must parse to a mapping."""
        try:
            front_matter(self.json_body().get("content", ""))
        except (yaml.YAMLError, ValueError) as error:
            message = " ".join(str(error).split())
            self.send_json({"error": message, "errors": [{"message": message}]}, 400)
            return
        self.send_json({"errors": [], "warnings": []})

    def create_repo(self) -> None:
        """`HfApi.create_repo(repo_type="dataset")`; 409 if it exists (`exist_ok` accepts that)."""
        if not self.authenticated():
            raise HubError(401, "You must be authenticated to access this resource")
        payload = self.json_body()
        namespace, name = payload.get("organization") or self.hub.user, payload.get("name", "")
        if payload.get("type") != "dataset" or not re.fullmatch(r"[\w.-]+", name):
            raise HubError(400, f"LocalHub only creates dataset repos with a valid name: {payload}")
        if namespace != self.hub.user:
            raise HubError(
                403, f'You don\'t have the rights to create a dataset under "{namespace}"'
            )
        url = f"{self.hub.url}/datasets/{namespace}/{name}"
        try:
            self.hub.create_repo(f"{namespace}/{name}")
        except HubError as error:  # 409: with `exist_ok`, the client still reads the url
            self.send_json({"error": error.message, "url": url}, error.status)
            return
        self.send_json({"url": url})

    def repo_info(self, repo_id: str, revision: str = "main") -> None:
        """`HfApi.dataset_info`/`repo_info` (cauker reads the head it commits the card on),
        and `HfFileSystem` and `load_dataset`, which pin a revision to its commit id."""
        repo = self.readable_repo(repo_id)
        with self.hub.lock:
            commit_id, files = repo.resolve(revision)
        info = {
            "id": repo_id,
            "sha": commit_id,
            "siblings": [{"rfilename": p} for p in sorted(files)],
        }
        if readme := files.get("README.md"):
            try:
                info["cardData"] = front_matter(self.hub.read(readme.sha256).decode())
            except (yaml.YAMLError, ValueError, UnicodeDecodeError):
                pass  # the Hub leaves out what it cannot parse
        self.send_json(info)

    # -- tags --

    def refs(self, repo_id: str) -> None:
        """`HfApi.list_repo_refs`."""
        repo = self.readable_repo(repo_id)
        with self.hub.lock:
            tags = [
                {"name": n, "ref": f"refs/tags/{n}", "targetCommit": c}
                for n, c in repo.tags.items()
            ]
            main = {"name": "main", "ref": "refs/heads/main", "targetCommit": repo.head}
        self.send_json({"branches": [main], "converts": [], "tags": tags})

    def create_tag(self, repo_id: str, revision: str) -> None:
        """`HfApi.create_tag`: cauker tags each push `<config>-v<version>`; 409 if it exists."""
        repo = self.writable_repo(repo_id)
        tag = self.json_body().get("tag", "")
        with self.hub.lock:
            commit_id, _ = repo.resolve(revision)
            if not tag or tag in repo.tags:
                raise HubError(409, f"Tag already exists: {tag}")
            repo.tags[tag] = commit_id
        self.send_json({})

    def delete_tag(self, repo_id: str, tag: str) -> None:
        """`HfApi.delete_tag`: cauker moves the tag of a config pushed again."""
        repo = self.writable_repo(repo_id)
        with self.hub.lock:
            if repo.tags.pop(tag, None) is None:
                raise HubError(404, f"Invalid rev id: {tag}", "RevisionNotFound")
        self.send_json({})

    # -- reads --

    def tree(self, repo_id: str, revision: str, folder: str = "") -> None:
        """`HfApi.list_repo_tree`/`list_repo_files` (`upload_folder` finds the files its
        `delete_patterns` match), and `HfFileSystem.ls`/`glob` (`load_dataset` finds data files)."""
        repo = self.readable_repo(repo_id)
        with self.hub.lock:
            _, files = repo.resolve(revision)
        folder = folder.strip("/")
        recursive = parse_qs(self.query).get("recursive") == ["true"]
        entries = tree_entries(files, folder, recursive)
        if folder and (folder in files or not entries):
            raise HubError(404, f"No folder {folder} at {revision}", "EntryNotFound")
        self.send_json([entries[path] for path in sorted(entries)])

    def download(self, repo_id: str, revision: str, path: str) -> None:
        """`hf_hub_download` (HEAD, then GET), and `HfFileSystem.open`, which reads byte ranges
        (`load_dataset(streaming=True)`). A missing file's 404 names the commit, which the client
        caches."""
        repo = self.readable_repo(repo_id)
        with self.hub.lock:
            commit_id, files = repo.resolve(revision)
        headers = {"X-Repo-Commit": commit_id}
        if (file := files.get(path)) is None:
            raise HubError(404, "Entry not found", "EntryNotFound", headers)
        headers |= {"ETag": f'"{file.oid}"', "Accept-Ranges": "bytes"}
        start, end, status = 0, file.size, 200
        if requested := self.headers.get("Range"):  # `bytes=first-[last]`, what the clients send
            match = re.fullmatch(r"bytes=(\d+)-(\d*)", requested)
            if match:
                start, end = int(match[1]), min(int(match[2] or file.size) + 1, file.size)
            if not match or start >= end:
                raise HubError(416, f"Range {requested} of a {file.size}-byte file")
            status, headers["Content-Range"] = 206, f"bytes {start}-{end - 1}/{file.size}"
        body = b"" if self.command == "HEAD" else self.hub.read(file.sha256, start, end)
        self.send(status, body, "application/octet-stream", headers, length=end - start)

    # -- uploads: create_commit (behind upload_file/upload_folder) calls these in this order --

    def preupload(self, repo_id: str, revision: str) -> None:
        """1. Each file's upload mode (`lfs` for data and binary files) and the oid of the file
        already at that path, so that unchanged files are left out of the commit."""
        repo = self.writable_repo(repo_id)
        with self.hub.lock:
            _, existing = repo.resolve(revision)
        answers = []
        for file in self.json_body().get("files", []):
            path, size = file["path"], file.get("size", 0)
            sample = base64.b64decode(file.get("sample", ""))
            binary = path.lower().endswith(LFS_SUFFIXES) or b"\0" in sample
            # Parquet must go through LFS: `Dataset.push_to_hub` deletes each shard right after
            # its preupload, and a regular file is only read when the commit is sent.
            mode = "lfs" if size > 0 and (binary or size > MAX_REGULAR_FILE_SIZE) else "regular"
            oid = existing[path].oid if path in existing else None
            answers.append({"path": path, "uploadMode": mode, "shouldIgnore": False, "oid": oid})
        self.send_json({"files": answers})

    def lfs_batch(self, repo_id: str) -> None:
        """2. Where to PUT each LFS object the Hub does not have yet (none for those it has, which
        is how a failed upload resumes without sending them again)."""
        self.writable_repo(repo_id)
        objects = []
        for obj in self.json_body().get("objects", []):
            oid, size = obj["oid"], obj["size"]
            if self.hub.stored_size(oid) != size:
                obj = obj | {"actions": {"upload": {"href": f"{self.hub.url}/_lfs/{oid}"}}}
            objects.append(obj)
        body = json.dumps({"transfer": "basic", "objects": objects}).encode()
        self.send(200, body, "application/vnd.git-lfs+json")

    def lfs_upload(self, oid: str) -> None:
        """3. The content of one LFS object. Like a pre-signed storage URL this takes no token:
        the content must match the oid instead. Subject to `fail_uploads_after`."""
        if hashlib.sha256(self.body).hexdigest() != oid:
            raise HubError(400, f"Uploaded content does not match oid {oid}")
        self.hub.count_upload()
        self.hub.store(self.body)
        self.send(200, b"", "text/plain")

    def commit(self, repo_id: str, revision: str) -> None:
        """4. The commit: an ndjson header (summary, parentCommit), then one line per operation.
        412 if `parentCommit` is no longer the head (cauker then re-reads the card). A commit
        carrying regular files is an upload for `fail_uploads_after`."""
        repo = self.writable_repo(repo_id)
        if revision != "main":
            raise HubError(
                404, f"LocalHub only commits to main, not {revision}", "RevisionNotFound"
            )
        try:
            lines = [json.loads(line) for line in self.body.splitlines() if line.strip()]
        except ValueError:
            raise HubError(400, "The commit payload must be ndjson") from None
        header = next((line["value"] for line in lines if line["key"] == "header"), {})
        operations = [(line["key"], line["value"]) for line in lines if line["key"] != "header"]
        with self.hub.lock:
            if header.get("parentCommit") not in (None, repo.head):
                raise HubError(412, "A commit has happened since. Please refresh and try again.")
            files = dict(repo.commits[repo.head])
            for key, value in operations:
                self.apply_operation(files, key, value)
            if any(key == "file" for key, _ in operations):
                self.hub.count_upload()
            commit_id = self.hub.new_commit(repo, files)
        url = f"{self.hub.url}/datasets/{repo_id}/commit/{commit_id}"
        self.send_json({"commitOid": commit_id, "commitUrl": url})

    def apply_operation(self, files: dict[str, File], key: str, value: dict) -> None:
        path = value["path"]
        if key == "file":  # a regular file, its content in base64
            files[path] = self.hub.regular_file(base64.b64decode(value["content"]))
        elif key == "lfsFile":  # an object uploaded through LFS
            if (size := self.hub.stored_size(value["oid"])) is None:
                raise HubError(422, f"LFS object {value['oid']} for {path} was not uploaded")
            git_oid = git_blob_oid(lfs_pointer(value["oid"], size))
            files[path] = File(value["oid"], size, lfs=True, git_oid=git_oid)
        elif key == "deletedFile":
            if files.pop(path, None) is None:
                raise HubError(404, f"A file with this name doesn't exist: {path}", "EntryNotFound")
        else:
            raise HubError(400, f"LocalHub does not implement the commit operation {key!r}")


@contextlib.contextmanager
def silent_endpoint() -> Iterator[str]:
    """The URL of a local TCP endpoint that accepts every connection and never sends a
    byte: a Hub that hangs. The connections are held open until the block ends."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.05)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError, OSError):
                held.append(server.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        for connection in [*held, server]:
            connection.close()
