"""Tests of ``cauker sweep``: the grid, one file per cell, resuming, the ranking and the plot.

The runs use a tiny base config (length 64), one synthetic dataset and one
seed, so a whole sweep of five cells takes seconds.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import cauker
from cauker.cli import main as cauker_main
from cauker.evaluation import tasks as tasks_module

pytest.importorskip("torch")

from cauker.evaluation.sweep import SweepReport, expand_grid, plan_sweep, run_sweep  # noqa: E402

TINY = cauker.CauKerConfig(num_series=512, length=64, num_nodes=6, max_parents=2, max_kernels=3)
OPTIONS = dict(
    vary=["dag_depth=1", "max_kernels/max_parents=3/2"],
    cells=["kernelsynth"],
    series=96,
    steps=2,
    batch_size=32,
    seeds=(0,),
    workers=1,
)
CELL_FILES = {"reference", "kernelsynth", "dag_depth=1", "random_init", "raw"}


@pytest.fixture(scope="module")
def dataset_folder(tmp_path_factory):
    """One easy two-class dataset (sine vs square wave) as .tsv files."""
    rng = np.random.default_rng(0)
    folder = tmp_path_factory.mktemp("ucr") / "Waves"
    folder.mkdir()
    for split, n in (("TRAIN", 30), ("TEST", 40)):
        t = np.linspace(0, 4 * np.pi, 50)[None, :] + rng.uniform(0, 6, size=(n, 1))
        labels = np.arange(n) % 2
        x = np.where(labels[:, None] == 0, np.sin(t), np.sign(np.sin(t)))
        x += 0.3 * rng.standard_normal(x.shape)
        rows = ["\t".join([str(y)] + [f"{v:.5f}" for v in r]) for y, r in zip(labels, x)]
        (folder / f"Waves_{split}.tsv").write_text("\n".join(rows) + "\n")
    return folder


def _files(folder):
    return {p.stem for p in folder.glob("*.json")} - {"sweep"}


def test_one_file_per_cell_resume_and_refusal(dataset_folder, tmp_path):
    out = tmp_path / "sweep"
    report = run_sweep(
        plan_sweep(TINY, output_dir=out, datasets=str(dataset_folder), **OPTIONS), progress=False
    )
    assert _files(out) == CELL_FILES
    assert {"sweep.json", "sweep.txt", "sweep.png"} <= {p.name for p in out.iterdir()}
    # max_kernels=3/max_parents=2 is the base config, so it is the reference itself.
    assert report.skipped == ["max_kernels=3 max_parents=2"]
    gaps = [r["rf"]["gap"] for r in report.rows()]
    assert {r["cell"] for r in report.rows()} == CELL_FILES - {"reference"}
    assert gaps == sorted(gaps, reverse=True)
    assert (out / "sweep.png").read_bytes()[:4] == b"\x89PNG"
    first = json.loads((out / "dag_depth=1.json").read_text())
    times = {p.name: p.stat().st_mtime_ns for p in out.glob("*.json")}

    (out / "dag_depth=1.json").unlink()
    plan = plan_sweep(TINY, output_dir=out, datasets=str(dataset_folder), **OPTIONS)
    assert {c.name: c.missing for c in plan.cells if c.missing} == {"dag_depth=1": (0,)}
    run_sweep(plan, progress=False)
    again = json.loads((out / "dag_depth=1.json").read_text())
    assert again["results"] == first["results"]  # the same numbers: every seed is fixed
    for name in CELL_FILES - {"dag_depth=1"}:
        assert (out / f"{name}.json").stat().st_mtime_ns == times[f"{name}.json"]

    more_seeds = plan_sweep(
        TINY, output_dir=out, datasets=str(dataset_folder), **{**OPTIONS, "seeds": (0, 1)}
    )
    assert {c.missing for c in more_seeds.cells} == {(1,)}
    with pytest.raises(ValueError, match="another fingerprint"):
        plan_sweep(TINY, output_dir=out, datasets=str(dataset_folder), **{**OPTIONS, "steps": 3})


def test_completed_cells_survive_a_crash(dataset_folder, tmp_path, monkeypatch):
    out = tmp_path / "sweep"
    real_execute = tasks_module.execute

    def failing(task, *args, **kwargs):
        if task.method == "dag_depth=1":
            raise RuntimeError("simulated crash")
        return real_execute(task, *args, **kwargs)

    monkeypatch.setattr(tasks_module, "execute", failing)
    plan = plan_sweep(TINY, output_dir=out, datasets=str(dataset_folder), **OPTIONS)
    with pytest.raises(RuntimeError, match="simulated crash"):
        run_sweep(plan, progress=False)
    # Cells run in order: the reference and kernelsynth finished before the crash.
    assert _files(out) == {"reference", "kernelsynth"}
    assert not list(out.glob("*.tmp"))
    monkeypatch.setattr(tasks_module, "execute", real_execute)
    plan = plan_sweep(TINY, output_dir=out, datasets=str(dataset_folder), **OPTIONS)
    assert [c.name for c in plan.cells if c.missing] == ["dag_depth=1", "random_init", "raw"]


def test_ranking_and_recommendation_on_a_known_table():
    rng = np.random.default_rng(0)
    names = [f"d{i}" for i in range(30)]
    base = rng.uniform(60, 90, size=30)

    def table(shift_rf, shift_lr):
        return {
            "0": {
                n: {"rf": b + shift_rf + rng.normal(0, 0.3), "logreg": b + shift_lr}
                for n, b in zip(names, base)
            }
        }

    cells = {
        "reference": table(0, 0),
        "good": table(2.0, 1.5),
        "rf only": table(2.0, 0.0),
        "bad": table(-3.0, -3.0),
    }
    report = SweepReport(
        cells={k: {"label": k, "overrides": {}, "results": v} for k, v in cells.items()},
        protocol={
            "encoder": "cnn",
            "series": 1,
            "recipe": {"steps": 1, "batch_size": 2},
            "seeds": [0],
        },
        datasets=names,
        skipped=[],
    )
    assert [r["cell"] for r in report.rows()][-1] == "bad"
    assert report.rows()[-1]["rf"]["verdict"] == "worse"
    assert report.recommended() == ["good"]
    assert "decisively better than the reference on both probes: good" in report.format_table()


def test_grid_values_are_checked_by_the_config(dataset_folder, tmp_path):
    with pytest.raises(ValueError, match="dag_depth"):
        plan_sweep(TINY, vary=["dag_depth=9"], datasets=str(dataset_folder), output_dir=tmp_path)
    with pytest.raises(ValueError, match="integers"):
        expand_grid(["num_nodes=ten"])
    assert expand_grid(["mean_bank=zero+linear,paper"])[0][1] == {"mean_bank": ("zero", "linear")}


def test_cli_lists_cells(dataset_folder, tmp_path, capsys):
    argv = ["sweep", "10k", "--length", "64", "--vary", "num_nodes=10,20", "--cells",
            "kernelsynth", "--seeds", "0,1", "--datasets", str(dataset_folder),
            "--output-dir", str(tmp_path), "--list-cells"]  # fmt: skip
    assert cauker_main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == [
        "reference", "kernelsynth", "num_nodes=10", "num_nodes=20", "random_init", "raw"
    ]  # fmt: skip
    assert all("to run: seeds 0,1" in line for line in lines)
