"""The datasets builder: named versioned configs, overrides, splits, streaming."""

import datasets
import pytest
from datasets.distributed import split_dataset_by_node

import cauker
from cauker_dataset import CauKer


def test_named_corpora_are_nested():
    small = cauker.generate(cauker.named_config("10k"), start=9_990, stop=10_000)
    large = cauker.generate(cauker.named_config("1m"), start=9_990, stop=10_000)
    assert small.equals(large)


def test_named_configs_carry_the_version_and_sizes():
    corpora, tasks = CauKer.BUILDER_CONFIGS[:4], CauKer.BUILDER_CONFIGS[4:]
    for config in corpora:
        assert str(config.version) == cauker.ALGORITHM_VERSION
    for config in tasks:
        assert str(config.version) == cauker.TASK_VERSION
    assert [c.name for c in corpora] == ["10k", "100k", "1m", "10m"]
    assert [c.num_series for c in corpora] == [10_000, 100_000, 1_000_000, 10_000_000]
    assert [c.name for c in tasks] == ["tasks-10k", "tasks-100k", "tasks-1m"]
    assert [c.num_tasks for c in tasks] == [10_000, 100_000, 1_000_000]


def test_task_cache_folders_are_named_by_the_fingerprint(tmp_path):
    """The builder's version of a task config is TASK_VERSION; its cache folder also
    names the fingerprint (which covers ALGORITHM_VERSION), so that a change of the
    series' algorithm never reads back a cache of other bytes."""
    builder = CauKer(config_name="tasks-10k", cache_dir=str(tmp_path), length=32)
    fingerprint = cauker.named_config("tasks-10k", length=32).fingerprint()[:8]
    assert builder.config_id.endswith(fingerprint)
    assert fingerprint in builder.cache_dir


def test_builder_config_is_a_builder_config_with_every_field_and_default():
    from cauker_dataset import CauKerBuilderConfig

    assert issubclass(CauKerBuilderConfig, datasets.BuilderConfig)
    config = CauKerBuilderConfig(name="x", length=64, mean_bank=("zero",))
    assert config.cauker_config() == cauker.CauKerConfig(
        num_series=10_000, length=64, mean_bank=("zero",)
    )
    assert CauKerBuilderConfig().cauker_config() == cauker.named_config("10k")


def test_overrides_get_their_own_cache_directory(tmp_path):
    a = CauKer(config_name="100k", cache_dir=str(tmp_path), length=1024, dag_depth=4)
    b = CauKer(config_name="100k", cache_dir=str(tmp_path), length=1024, dag_depth=4)
    c = CauKer(config_name="100k", cache_dir=str(tmp_path), length=1024)
    d = CauKer(config_name="100k", cache_dir=str(tmp_path))
    assert a.cache_dir == b.cache_dir
    assert len({a.cache_dir, c.cache_dir, d.cache_dir}) == 3
    assert a.config.cauker_config() == cauker.named_config("100k", length=1024, dag_depth=4)
    assert a.info.features["target"].length == 1024


def test_bad_override_fails_at_construction(tmp_path):
    with pytest.raises(ValueError, match="length must be >= 2, got 1"):
        CauKer(config_name="10k", cache_dir=str(tmp_path), length=1)
    with pytest.raises(ValueError, match="BuilderConfig '5k' not found"):
        CauKer(config_name="5k", cache_dir=str(tmp_path))


def test_prepare_is_identical_for_any_num_proc_and_matches_streaming(tmp_path):
    tables = []
    for num_proc in (None, 2):
        builder = CauKer(
            config_name="10k", cache_dir=str(tmp_path / f"p{num_proc}"), num_series=200, length=32
        )
        builder.download_and_prepare(num_proc=num_proc)
        tables.append(builder.as_dataset("train").data.table)
        assert builder.info.splits["train"].num_examples == 200
        assert builder.info.splits["validation"].num_examples == 2
    assert tables[0].equals(tables[1])
    assert (
        tables[0]
        .select(["index", "target"])
        .equals(
            cauker.generate(cauker.named_config("10k", num_series=200, length=32)).select(
                ["index", "target"]
            )
        )
    )
    stream = builder.as_streaming_dataset("train")
    # cauker.hf.streaming.STREAM_UNITS: any world size in the issue
    assert stream.num_shards == 20_160
    streamed = list(stream)
    assert [r["target"] for r in streamed] == tables[0].column("target").to_pylist()
    assert [r["kernel"] for r in streamed] == tables[0].column("kernel").to_pylist()


def test_no_validation_split(tmp_path):
    ds = cauker.load_dataset(
        "10k", num_series=8, length=16, num_validation=0, cache_dir=str(tmp_path)
    )
    assert list(ds) == ["train"] and ds["train"].num_rows == 8


def test_load_dataset_by_name(tmp_path):
    ds = cauker.load_dataset(
        "10k", split="validation", num_series=300, length=16, cache_dir=str(tmp_path)
    )
    assert isinstance(ds, datasets.Dataset) and len(ds) == 3
    stream = cauker.load_dataset("10k", streaming=True, num_series=300, length=16)
    assert isinstance(stream, datasets.IterableDatasetDict)
    assert next(iter(stream["validation"]))["target"] == ds[0]["target"]
    with pytest.raises(ValueError, match="split must be None, 'train' or 'validation', got 'test'"):
        cauker.load_dataset("10k", split="test")
    with pytest.raises(ValueError, match=r"unknown config field\(s\) \['lenght'\]"):
        cauker.load_dataset("10k", lenght=5)


def test_large_configs_stream_in_at_least_64_shards():
    for name in ("1m", "10m"):
        stream = CauKer(config_name=name).as_streaming_dataset("train")
        assert stream.num_shards >= 64


def streaming_indices(stream, **loader_args):
    import torch

    columns = stream.select_columns(["index", "target"]).with_format("torch")
    loader = torch.utils.data.DataLoader(columns, batch_size=16, **loader_args)
    return [int(i) for batch in loader for i in batch["index"]]


def test_dataloader_workers_read_different_shards():
    pytest.importorskip("torch")
    stream = CauKer(config_name="10k", num_series=160, length=16).as_streaming_dataset("train")
    indices = streaming_indices(stream, num_workers=2)
    assert sorted(indices) == list(range(160))  # every row once, none twice


def test_split_by_node_gives_disjoint_covering_parts():
    stream = CauKer(config_name="10k", num_series=160, length=16).as_streaming_dataset("train")
    parts = [
        [r["index"] for r in split_dataset_by_node(stream, rank=r, world_size=2)] for r in range(2)
    ]
    assert not set(parts[0]) & set(parts[1])
    assert sorted(parts[0] + parts[1]) == list(range(160))
    assert min(len(p) for p in parts) > 40
