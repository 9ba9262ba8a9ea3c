"""Streams into training loops: any world size, any number of DataLoader workers,
endless splits, exact resume. Generation is counted, not only what is yielded."""

import collections
import inspect
import math
import os
import warnings

import pytest

torch = pytest.importorskip("torch")

from datasets.distributed import split_dataset_by_node  # noqa: E402
from torch.utils.data._utils import worker as torch_worker  # noqa: E402

import cauker  # noqa: E402
from cauker.errors import UnsplitStreamWarning  # noqa: E402
from cauker.hf import parts  # noqa: E402
from cauker.hf.streaming import STREAM_UNITS  # noqa: E402

# 64 graphs: as many as the 16 ranks x 4 workers of the largest split below.
# Small graphs, so that the 64 splits below generate the corpus quickly.
ROWS = 256
FIELDS = dict(num_series=ROWS, length=8, num_nodes=6, max_parents=2, max_kernels=3)


def stream(split="train", **fields):
    return cauker.load_dataset("10k", split=split, streaming=True, **{**FIELDS, **fields})


@pytest.fixture
def generated(monkeypatch):
    """Graphs generated, by (rank, worker), through the only generation call of streams."""
    counts: collections.Counter = collections.Counter()
    where = {"part": None}
    real = parts.graph_rows

    def counting(config, split, graphs, *, skip=0):
        counts[where["part"]] += len(graphs)
        return real(config, split, graphs, skip=skip)

    monkeypatch.setattr(parts, "graph_rows", counting)
    return counts, where


def iterate_as_worker(dataset, worker: int | None, num_workers: int) -> list[int]:
    """Iterate ``dataset`` as DataLoader worker ``worker`` of ``num_workers`` would:
    the code path of a worker process, run here so that generation can be counted."""
    if worker is None:
        return [row["index"] for row in dataset]
    info = torch_worker.WorkerInfo(id=worker, num_workers=num_workers, seed=0, dataset=dataset)
    torch_worker._worker_info = info
    try:
        return [row["index"] for row in dataset]
    finally:
        torch_worker._worker_info = None


def rank_stream(base, rank: int, world_size: int):
    """What a user does: split_dataset_by_node where it splits by shards, else cauker's way."""
    if STREAM_UNITS % world_size == 0:
        return split_dataset_by_node(base, rank=rank, world_size=world_size)
    return stream(rank=rank, world_size=world_size)


@pytest.mark.parametrize("world_size", range(1, 17))
def test_any_world_size_and_workers_generate_their_share_once(world_size, generated):
    counts, where = generated
    base = stream()
    for num_workers in (0, 1, 2, 4):
        counts.clear()
        seen = []
        parts_count = world_size * max(1, num_workers)
        for rank in range(world_size):
            node = rank_stream(base, rank, world_size)
            for worker in range(num_workers) if num_workers else [None]:
                where["part"] = (rank, worker)
                seen += iterate_as_worker(node, worker, num_workers)
        assert sorted(seen) == list(range(ROWS)), (world_size, num_workers)  # each row once
        share = ROWS / parts_count  # rows
        generated_rows = {part: 4 * graphs for part, graphs in counts.items()}
        assert len(generated_rows) == parts_count  # every rank and worker had work
        assert max(generated_rows.values()) <= 2 * share, (world_size, num_workers)
        assert sum(generated_rows.values()) == ROWS  # no graph generated twice


