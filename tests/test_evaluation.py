"""Tests of ``cauker.evaluation``: loading real data, the protocol, the report and the CLI.

The smoke runs use a tiny corpus (length 64, a few hundred series, a few steps)
and a small synthetic dataset written in UCR formats, so they take seconds.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import cauker
from cauker.evaluation import EvaluationReport, load_datasets, resample, shipped_datasets
from cauker.evaluation import cli as evaluation_cli
from cauker.evaluation.corpus import kernelsynth_of, load_series, resolve_corpus

torch = pytest.importorskip("torch")

from cauker.evaluation import evaluate  # noqa: E402
from cauker.evaluation.pretrain import crop_and_resize, info_nce  # noqa: E402

TINY = cauker.CauKerConfig(num_series=512, length=64, num_nodes=6, max_parents=2, max_kernels=3)
FAST = dict(series=192, steps=3, batch_size=32, progress=False, workers=1)


# ------------------------------------------------------------------ fixtures


def _toy_split(rng: np.random.Generator, n: int, lengths=(40, 40)) -> tuple[list, list]:
    """Two classes: a noisy sine and a noisy square wave, of random phase."""
    series, labels = [], []
    for i in range(n):
        length = int(rng.integers(lengths[0], lengths[1] + 1))
        t = np.linspace(0, 4 * np.pi, length) + rng.uniform(0, 2 * np.pi)
        label = i % 2
        wave = np.sin(t) if label == 0 else np.sign(np.sin(t))
        series.append(wave + 0.3 * rng.standard_normal(length))
        labels.append(label)
    return series, labels


def _write_ts(path, series, labels, *, univariate=True, classes=True):
    lines = [
        "# a comment",
        "@problemName Toy",
        "@timeStamps false",
        f"@univariate {str(univariate).lower()}",
        f"@classLabel {'true 0 1' if classes else 'false'}",
        "@data",
    ]
    for s, y in zip(series, labels, strict=True):
        lines.append(",".join(f"{v:.6f}" for v in s) + f":{y}")
    path.write_text("\n".join(lines) + "\n")


def _write_tsv(path, series, labels):
    width = max(len(s) for s in series)
    rows = []
    for s, y in zip(series, labels, strict=True):
        padded = list(s) + [np.nan] * (width - len(s))
        rows.append("\t".join([f"{float(y):.7e}"] + [f"{v:.6f}" for v in padded]))
    path.write_text("\n".join(rows) + "\n")


def _write_arff(path, series, labels):
    lines = ["@relation Toy"] + [f"@attribute att{i} numeric" for i in range(len(series[0]))]
    lines += ["@attribute target {0,1}", "@data"]
    lines += [
        ",".join(f"{v:.6f}" for v in s) + f",{y}" for s, y in zip(series, labels, strict=True)
    ]
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    """A folder ``Toy`` with ``Toy_TRAIN.ts`` / ``Toy_TEST.ts``, plus the raw splits."""
    rng = np.random.default_rng(0)
    train, test = _toy_split(rng, 40), _toy_split(rng, 60)
    folder = tmp_path_factory.mktemp("ucr") / "Toy"
    folder.mkdir()
    _write_ts(folder / "Toy_TRAIN.ts", *train)
    _write_ts(folder / "Toy_TEST.ts", *test)
    return folder, train, test


# ------------------------------------------------------------------ resampling


def test_resample_keeps_same_length_and_linear_functions():
    x = np.random.default_rng(1).standard_normal((3, 50))
    np.testing.assert_allclose(resample(x, 50), x, atol=1e-6)
    line = 2.0 * np.arange(17) - 3.0
    out = resample([line], 101)[0]
    np.testing.assert_allclose(out, np.linspace(line[0], line[-1], 101), atol=1e-5)


def test_resample_interpolates_between_points_and_handles_missing_values():
    out = resample([np.array([0.0, 10.0])], 5)[0]
    np.testing.assert_allclose(out, [0.0, 2.5, 5.0, 7.5, 10.0])
    padded = np.array([1.0, np.nan, 3.0, np.nan, np.nan])  # interior gap, trailing padding
    np.testing.assert_allclose(resample([padded], 3)[0], [1.0, 2.0, 3.0])
    assert resample([np.array([np.nan, 4.0])], 4).tolist() == [[4.0] * 4]
    assert resample([np.full(5, np.nan)], 4).tolist() == [[0.0] * 4]
    ragged = resample([np.arange(10.0), np.arange(300.0)], 64)
    assert ragged.shape == (2, 64) and ragged.dtype == np.float32
    np.testing.assert_allclose(ragged[1], np.linspace(0, 299, 64), rtol=1e-6)


@pytest.mark.parametrize("length", [1, 0, 2.5, True])
def test_resample_rejects_bad_length(length):
    with pytest.raises(ValueError, match="length"):
        resample([np.arange(4.0)], length)


# ------------------------------------------------------------------ loading


def test_formats_load_identically(toy, tmp_path):
    folder, train, test = toy
    reference = load_datasets(str(folder))[0]
    assert reference.name == "Toy" and reference.classes == ("0", "1")
    assert len(reference.x_train) == 40 and len(reference.x_test) == 60
    for ext, writer in ((".tsv", _write_tsv), (".arff", _write_arff)):
        other = tmp_path / ext.strip(".") / "Toy"
        other.mkdir(parents=True)
        writer(other / f"Toy_TRAIN{ext}", *train)
        writer(other / f"Toy_TEST{ext}", *test)
        loaded = load_datasets(str(other / f"Toy_TRAIN{ext}"))[0]
        np.testing.assert_array_equal(loaded.y_train, reference.y_train)
        np.testing.assert_allclose(loaded.resampled(32)[1], reference.resampled(32)[1], atol=1e-5)
    npz = tmp_path / "Toy.npz"
    np.savez(
        npz, X_train=np.stack(train[0]), y_train=train[1], X_test=np.stack(test[0]), y_test=test[1]
    )
    loaded = load_datasets(str(npz))[0]
    np.testing.assert_array_equal(loaded.y_test, reference.y_test)


def test_unequal_lengths_and_archive_folders(tmp_path):
    rng = np.random.default_rng(2)
    for name in ("Alpha", "Beta"):
        (tmp_path / name).mkdir()
        _write_ts(tmp_path / name / f"{name}_TRAIN.ts", *_toy_split(rng, 10, (20, 60)))
        _write_tsv(tmp_path / name / f"{name}_TEST.tsv", *_toy_split(rng, 10, (20, 60)))
        _write_ts(tmp_path / name / f"{name}_TEST.ts", *_toy_split(rng, 10, (20, 60)))
    loaded = load_datasets(str(tmp_path))
    assert [d.name for d in loaded] == ["Alpha", "Beta"]
    lengths = {len(s) for s in loaded[0].x_train}
    assert len(lengths) > 1 and resample(loaded[0].x_train, 48).shape == (10, 48)


def test_loading_errors_name_the_problem(tmp_path):
    with pytest.raises(ValueError, match="NoSuchDataset.*never downloads"):
        load_datasets("NoSuchDataset")
    with pytest.raises(ValueError, match="no UCR dataset"):
        load_datasets(str(tmp_path))
    multi = tmp_path / "Multi"
    multi.mkdir()
    for split in ("TRAIN", "TEST"):
        (multi / f"Multi_{split}.ts").write_text(
            "@problemName Multi\n@univariate false\n@classLabel true a b\n@data\n1,2:3,4:a\n"
        )
    with pytest.raises(ValueError, match="univariate"):
        load_datasets(str(multi))
    regression = tmp_path / "Reg"
    regression.mkdir()
    for split in ("TRAIN", "TEST"):
        _write_ts(regression / f"Reg_{split}.ts", [np.zeros(3)], [1.5], classes=False)
    with pytest.raises(ValueError, match="class labels"):
        load_datasets(str(regression))
    with pytest.raises(ValueError, match="datasets"):
        load_datasets("")


def test_shipped_datasets_are_ucr_and_load_offline():
    shipped = shipped_datasets()
    if not shipped:
        pytest.skip("no package shipping UCR data is installed (pip install 'cauker[eval]')")
    assert "UnitTest" not in shipped
    first = load_datasets(next(iter(shipped)).lower())[0]
    assert first.name in shipped and len(first.x_train) > 0


def test_raw_random_forest_is_sane_on_gunpoint():
    from cauker.evaluation.protocol import accuracies

    if "GunPoint" not in shipped_datasets():
        pytest.skip("GunPoint is not shipped by an installed package")
    gunpoint = load_datasets("GunPoint")[0]
    train_x, test_x = gunpoint.resampled(512)
    scores = accuracies(train_x, gunpoint.y_train, test_x, gunpoint.y_test, seed=0)
    # Published 1-NN/RF results on GunPoint are ~90%; chance is 50%.
    assert 80.0 <= scores["rf"] <= 100.0
    assert scores["logreg"] >= 70.0


# ------------------------------------------------------------------ corpora


def test_parquet_folder_and_config_give_the_same_series(tmp_path):
    table = cauker.generate(TINY, stop=100)
    (tmp_path / "data").mkdir()
    pq.write_table(table.slice(0, 60), tmp_path / "data" / "train-00000.parquet")
    pq.write_table(table.slice(60), tmp_path / "data" / "train-00001.parquet")
    from_path = resolve_corpus(tmp_path)
    assert from_path.length == 64
    np.testing.assert_array_equal(load_series(from_path, 80), load_series(resolve_corpus(TINY), 80))
    variable = pa.table({"target": pa.array([[0.0, 1.0, 2.0]] * 4, type=pa.list_(pa.float64()))})
    pq.write_table(variable, tmp_path / "variable.parquet")
    assert load_series(resolve_corpus(tmp_path / "variable.parquet"), 10).shape == (4, 3)


def test_seed_draws_shift_the_config_seed_only():
    corpus = resolve_corpus(TINY)
    assert corpus.draw(0) == corpus
    assert corpus.draw(2).config == dataclasses.replace(TINY, seed=TINY.seed + 2)
    assert not np.array_equal(load_series(corpus, 8), load_series(corpus.draw(1), 8))


def test_kernelsynth_ablation_is_the_configured_one():
    ablation = kernelsynth_of(TINY)
    assert ablation.dag_depth == 0 and ablation.mean_bank == "zero"
    assert ablation.max_kernels == TINY.max_kernels and ablation.length == TINY.length


# ------------------------------------------------------------------ pretraining pieces


def test_views_and_loss():
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(4, 32)
    torch.testing.assert_close(crop_and_resize(x, 0.0, generator), x)
    cropped = crop_and_resize(torch.arange(32.0).repeat(4, 1), 0.5, generator)
    assert (cropped[:, -1] - cropped[:, 0] >= 15.5 - 1e-4).all()  # at least half the window kept
    a = torch.randn(8, 16)
    assert info_nce(a, a, 0.1) < info_nce(a, torch.randn(8, 16), 0.1)


# ------------------------------------------------------------------ the protocol end to end


@pytest.fixture(scope="module")
def smoke_report(toy):
    return evaluate(TINY, datasets=str(toy[0]), **FAST)


def test_smoke_run_reports_every_method(smoke_report, tmp_path):
    report = smoke_report
    assert report.methods == ["candidate", "reference", "random_init", "raw"]
    assert report.reference["config"]["dag_depth"] == 0
    for method in report.methods:
        assert set(report.results[method]) == {"0", "1"}
        for seed_scores in report.results[method].values():
            for value in seed_scores["Toy"].values():
                assert 0.0 <= value <= 100.0
    # The toy problem (sine vs square wave) is easy from raw series.
    assert report.mean("raw") >= 80.0
    table = report.format_table()
    assert "random init" in table and "Toy" in table and "Verdicts" in table
    path = report.to_json(tmp_path / "out" / "report.json")
    data = json.loads(path.read_text())
    assert data["summary"]["candidate"]["rf"]["per_seed"].keys() == {"0", "1"}
    assert EvaluationReport.from_dict(data).results == report.results


def test_fixed_seeds_give_identical_results(smoke_report, toy):
    again = evaluate(TINY, datasets=str(toy[0]), **FAST)
    assert again.results == smoke_report.results
    assert (
        again.settings["pretraining_loss"]["candidate"]["0"]["last"]
        == (smoke_report.settings["pretraining_loss"]["candidate"]["0"]["last"])
    )
    losses = smoke_report.settings["pretraining_loss"]["candidate"]
    assert losses["0"]["last"] != losses["1"]["last"]


def test_worker_processes_give_the_same_results(smoke_report, toy):
    in_pool = evaluate(TINY, datasets=str(toy[0]), **{**FAST, "workers": 2})
    assert in_pool.settings["workers"] == 2
    assert in_pool.results == smoke_report.results


def test_reference_none_same_corpus_and_kernelsynth_candidate(toy):
    fast = {k: v for k, v in FAST.items() if k != "seeds"}
    report = evaluate(
        TINY, reference=None, baselines=False, datasets=str(toy[0]), seeds=(3,), **fast
    )
    assert report.methods == ["candidate"] and report.reference is None
    same = evaluate(TINY, reference=TINY, datasets=str(toy[0]), baselines=False, **fast)
    assert same.reference is None and "reference" in same.notes[0]
    # A KernelSynth candidate is compared with the CauKer config it ablates.
    ablation = evaluate(kernelsynth_of(TINY), datasets=str(toy[0]), baselines=False, **fast)
    assert ablation.reference["config"]["dag_depth"] is None
    assert ablation.reference["config"]["mean_bank"] == "paper"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"series": 0}, "series"),
        ({"steps": -1}, "steps"),
        ({"batch_size": 1}, "batch_size"),
        ({"seeds": []}, "seeds"),
        ({"seeds": [0, 0]}, "seeds"),
        ({"workers": 0}, "workers"),
        ({"threads": 0}, "threads"),
        ({"corpus": "no-such-config"}, "corpus"),
        ({"reference": "no-such-config"}, "reference"),
        ({"reference": cauker.CauKerConfig(num_series=10, length=32)}, "reference"),
        ({"datasets": "NoSuchDataset"}, "NoSuchDataset"),
    ],
)
def test_bad_input_raises_value_error_naming_it(kwargs, message, toy):
    arguments = {"corpus": TINY, "datasets": str(toy[0]), **FAST, **kwargs}
    with pytest.raises(ValueError, match=message):
        evaluate(arguments.pop("corpus"), **arguments)


# ------------------------------------------------------------------ decision rule


def _report(candidate: list[list[float]], reference: list[list[float]]) -> EvaluationReport:
    """A report from per-seed lists of per-dataset accuracies."""
    names = [f"d{i}" for i in range(len(candidate[0]))]

    def block(rows):
        return {
            str(seed): {n: {"rf": v, "logreg": v} for n, v in zip(names, row, strict=True)}
            for seed, row in enumerate(rows)
        }

    return EvaluationReport(
        corpus={"label": "candidate"},
        reference={"label": "reference"},
        datasets=[{"name": n} for n in names],
        settings={"length": 64, "series": 1, "steps": 1, "batch_size": 2},
        results={"candidate": block(candidate), "reference": block(reference)},
        timings={},
        environment={},
    )


def test_decision_rule():
    better = _report([[80, 70, 60], [81, 71, 61]], [[77, 67, 58], [77, 68, 58]])
    assert better.compare()["verdict"] == "better"
    assert better.compare()["wins"] == 3
    worse = _report([[77, 67, 58], [77, 68, 58]], [[80, 70, 60], [81, 71, 61]])
    assert worse.compare()["verdict"] == "worse"
    small = _report([[80, 70, 60], [80, 70, 60]], [[79, 69, 59], [79, 69, 59]])
    assert small.compare()["verdict"] == "no clear difference"  # +1 < 1.5 points
    noisy = _report([[90, 80, 70], [80, 70, 60]], [[81, 71, 61], [81, 71, 61]])
    assert noisy.compare()["threshold"] == 10.0
    assert noisy.compare()["verdict"] == "no clear difference"  # gap within the seed spread
    one_dataset = _report([[99, 50, 50], [99, 50, 50]], [[50, 55, 55], [50, 55, 55]])
    assert one_dataset.compare()["verdict"] == "no clear difference"  # 1 win, 2 losses


# ------------------------------------------------------------------ command line


def _parser():
    parser = argparse.ArgumentParser(prog="cauker")
    evaluation_cli.register(parser.add_subparsers(dest="command"))
    return parser


def test_cli_runs_and_writes_json(toy, tmp_path, capsys):
    out = tmp_path / "report.json"
    args = _parser().parse_args(
        ["evaluate", "10k", "--length", "64", "--num-nodes", "6", "--max-kernels", "3",
         "--max-parents", "2", "--series", "96", "--steps", "2", "--batch-size", "32",
         "--seeds", "0", "--workers", "1", "--datasets", str(toy[0]), "--output", str(out),
         "--quiet", "--no-baselines"]
    )  # fmt: skip
    assert args.func(args) == 0
    assert "Verdicts" in capsys.readouterr().out
    data = json.loads(out.read_text())
    assert data["corpus"]["config"]["max_kernels"] == 3
    assert data["reference"]["config"]["dag_depth"] == 0


def test_cli_lists_datasets(toy, capsys):
    args = _parser().parse_args(["evaluate", "--list-datasets", "--datasets", str(toy[0])])
    assert args.func(args) == 0
    assert "Toy" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["evaluate", "10k", "--max-kernels", "0"], "max_kernels"),
        (["evaluate", "10k", "--dag-depth", "deep"], "--dag-depth"),
        (["evaluate", "10k", "--kernel-bank", "nope"], "kernel_bank"),
        (["evaluate", ".", "--max-kernels", "3"], "--max-kernels"),
        (["evaluate", "10k", "--steps", "0"], "steps"),
    ],
)
def test_cli_bad_input_raises_value_error(argv, message, toy):
    args = _parser().parse_args([*argv, "--datasets", str(toy[0]), "--quiet"])
    with pytest.raises(ValueError, match=message):
        args.func(args)


def test_importing_the_package_does_not_import_torch():
    code = (
        "import sys, cauker, cauker.evaluation, cauker.evaluation.cli; "
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
