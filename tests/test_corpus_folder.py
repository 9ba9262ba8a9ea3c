"""`cauker generate` keeps its word: after any interruption (processes killed for real,
with SIGKILL, at chosen points) and any later call, the folder holds exactly one corpus,
the bytes of a clean run, or the call refuses in one line; damage anywhere in a file is
found and repaired; nothing outside the folder is deleted or replaced; files that cauker
did not write are never replaced."""

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from file_damage import flip, footer_offset, page_index_offset

import cauker
import cauker.files.shard_plan
from cauker.cli import main
from cauker.files import runners
from cauker.files.corpus_folder import write_corpus_folder
from cauker.files.shard_plan import plan_shards

NUM_SERIES, LENGTH = 40, 16  # with files of one graph: 10 train files and 1 validation file
FORMATS = ("parquet", "arrow", "gluonts")
EXTENSION = {"parquet": "parquet", "arrow": "arrow", "gluonts": "arrow"}


@pytest.fixture(autouse=True)
def small_local_files(monkeypatch):
    monkeypatch.setattr(cauker.files.shard_plan, "LOCAL_MIN_FILE_BYTES", 1)


def config(seed: int = 0) -> cauker.CauKerConfig:
    return cauker.named_config("10k", num_series=NUM_SERIES, length=LENGTH, seed=seed)


def argv(out: Path, format: str = "parquet", seed: int = 0, *extra: str) -> list[str]:
    return [
        "generate",
        "10k",
        "--num-series",
        str(NUM_SERIES),
        "--length",
        str(LENGTH),
        "--seed",
        str(seed),
        "--format",
        format,
        "--output-dir",
        str(out),
        "--quiet",
        *extra,
    ]


