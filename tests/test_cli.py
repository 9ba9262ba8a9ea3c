"""The command line, as a user runs it: good input works, bad input is one line and status 2."""

import ast
import dataclasses
import errno
import subprocess
import sys
from importlib.metadata import entry_points

import datasets
import pytest
from huggingface_hub import DatasetCard

import cauker
from cauker.cli import build_parser, main

SUBCOMMANDS = ["generate", "configs", "preview", "export", "push"]


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("command", [None, *SUBCOMMANDS])
def test_help_everywhere(command, capsys):
    with pytest.raises(SystemExit) as info:
        main(([command] if command else []) + ["--help"])
    assert info.value.code == 0
    assert "usage: cauker" in capsys.readouterr().out


def test_console_script_is_declared_and_runs():
    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "cauker"]
    assert script.value == "cauker.cli:main"
    done = subprocess.run(
        [sys.executable, "-m", "cauker", "configs"], capture_output=True, text=True
    )
    assert done.returncode == 0 and "10m" in done.stdout


def test_generate_writes_loadable_files(tmp_path, capsys):
    out = tmp_path / "corpus"
    code, stdout, err = run(
        capsys,
        "generate",
        "10k",
        "--num-series",
        "40",
        "--length",
        "32",
        "--output-dir",
        str(out),
        "--quiet",
    )
    assert code == 0, err
    assert "wrote" in stdout and "load them with" in stdout
    train = datasets.load_dataset("parquet", data_files=str(out / "train" / "*.parquet"))["train"]
    assert len(train) == 40 and len(train[0]["target"]) == 32


def test_generate_never_replaces_another_corpus_or_foreign_files(tmp_path, capsys):
    out = tmp_path / "corpus"
    base = ["generate", "10k", "--length", "16", "--output-dir", str(out), "--quiet"]
    assert run(capsys, *base, "--num-series", "20")[0] == 0
    assert run(capsys, *base, "--num-series", "20")[0] == 0  # same corpus: reused
    code, _, err = run(capsys, *base, "--num-series", "40")
    assert code == 2 and "already holds another corpus; pass --overwrite" in err
    assert run(capsys, *base, "--num-series", "40", "--overwrite")[0] == 0
    train = datasets.load_dataset("parquet", data_files=str(out / "train" / "*.parquet"))["train"]
    assert len(train) == 40
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    code, _, err = run(capsys, "generate", "10k", "--output-dir", str(mine), "--overwrite")
    assert code == 2 and "holds no cauker corpus" in err
    assert (mine / "notes.txt").read_text() == "keep me"


def test_generate_arrow_format_and_num_proc(tmp_path, capsys):
    out = tmp_path / "arrow"
    code, _, err = run(
        capsys,
        "generate",
        "10k",
        "--num-series",
        "40",
        "--length",
        "16",
        "--output-dir",
        str(out),
        "--format",
        "arrow",
        "--num-proc",
        "2",
        "--quiet",
    )
    assert code == 0, err
    assert list(out.glob("train/*.arrow")) and list(out.glob("validation/*.arrow"))


def test_configs_table(capsys):
    code, out, _ = run(capsys, "configs")
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == ["config", "10k", "100k", "1m", "10m"]
    assert lines[1].split() == ["num_series", "10000", "100000", "1000000", "10000000"]
    corpora, tasks = [line.split() for line in lines if line.startswith("num_validation")]
    assert corpora == ["num_validation", "100", "1000", "10000", "100000"]
    assert tasks == ["num_validation", "100", "1000", "10000"]
    assert ["config", "tasks-10k", "tasks-100k", "tasks-1m"] in [line.split() for line in lines]


def test_preview_writes_an_image(tmp_path, capsys):
    image = tmp_path / "p.png"
    code, out, err = run(
        capsys, "preview", "10k", "--length", "128", "--out", str(image), "--rows", "2"
    )
    assert code == 0, err
    assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and image.stat().st_size > 20_000


