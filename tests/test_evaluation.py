"""Tests of ``cauker.evaluation``: loading real data, the statistics, the protocol and the CLI.

The smoke runs use a tiny corpus (length 64, a few hundred series, a few steps)
and a small synthetic dataset written in UCR formats, so they take seconds. The
statistics are tested on synthetic accuracy tables whose answer is known.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import cauker
from cauker.cli import main as cauker_main
from cauker.evaluation import EvaluationReport, load_datasets, resample, shipped_datasets, ucr_files
from cauker.evaluation import statistics as stats
from cauker.evaluation.corpus import kernelsynth_of, load_series, resolve_corpus
from cauker.evaluation.protocol import Recipe, make_protocol

torch = pytest.importorskip("torch")

from cauker.evaluation import evaluate  # noqa: E402
from cauker.evaluation.cnn_encoder import crop_and_resize, info_nce  # noqa: E402

TINY = cauker.CauKerConfig(num_series=512, length=64, num_nodes=6, max_parents=2, max_kernels=3)
FAST = dict(series=192, steps=3, batch_size=32, seeds=(0, 1), progress=False, workers=1)
RECIPE = Recipe(steps=3, batch_size=32)


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
    from cauker.evaluation.probes import accuracies

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


# ------------------------------------------------------------------ file readers


def test_text_readers_accept_commas_blanks_and_label_spellings(tmp_path):
    comma = tmp_path / "C_TRAIN.csv"
    comma.write_text("1.0,0.5,0.25\n2,1,?\n")
    blanks = tmp_path / "B_TRAIN.txt"
    blanks.write_text("  1.0000000e+00  0.5  0.25\n  2.0000000e+00  1.0  NaN\n")
    for path in (comma, blanks):
        series, labels = ucr_files.read_split(path)
        assert labels == ["1", "2"]
        np.testing.assert_array_equal(series[0], [0.5, 0.25])
        assert np.isnan(series[1][1])


def test_multivariate_arff_is_refused(tmp_path):
    path = tmp_path / "M_TRAIN.arff"
    path.write_text(
        "@relation M\n@attribute rel relational\n@attribute d numeric\n@end rel\n"
        '@attribute class {a,b}\n@data\n"1,2\\n3,4",a\n'
    )
    with pytest.raises(ValueError, match="multivariate"):
        ucr_files.read_split(path)


# ------------------------------------------------------------------ statistics


def test_a_constant_two_point_gap_on_30_datasets_is_better():
    reference = np.random.default_rng(0).uniform(60, 90, size=(30, 2))
    table = {"candidate": reference + 2.0, "reference": reference}
    gap = stats.compare(table["candidate"] - table["reference"])
    assert gap.verdict == "better" and gap.gap == pytest.approx(2.0)
    assert gap.low == pytest.approx(2.0) and gap.wins == 30
    assert stats.compare(-(table["candidate"] - table["reference"])).verdict == "worse"


def test_pure_noise_is_no_clear_difference_at_the_stated_rate():
    """Under no difference the rule calls better/worse at most ALPHA of the time.

    200 tables of 30 datasets x 2 seeds with N(0, 2) differences: the number of
    decisive verdicts is binomial; the bound allows 3 standard errors above
    ALPHA (a rule using the bootstrap interval alone fails this at 9 datasets).
    """
    rng = np.random.default_rng(12)
    trials = 200
    decisive = sum(
        stats.compare(rng.normal(0.0, 2.0, size=(30, 2))).verdict != "no clear difference"
        for _ in range(trials)
    )
    bound = stats.ALPHA + 3 * np.sqrt(stats.ALPHA * (1 - stats.ALPHA) / trials)
    assert decisive / trials <= bound


def test_a_one_point_gap_is_found_on_30_datasets_but_not_on_5():
    rng = np.random.default_rng(3)
    found = [
        stats.compare(rng.normal(1.0, 2.0, size=(30, 2))).verdict == "better" for _ in range(60)
    ]
    assert np.mean(found) >= 0.75  # ~0.94 expected: sd of a dataset mean is 1.41/sqrt(30)
    few = stats.compare(np.full((5, 3), 10.0))
    assert few.verdict == "no clear difference" and few.p_value > stats.ALPHA


def test_interval_covers_the_true_gap():
    """Over datasets whose true gaps vary, the interval holds their mean about 95% of the time."""
    rng = np.random.default_rng(5)
    covered = 0
    for _ in range(100):
        d = rng.normal(0.7, 1.5, size=(30, 1)) + rng.normal(0.0, 1.0, size=(30, 2))
        c = stats.compare(d)
        covered += c.low <= 0.7 <= c.high
    assert 0.87 <= covered / 100 <= 0.99


def test_paired_differences_align_datasets_and_seeds():
    a = {"0": {"x": 80.0, "y": 70.0}, "1": {"x": 82.0, "y": 71.0}, "9": {"x": 1.0, "y": 1.0}}
    b = {"1": {"y": 70.0, "x": 80.0}, "0": {"x": 79.0, "y": 70.0}}
    np.testing.assert_array_equal(stats.paired_differences(a, b), [[1.0, 2.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="no seed in common"):
        stats.paired_differences(a, {"5": {"x": 1.0}})
    assert stats.signed_rank_p_value(np.zeros(8)) == 1.0


# ------------------------------------------------------------------ protocol


def test_protocol_presets_and_encoder_resolution():
    default = make_protocol()
    assert (default.series, default.recipe.steps, default.seeds) == (10_000, 300, (0, 1, 2))
    assert make_protocol(thorough=True).seeds == tuple(range(10))
    assert make_protocol(encoder="mantis").encoder == "mantis-small"
    full = make_protocol(encoder="mantis8m")
    assert (full.series, full.recipe.batch_size, full.recipe.steps) == (100_000, 512, 19_532)
    assert make_protocol(encoder="mantis8m", steps=5).recipe.steps == 5
    assert default.fingerprint() == make_protocol(seeds=[4]).fingerprint()
    assert default.fingerprint() != make_protocol(steps=301).fingerprint()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"encoder": "resnet"}, "encoder must be one of"),
        ({"device": "gpu"}, "device must be"),
        ({"device": "cuda"} if not torch.cuda.is_available() else {"device": "tpu"}, "device"),
        ({"thorough": "yes"}, "thorough"),
        ({"series": 1}, "series"),
    ],
)
def test_protocol_errors_name_the_argument(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_protocol(**kwargs)


# ------------------------------------------------------------------ the protocol end to end
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
    assert "random init" in table and "Toy" in table and "paired over 1 datasets" in table
    path = report.to_json(tmp_path / "out" / "report.json")
    data = json.loads(path.read_text())
    assert data["summary"]["candidate"]["rf"]["per_seed"].keys() == {"0", "1"}
    assert {c["verdict"] for c in data["comparisons"]} <= set(stats.VERDICTS)
    assert len(data["comparisons"]) == 6  # 3 other methods x 2 classifiers
    assert EvaluationReport.from_dict(data).results == report.results


def test_fixed_seeds_give_identical_results(smoke_report, toy):
    again = evaluate(TINY, datasets=str(toy[0]), **FAST)
    assert again.results == smoke_report.results
    runs = smoke_report.settings["runs"]["candidate"]
    assert again.settings["runs"]["candidate"]["0"]["loss_last"] == runs["0"]["loss_last"]
    assert runs["0"]["loss_last"] != runs["1"]["loss_last"]


def test_worker_processes_give_the_same_results(smoke_report, toy):
    in_pool = evaluate(TINY, datasets=str(toy[0]), **{**FAST, "workers": 2})
    assert in_pool.settings["workers"] == 2
    assert in_pool.results == smoke_report.results


def test_reference_none_same_corpus_and_kernelsynth_candidate(toy):
    fast = {**FAST, "seeds": (3,)}
    report = evaluate(TINY, reference=None, baselines=False, datasets=str(toy[0]), **fast)
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
        ({"encoder": "mantis", "corpus": dataclasses.replace(TINY, length=70)}, "multiple of 32"),
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


# ------------------------------------------------------------------ Mantis


@pytest.fixture
def one_thread():
    previous = torch.get_num_threads()
    yield
    torch.set_num_threads(previous)


def test_mantis_small_pretrains_deterministically_and_embeds(toy, one_thread):
    from cauker.evaluation.encoders import ENCODERS, embed
    from cauker.evaluation.pretrain import pretrain

    torch.set_num_threads(1)  # as every evaluation task runs (one_thread restores it)
    series = load_series(resolve_corpus(TINY), 96)
    kind = ENCODERS["mantis-small"]
    untrained = kind.build(0, 64, "cpu")
    model, losses = pretrain(series, seed=0, encoder="mantis-small", recipe=RECIPE)
    again, losses_again = pretrain(series, seed=0, encoder="mantis-small", recipe=RECIPE)
    assert losses == losses_again and all(np.isfinite(losses))
    before = dict(untrained.named_parameters())
    moved = [n for n, p in model.named_parameters() if not torch.equal(p, before[n])]
    assert len(moved) > len(before) // 2  # training changed the weights
    x = resample(toy[1][0][:5], 64)
    out = embed(kind, model, x)
    assert out.shape == (5, 64) and np.isfinite(out).all()
    np.testing.assert_array_equal(out, embed(kind, again, x))


def test_mantis_evaluation_smoke(toy):
    fast = {**FAST, "seeds": (0,)}
    report = evaluate(TINY, encoder="mantis", datasets=str(toy[0]), baselines=False, **fast)
    assert report.settings["encoder"] == "mantis-small"
    assert report.methods == ["candidate", "reference"]


# ------------------------------------------------------------------ command line

TINY_FLAGS = ["--length", "64", "--num-nodes", "6", "--max-kernels", "3", "--max-parents", "2"]
FAST_FLAGS = ["--series", "96", "--steps", "2", "--batch-size", "32", "--workers", "1", "--quiet"]


def test_cli_runs_and_writes_json(toy, tmp_path, capsys):
    out = tmp_path / "report.json"
    argv = ["evaluate", "10k", *TINY_FLAGS, "--redraw-constant", *FAST_FLAGS, "--seeds", "0"]
    argv += ["--datasets", str(toy[0]), "--output", str(out), "--no-baselines"]
    assert cauker_main(argv) == 0
    assert "paired over 1 datasets x 1 seeds" in capsys.readouterr().out
    data = json.loads(out.read_text())
    assert data["corpus"]["config"]["max_kernels"] == 3
    assert data["corpus"]["config"]["redraw_constant"] is True
    assert data["reference"]["config"]["dag_depth"] == 0


def test_cli_lists_datasets(toy, capsys):
    assert cauker_main(["evaluate", "--list-datasets", "--datasets", str(toy[0])]) == 0
    assert "Toy" in capsys.readouterr().out


def test_every_config_field_is_a_flag_of_evaluate_and_sweep():
    from cauker.cli import build_parser

    subcommands = build_parser()._subparsers._group_actions[0].choices
    fields = {f.name for f in dataclasses.fields(cauker.CauKerConfig)}
    for name in ("evaluate", "sweep"):
        dests = {a.dest for a in subcommands[name]._actions}
        assert fields <= dests, (name, fields - dests)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["evaluate", "10k", "--max-kernels", "0"], "max_kernels"),
        (["evaluate", "10k", "--dag-depth", "deep"], "--dag-depth"),
        (["evaluate", "10k", "--kernel-bank", "nope"], "kernel_bank"),
        (["evaluate", ".", "--max-kernels", "3"], "--max-kernels"),
        (["evaluate", "10k", "--steps", "0"], "steps"),
        (["evaluate", "10k", "--encoder", "resnet"], "--encoder"),
        (["sweep", "10k", "--vary", "depth=2"], "unknown field"),
        (["sweep", "10k", "--vary", "max_kernels/max_parents=3"], "must give 2 value"),
        (["sweep", "10k", "--cells", "kernelsynt"], "unknown cell"),
        (["sweep", "10k"], "at least one cell"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(argv, message, toy, capsys):
    assert cauker_main([*argv, "--datasets", str(toy[0]), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_importing_the_package_does_not_import_torch():
    code = (
        "import sys, cauker, cauker.evaluation, cauker.cli.evaluation_commands; "
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