def test_parts_hold_the_bytes_of_the_whole_split():
    """Rows of strided graphs, drawn 128 at a time in other company, are the same bytes."""
    config = cauker.named_config("10k", **{**FIELDS, "num_series": 1100})  # > 2 batches
    whole = cauker.generate(config).to_pylist()
    for count, index in ((1, 0), (3, 2), (7, 4)):
        part = parts.Part().cut(count, index)
        rows = [r for b in part.iter_batches(config, "train") for r in b.to_pylist()]
        assert rows == [whole[i] for i in range(1100) if i // 4 % count == index]
    resumed = parts.Part().cut(3, 1).iter_batches(config, "train", position=9)
    assert next(resumed).to_pylist()[0] == whole[4 * (1 + 3 * 2) + 1]  # row 9 of the part


def test_split_by_node_covers_the_issue_world_sizes():
    sizes = [*range(1, 11), 12, 14, 15, 16, 20, 24, 28, 30, 32, 40, 48, 56, 60, 64]
    assert all(STREAM_UNITS % w == 0 for w in sizes) and STREAM_UNITS == math.lcm(*sizes)
    assert stream().num_shards == STREAM_UNITS


def test_other_world_sizes_by_shard_and_by_strategy(generated):
    counts, where = generated
    base = stream()
    ways = ["shard"]
    if "strategy" in inspect.signature(split_dataset_by_node).parameters:  # datasets >= 5
        ways.append("strategy")
    for how in ways:
        counts.clear()
        seen = []
        for rank in range(11):
            where["part"] = rank
            if how == "shard":
                part = base.shard(num_shards=11, index=rank, contiguous=False)
            else:
                part = split_dataset_by_node(base, rank=rank, world_size=11, strategy="shards")
            seen += [row["index"] for row in part]
        assert sorted(seen) == list(range(ROWS))
        assert max(counts.values()) * 4 <= 2 * ROWS / 11


def test_real_dataloader_worker_processes_split_a_rank(tmp_path):
    """Worker processes (fork), counted from inside them."""
    real = parts.graph_rows
    log = tmp_path / "generated"

    def logging_rows(config, split, graphs, *, skip=0):
        with open(log, "a") as f:
            f.write(f"{os.getpid()} {len(graphs)}\n")
        return real(config, split, graphs, skip=skip)

    parts.graph_rows = logging_rows
    try:
        seen = []
        for rank in range(3):
            node = split_dataset_by_node(stream(), rank=rank, world_size=3)
            node = node.select_columns(["index", "target"]).with_format("torch")
            loader = torch.utils.data.DataLoader(node, batch_size=32, num_workers=2)
            seen += [int(i) for batch in loader for i in batch["index"]]
    finally:
        parts.graph_rows = real
    assert sorted(seen) == list(range(ROWS))
    per_process = collections.Counter()
    for line in log.read_text().split("\n")[:-1]:
        pid, graphs = line.split()
        per_process[pid] += int(graphs)
    assert len(per_process) == 6 and os.getpid() not in per_process
    assert sum(per_process.values()) == ROWS // 4
    assert max(per_process.values()) * 4 <= 2 * ROWS / 6


def test_shuffled_stream_still_splits_and_covers():
    shuffled = stream().shuffle(seed=1, buffer_size=50)  # datasets interleaves 10 sub-parts
    first = [row["index"] for row in shuffled]
    assert sorted(first) == list(range(ROWS)) and first[:20] != list(range(20))
    shuffled.set_epoch(1)
    assert [row["index"] for row in shuffled] != first
    seen = []
    for rank in range(4):
        node = split_dataset_by_node(shuffled, rank=rank, world_size=4)
        for worker in range(2):
            seen += iterate_as_worker(node, worker, 2)
    assert sorted(seen) == list(range(ROWS))


def test_unsplit_stream_in_a_distributed_run_warns(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "11")
    with pytest.warns(UnsplitStreamWarning, match="every rank generates every row"):
        next(iter(split_dataset_by_node(stream(), rank=0, world_size=11)))  # 11 does not divide
    with pytest.warns(UnsplitStreamWarning, match=r"world_size=11\)"):
        next(iter(stream()))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnsplitStreamWarning)
        next(iter(stream(rank=3, world_size=11)))
        monkeypatch.setenv("WORLD_SIZE", "8")
        next(iter(split_dataset_by_node(stream(), rank=3, world_size=8)))


# -- endless streams --------------------------------------------------------


def test_endless_rows_are_the_rows_of_every_finite_corpus():
    endless = stream(num_series=None)
    first = [row for _, row in zip(range(40), endless)]
    assert [row["index"] for row in first] == list(range(40))
    finite = cauker.generate(cauker.named_config("10k", **FIELDS), stop=40).to_pylist()
    assert first == finite
    endless = cauker.named_config("10k", **{**FIELDS, "num_series": None})
    later = cauker.generate(endless, start=5000, stop=5004)
    finite = cauker.named_config("10k", **{**FIELDS, "num_series": 5004})
    assert later.equals(cauker.generate(finite, start=5000, stop=5004))


