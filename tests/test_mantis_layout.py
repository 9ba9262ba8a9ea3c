"""``cauker.as_mantis``: the layout MantisTrainer.pretrain reads, as views of the
corpus' Arrow buffers, and the batching of rows with different channel counts."""

from __future__ import annotations

import datasets
import numpy as np
import pyarrow as pa
import pytest
import torch

import cauker
from cauker.errors import ParameterError
from cauker.hf.mantis import ChannelCountBatches

UNIVARIATE = cauker.CauKerConfig(num_series=64, length=64)
FIXED = cauker.CauKerConfig(num_series=24, length=64, multivariate=True, series_per_graph=3)
RANGE = cauker.CauKerConfig(num_series=40, length=64, multivariate=True, series_per_graph=(1, 6))


def on_disk(config, tmp_path) -> datasets.Dataset:
    """Rows saved by datasets and loaded back: a memory-mapped Dataset."""
    rows = datasets.Dataset(datasets.table.InMemoryTable(cauker.generate(config)))
    rows.save_to_disk(str(tmp_path / "rows"))
    loaded = datasets.load_from_disk(str(tmp_path / "rows"))
    assert isinstance(loaded.data, datasets.table.MemoryMappedTable)
    return loaded


def float_buffer(array) -> tuple[int, int]:
    """Where the floats of ``array`` (nested lists of floats) start, and their bytes."""
    while pa.types.is_list(array.type) or pa.types.is_fixed_size_list(array.type):
        array = array.flatten()
    buffer = array.buffers()[1]
    return buffer.address + array.offset * 4, len(array) * 4


@pytest.mark.parametrize("config", [UNIVARIATE, FIXED, RANGE], ids=["uni", "fixed", "range"])
@pytest.mark.parametrize("per_channel", [False, True])
def test_views_share_the_memory_map_of_the_corpus(tmp_path, config, per_channel):
    loaded = on_disk(config, tmp_path)
    view = cauker.as_mantis(loaded, per_channel=per_channel)
    for ours, theirs in zip(view.data.column("data").chunks, loaded.data.column("target").chunks):
        assert float_buffer(ours) == float_buffer(theirs)  # the same bytes, not a copy
    x, mask = cauker.series_array(loaded, mask=True)
    if per_channel or not config.multivariate:
        assert len(view) == int(mask.sum())
        assert torch.equal(view[len(view) - 1]["data"], torch.from_numpy(x[mask][-1:]))
    else:
        assert len(view) == len(loaded)
        for i in (0, len(view) - 1):
            assert torch.equal(view[i]["data"], torch.from_numpy(x[i, mask[i]]))


def test_a_table_of_memory_mapped_ipc_files_is_read_in_place(tmp_path):
    from cauker.cli import main

    args = ["generate", "10k", "--num-series", "40", "--length", "64", "--format", "arrow"]
    assert main([*args, "--output-dir", str(tmp_path / "c"), "--quiet"]) == 0
    (file,) = sorted((tmp_path / "c" / "train").glob("*.arrow"))
    mapped = pa.memory_map(str(file))
    table = pa.ipc.open_file(mapped).read_all()
    view = cauker.as_mantis(table)
    start, size = float_buffer(view.data.column("data").chunks[0])
    assert size == 40 * 64 * 4
    mapped.seek(0)
    whole = mapped.read_buffer()  # the whole mapping, in place
    assert whole.address <= start and start + size <= whole.address + whole.size


def test_shuffled_rows_keep_their_indices_mapping():
    rows = datasets.Dataset(datasets.table.InMemoryTable(cauker.generate(FIXED)))
    shuffled = rows.shuffle(seed=3)
    view = cauker.as_mantis(shuffled)
    assert torch.equal(view[0]["data"], torch.tensor(shuffled[0]["target"]))
    with pytest.raises(ParameterError, match="indices mapping"):
        cauker.as_mantis(shuffled, per_channel=True)


def test_rows_of_one_count_batch_together():
    rows = datasets.Dataset(datasets.table.InMemoryTable(cauker.generate(RANGE)))
    sampler = ChannelCountBatches(rows, batch_size=4, seed=1)
    loader = torch.utils.data.DataLoader(cauker.as_mantis(rows), batch_sampler=sampler)
    seen, counts = [], []
    for batch in loader:  # the default collate: one shape per batch
        assert batch["data"].ndim == 3 and batch["data"].shape[0] <= 4
        counts.append(batch["data"].shape[1])
    for indices in sampler:
        seen += indices
    assert sorted(seen) == list(range(40)) and len(set(counts)) == 6
    assert len(list(loader)) == len(sampler)
    sampler.set_epoch(1)
    assert list(sampler) != list(ChannelCountBatches(rows, batch_size=4, seed=1))


def test_a_stream_is_refused_with_the_way_out():
    stream = datasets.Dataset.from_dict({"target": [[0.0, 1.0]]}).to_iterable_dataset()
    with pytest.raises(ParameterError, match="MantisTrainer.pretrain takes no stream"):
        cauker.as_mantis(stream)
    with pytest.raises(ParameterError, match="'target' column"):
        cauker.as_mantis(datasets.Dataset.from_dict({"data": [[0.0]]}))


def test_mantis_trainer_pretrains_on_the_view(tmp_path):
    """A tiny CPU run of MantisTrainer.pretrain on as_mantis of a variable-count corpus
    read from disk: every channel a (1, L) series, as Mantis-8M's network reads them."""
    pytest.importorskip("mantis")
    from mantis.architecture import Mantis8M
    from mantis.trainer import MantisTrainer

    config = cauker.CauKerConfig(
        num_series=12, length=512, multivariate=True, series_per_graph=(1, 4), max_lag=2
    )
    view = cauker.as_mantis(on_disk(config, tmp_path), per_channel=True)
    assert type(view) is datasets.Dataset  # MantisTrainer checks type(x) == Dataset
    torch.manual_seed(0)
    network = Mantis8M(
        hidden_dim=32, transf_depth=1, transf_num_heads=2, transf_mlp_dim=32,
        transf_dim_head=16, device="cpu", pre_training=True,
    )  # fmt: skip
    before = [p.detach().clone() for p in network.parameters()]
    trainer = MantisTrainer(device="cpu", network=network)
    trainer.pretrain(view, num_epochs=1, batch_size=8, data_parallel=False)
    changed = [not torch.equal(a, b) for a, b in zip(before, network.parameters())]
    assert sum(changed) > len(changed) // 2
    assert np.isfinite([p.detach().sum().item() for p in network.parameters()]).all()
