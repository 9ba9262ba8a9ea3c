"""The examples run as a user runs them, in their tiny CPU mode."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cauker.cli import main

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run(argv, cwd):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_pretrain_mantis_on_generated_arrow_files(tmp_path, capsys, monkeypatch):
    pytest.importorskip("mantis")
    argv = ["generate", "10k", "--num-series", "48", "--format", "arrow", "--output-dir", "c"]
    monkeypatch.chdir(tmp_path)
    assert main([*argv, "--quiet"]) == 0
    capsys.readouterr()
    script = str(EXAMPLES / "pretrain_mantis.py")
    out = run([sys.executable, script, "--tiny", "--corpus", "c/train", "--out", "m.pt"], tmp_path)
    assert "on 48 series of shape (1, 512)" in out
    assert (tmp_path / "m.pt").stat().st_size > 10_000


def test_ddp_stream_ranks_see_disjoint_rows_covering_the_split_and_resume(tmp_path):
    pytest.importorskip("torchdata")
    torchrun = shutil.which("torchrun", path=str(Path(sys.executable).parent))
    assert torchrun, "torchrun is installed with torch"
    # 100 series = 25 graphs: 13 for rank 0, 12 for rank 1, so the ranks' last steps differ
    command = [torchrun, "--nproc_per_node=2", str(EXAMPLES / "ddp_stream.py"), "--tiny"]
    command += ["--num-series", "100"]
    logs = ["--log-dir", "seen", "--checkpoint-dir", "ckpt"]
    # A first run stopped after 3 steps (a preemption), then the same command resumed.
    first = run([*command, *logs, "--steps", "3"], tmp_path)
    assert "rank 0/2: 24 rows in this run, step 3" in first
    second = run([*command, *logs], tmp_path)
    assert "rank 0/2: 28 rows in this run, step 7" in second  # 52 rows: 7 batches of 8
    assert "rank 1/2: 24 rows in this run, step 6" in second
    seen = [
        [int(i) for i in (tmp_path / "seen" / f"rank-{rank}.txt").read_text().split()]
        for rank in range(2)
    ]
    assert not set(seen[0]) & set(seen[1])  # disjoint ranks
    assert sorted(seen[0] + seen[1]) == list(range(100))  # together the split, each row once
    assert (len(seen[0]), len(seen[1])) == (52, 48)


def test_in_context_classifier_trains_on_streamed_tasks_and_reports(tmp_path):
    pytest.importorskip("sktime")  # the shipped GunPoint and ItalyPowerDemand
    script = str(EXAMPLES / "in_context_classifier.py")
    out = run([sys.executable, script, "--tiny", "--out", "report.json"], tmp_path)
    assert "graph seed 0: loss" in out and "shift seed 0: loss" in out
    assert "In-context accuracy (%) on 2 real UCR datasets" in out
    assert "vs 1-NN, same context:" in out
    report = (tmp_path / "report.json").read_text()
    assert '"knn"' in report and '"random_init"' in report
