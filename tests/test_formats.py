"""The trainers' own formats: Arrow IPC files (`--format arrow`), GluonTS files
(`--format gluonts`), the Mantis array layout; and `generate` never claims to
have written what it did not."""

import json
import sys

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.dataset as pads
import pytest

import cauker
from cauker.cli import main
from cauker.files import runners

FIELDS = ["--num-series", "40", "--length", "32", "--quiet"]
CONFIG = cauker.named_config("10k", num_series=40, length=32)


def generate(capsys, out, *extra):
    code = main(["generate", "10k", *FIELDS, "--output-dir", str(out), *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def files(folder, split="train"):
    return sorted((folder / split).glob("*.arrow"))


def test_arrow_format_is_the_ipc_file_format_trainers_read(tmp_path, capsys):
    code, out, err = generate(capsys, tmp_path / "c", "--format", "arrow")
    assert code == 0, err
    assert "wrote 2 arrow file(s)" in out and "pyarrow.dataset.dataset(" in out
    train = files(tmp_path / "c")
    assert [p.read_bytes()[:6] for p in train] == [b"ARROW1"]  # not the IPC stream format
    expected = cauker.generate(CONFIG)
    # as the authors' Mantis script opens a corpus: a folder, or a list of files
    for source in (str(tmp_path / "c" / "train"), [str(p) for p in train]):
        assert pads.dataset(source, format="arrow").to_table().equals(expected)
    loaded = datasets.load_dataset("arrow", data_dir=str(tmp_path / "c"))
    assert sorted(loaded) == ["train", "validation"]
    assert loaded["train"]["target"] == expected.column("target").to_pylist()


@pytest.mark.parametrize("multivariate", [False, True, "range"])
def test_gluonts_format_opens_with_pyarrow_and_gluonts(tmp_path, capsys, multivariate):
    pytest.importorskip("gluonts.dataset.common")  # the hint below names it
    extra = ["--multivariate", "--num-series", "10"] if multivariate else []
    counts = {"series_per_graph": (1, 5), "max_lag": 2} if multivariate == "range" else {}
    if counts:
        extra += ["--series-per-graph", "1:5", "--max-lag", "2"]
    code, out, err = generate(capsys, tmp_path / "g", "--format", "gluonts", *extra)
    assert code == 0, err
    assert "FileDataset(" in out
    config = cauker.named_config("10k", num_series=10 if multivariate else 40, length=32)
    fields = {**config.to_dict(), "multivariate": bool(multivariate), **counts}
    config = cauker.named_config("10k", **fields)
    expected, mask = cauker.series_array(cauker.generate(config), mask=True)
    expected = [x[m] for x, m in zip(expected, mask)]
    assert (len({len(x) for x in expected}) > 1) == bool(counts)
    table = pads.dataset([str(p) for p in files(tmp_path / "g")], format="arrow").to_table()
    assert table.schema.field("start").type == pa.timestamp("s")
    assert pa.types.is_list(table.schema.field("target").type)  # as GluonTS writes it
    assert table.column("index").to_pylist() == list(range(len(expected)))
    assert "edges" not in table.column_names  # GluonTS cannot read a row with none
    hint = out.split("load them with: ")[1].strip()  # the line printed: it loads them
    assert ("one_dim_target=False" in hint) == bool(multivariate)
    entries = list(eval(hint, {"gluonts": sys.modules["gluonts"]}))
    assert len(entries) == len(expected)
    for entry, series in zip(entries, expected):
        target = entry["target"]
        assert target.dtype == np.float32
        assert np.array_equal(target, series[0] if not multivariate else series)
        assert str(entry["start"]) == "2000-01-01 00:00"


@pytest.mark.parametrize("format", ["parquet", "arrow"])
def test_files_hold_rows_of_any_channel_count(tmp_path, capsys, format):
    extra = ["--multivariate", "--series-per-graph", "2:7", "--max-lag", "1", "--format", format]
    code, _, err = generate(capsys, tmp_path / "v", *extra)
    assert code == 0, err
    config = cauker.named_config(
        "10k", num_series=40, length=32, multivariate=True, series_per_graph=(2, 7), max_lag=1
    )
    paths = sorted((tmp_path / "v" / "train").glob(f"*.{format}"))
    table = pads.dataset([str(p) for p in paths], format="ipc" if format == "arrow" else format)
    assert table.to_table().equals(cauker.generate(config))


def test_mantis_layout_is_samples_channels_length():
    rows = cauker.generate(CONFIG)
    x = cauker.series_array(rows)
    assert x.shape == (40, 1, 32) and x.dtype == np.float32 and x.flags.writeable
    assert np.array_equal(x[7, 0], np.asarray(rows.column("target")[7].as_py(), dtype=np.float32))
    multi = cauker.generate(cauker.named_config("10k", num_series=5, length=32, multivariate=True))
    assert cauker.series_array(multi).shape == (5, 4, 32)
    ds = datasets.Dataset(rows).select([3, 1])  # a Dataset, with an indices mapping
    assert np.array_equal(cauker.series_array(ds), x[[3, 1]])
    with pytest.raises(ValueError, match="rows must be a pyarrow Table"):
        cauker.series_array([1, 2])


def test_other_format_of_the_same_corpus_is_refused_then_replaced(tmp_path, capsys):
    out = tmp_path / "ow"
    assert generate(capsys, out)[0] == 0  # parquet
    parquet = sorted(p.name for p in out.rglob("*.parquet"))
    assert parquet == ["train-00000-of-00001.parquet", "validation-00000-of-00001.parquet"]
    code, stdout, err = generate(capsys, out, "--format", "arrow")
    assert code == 2 and "wrote" not in stdout
    assert "already holds this corpus as parquet files; pass --overwrite" in err
    assert sorted(p.name for p in out.rglob("*.parquet")) == parquet and not files(out)
    code, stdout, err = generate(capsys, out, "--format", "arrow", "--overwrite")
    assert code == 0 and "wrote 2 arrow file(s)" in stdout, err
    assert not list(out.rglob("*.parquet")) and len(files(out)) == 1
    assert json.loads((out / "cauker.json").read_text())["format"] == "arrow"


def test_same_corpus_again_writes_nothing_and_says_so(tmp_path, capsys):
    out = tmp_path / "again"
    assert generate(capsys, out, "--format", "gluonts")[0] == 0
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*.arrow")}
    code, stdout, _ = generate(capsys, out, "--format", "gluonts")
    assert code == 0
    assert "already holds this corpus (2 gluonts file(s), verified); nothing written" in stdout
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.arrow")} == before


def test_interrupted_ipc_generate_resumes(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cauker.files.shard_plan, "LOCAL_MIN_FILE_BYTES", 1)  # several files
    real = runners.write_shard
    written = []

    def crashing(url, config, format, shard, path):
        if len(written) == 3:
            raise KeyboardInterrupt
        written.append(shard.index)
        return real(url, config, format, shard, path)

    monkeypatch.setattr(runners, "write_shard", crashing)
    assert generate(capsys, tmp_path / "a", "--format", "arrow")[0] == 130
    assert len(files(tmp_path / "a")) == 3 and not list((tmp_path / "a").rglob(".*tmp*"))
    monkeypatch.setattr(runners, "write_shard", real)
    assert generate(capsys, tmp_path / "a", "--format", "arrow")[0] == 0
    assert generate(capsys, tmp_path / "b", "--format", "arrow")[0] == 0
    a, b = (sorted((tmp_path / d).rglob("*.arrow")) for d in "ab")
    assert len(a) == 10 + 1 and [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