def generate(capsys, out: Path, format: str = "parquet", seed: int = 0, *extra: str):
    code = main(argv(out, format, seed, *extra))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def snapshot(folder: Path) -> dict[str, object]:
    """Every entry under ``folder``, hidden ones included: a file's SHA-256, a link's
    target, or "folder"."""
    entries: dict[str, object] = {}
    for path in sorted(folder.rglob("*")):
        key = str(path.relative_to(folder))
        if path.is_symlink():
            entries[key] = ("link", os.readlink(path))
        elif path.is_dir():
            entries[key] = "folder"
        else:
            entries[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return entries


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """The snapshot of a run into a new folder, by format and seed."""
    cache = {}

    def get(format: str, seed: int = 0) -> dict[str, object]:
        if (format, seed) not in cache:
            folder = tmp_path_factory.mktemp("clean") / f"{format}-{seed}"
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(cauker.files.shard_plan, "LOCAL_MIN_FILE_BYTES", 1)
                write_corpus_folder(config(seed), folder, format, progress=False)
            cache[format, seed] = snapshot(folder)
        return cache[format, seed]

    return get


def test_the_plan_has_several_files(clean):
    names = [k for k in clean("parquet") if k.endswith(".parquet")]
    assert len(names) == 11 and "train/train-00009-of-00010.parquet" in names


# -- killed for real, then any later call ---------------------------------------------

#: Runs `cauker generate` (its arguments after the first two) with files of one graph,
#: and sends itself SIGKILL at the `count`-th time the run reaches `point`.
CHILD = r"""
import os, signal, sys
import cauker.files.shard_plan
from cauker.cli import main
from cauker.files import writers

cauker.files.shard_plan.LOCAL_MIN_FILE_BYTES = 1
point, count = sys.argv[1], int(sys.argv[2])
calls = []


def reached():
    calls.append(1)
    if len(calls) == count:
        os.kill(os.getpid(), signal.SIGKILL)


if point == "mid-file":  # a shard half-written under its temporary name
    real_batches = writers.iter_batches

    def batches(*args):
        for batch in real_batches(*args):
            yield batch
            reached()

    writers.iter_batches = batches
elif point in ("renamed", "records-half-written"):
    real_replace = os.replace

    def replace(source, target):
        if point == "records-half-written" and str(target).endswith("cauker.json"):
            reached()  # cauker.json's new version is written under its temporary name
        real_replace(source, target)
        if point == "renamed" and str(target).endswith((".parquet", ".arrow")):
            reached()  # a shard in place, not recorded yet

    os.replace = replace
elif point == "recorded":
    from cauker.files.file_records import FileRecords

    real_add = FileRecords.add

    def add(self, path, file):
        real_add(self, path, file)
        reached()

    FileRecords.add = add
elif point == "deleting":  # while --overwrite removes the files of the corpus there
    real_unlink = os.unlink

    def unlink(path, *args, **kwargs):
        real_unlink(path, *args, **kwargs)
        reached()

    os.unlink = unlink
sys.exit(main(sys.argv[3:]))
"""


def killed(point: str, count: int, arguments: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, point, str(count), *arguments],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr


def other(format: str) -> str:
    return FORMATS[(FORMATS.index(format) + 1) % len(FORMATS)]


@pytest.mark.parametrize(
    "point, count, format, before",
    [
        ("mid-file", 3, "parquet", None),
        ("renamed", 4, "arrow", None),
        ("recorded", 2, "gluonts", None),
        ("records-half-written", 3, "parquet", None),
        ("records-half-written", 1, "gluonts", None),  # before the first record: a new folder
        ("deleting", 2, "arrow", "parquet"),  # --overwrite of a parquet corpus, killed
        ("deleting", 3, "gluonts", "arrow"),  # IPC files of another format and seed
    ],
)
def test_after_a_kill_any_call_gives_one_corpus_or_refuses(
    point, count, format, before, tmp_path, capsys, clean
):
    out = tmp_path / "killed"
    seed = 0
    if before is not None:  # a complete corpus there first, replaced by the killed call
        assert generate(capsys, out, before, 0)[0] == 0
        seed = 1
    extra = ["--overwrite"] if before else []
    killed(point, count, argv(out, format, seed, *extra))
    state = snapshot(out)
    assert state != clean(format, seed)  # really interrupted

    def copy(name: str) -> Path:
        shutil.copytree(out, tmp_path / name, symlinks=True)
        return tmp_path / name

    # the same call again: resumed and repaired, the bytes of a clean run
    again = copy("again")
    code, stdout, err = generate(capsys, again, format, seed, *extra)
    assert code == 0, err
    assert snapshot(again) == clean(format, seed)

    # another corpus, in another format, with --overwrite: exactly that corpus
    replaced = copy("replaced")
    code, stdout, err = generate(capsys, replaced, other(format), 2, "--overwrite")
    assert code == 0, err
    assert snapshot(replaced) == clean(other(format), 2)

    # another corpus without --overwrite: refused in one line, nothing changed
    refused = copy("refused")
    code, stdout, err = generate(capsys, refused, format, 3)
    if not (out / "cauker.json").exists():  # killed before it named its corpus: nothing there
        assert code == 0 and snapshot(refused) == clean(format, 3), err
        return
    assert code == 2 and err.count("\n") == 1 and "pass --overwrite" in err, err
    assert snapshot(refused) == state


LARGER = ["10k", "--num-series", "4000", "--length", "128", "--quiet"]


def test_a_pool_killed_mid_run_is_resumed_to_the_bytes_of_a_clean_run(tmp_path):
    """kill -9 of the command while two workers write; then the same command, and
    another seed with --overwrite, give the folders of clean runs."""
    out = tmp_path / "killed"
    arguments = ["generate", *LARGER, "--num-proc", "2", "--format", "arrow", "--output-dir"]
    arguments.append(str(out))
    # "never": the child runs unhooked; it is killed from here
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, "never", "0", *arguments],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    marker = out / "cauker.json"
    deadline = time.monotonic() + 120
    recorded = 0
    while recorded < 3:
        assert child.poll() is None, child.stderr.read().decode()
        assert time.monotonic() < deadline, "fewer than 3 files written after 120 s"
        time.sleep(0.01)
        if marker.is_file():
            recorded = len(json.loads(marker.read_text())["files"])
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    child.stderr.close()
    plan = cauker.named_config("10k", num_series=4000, length=128)
    total = sum(len(plan_shards(plan, split, local=True)) for split in ("train", "validation"))
    assert len(json.loads(marker.read_text())["files"]) < total  # killed mid-run
    time.sleep(1)  # the workers see their parent gone within half a second

    shutil.copytree(out, tmp_path / "replaced", symlinks=True)
    same = ["generate", *LARGER, "--format", "arrow", "--output-dir"]
    assert main([*same, str(out)]) == 0
    assert main([*same, str(tmp_path / "a")]) == 0
    assert snapshot(out) == snapshot(tmp_path / "a")
    seed = ["generate", *LARGER, "--seed", "1", "--format", "parquet", "--overwrite"]
    assert main([*seed, "--output-dir", str(tmp_path / "replaced")]) == 0
    assert main([*seed, "--output-dir", str(tmp_path / "b")]) == 0
    assert snapshot(tmp_path / "replaced") == snapshot(tmp_path / "b")


