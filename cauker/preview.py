"""A grid of sample series, titled with their kernel or activation (matplotlib)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np

from cauker.config import CauKerConfig
from cauker.generate import generate


def _title(row: dict) -> str:
    if row["is_root"]:
        text = f"graph {row['graph']}, root {row['node']}: {row['kernel']}"
    else:
        text = (
            f"graph {row['graph']}, node {row['node']} (depth {row['depth']}): {row['activation']}"
        )
    return "\n".join(textwrap.wrap(textwrap.shorten(text, 110, placeholder=" ..."), 55))


def save_preview(config: CauKerConfig, out: str | Path, *, rows: int = 4, columns: int = 4) -> Path:
    """Draw the first ``rows * columns`` series of ``config`` into the image ``out``."""
    for name, value in (("rows", rows), ("columns", columns)):
        if not isinstance(value, int) or not 1 <= value <= 12:
            raise ValueError(f"{name} must be an integer in [1, 12], got {value!r}")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError("the preview needs matplotlib: pip install 'cauker[preview]'") from error
    out = Path(out)
    if out.suffix.lower() not in {".png", ".pdf", ".svg", ".jpg"}:
        raise ValueError(f"out must end in .png, .pdf, .svg or .jpg, got {str(out)!r}")
    wanted = rows * columns
    graphs = wanted if config.multivariate else min(wanted, config.num_series)
    table = generate(config, stop=min(graphs, config.num_series)).to_pylist()
    if config.multivariate:  # one panel per series of the first graphs
        table = [
            {key: (row[key][i] if isinstance(row[key], list) else row[key]) for key in row}
            for row in table
            for i in range(config.series_per_graph)
        ]
    x = np.linspace(0, 1, config.length)
    fig, axes = plt.subplots(rows, columns, figsize=(3.6 * columns, 2.4 * rows), squeeze=False)
    for ax, row in zip(axes.flat, table[:wanted]):
        ax.plot(x, row["target"], lw=0.8, color="tab:red" if row["is_root"] else "tab:blue")
        ax.set_title(_title(row), fontsize=6.5)
        ax.tick_params(labelsize=6)
    for ax in list(axes.flat)[len(table) :]:
        ax.axis("off")
    fig.suptitle(
        f"CauKer samples (red: GP roots, blue: SCM nodes); length {config.length}, "
        f"{config.num_nodes} nodes, seed {config.seed}",
        fontsize=9,
    )
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out
