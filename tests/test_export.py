"""Export in the Hub layout: loadable by name, merged configs, resumable after a crash."""

import dataclasses
import errno
import hashlib
import json
import posixpath
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import datasets
import fsspec
import pyarrow.parquet as pq
import pytest
from file_damage import flip, footer_offset, page_index_offset
from fsspec.implementations.local import LocalFileSystem
from huggingface_hub import DatasetCard
from PIL import Image

import cauker
from cauker.errors import ForeignFileError, ParameterError
from cauker.files import runners
from cauker.hub import card as card_module
from cauker.hub import layout as export_module
from cauker.hub.layout import RECORDS, export

pytestmark = pytest.mark.usefixtures("small_files")  # many files from small corpora

SMALL = cauker.CauKerConfig(num_series=120, length=32)
OTHER = cauker.CauKerConfig(num_series=40, length=16, seed=9, dag_depth=2)
TINY = cauker.CauKerConfig(num_series=24, length=16)  # 6 train shards
TAG = SMALL.fingerprint()[:8]  # in the file names of SMALL's shards and preview
TINY_TAG = TINY.fingerprint()[:8]


def shard_name(split: str, index: int, count: int, config=SMALL) -> str:
    return f"{split}-{index:05d}-of-{count:05d}-{config.fingerprint()[:8]}.parquet"


def digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_export_loads_by_name_equal_to_generate(tmp_path):
    export(SMALL, tmp_path, config_name="small", progress=False)
    expected = cauker.generate(SMALL)
    loaded = datasets.load_dataset(str(tmp_path), "small", split="train")
    assert loaded.data.table.select(expected.column_names).equals(expected)
    streamed = datasets.load_dataset(str(tmp_path), "small", split="train", streaming=True)
    assert [r["target"] for r in streamed] == expected.column("target").to_pylist()
    validation = datasets.load_dataset(str(tmp_path), "small", split="validation")
    assert (
        validation["target"]
        == cauker.generate(SMALL, split="validation").column("target").to_pylist()
    )
    files = sorted(p.name for p in (tmp_path / "data" / "small").glob("*.parquet"))
    assert files[0] == shard_name("train", 0, 30) and files[-1] == shard_name("validation", 0, 1)
    assert len(files) == 31
    assert (tmp_path / "images" / f"small-{TAG}.png").stat().st_size > 10_000


def test_second_config_is_added_and_first_kept(tmp_path):
    export(SMALL, tmp_path, config_name="small", progress=False)
    export(OTHER, tmp_path, config_name="other", progress=False)
    card = DatasetCard.load(tmp_path / "README.md")
    names = [c["config_name"] for c in card.data["configs"]]
    assert names == ["other", "small"]
    assert [b["config_name"] for b in card.data["cauker"]] == ["other", "small"]
    for name, config in (("small", SMALL), ("other", OTHER)):
        got = datasets.load_dataset(str(tmp_path), name, split="train")
        assert got["target"] == cauker.generate(config).column("target").to_pylist()
    # without a configs: block, datasets would merge everything into one "default"
    assert datasets.get_dataset_config_names(str(tmp_path)) == ["other", "small"]


def test_card_metadata_is_valid_for_datasets_and_hub(tmp_path, hub):
    export(SMALL, tmp_path, config_name="small", progress=False)
    card = DatasetCard.load(tmp_path / "README.md")
    card.validate(repo_type="dataset")  # the Hub's YAML validation endpoint (local stand-in)
    infos = datasets.info.DatasetInfosDict.from_dataset_card_data(card.data)
    assert infos["small"].splits["train"].num_examples == 120
    assert infos["small"].features["target"].length == 32
    configs = datasets.utils.metadata.MetadataConfigs.from_dataset_card_data(card.data)
    assert configs["small"]["data_files"][0] == {
        "split": "train",
        "path": f"data/small/train-*-of-00030-{TAG}.parquet",
    }
    assert card.data.license == "apache-2.0" and card.data.size_categories == ["n<1K"]
    text = card.text
    assert f"| `small` | {cauker.ALGORITHM_VERSION} | 120 | 32 |" in text
    assert f"![small samples](images/small-{TAG}.png)" in text and "arXiv:2508.02879" in text


