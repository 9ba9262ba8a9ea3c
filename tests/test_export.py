"""Export in the Hub layout: loadable by name, merged configs, resumable after a crash."""

import dataclasses
import hashlib
from pathlib import Path

import datasets
import pyarrow.parquet as pq
import pytest
from huggingface_hub import DatasetCard

import cauker
from cauker import hub_layout as export_module
from cauker.hub_layout import export

pytestmark = pytest.mark.usefixtures("small_files")  # many files from small corpora

SMALL = cauker.CauKerConfig(num_series=120, length=32)
OTHER = cauker.CauKerConfig(num_series=40, length=16, seed=9, dag_depth=2)


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
    files = sorted(p.name for p in (tmp_path / "data" / "small").iterdir())
    assert (
        files[0] == "train-00000-of-00030.parquet"
        and files[-1] == "validation-00000-of-00001.parquet"
    )
    assert (tmp_path / "images" / "small.png").stat().st_size > 10_000


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
    assert configs["small"]["data_files"][0] == {"split": "train", "path": "data/small/train-*"}
    assert card.data.license == "apache-2.0" and card.data.size_categories == ["n<1K"]
    text = card.text
    assert f"| `small` | {cauker.ALGORITHM_VERSION} | 120 | 32 |" in text
    assert "![small samples](images/small.png)" in text and "arXiv:2508.02879" in text


class Crash(RuntimeError):
    pass


def test_crash_keeps_complete_shards_and_resume_skips_them(tmp_path, monkeypatch):
    real = export_module.write_shard
    calls = []

    def crashing(url, name, config, shard):
        if len(calls) == 7:
            raise Crash("simulated crash")
        calls.append(shard.index)
        return real(url, name, config, shard)

    monkeypatch.setattr(export_module, "write_shard", crashing)
    with pytest.raises(Crash):
        export(SMALL, tmp_path / "out", config_name="small", progress=False)
    folder = tmp_path / "out" / "data" / "small"
    on_disk = sorted(p.name for p in folder.iterdir())
    assert on_disk == [f"train-{i:05d}-of-00030.parquet" for i in range(7)]  # no temp files
    for name in on_disk:
        assert pq.read_metadata(folder / name).num_rows == 4

    calls.clear()
    monkeypatch.setattr(
        export_module, "write_shard", lambda *a: calls.append(a[3].index) or real(*a)
    )
    export(SMALL, tmp_path / "out", config_name="small", progress=False)
    assert calls == list(range(7, 30)) + [0]  # the rest of train, then validation shard 0
    export(SMALL, tmp_path / "clean", config_name="small", progress=False)
    assert digest(tmp_path / "out") == digest(tmp_path / "clean")


def test_damaged_or_foreign_shards_are_rewritten(tmp_path):
    export(SMALL, tmp_path, config_name="small", progress=False)
    before = digest(tmp_path)
    folder = tmp_path / "data" / "small"
    (folder / "train-00003-of-00030.parquet").write_bytes(b"PAR1 truncated")
    other = cauker.generate(dataclasses.replace(SMALL, seed=1), stop=4)
    pq.write_table(other, folder / "train-00004-of-00030.parquet")  # right size, wrong config
    export(SMALL, tmp_path, config_name="small", progress=False)
    assert digest(tmp_path) == before


def test_stale_shards_of_an_older_plan_are_removed(tmp_path):
    export(SMALL, tmp_path, config_name="small", progress=False)
    smaller = dataclasses.replace(SMALL, num_series=20)
    export(smaller, tmp_path, config_name="small", progress=False)
    names = sorted(p.name for p in (tmp_path / "data" / "small").iterdir())
    assert names == [f"train-{i:05d}-of-00005.parquet" for i in range(5)] + [
        "validation-00000-of-00001.parquet"
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
        ({"num_proc": 0}, "num_proc must be a positive integer or None, got 0"),
    ],
)
def test_bad_arguments(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        export(SMALL, tmp_path, progress=False, **kwargs)
    assert not any(tmp_path.iterdir())  # nothing written
