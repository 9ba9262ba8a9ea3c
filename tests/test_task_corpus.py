"""Task corpora everywhere corpora go: files, the Hub folder, a push, the builder,
streams split over ranks and workers, resume, and the command line."""

import json
import uuid

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import cauker
from cauker.cli import main
from cauker.hf.builder import CauKer
from cauker.hub.push import push_to_hub, resume_command
from cauker.tasks import task_rows

FIELDS = dict(length=16, num_nodes=6, max_parents=2, max_kernels=3, max_support=3, max_queries=2)
TASKS = 26


def config(**fields) -> cauker.TaskConfig:
    return cauker.named_config("tasks-10k", **{"num_tasks": TASKS, **FIELDS, **fields})


def indices(rows_) -> list[int]:
    return [row["index"] for row in rows_]


def test_builder_prepares_and_streams_the_rows_of_generate(tmp_path):
    builder = CauKer(config_name="tasks-10k", num_tasks=TASKS, cache_dir=str(tmp_path), **FIELDS)
    assert builder.config.version == datasets.Version(cauker.TASK_VERSION)
    builder.download_and_prepare(num_proc=2)
    expected = cauker.generate(config())
    prepared = builder.as_dataset("train").with_format("arrow")[:]
    assert prepared.to_pylist() == expected.to_pylist()
    streamed = list(builder.as_streaming_dataset("train"))
    assert streamed == expected.to_pylist()
    assert builder.as_dataset("validation").num_rows == 1


def test_load_dataset_streams_a_ranks_share_for_any_world_size():
    whole = cauker.generate(config()).to_pylist()
    for world_size in (1, 3, 4, 11):
        parts = [
            list(
                cauker.load_dataset(
                    "tasks-10k",
                    split="train",
                    streaming=True,
                    rank=rank,
                    world_size=world_size,
                    num_tasks=TASKS,
                    **FIELDS,
                )
            )
            for rank in range(world_size)
        ]
        for rank, part in enumerate(parts):
            assert indices(part) == list(range(rank, TASKS, world_size))
            assert part == [whole[i] for i in range(rank, TASKS, world_size)]


def test_each_rank_draws_only_its_own_tasks(monkeypatch):
    drawn = []
    real = task_rows.draw_tasks

    def counting(config_, split, indices_):
        drawn.extend(indices_)
        return real(config_, split, indices_)

    monkeypatch.setattr(task_rows, "draw_tasks", counting)
    part = cauker.load_dataset(
        "tasks-10k", split="train", streaming=True, rank=2, world_size=5, num_tasks=TASKS, **FIELDS
    )
    assert indices(part) == [2, 7, 12, 17, 22]
    assert sorted(drawn) == [2, 7, 12, 17, 22]


def test_resume_continues_with_the_next_task():
    stream = cauker.load_dataset(
        "tasks-10k", split="train", streaming=True, num_tasks=TASKS, **FIELDS
    )
    iterator = iter(stream)
    first = [next(iterator) for _ in range(9)]
    state = stream.state_dict()
    resumed = cauker.load_dataset(
        "tasks-10k", split="train", streaming=True, num_tasks=TASKS, **FIELDS
    )
    resumed.load_state_dict(state)
    rest = list(resumed)
    assert indices(first) + indices(rest) == list(range(TASKS))
    assert rest[0] == cauker.generate(config(), start=9, stop=10).to_pylist()[0]


def test_endless_task_stream_and_its_refusals():
    stream = cauker.load_dataset(
        "tasks-10k", split="train", streaming=True, num_tasks=None, **FIELDS
    )
    head = [row for row, _ in zip(stream, range(30))]
    assert indices(head) == list(range(30))
    assert head[:TASKS] == cauker.generate(config()).to_pylist()
    with pytest.raises(ValueError, match="num_tasks=None is an endless corpus"):
        cauker.load_dataset("tasks-10k", num_tasks=None, **FIELDS)