def test_the_card_regenerates_each_config_and_links_to_the_documentation(tmp_path):
    export(SMALL, tmp_path, config_name="small", progress=False)
    export(OTHER, tmp_path, config_name="other", progress=False)
    text = DatasetCard.load(tmp_path / "README.md").text
    code = text.split("```python\nimport cauker  # pip install cauker\n")[1].split("```")[0]
    assert (
        "config_other = cauker.CauKerConfig(num_series=40, length=16, dag_depth=2, seed=9)" in code
    )
    space = {}
    exec("import cauker\n" + code, space)  # the snippet runs, and gives the configs' own rows
    assert space["config_small"] == SMALL and space["config_other"] == OTHER
    assert space["table"].equals(cauker.generate(OTHER))
    assert f"<{card_module.DOCS_URL}>" in text


def test_the_license_is_the_cards_own_unless_one_is_given(tmp_path):
    def license():
        card = DatasetCard.load(tmp_path / "README.md")
        assert f"released under the {card.data.license} license" in card.text
        return card.data.license

    export(TINY, tmp_path, config_name="a", progress=False)
    assert license() == card_module.LICENSE == "apache-2.0"
    export(TINY, tmp_path, config_name="a", progress=False, license="cc-by-4.0")
    assert license() == "cc-by-4.0"
    export(OTHER, tmp_path, config_name="b", progress=False)  # none given: the card's is kept
    assert license() == "cc-by-4.0"
    with pytest.raises(ParameterError, match="license must be a license identifier of the Hub"):
        export(TINY, tmp_path / "new", license="CC BY 4.0", progress=False)
    assert not (tmp_path / "new").exists()


class Crash(RuntimeError):
    pass


def test_crash_keeps_complete_shards_and_resume_skips_them(tmp_path, monkeypatch):
    real = runners.write_shard
    calls = []

    def crashing(url, config, format, shard, path):
        if len(calls) == 7:
            raise Crash("simulated crash")
        calls.append(shard.index)
        return real(url, config, format, shard, path)

    monkeypatch.setattr(runners, "write_shard", crashing)
    with pytest.raises(Crash):
        export(SMALL, tmp_path / "out", config_name="small", progress=False)
    folder = tmp_path / "out" / "data" / "small"
    on_disk = sorted(p.name for p in folder.iterdir())
    recorded = [shard_name("train", i, 30) for i in range(7)]
    assert on_disk == [RECORDS, *recorded]  # no temp files
    assert sorted(json.loads((folder / RECORDS).read_text())["files"]) == [
        f"data/small/{name}" for name in recorded
    ]
    for name in recorded:
        assert pq.read_metadata(folder / name).num_rows == 4

    calls.clear()
    monkeypatch.setattr(runners, "write_shard", lambda *a: calls.append(a[3].index) or real(*a))
    export(SMALL, tmp_path / "out", config_name="small", progress=False)
    assert calls == list(range(7, 30)) + [0]  # the rest of train, then validation shard 0
    export(SMALL, tmp_path / "clean", config_name="small", progress=False)
    assert digest(tmp_path / "out") == digest(tmp_path / "clean")


def test_damaged_or_foreign_shards_are_rewritten(tmp_path):
    export(SMALL, tmp_path, config_name="small", progress=False)
    before = digest(tmp_path)
    folder = tmp_path / "data" / "small"
    (folder / shard_name("train", 3, 30)).write_bytes(b"PAR1 truncated")
    other = cauker.generate(dataclasses.replace(SMALL, seed=1), stop=4)
    pq.write_table(other, folder / shard_name("train", 4, 30))  # right size, wrong config
    export(SMALL, tmp_path, config_name="small", progress=False)
    assert digest(tmp_path) == before


def test_stale_shards_of_an_older_plan_are_removed(tmp_path):
    export(SMALL, tmp_path, config_name="small", progress=False)
    smaller = dataclasses.replace(SMALL, num_series=20)
    export(smaller, tmp_path, config_name="small", progress=False)
    names = sorted(p.name for p in (tmp_path / "data" / "small").iterdir())
    assert names == [RECORDS] + [shard_name("train", i, 5, smaller) for i in range(5)] + [
        shard_name("validation", 0, 1, smaller)
    ]
    assert sorted(p.name for p in (tmp_path / "images").iterdir()) == [
        f"small-{smaller.fingerprint()[:8]}.png"
    ]
    assert len(datasets.load_dataset(str(tmp_path), "small", split="train")) == 20


