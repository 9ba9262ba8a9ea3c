"""What a generating process needs in memory is checked where work starts, not when a
config is built: a config is the same value on every machine."""

import time

import pytest

import cauker
from cauker import CauKerConfig
from cauker.files.corpus_folder import write_corpus_folder
from cauker.sampler.memory import check_memory


def test_length_is_bounded_by_the_memory_of_this_machine(monkeypatch):
    monkeypatch.setenv("CAUKER_MEMORY_GIB", "1")
    check_memory(CauKerConfig(num_series=10, length=4096))  # about 0.8 GiB: accepted
    long = CauKerConfig(num_series=10, length=8192)  # a value: the same on every machine
    with pytest.raises(ValueError) as info:
        check_memory(long)
    message = str(info.value)
    assert "length=8192 needs about 2.4 GiB" in message and "1.0 GiB" in message
    assert "length must be at most 4,587 here" in message  # the largest length that fits, named
    monkeypatch.setenv("CAUKER_MEMORY_GIB", "4")
    check_memory(long)
    assert CauKerConfig(num_series=10, length=8192).length == 8192
    monkeypatch.setenv("CAUKER_MEMORY_GIB", "lots")
    with pytest.raises(ValueError, match="CAUKER_MEMORY_GIB must be a positive number of GiB"):
        check_memory(CauKerConfig(num_series=10))


@pytest.mark.parametrize(
    "start",
    [
        lambda config, tmp: cauker.generate(config, stop=1),
        lambda config, tmp: next(cauker.iter_batches(config)),
        lambda config, tmp: cauker.export(config, tmp, num_proc=2, progress=False),
        lambda config, tmp: write_corpus_folder(config, tmp, "parquet", num_proc=2, progress=False),
        lambda config, tmp: cauker.load_dataset("10k", num_series=10, length=8192),
        lambda config, tmp: next(
            iter(cauker.load_dataset("10k", streaming=True, length=8192)["train"])
        ),
    ],
    ids=["generate", "iter_batches", "export", "generate-folder", "builder", "stream"],
)
def test_the_memory_of_this_machine_is_checked_where_work_starts(start, monkeypatch, tmp_path):
    monkeypatch.setenv("CAUKER_MEMORY_GIB", "1")
    cauker.sampler.rows._sampler.cache_clear()
    config = CauKerConfig(num_series=10, length=8192)
    start_time = time.perf_counter()
    with pytest.raises(ValueError, match="length=8192 needs about 2.4 GiB"):
        start(config, tmp_path / "out")
    assert time.perf_counter() - start_time < 5.0  # before any drawing
    assert not (tmp_path / "out").exists()  # nothing written, no folder made
