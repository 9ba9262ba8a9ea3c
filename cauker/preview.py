"""A grid of sample series, titled with their kernel or activation (matplotlib)."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import numpy as np

from cauker.config import CauKerConfig
from cauker.rows import generate

_FORMATS = {".png", ".pdf", ".svg", ".jpg"}


def _title(row: dict) -> str:
    if row["is_root"]:
        text = f"graph {row['graph']}, root {row['node']}: {row['kernel']}"
    else:
        text = (
            f"graph {row['graph']}, node {row['node']} (depth {row['depth']}): {row['activation']}"
        )
    return "\n".join(textwrap.wrap(textwrap.shorten(text, 110, placeholder=" ..."), 55))


def _univariate(rows: list[dict]) -> list[dict]:
    """Multivariate rows split into one dict per series."""
    out = []
    for row in rows:
        if isinstance(row["node"], list):
            k = len(row["node"])
            out += [
                {key: (v[i] if isinstance(v, list) else v) for key, v in row.items()}
                for i in range(k)
            ]
        else:
            out.append(row)
    return out


def save_figure(rows: list[dict], config: CauKerConfig, out: str | Path, columns: int = 4) -> Path:
    """Draw ``rows`` (dicts with ``target`` and provenance) into the image ``out``."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as error:  # pragma: no cover - matplotlib is a dependency
        raise ImportError("the preview needs matplotlib: pip install matplotlib") from error
    out = Path(out)
    if out.suffix.lower() not in _FORMATS:
        raise ValueError(f"out must end in one of {sorted(_FORMATS)}, got {str(out)!r}")
    series = _univariate(rows)
    columns = max(1, min(columns, len(series)))
    lines = max(1, math.ceil(len(series) / columns))
    x = np.linspace(0, 1, config.length)
    fig, axes = plt.subplots(lines, columns, figsize=(3.6 * columns, 2.4 * lines), squeeze=False)
    for ax, row in zip(axes.flat, series):
        ax.plot(x, row["target"], lw=0.8, color="tab:red" if row["is_root"] else "tab:blue")
        ax.set_title(_title(row), fontsize=6.5)
        ax.tick_params(labelsize=6)
    for ax in list(axes.flat)[len(series) :]:
        ax.axis("off")
    fig.suptitle(
        f"CauKer samples (red: GP roots, blue: other nodes); length {config.length}, "
        f"{config.num_nodes} nodes, seed {config.seed}",
        fontsize=9,
    )
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def save_preview(config: CauKerConfig, out: str | Path, *, rows: int = 4, columns: int = 4) -> Path:
    """Draw the first ``rows * columns`` series of ``config`` into the image ``out``."""
    for name, value in (("rows", rows), ("columns", columns)):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 12:
            raise ValueError(f"{name} must be an integer in [1, 12], got {value!r}")
    if Path(out).suffix.lower() not in _FORMATS:
        raise ValueError(f"out must end in one of {sorted(_FORMATS)}, got {str(out)!r}")
    wanted = rows * columns
    per_row = config.series_per_graph if config.multivariate else 1
    count = min(config.num_series, math.ceil(wanted / per_row))
    table = _univariate(generate(config, stop=count).to_pylist())[:wanted]
    return save_figure(table, config, out, columns=columns)