# -- damage found and repaired ----------------------------------------------------------


def metadata_offset(path: Path, format: str) -> int:
    """A byte of cauker's metadata in the footer: in the config of a Parquet file's
    key-value metadata, in the schema metadata of an IPC file's footer."""
    needle = b'"mean_bank": "paper"' if format == "parquet" else config().fingerprint().encode()
    return footer_offset(path, needle)


@pytest.mark.parametrize("format", FORMATS)
@pytest.mark.parametrize("overwrite", [False, True])
def test_damage_anywhere_is_found_and_repaired(format, overwrite, tmp_path, capsys, clean):
    out = tmp_path / "c"
    assert generate(capsys, out, format)[0] == 0
    ext = EXTENSION[format]
    train = [out / "train" / f"train-{i:05d}-of-00010.{ext}" for i in range(10)]
    sizes = [p.stat().st_size for p in train]
    train[0].write_bytes(train[0].read_bytes()[:1000])  # truncated
    flip(train[1], 0)  # the magic bytes
    flip(train[2], sizes[2] // 2)  # the data
    flip(train[3], sizes[3] - 20)  # the footer
    flip(train[4], metadata_offset(train[4], format))
    if format == "parquet":
        flip(train[5], page_index_offset(train[5]))
    else:  # the file of the same shard in the other IPC format
        twin = tmp_path / "twin"
        generate(capsys, twin, "arrow" if format == "gluonts" else "gluonts")
        shutil.copyfile(twin / "train" / train[5].name, train[5])
    train[6].unlink()  # deleted
    seed = tmp_path / "seed"
    generate(capsys, seed, format, 1)
    shutil.copyfile(seed / "train" / train[7].name, train[7])  # the same file of another seed
    shutil.copyfile(train[9], train[8])  # another file of the same corpus
    (out / "validation" / f"validation-00000-of-00001.{ext}").write_bytes(b"")
    code, stdout, err = generate(capsys, out, format, 0, *(["--overwrite"] if overwrite else []))
    assert code == 0, err
    assert f"wrote 10 {format} file(s)" in stdout
    assert "(1 of 11 were complete and verified)" in stdout
    assert snapshot(out) == clean(format)


def test_a_complete_folder_is_verified_and_left_as_it_is(tmp_path, capsys, clean):
    out = tmp_path / "c"
    assert generate(capsys, out, "arrow")[0] == 0
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    code, stdout, err = generate(capsys, out, "arrow")
    assert code == 0 and "(11 arrow file(s), verified); nothing written" in stdout, err
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before  # cauker.json too


def test_verification_shows_a_progress_bar_unless_quiet(tmp_path, capsys):
    out = tmp_path / "c"
    assert generate(capsys, out)[0] == 0
    assert main(argv(out)[:-1]) == 0  # without --quiet
    assert "Verifying: 100%" in capsys.readouterr().err
    assert main(argv(out)) == 0
    assert capsys.readouterr().err == ""


def test_a_folder_of_an_older_cauker_without_checksums_is_written_again(tmp_path, capsys, clean):
    out = tmp_path / "c"
    assert generate(capsys, out)[0] == 0
    marker = out / "cauker.json"
    data = json.loads(marker.read_text())
    data["files"], data["complete"] = sorted(data["files"]), True  # the layout before records
    marker.write_text(json.dumps(data))
    code, stdout, err = generate(capsys, out)
    assert code == 0 and "wrote 11 parquet file(s)" in stdout, err
    assert snapshot(out) == clean("parquet")


# -- nothing outside the folder, nothing of yours ---------------------------------------


def add_listing(marker: Path, entry: str) -> None:
    """Make ``cauker.json`` list ``entry`` as one of its files (whatever its layout)."""
    data = json.loads(marker.read_text())
    if isinstance(data["files"], list):
        data["files"].append(entry)
    else:
        data["files"][entry] = next(iter(data["files"].values()))
    marker.write_text(json.dumps(data))


@pytest.mark.parametrize(
    "entry", ["../victim.txt", "ABSOLUTE", "train/../../victim.txt", "train/../../../victim.txt"]
)
@pytest.mark.parametrize("overwrite", [False, True])
def test_paths_in_cauker_json_never_lead_outside_the_folder(entry, overwrite, tmp_path, capsys):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (tmp_path / "victim.txt").with_name("x").mkdir()  # for train/../../../victim.txt
    out = tmp_path / "x" / "c"
    assert generate(capsys, out)[0] == 0
    entry = str(victim) if entry == "ABSOLUTE" else entry
    add_listing(out / "cauker.json", entry)
    code, _, err = generate(capsys, out, "parquet", 1, *(["--overwrite"] if overwrite else []))
    assert code == 2 and err.count("\n") == 1, err
    assert f"lists {entry!r}, which is not a file that cauker writes" in err
    assert victim.read_text() == "precious"


def outside_copy(path: Path, outside: Path) -> Path:
    outside.mkdir(exist_ok=True)
    target = outside / path.name
    if path.is_dir():
        shutil.copytree(path, target)
    else:
        shutil.copyfile(path, target)
    return target


@pytest.mark.parametrize("link", ["train", "train/train-00003-of-00010.parquet", "cauker.json"])
@pytest.mark.parametrize("extra", [[], ["--overwrite"]])
def test_links_inside_the_folder_are_refused_and_what_they_point_to_kept(
    link, extra, tmp_path, capsys
):
    out = tmp_path / "c"
    assert generate(capsys, out)[0] == 0
    path = out / link
    target = outside_copy(path, tmp_path / "outside")  # cauker's own bytes, so they verify
    shutil.rmtree(path) if path.is_dir() else path.unlink()
    path.symlink_to(target)
    outside = snapshot(tmp_path / "outside")
    for seed in (0, 1):
        code, _, err = generate(capsys, out, "parquet", seed, *extra)
        assert code == 2 and err.count("\n") == 1, err
        assert f"{path} is a symbolic link" in err and "cauker never writes" in err
    assert snapshot(tmp_path / "outside") == outside


def test_an_output_folder_that_is_a_link_is_followed(tmp_path, capsys, clean):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    assert generate(capsys, tmp_path / "link")[0] == 0
    assert generate(capsys, tmp_path / "link")[0] == 0
    assert snapshot(tmp_path / "real") == clean("parquet")


def interrupted(capsys, monkeypatch, out: Path, after: int = 3) -> None:
    """A generate that stops after ``after`` files (as after a crash)."""
    real, written = runners.write_shard, []

    def crashing(url, config, format, shard, path):
        if len(written) == after:
            raise KeyboardInterrupt
        written.append(path)
        return real(url, config, format, shard, path)

    monkeypatch.setattr(runners, "write_shard", crashing)
    assert generate(capsys, out)[0] == 130
    monkeypatch.setattr(runners, "write_shard", real)


def test_a_users_file_at_the_path_of_a_shard_is_never_replaced(tmp_path, capsys, monkeypatch):
    out = tmp_path / "c"
    interrupted(capsys, monkeypatch, out)
    mine = out / "train" / "train-00005-of-00010.parquet"
    pq.write_table(pa.table({"x": [1, 2, 3]}), mine)
    before = mine.read_bytes()
    for extra in ([], ["--overwrite"]):
        code, _, err = generate(capsys, out, "parquet", 0, *extra)
        assert code == 2 and err.count("\n") == 1, err
        assert f"{mine} was not written by cauker" in err
        assert mine.read_bytes() == before


def test_a_users_files_in_a_split_folder_stop_the_call_and_hidden_ones_are_kept(
    tmp_path, capsys, clean
):
    out = tmp_path / "c"
    assert generate(capsys, out)[0] == 0
    (out / "train" / "notes.txt").write_text("mine")
    code, _, err = generate(capsys, out, "parquet", 1, "--overwrite")
    assert code == 2 and "notes.txt was not written by cauker" in err, err
    assert (out / "train" / "notes.txt").read_text() == "mine"
    (out / "train" / "notes.txt").unlink()
    (out / "train" / ".DS_Store").write_text("the loaders skip hidden files")
    assert generate(capsys, out, "parquet", 1, "--overwrite")[0] == 0
    assert (out / "train" / ".DS_Store").read_text() == "the loaders skip hidden files"
    (out / "train" / ".DS_Store").unlink()
    assert snapshot(out) == clean("parquet", 1)


def test_temporary_files_of_killed_writers_are_removed(tmp_path, capsys, clean):
    out = tmp_path / "c"
    assert generate(capsys, out)[0] == 0
    (out / "train" / f".train-00000-of-00010.parquet.tmp-{'a' * 32}").write_bytes(b"PAR1")
    (out / f".cauker.json.tmp-{'b' * 32}").write_text("{")
    assert generate(capsys, out)[0] == 0
    assert snapshot(out) == clean("parquet")


@pytest.mark.parametrize(
    "text, message",
    [
        ('{"fingerprint": "a\x01"}', "is not valid JSON (Invalid control character"),
        ("[1, 2]", "must hold a JSON object, got a list"),
        ('{"files": {}}', "names no corpus"),
    ],
)
def test_a_damaged_cauker_json_is_named_in_one_line(text, message, tmp_path, capsys, clean):
    out = tmp_path / "c"
    assert generate(capsys, out)[0] == 0
    (out / "cauker.json").write_text(text)
    code, _, err = generate(capsys, out)
    assert code == 2 and err.count("\n") == 1, err
    assert f"{out / 'cauker.json'}" in err and message in err and "pass --overwrite" in err
    assert generate(capsys, out, "parquet", 0, "--overwrite")[0] == 0
    assert snapshot(out) == clean("parquet")


def test_a_folder_whose_cauker_json_was_deleted_is_replaced_only_with_overwrite(
    tmp_path, capsys, clean
):
    out = tmp_path / "c"
    assert generate(capsys, out, "arrow")[0] == 0
    (out / "cauker.json").unlink()
    code, _, err = generate(capsys, out, "arrow")
    assert code == 2 and err.count("\n") == 1, err
    assert f"{out / 'cauker.json'} is missing; pass --overwrite" in err
    (out / "notes.txt").write_text("a folder with files of its own is not cauker's")
    code, _, err = generate(capsys, out, "arrow", 0, "--overwrite")
    assert code == 2 and "holds no cauker corpus" in err
    (out / "notes.txt").unlink()
    assert generate(capsys, out, "arrow", 0, "--overwrite")[0] == 0
    assert snapshot(out) == clean("arrow")


@pytest.mark.parametrize("obstacle", ["train", "validation", "cauker.json"])
def test_paths_to_write_are_checked_before_any_work(obstacle, tmp_path, capsys, monkeypatch):
    out = tmp_path / "c"
    assert generate(capsys, out, "parquet", 1)[0] == 0
    path = out / obstacle
    shutil.rmtree(path) if path.is_dir() else path.unlink()
    path.mkdir() if obstacle == "cauker.json" else path.write_text("in the way")
    if obstacle != "cauker.json":
        (out / "cauker.json").write_text("{}")  # still cauker's folder (damaged records)
    monkeypatch.setattr(runners, "write_shard", pytest.fail)
    code, _, err = generate(capsys, out, "parquet", 0, "--overwrite")
    assert code == 2 and err.count("\n") == 1, err
    kind = "a folder" if obstacle == "cauker.json" else "a file"
    assert f"{path} is {kind}, where cauker writes" in err