def test_process_pool_gives_the_same_bytes(tmp_path):
    export(SMALL, tmp_path / "one", config_name="small", progress=False)
    export(SMALL, tmp_path / "two", config_name="small", num_proc=2, progress=False)
    assert digest(tmp_path / "one") == digest(tmp_path / "two")


def test_no_validation_split(tmp_path):
    config = cauker.CauKerConfig(num_series=8, length=16, num_validation=0)
    export(config, tmp_path, config_name="novalid", progress=False)
    loaded = datasets.load_dataset(str(tmp_path), "novalid")
    assert list(loaded) == ["train"] and loaded["train"].num_rows == 8


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"config_name": "a/b"}, "config_name must be letters, digits"),
        ({"config_name": ".."}, "config_name must be letters, digits"),
        ({"num_proc": 0}, "num_proc must be >= 1 or None, got 0"),
        ({"config_name": ""}, "config_name must be letters, digits"),
    ],
)
def test_bad_arguments(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        export(SMALL, tmp_path, progress=False, **kwargs)
    assert not any(tmp_path.iterdir())  # nothing written


# -- a user's files, damaged shards, concurrency, interrupted re-exports, full disks --


def test_a_readme_that_is_not_a_cauker_card_is_never_replaced(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("---\nlicense: mit\n---\n# My project\n\nImportant notes here.\n")
    with pytest.raises(ForeignFileError) as info:
        export(TINY, tmp_path, config_name="small", progress=False)
    assert f"{readme} is not a cauker dataset card" in str(info.value)
    assert readme.read_text().endswith("Important notes here.\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md"]  # nothing generated


def test_files_the_export_did_not_write_survive_it(tmp_path):
    folder = tmp_path / "data" / "small"
    folder.mkdir(parents=True)
    (folder / "mydata.parquet").write_text("precious")
    (folder / "notes.txt").write_text("keep me")
    # a Parquet file of the user's, named like a shard of an older cauker layout
    pq.write_table(cauker.generate(OTHER, stop=4), folder / "train-00000-of-00030.parquet")
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "small.png").write_bytes(b"my own picture")
    before = digest(tmp_path)
    for config in (TINY, dataclasses.replace(TINY, seed=5), TINY):  # re-exports remove stale
        export(config, tmp_path, config_name="small", progress=False)
        after = digest(tmp_path)
        assert {k: after[k] for k in before} == before
        loaded = datasets.load_dataset(str(tmp_path), "small", split="train")
        assert loaded["target"] == cauker.generate(config).column("target").to_pylist()
    ours = [name for name in after if name not in before]
    assert sorted(ours) == sorted(
        ["README.md", f"images/small-{TINY_TAG}.png", f"data/small/{RECORDS}"]
        + [f"data/small/{shard_name('train', i, 6, TINY)}" for i in range(6)]
        + [f"data/small/{shard_name('validation', 0, 1, TINY)}"]
    )


def test_the_preview_path_is_never_taken_from_a_user(tmp_path):
    (tmp_path / "images").mkdir()
    mine = tmp_path / "images" / f"small-{TINY_TAG}.png"
    mine.write_bytes(b"not a cauker preview")
    with pytest.raises(ForeignFileError, match=f"{mine} was not written by cauker"):
        export(TINY, tmp_path, config_name="small", progress=False)
    assert mine.read_bytes() == b"not a cauker preview"


def test_corrupted_data_pages_are_detected_and_the_shard_rewritten(tmp_path):
    export(TINY, tmp_path, config_name="small", progress=False)
    before = digest(tmp_path)
    path = tmp_path / "data" / "small" / shard_name("train", 3, 6, TINY)
    column = pq.read_metadata(path).row_group(0).column(1)  # the target series
    middle = column.data_page_offset + column.total_compressed_size // 2
    data = bytearray(path.read_bytes())
    data[middle : middle + 64] = bytes(b ^ 0x5A for b in data[middle : middle + 64])
    path.write_bytes(bytes(data))
    assert pq.read_metadata(path).num_rows == 4  # the footer still looks complete
    written = []
    real = runners.write_shard
    runners.write_shard = lambda *a: written.append(a[3].index) or real(*a)
    try:
        export(TINY, tmp_path, config_name="small", progress=False)
    finally:
        runners.write_shard = real
    assert written == [3] and digest(tmp_path) == before


def test_concurrent_exports_of_two_configs_keep_both_in_the_card(tmp_path, monkeypatch):
    """The card is read, merged and written under a lock: an export that comes to
    merge while another holds it waits, and then reads the other's entry."""
    both_ready = threading.Barrier(2, timeout=20)
    first = threading.Lock()
    real_entry, real_merge = export_module.config_entry, export_module.update_card

    def entry_when_both_are_ready(*args):
        both_ready.wait()  # both exports come to their card at the same moment
        return real_entry(*args)

    def slow_merge(existing, entry, repo_id, license):
        if first.acquire(blocking=False):
            time.sleep(0.5)  # the other export reads the card now, unless it waits
        return real_merge(existing, entry, repo_id, license)

    monkeypatch.setattr(export_module, "config_entry", entry_when_both_are_ready)
    monkeypatch.setattr(export_module, "update_card", slow_merge)
    with ThreadPoolExecutor(2) as pool:
        jobs = [
            pool.submit(export, config, tmp_path, config_name=name, progress=False)
            for name, config in (("a", TINY), ("b", OTHER))
        ]
        for job in jobs:
            job.result()
    assert datasets.get_dataset_config_names(str(tmp_path)) == ["a", "b"]
    for name, config in (("a", TINY), ("b", OTHER)):
        got = datasets.load_dataset(str(tmp_path), name, split="train")
        assert got["target"] == cauker.generate(config).column("target").to_pylist()


def test_a_concurrent_export_of_the_same_config_waits_and_never_deletes_a_temp_file(
    tmp_path, monkeypatch
):
    from cauker.files import writers

    real = writers.iter_batches
    paused, go = threading.Event(), threading.Event()

    def first_export_pauses_mid_shard(config, split, start, stop):
        for batch in real(config, split, start, stop):
            if threading.current_thread().name == "first" and start == 8:
                paused.set()
                assert go.wait(10)
            yield batch

    monkeypatch.setattr(writers, "iter_batches", first_export_pauses_mid_shard)
    errors = []

    def run(name):
        try:
            export(TINY, tmp_path, config_name="small", progress=False)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    first = threading.Thread(target=run, args=("first",), name="first")
    second = threading.Thread(target=run, args=("second",), name="second")
    first.start()
    assert paused.wait(30)  # the first holds an in-flight temporary file
    second.start()
    second.join(1.5)
    assert second.is_alive()  # waits for the first
    go.set()
    first.join(30)
    second.join(30)
    assert errors == []
    clean = tmp_path.parent / "clean"
    export(TINY, clean, config_name="small", progress=False)
    assert digest(tmp_path) == digest(clean)


def test_an_interrupted_reexport_of_a_changed_config_loads_as_the_card_says(tmp_path, monkeypatch):
    export(TINY, tmp_path, config_name="small", progress=False)
    changed = dataclasses.replace(TINY, seed=1)
    real = runners.write_shard
    calls = []

    def crashing(url, config, format, shard, path):
        if len(calls) == 3:
            raise Crash("killed")
        calls.append(shard.index)
        return real(url, config, format, shard, path)

    monkeypatch.setattr(runners, "write_shard", crashing)
    with pytest.raises(Crash):
        export(changed, tmp_path, config_name="small", progress=False)
    card = DatasetCard.load(tmp_path / "README.md")
    assert card.data["cauker"][0]["fingerprint"] == TINY.fingerprint()
    loaded = datasets.load_dataset(str(tmp_path), "small")
    assert loaded["train"]["target"] == cauker.generate(TINY).column("target").to_pylist()
    assert loaded["validation"]["target"] == (
        cauker.generate(TINY, split="validation").column("target").to_pylist()
    )
    monkeypatch.setattr(runners, "write_shard", real)
    export(changed, tmp_path, config_name="small", progress=False)  # resumes, then switches
    loaded = datasets.load_dataset(str(tmp_path), "small", split="train")
    assert loaded["target"] == cauker.generate(changed).column("target").to_pylist()
    clean = tmp_path.parent / "clean"
    export(changed, clean, config_name="small", progress=False)
    assert digest(tmp_path) == digest(clean)  # the old shards and preview are gone


class FullDisk(LocalFileSystem):
    """A local disk that is full for files whose name contains one of ``victims``."""

    protocol = "fulldisk"
    victims: tuple[str, ...] = ()

    def _open(self, path, mode="rb", **kwargs):
        opened = super()._open(path, mode, **kwargs)
        if "w" in mode and any(v in posixpath.basename(path) for v in self.victims):
            return _FillingFile(opened)
        return opened


class _FillingFile:
    def __init__(self, f, budget: int = 1000):
        self._f, self._left = f, budget

    def write(self, data) -> int:
        if len(data) > self._left:
            self._f.write(bytes(data[: self._left]))
            self._left = 0
            raise OSError(errno.ENOSPC, "No space left on device")
        self._left -= len(data)
        return self._f.write(data)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._f.close()

    def __getattr__(self, name):
        return getattr(self._f, name)


def test_a_full_disk_never_truncates_the_card_or_the_preview(tmp_path, monkeypatch):
    fsspec.register_implementation("fulldisk", FullDisk, clobber=True)
    export(TINY, tmp_path, config_name="small", progress=False)
    before = digest(tmp_path)
    for victim in (".png", "README.md"):  # the preview, once written, is not redrawn
        monkeypatch.setattr(FullDisk, "victims", (victim,))
        with pytest.raises(OSError, match="No space left on device"):
            export(OTHER, f"fulldisk://{tmp_path}", config_name="other", progress=False)
        after = digest(tmp_path)
        assert {k: after[k] for k in before} == before  # the old card is whole
        assert not [name for name in after if ".tmp-" in name]
        for name in after:
            if name.startswith("images/"):  # whole images only
                with Image.open(tmp_path / name) as picture:
                    picture.verify()
    monkeypatch.setattr(FullDisk, "victims", ())
    export(OTHER, f"fulldisk://{tmp_path}", config_name="other", progress=False)
    assert datasets.get_dataset_config_names(str(tmp_path)) == ["other", "small"]


def test_temporary_files_never_match_the_cards_globs(tmp_path, monkeypatch):
    """A worker killed mid-write leaves its temporary file: it must not be loaded."""
    real = runners.write_shard

    def killed_after_opening(url, config, format, shard, path):
        if shard.index == 2:
            from cauker.files.atomic_files import temporary_path

            # 0 bytes, as after a kill -9
            Path(temporary_path(str(tmp_path / path))).write_bytes(b"")
            raise Crash("killed")
        return real(url, config, format, shard, path)

    export(TINY, tmp_path, config_name="small", progress=False)
    monkeypatch.setattr(runners, "write_shard", killed_after_opening)
    changed = dataclasses.replace(TINY, num_series=20)
    with pytest.raises(Crash):
        export(changed, tmp_path, config_name="small", progress=False)
    temps = [p for p in (tmp_path / "data" / "small").iterdir() if ".tmp-" in p.name]
    assert len(temps) == 1 and temps[0].stat().st_size == 0
    loaded = datasets.load_dataset(str(tmp_path), "small", split="train")
    assert loaded["target"] == cauker.generate(TINY).column("target").to_pylist()


def test_damage_outside_the_data_pages_is_found_and_repaired(tmp_path, monkeypatch):
    """D5: the page index and the footer's key-value metadata are checked too."""
    export(TINY, tmp_path, config_name="small", progress=False)
    before = digest(tmp_path)
    folder = tmp_path / "data" / "small"
    shard = [folder / shard_name("train", i, 6, TINY) for i in range(6)]
    flip(shard[1], page_index_offset(shard[1]))
    flip(shard[2], footer_offset(shard[2], b'"mean_bank": "paper"'))  # cauker's config
    flip(shard[3], footer_offset(shard[3], b'"_type": "Value"'))  # datasets' features
    flip(shard[4], footer_offset(shard[4], b"content_defined_chunking"))  # a key
    written = []
    real = runners.write_shard
    monkeypatch.setattr(runners, "write_shard", lambda *a: written.append(a[3].index) or real(*a))
    export(TINY, tmp_path, config_name="small", progress=False)
    assert sorted(written) == [1, 2, 3, 4] and digest(tmp_path) == before


def test_a_users_file_at_a_shards_path_stops_the_export_before_any_work(tmp_path, monkeypatch):
    """D10: a file with no record and no cauker metadata is not cauker's to replace."""
    folder = tmp_path / "data" / "small"
    folder.mkdir(parents=True)
    mine = folder / shard_name("train", 2, 6, TINY)
    pq.write_table(cauker.generate(OTHER, stop=4), mine)  # a Parquet file, not cauker's
    before = mine.read_bytes()
    monkeypatch.setattr(runners, "write_shard", pytest.fail)
    with pytest.raises(ForeignFileError, match=f"{mine} was not written by cauker"):
        export(TINY, tmp_path, config_name="small", progress=False)
    assert mine.read_bytes() == before


def test_a_card_whose_cauker_block_cannot_be_merged_stops_the_export_before_any_work(
    tmp_path, monkeypatch
):
    """D6: a cauker: block without parameters was found only after every shard."""
    readme = tmp_path / "README.md"
    readme.write_text("---\ncauker:\n- config_name: old\n  fingerprint: abc\n---\n# Card\n")
    monkeypatch.setattr(runners, "write_shard", pytest.fail)
    with pytest.raises(ForeignFileError, match="has a 'cauker:' block that cannot be merged"):
        export(TINY, tmp_path, config_name="small", progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md"]


@pytest.mark.parametrize(
    "obstacle, kind",
    [
        ("images", "a file"),
        ("data", "a file"),
        ("data/small", "a file"),
        ("README.md", "a folder"),
        (f"images/small-{TINY_TAG}.png", "a folder"),
        (f"data/small/{RECORDS}", "a folder"),
    ],
)
def test_every_path_to_write_is_checked_before_any_work(obstacle, kind, tmp_path, monkeypatch):
    """D8: an images path that is a file, a README.md that is a folder..."""
    path = tmp_path / obstacle
    path.parent.mkdir(parents=True, exist_ok=True)
    path.mkdir() if kind == "a folder" else path.write_text("in the way")
    monkeypatch.setattr(runners, "write_shard", pytest.fail)
    with pytest.raises(ForeignFileError, match=f"{path} is {kind}, where cauker writes"):
        export(TINY, tmp_path, config_name="small", progress=False)


@pytest.mark.parametrize("link", ["data", "data/small", "images", "README.md"])
def test_links_where_the_export_writes_are_refused(link, tmp_path):
    export(TINY, tmp_path / "out", config_name="small", progress=False)
    path = tmp_path / "out" / link
    target = tmp_path / "outside" / path.name
    target.parent.mkdir()
    path.rename(target)
    path.symlink_to(target)
    outside = digest(tmp_path / "outside")
    for config in (TINY, dataclasses.replace(TINY, seed=3)):  # the stale files are removed
        with pytest.raises(ForeignFileError, match=f"{path} is a symbolic link"):
            export(config, tmp_path / "out", config_name="small", progress=False)
    assert digest(tmp_path / "outside") == outside


def test_a_failed_export_leaves_no_empty_folder(tmp_path, monkeypatch):
    """D12: the folders that a failed export created are removed if empty."""

    def crash(*args):
        raise Crash("the first shard fails")

    monkeypatch.setattr(runners, "write_shard", crash)
    with pytest.raises(Crash):
        export(TINY, tmp_path / "new", config_name="small", progress=False)
    assert not (tmp_path / "new").exists()
    (tmp_path / "mine").mkdir()
    with pytest.raises(Crash):
        export(TINY, tmp_path / "mine", config_name="small", progress=False)
    assert list((tmp_path / "mine").iterdir()) == []