def test_export_loads_with_datasets_and_the_card_lists_the_task_config(tmp_path):
    cauker.export(config(), tmp_path, config_name="tasks-small", progress=False)
    loaded = datasets.load_dataset(str(tmp_path), "tasks-small")
    assert loaded["train"].num_rows == TASKS
    assert loaded["train"]["knn_accuracy"] == cauker.generate(config())["knn_accuracy"].to_pylist()
    card = (tmp_path / "README.md").read_text()
    assert "Task configs (one row per labelled classification task" in card
    assert "| `tasks-small` |" in card and "class_definition" in card
    assert list((tmp_path / "images").glob("tasks-small-*.png"))
    code = card.split("```python\nimport cauker  # pip install cauker\n")[1].split("```")[0]
    assert "config_tasks_small = cauker.TaskConfig(num_tasks=26, max_support=3, " in code
    space = {}
    exec("import cauker\n" + code, space)  # the card's lines rebuild the task config
    assert space["config_tasks_small"] == config()


def test_push_and_load_from_the_hub(hub, tmp_path, small_files):
    repo = f"{hub.user}/tasks-{uuid.uuid4().hex[:8]}"
    push_to_hub(config(), repo, config_name="tasks", staging_dir=tmp_path, progress=False)
    loaded = datasets.load_dataset(repo, "tasks", split="train")
    assert loaded["support_label"] == cauker.generate(config())["support_label"].to_pylist()
    command = resume_command(config(seed=3), "tasks", repo, tmp_path)
    assert command.startswith(f"cauker push tasks-10k --repo {repo} --name tasks --num-tasks 26")
    assert "--seed 3" in command


def test_command_line_generate_configs_preview_and_refusals(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv = ["generate", "tasks-10k", "--num-tasks", "12", "--length", "16", "--max-support", "3"]
    argv += ["--class-definition", "shift", "--augmentations", "noise,crop", "--quiet"]
    assert main([*argv, "--output-dir", "out", "--format", "arrow"]) == 0
    held = json.loads((tmp_path / "out" / "cauker.json").read_text())
    assert held["config"]["augmentations"] == ["crop", "noise"]
    table = pa.ipc.open_file(str(next((tmp_path / "out" / "train").iterdir()))).read_all()
    expected = cauker.named_config(
        "tasks-10k",
        num_tasks=12,
        length=16,
        max_support=3,
        class_definition="shift",
        augmentations=("noise", "crop"),
    )
    assert table == cauker.generate(expected).replace_schema_metadata(table.schema.metadata)
    assert main(["generate", "tasks-10k", "--num-tasks", "4", "--format", "gluonts"]) == 2
    assert "format must be 'parquet' or 'arrow' for a task corpus" in capsys.readouterr().err
    assert main(["generate", "tasks-10k", "--num-series", "4"]) == 2
    assert "unknown task config field(s) ['num_series']" in capsys.readouterr().err
    assert main(["generate", "10k", "--num-tasks", "4"]) == 2
    assert "unknown config field(s) ['num_tasks']" in capsys.readouterr().err
    assert main(["configs"]) == 0
    out = capsys.readouterr().out
    assert "tasks-100k" in out and "class_definition" in out
    assert main(["preview", "tasks-10k", "--length", "16", "--out", "p.png"]) == 0
    assert (tmp_path / "p.png").stat().st_size > 10_000


def test_parquet_files_of_a_task_corpus_keep_the_bytes(tmp_path):
    assert main(["generate", "tasks-10k", "--num-tasks", "10", "--length", "16", "--quiet",
                 "--output-dir", str(tmp_path / "c")]) == 0  # fmt: skip
    read = pq.read_table(tmp_path / "c" / "train")
    generated = cauker.generate(cauker.named_config("tasks-10k", num_tasks=10, length=16))
    for name in ("support", "query", "knn_accuracy", "class_distinction"):
        assert read.column(name).to_pylist() == generated.column(name).to_pylist()
    support = np.array(read.column("support")[0].as_py(), dtype=np.float32)
    assert support.shape[1] == 16
