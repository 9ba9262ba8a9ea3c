"""How hard task corpora are: the distribution of each task's 1-NN accuracy, per config.

    python benchmarks/task_difficulty.py                       # graph vs shift at three scales
    python benchmarks/task_difficulty.py --tasks 2000 --cell class_definition=graph
    python benchmarks/task_difficulty.py --cell augmentations=noise --cell max_support=20

Each cell is ``TaskConfig`` defaults with the fields given (``--cell`` repeated,
``;`` between fields of one cell: ``class_definition=shift;shift_scale=0.5``).
For each it generates the first ``--tasks`` tasks of the train split and prints
the mean 1-NN accuracy with a 95% bootstrap interval over tasks, its quantiles,
the mean chance level (1 / classes), the share of tasks at chance or below and
at 1.0, a histogram, and the redraws (classes redrawn alone, tasks redrawn
whole). Deterministic: the numbers of a cell are the same on every run.
"""

from __future__ import annotations

import argparse

import numpy as np
from results import Table, record

import cauker

DEFAULT_CELLS = [
    "class_definition=graph",
    "class_definition=shift;shift_scale=0.25",
    "class_definition=shift;shift_scale=0.5",
    "class_definition=shift;shift_scale=1.0",
]


def parse_cell(text: str) -> dict:
    fields = {}
    for item in filter(None, text.split(";")):
        key, _, value = item.partition("=")
        flag = cauker.TaskConfig.__dataclass_fields__[key].metadata["flag"]
        fields[key] = flag.parse(value) if not flag.switch else value.lower() == "true"
    return fields


def summary(table, seed: int = 0) -> dict:
    accuracy = table.column("knn_accuracy").to_numpy()
    classes = table.column("num_classes").to_numpy()
    rng = np.random.default_rng(seed)
    means = accuracy[rng.integers(0, len(accuracy), (2000, len(accuracy)))].mean(axis=1)
    chance = 1.0 / classes
    class_redraws = sum(sum(r) for r in table.column("class_redraws").to_pylist())
    return {
        "mean": accuracy.mean(),
        "low": np.quantile(means, 0.025),
        "high": np.quantile(means, 0.975),
        "quantiles": np.quantile(accuracy, [0.1, 0.25, 0.5, 0.75, 0.9]),
        "chance": chance.mean(),
        "at_chance": np.mean(accuracy <= chance),
        "perfect": np.mean(accuracy == 1.0),
        "histogram": np.histogram(accuracy, bins=10, range=(0, 1))[0],
        "class_redraws": class_redraws / classes.sum(),
        "task_redraws": table.column("redraws").to_numpy().mean(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--cell", action="append", default=[])
    args = parser.parse_args()
    cells = args.cell or DEFAULT_CELLS
    print(f"1-NN accuracy (support -> queries) of the first {args.tasks} tasks of each config")
    print(
        f"{'config':<42}{'mean [95% interval]':<24}{'p10 p25 p50 p75 p90':<27}"
        f"{'chance':>7}{'<=chance':>9}{'=1':>6}  {'histogram (0-0.1 ... 0.9-1)':<44}"
        f"{'class/task redraws':>19}"
    )
    table = Table(
        f"1-NN accuracy (support -> queries) of the first {args.tasks:,} tasks of each config",
        [
            "config",
            "mean [95% interval]",
            "p10 / p25 / p50 / p75 / p90",
            "chance",
            "at or below chance",
            "at 1.0",
            "histogram (0-0.1 ... 0.9-1)",
            "class / task redraws",
        ],
    )
    for cell in cells:
        config = cauker.TaskConfig(num_tasks=args.tasks, **parse_cell(cell))
        s = summary(cauker.generate(config))
        quantiles = " ".join(f"{q:.2f}" for q in s["quantiles"])
        interval = f"{s['mean']:.3f} [{s['low']:.3f}, {s['high']:.3f}]"
        histogram = " ".join(f"{h:>3d}" for h in s["histogram"])
        print(
            f"{cell:<42}{interval:<24}{quantiles:<27}{s['chance']:>7.3f}{s['at_chance']:>9.3f}"
            f"{s['perfect']:>6.3f}  {histogram:<44}"
            f"{s['class_redraws']:>9.3f} / {s['task_redraws']:.3f}"
        )
        table.add(
            f"`{cell.replace(';', ', ')}`",
            interval,
            quantiles.replace(" ", " / "),
            f"{s['chance']:.3f}",
            f"{s['at_chance']:.1%}",
            f"{s['perfect']:.1%}",
            ", ".join(histogram.split()),
            f"{s['class_redraws']:.3f} / {s['task_redraws']:.3f}",
        )
    record(
        __file__,
        table,
        notes=["interval: 95% bootstrap over tasks; chance: the mean of 1 / classes"],
    )


if __name__ == "__main__":
    main()