def test_export_command_and_its_rerun_with_nothing_to_do(tmp_path, capsys, small_files):
    argv = ["export", "10k", "--num-series", "24", "--length", "16"]
    argv += ["--output-dir", str(tmp_path), "--name", "tiny", "--quiet"]
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    assert "(7 of 7 shard(s) written)" in out
    assert datasets.load_dataset(str(tmp_path), "tiny", split="train").num_rows == 24
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    assert "already holds config 'tiny' (7 shard(s), verified); nothing written" in out
    code, out, err = run(capsys, *argv, "--license", "cc-by-4.0")
    assert code == 0, err
    assert DatasetCard.load(tmp_path / "README.md").data.license == "cc-by-4.0"


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["generate", "5k"],
            "config name must be one of ['10k', '100k', '1m', '10m', 'tasks-10k', 'tasks-100k', "
            "'tasks-1m'], got '5k'",
        ),
        (["generate", "10k", "--length", "1"], "length must be >= 2, got 1"),
        (
            ["generate", "10k", "--num-series", "abc"],
            "argument --num-series: num_series must be an integer, got 'abc'",
        ),
        (["generate", "10k", "--format", "csv"], "argument --format: invalid choice: 'csv'"),
        (
            ["generate", "10k", "--dag-depth", "nan"],
            "argument --dag-depth: dag_depth must be an integer or 'none', got 'nan'",
        ),
        (["generate", "10k", "--mean-bank", "zero,cubic"], "mean_bank entries must be among"),
        (
            ["generate", "10k", "--series-per-graph", "30"],
            "series_per_graph must be in [1, 18], got 30",
        ),
        (["preview", "10k", "--out", "x.txt"], "out must end in one of"),
        (["preview", "10k", "--rows", "0"], "rows must be in [1, 12], got 0"),
        (["export", "10k"], "the following arguments are required: --output-dir"),
        (["export", "10k", "--output-dir", "x", "--name", "a/b"], "config_name must be letters"),
        (["export", "10k", "--output-dir", "x", "--name", ""], "config_name must be letters"),
        (["export", "10k", "--output-dir", ""], "output_dir must be a folder or an fsspec URL"),
        (["export", "10k", "--output-dir", "memory://x"], "memory:// is this process's memory"),
        (["generate", "10k", "--output-dir", ""], "--output-dir must be a folder, got ''"),
        (["generate", "10k", "--output-dir", "memory://x"], "--output-dir must be a local folder"),
        (["generate", "10k", "--num-nodes", "1000000"], "num_nodes must be in [1, 1024]"),
        (["generate", "10k", "--max-kernels", "1000000"], "max_kernels must be in [1, 32]"),
        (["generate", "10k", "--num-series", "10000000000000"], "num_series must be in [1, "),
        (["generate", "10k", "--length", "10000000"], "length=10000000 needs about"),
        (["push", "10k", "--repo", "a/b", "--name", ""], "config_name must be letters"),
        (["push", "10k"], "the following arguments are required: --repo"),
        (["push", "10k", "--repo", "bad"], "repo_id must look like 'user/name', got 'bad'"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ],
)
def test_bad_input_is_one_line_and_status_2(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert err.count("\n") == 1 and message in err, err
    assert "Traceback" not in err + out
    assert not list(tmp_path.iterdir())  # nothing written


def subcommands():
    return build_parser()._subparsers._group_actions[0].choices


def test_every_config_field_is_a_flag_of_every_subcommand_that_takes_a_config():
    fields = [f.name for f in dataclasses.fields(cauker.CauKerConfig)]
    taking = {}
    for name, parser in subcommands().items():
        positionals = [a.metavar or a.dest for a in parser._actions if not a.option_strings]
        if any(str(p).startswith("CONFIG") for p in positionals):
            taking[name] = {a.dest: a.option_strings for a in parser._actions}
    assert sorted(taking) == ["evaluate", "export", "generate", "preview", "push", "sweep"]
    for name, flags in taking.items():
        missing = [f for f in fields if flags.get(f) != ["--" + f.replace("_", "-")]]
        assert missing == [], name


def test_config_flags_read_back_as_the_same_config():
    """What a resumed push's command line says is the config that was pushed."""
    from cauker.cli.config_flags import config_from
    from cauker.config import config_flags

    config = cauker.named_config(
        "1m",
        num_series=48,
        length=64,
        num_nodes=10,
        max_parents=3,
        max_kernels=2,
        series_per_graph=(2, 5),
        dag_depth=2,
        kernel_bank="v2",
        mean_bank=("zero",),
        activation_bank=("relu", "sin"),
        multivariate=True,
        seed=7,
        num_validation=0,
        redraw_constant=True,
        max_lag=3,
        edges=True,
    )
    base = cauker.named_config("1m")
    changed = [
        f.name
        for f in dataclasses.fields(config)
        if getattr(config, f.name) != getattr(base, f.name)
    ]
    assert len(changed) == len(dataclasses.fields(config))  # every field is exercised
    for command in ("generate", "evaluate", "sweep"):
        args = build_parser().parse_args([command, "1m", *config_flags(config, base)])
        args.config = "1m"
        assert config_from(args) == config, command
    assert config_flags(config, config) == []


def test_generate_without_validation_prints_a_hint_that_works(tmp_path, capsys):
    out = tmp_path / "corpus"
    argv = ["generate", "10k", "--num-series", "8", "--length", "16", "--num-validation", "0"]
    code, stdout, err = run(capsys, *argv, "--output-dir", str(out), "--quiet")
    assert code == 0, err
    hint = stdout.splitlines()[-1]
    folder = ast.literal_eval(hint[hint.index("data_dir=") + len("data_dir=") : -1])
    assert list(datasets.load_dataset("parquet", data_dir=folder)) == ["train"]


def test_generate_leaves_no_lock_files_beside_the_folder(tmp_path, capsys):
    out = tmp_path / "corpus"
    argv = ["generate", "10k", "--num-series", "8", "--length", "16", "--output-dir", str(out)]
    assert run(capsys, *argv, "--quiet")[0] == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus"]


def test_a_full_disk_during_generate_names_the_cause(tmp_path, capsys, monkeypatch):
    import pyarrow.parquet as pq

    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pq.ParquetWriter, "write_table", full)
    out = tmp_path / "corpus"
    argv = ["generate", "10k", "--num-series", "8", "--length", "16", "--output-dir", str(out)]
    code, _, err = run(capsys, *argv, "--quiet")
    assert code == 2 and err.count("\n") == 1, err
    assert "No space left on device" in err
    assert str(out / "train" / "train-00000-of-00001.parquet") in err  # which file


def test_preview_checks_its_output_before_generating(tmp_path, capsys, monkeypatch):
    import cauker.files.preview

    monkeypatch.setattr(cauker.files.preview, "generate", pytest.fail)
    (tmp_path / "afile").write_text("x")
    code, _, err = run(capsys, "preview", "10k", "--out", str(tmp_path / "afile" / "p.png"))
    assert code == 2 and err.count("\n") == 1 and "is a file" in err, err


def test_export_over_a_users_readme_is_refused_in_one_line(tmp_path, capsys, monkeypatch):
    import logging

    # huggingface_hub's handler holds the stderr of its import time: point it at this test's
    for handler in logging.getLogger("huggingface_hub").handlers:
        monkeypatch.setattr(handler, "stream", sys.stderr)
    (tmp_path / "README.md").write_text("# My project\n\nImportant notes here.\n")
    argv = ["export", "10k", "--num-series", "8", "--output-dir", str(tmp_path), "--quiet"]
    code, _, err = run(capsys, *argv)
    assert code == 2 and err.count("\n") == 1, err
    assert "README.md is not a cauker dataset card" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md"]
