"""Files sized for the Hub: the plan of files, and how they are written."""

import time

import pyarrow.parquet as pq
import pytest

import cauker
from cauker.files import shard_plan, writers
from cauker.files.shard_plan import (
    MAX_FILE_BYTES,
    MIN_FILE_BYTES,
    ShardPlan,
    plan_shards,
    row_bytes,
)
from cauker.hub.layout import export


def estimated_bytes(config, shard) -> int:
    return shard.num_rows * row_bytes(config)


@pytest.mark.parametrize("name", list(cauker.NAMED_SIZES))
@pytest.mark.parametrize("overrides", [{}, {"length": 2048}, {"multivariate": True}])
def test_files_are_worth_a_request_and_not_too_large(name, overrides):
    config = cauker.named_config(name, **overrides)
    for split in cauker.config.SPLITS:
        plan = plan_shards(config, split)
        whole = config.split_size(split) * row_bytes(config)
        assert sum(s.num_rows for s in plan) == config.split_size(split)
        assert [s.index for s in plan] == list(range(len(plan)))
        assert all(a.stop == b.start for a, b in zip(plan, plan[1:]))
        for shard in plan[:-1]:  # the last one holds the rest
            assert estimated_bytes(config, shard) >= min(MIN_FILE_BYTES, whole)
        assert all(estimated_bytes(config, s) <= MAX_FILE_BYTES for s in plan)
        assert len(plan) <= max(shard_plan.PARALLEL_FILES, whole / MAX_FILE_BYTES + 64)
        assert len(plan) & (len(plan) - 1) == 0 or len(plan) % 64 == 0


def test_named_configs_file_counts():
    counts = {
        name: len(plan_shards(cauker.named_config(name), "train")) for name in cauker.NAMED_SIZES
    }
    # 10k (21 MB) is one file; large corpora get the files that parallel export wants,
    # a power of two (8 GPUs split 1m and 10m by files).
    assert counts == {"10k": 1, "100k": 4, "1m": 32, "10m": 64}
    huge = plan_shards(cauker.named_config("10m", num_series=100_000_000), "train")
    assert len(huge) == 448 and len(huge) % 64 == 0  # 211 GB in files below 512 MiB


def test_a_huge_plan_is_lazy():
    started = time.perf_counter()
    most = cauker.config.MAX_ROWS  # 10^10 rows, 21 TB
    plan = plan_shards(cauker.CauKerConfig(num_series=most), "train")
    assert isinstance(plan, ShardPlan) and len(plan) > 10**4 and len(plan) % 64 == 0
    last = plan[-1]
    assert last.stop == most and last.index == len(plan) - 1
    assert plan[3].start == 3 * plan.rows_per_shard
    assert [s.index for s in plan[5:8]] == [5, 6, 7]
    assert time.perf_counter() - started < 0.5
    with pytest.raises(IndexError):
        plan[len(plan)]


def test_endless_corpus_has_no_files():
    with pytest.raises(ValueError, match="endless corpus .* cannot be written to files"):
        plan_shards(cauker.CauKerConfig(num_series=None), "train")
    with pytest.raises(ValueError, match="cannot be written to files"):
        export(cauker.CauKerConfig(num_series=None), "unused", progress=False)
    with pytest.raises(ValueError, match="cannot be written to files"):
        cauker.push_to_hub(cauker.CauKerConfig(num_series=None), "user/never-created")


def test_files_on_disk_hold_what_the_plan_estimates(tmp_path, monkeypatch):
    """Scaled down: 1 MiB files instead of 32, real bytes on disk."""
    monkeypatch.setattr(shard_plan, "MIN_FILE_BYTES", 2**20)
    config = cauker.CauKerConfig(num_series=2400, length=512)
    export(config, tmp_path, config_name="c", progress=False)
    files = sorted((tmp_path / "data" / "c").glob("train-*.parquet"))
    assert len(files) == len(plan_shards(config, "train")) >= 4
    sizes = [f.stat().st_size for f in files]
    assert min(sizes[:-1]) >= 0.85 * 2**20  # float32 series barely compress


def test_parquet_files_have_a_page_index_and_cheap_encodings(tmp_path, monkeypatch):
    monkeypatch.setattr(writers, "ROW_GROUP_BYTES", 100_000)
    config = cauker.CauKerConfig(num_series=600, length=64)
    export(config, tmp_path, config_name="c", progress=False)
    (path,) = (tmp_path / "data" / "c").glob("train-*.parquet")
    meta = pq.ParquetFile(path).metadata
    assert meta.num_rows == 600
    assert meta.num_row_groups == 2  # 600 rows of ~330 bytes in groups of >= 100 kB (512 + 88)
    for g in range(meta.num_row_groups):
        group = meta.row_group(g)
        columns = {
            group.column(c).path_in_schema: group.column(c) for c in range(group.num_columns)
        }
        assert all(c.has_offset_index and c.has_column_index for c in columns.values())
        target = columns["target.list.element"]
        assert "BYTE_STREAM_SPLIT" in target.encodings and not target.has_dictionary_page
        assert columns["kernel"].has_dictionary_page
    if writers.has_cdc():
        assert b"content_defined_chunking" in meta.metadata
    assert (
        pq.read_table(path)
        .select(["index", "target"])
        .equals(cauker.generate(config).select(["index", "target"]))
    )