def test_endless_stream_splits_over_ranks_and_workers_with_no_row_twice(generated):
    counts, where = generated
    world_size, num_workers, take = 3, 2, 300
    seen = collections.Counter()
    base = stream(num_series=None)
    for rank in range(world_size):
        node = split_dataset_by_node(base, rank=rank, world_size=world_size)
        for worker in range(num_workers):
            where["part"] = (rank, worker)
            info = torch_worker.WorkerInfo(id=worker, num_workers=num_workers, seed=0, dataset=node)
            torch_worker._worker_info = info
            try:
                rows = iter(node)
                seen.update(next(rows)["index"] for _ in range(take))
            finally:
                torch_worker._worker_info = None
    assert max(seen.values()) == 1
    # Each part's rows are its first graphs: together, the first rows of the split.
    assert sorted(seen) == list(range(world_size * num_workers * take))
    assert all(graphs <= cauker.sampler.rows.GRAPHS_PER_BATCH for graphs in counts.values())


def test_endless_is_streaming_only(tmp_path):
    with pytest.raises(ValueError, match="num_series=None is an endless corpus"):
        cauker.load_dataset("10k", num_series=None, cache_dir=str(tmp_path))
    builder = cauker.hf.loading.builder("10k", num_series=None, cache_dir=str(tmp_path))
    with pytest.raises(ValueError, match="can only be streamed"):
        builder.download_and_prepare()
    config = cauker.named_config("10k", num_series=None)
    with pytest.raises(ValueError, match="stop must be given for split 'train' of an endless"):
        cauker.generate(config)
    assert config.split_size("validation") == 10_000  # a finite validation split
    both = stream(num_series=None, num_validation=6, split=None)
    assert sum(1 for _ in both["validation"]) == 6


def test_rank_of_both_splits():
    both = stream(split=None, rank=1, world_size=3)
    assert sorted(both) == ["train", "validation"]
    train = [row["index"] for row in both["train"]]
    assert train == [i for i in range(ROWS) if i // 4 % 3 == 1]  # the graphs 1 mod 3
    assert [row["index"] for row in both["validation"]] == []  # 2 rows, of graph 0 (rank 0)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"rank": 1}, "rank and world_size go together"),
        ({"rank": 4, "world_size": 4}, r"index must be in \[0, 3\] for world_size=4, got 4"),
        ({"rank": 0, "world_size": 0}, "world_size must be >= 1, got 0"),
        ({"rank": 0, "world_size": 2, "streaming": False}, "pass streaming=True"),
    ],
)
def test_bad_rank_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        cauker.load_dataset("10k", **{"streaming": True, **kwargs})


# -- exact resume -----------------------------------------------------------


@pytest.mark.parametrize("fields", [{}, {"num_series": None}, {"multivariate": True}])
def test_resume_continues_exactly_and_regenerates_at_most_one_batch(fields, generated):
    counts, where = generated
    per_graph = 1 if fields.get("multivariate") else 4
    batch = cauker.sampler.rows.GRAPHS_PER_BATCH
    # Stop inside the third batch: a resume from the start would generate 2 batches more.
    head, tail = (2 * batch + 5) * per_graph + 1, 50
    fields = {"num_series": 2000, **fields}
    where["part"] = "first run"
    original = stream(**fields)
    rows = iter(original)
    last = [next(rows) for _ in range(head)][-1]
    state = original.state_dict()
    expected = [next(rows)["index"] for _ in range(tail)]

    where["part"] = "resumed"
    resumed = stream(**fields)
    resumed.load_state_dict(state)
    got = [row for _, row in zip(range(tail), resumed)]
    assert [row["index"] for row in got] == expected == list(range(head, head + tail))
    assert got[0]["target"] != last["target"]
    needed = math.ceil((head + tail) / per_graph) - head // per_graph
    assert counts["resumed"] <= needed + batch


def test_resume_with_stateful_dataloader_workers():
    stateful = pytest.importorskip("torchdata.stateful_dataloader")

    def loader():
        data = stream(num_series=None).select_columns(["index", "target"]).with_format("torch")
        return stateful.StatefulDataLoader(data, batch_size=16, num_workers=2)

    first = loader()
    batches = iter(first)
    for _ in range(7):
        next(batches)
    state = first.state_dict()
    expected = [next(batches) for _ in range(5)]
    second = loader()
    second.load_state_dict(state)
    got = [batch for _, batch in zip(range(5), second)]
    for a, b in zip(expected, got):
        assert torch.equal(a["index"], b["index"]) and torch.equal(a["target"], b["target"])


def test_state_of_another_split_is_refused():
    three = split_dataset_by_node(stream(), rank=1, world_size=3)
    rows = iter(three)
    next(rows)
    state = three.state_dict()
    four = split_dataset_by_node(stream(), rank=1, world_size=4)
    four.load_state_dict(state)
    with pytest.raises(ValueError, match="resume with the same world size and number of workers"):
        next(iter(four))
