"""The preview of a task corpus: its first task, one panel per class (matplotlib).

Each panel overlays the class's support samples (the first channel of a
multivariate one) and is titled with what makes it a class; the figure's title
gives the task's size and its 1-NN accuracy. :mod:`cauker.files.preview` saves it.
"""

from __future__ import annotations

import math
import textwrap

import numpy as np

from cauker.task_config import TaskConfig


def _first_channel(sample) -> np.ndarray:
    values = np.asarray(sample, dtype=np.float32)
    return values[0] if values.ndim == 2 else values


def task_figure(rows: list[dict], config: TaskConfig, columns: int = 4):
    """A matplotlib figure of the first of ``rows`` (task rows as dicts)."""
    import matplotlib.pyplot as plt

    task = rows[0]
    classes = task["num_classes"]
    columns = max(1, min(columns, classes))
    lines = math.ceil(classes / columns)
    x = np.linspace(0, 1, config.length)
    fig, axes = plt.subplots(lines, columns, figsize=(3.6 * columns, 2.4 * lines), squeeze=False)
    labels = np.asarray(task["support_label"])
    for label, ax in zip(range(classes), axes.flat):
        for i in np.flatnonzero(labels == label).tolist():
            ax.plot(x, _first_channel(task["support"][i]), lw=0.7, alpha=0.8)
        text = f"class {label}: {task['class_distinction'][label]}"
        ax.set_title(
            "\n".join(textwrap.wrap(textwrap.shorten(text, 110, placeholder=" ..."), 55)),
            fontsize=6.5,
        )
        ax.tick_params(labelsize=6)
    for ax in list(axes.flat)[classes:]:
        ax.axis("off")
    shots = len(labels) // classes
    queries = len(task["query_label"]) // classes
    fig.suptitle(
        f"CauKer task {task['index']} ({config.class_definition} classes): {classes} classes, "
        f"{shots} labelled + {queries} queries per class; 1-NN accuracy "
        f"{task['knn_accuracy']:.2f}; length {config.length}, seed {config.seed}",
        fontsize=9,
    )
    fig.tight_layout()
    return fig
