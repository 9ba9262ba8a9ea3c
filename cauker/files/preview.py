"""A grid of sample series, titled with their kernel or activation (matplotlib).

Images are written atomically (a temporary file, then a rename), so a full disk
or a kill never leaves a truncated image under its final name. An export's
preview carries a ``cauker`` text chunk (its config name and fingerprint), by
which a later export knows the image is its own to replace.
"""

from __future__ import annotations

import io
import json
import math
import os
import textwrap
from pathlib import Path

import numpy as np

from cauker.config import CauKerConfig
from cauker.errors import MissingDependencyError, ParameterError
from cauker.files.atomic_files import folder_problem, write_atomically
from cauker.task_config import is_task_config
from cauker.tasks.corpora import generate
from cauker.validation import check_int

#: The PNG text chunk that marks an export's preview.
MARKER_KEY = "cauker"

_FORMATS = {".png", ".pdf", ".svg", ".jpg"}


def _title(row: dict) -> str:
    if row["is_root"]:
        text = f"graph {row['graph']}, root {row['node']}: {row['kernel']}"
    else:
        text = (
            f"graph {row['graph']}, node {row['node']} (depth {row['depth']}): {row['activation']}"
        )
    return "\n".join(textwrap.wrap(textwrap.shorten(text, 110, placeholder=" ..."), 55))


def _stacked_title(row: dict) -> str:
    edges = row.get("edges")
    text = f"graph {row['graph']}: {len(row['node'])} channels"
    if edges is not None:
        text += f", {sum(e['weight'] is not None for e in edges)} edges among them"
    return text


def _draw(ax, x: np.ndarray, row: dict) -> None:
    """One series, or a multivariate row as its channels stacked top to bottom (each
    scaled to its own band: channels differ in scale by orders of magnitude)."""
    if not isinstance(row["node"], list):
        ax.plot(x, row["target"], lw=0.8, color="tab:red" if row["is_root"] else "tab:blue")
        ax.set_title(_title(row), fontsize=6.5)
        return
    count = len(row["node"])
    for i, (values, root) in enumerate(zip(row["target"], row["is_root"])):
        values = np.asarray(values, dtype=np.float64)
        spread = np.ptp(values) if np.isfinite(values).all() else 0.0
        scaled = (values - values.min()) / spread if spread > 0 else np.full_like(values, 0.5)
        ax.plot(x, count - 1 - i + 0.85 * scaled, lw=0.7, color="tab:red" if root else "tab:blue")
    ax.set_yticks(np.arange(count) + 0.42, [f"node {n}" for n in reversed(row["node"])])
    ax.set_title(_stacked_title(row), fontsize=6.5)


def render_figure(
    rows: list[dict],
    config: CauKerConfig,
    image_format: str = "png",
    columns: int = 4,
    marker: dict | None = None,
) -> bytes:
    """Draw ``rows`` (dicts with ``target`` and provenance) into image bytes;
    ``marker`` (PNG only) is stored as the ``cauker`` text chunk. Task rows: their
    first task (:mod:`cauker.files.task_preview`)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as error:  # pragma: no cover - matplotlib is a dependency
        raise MissingDependencyError(
            "the preview needs matplotlib: pip install matplotlib"
        ) from error
    if is_task_config(config):
        from cauker.files.task_preview import task_figure

        return _figure_bytes(task_figure(rows, config, columns), image_format, marker)
    series = rows
    columns = max(1, min(columns, len(series)))
    lines = max(1, math.ceil(len(series) / columns))
    x = np.linspace(0, 1, config.length)
    fig, axes = plt.subplots(lines, columns, figsize=(3.6 * columns, 2.4 * lines), squeeze=False)
    for ax, row in zip(axes.flat, series):
        _draw(ax, x, row)
        ax.tick_params(labelsize=6)
    for ax in list(axes.flat)[len(series) :]:
        ax.axis("off")
    fig.suptitle(
        f"CauKer samples (red: GP roots, blue: other nodes); length {config.length}, "
        f"{config.num_nodes} nodes, seed {config.seed}",
        fontsize=9,
    )
    fig.tight_layout()
    return _figure_bytes(fig, image_format, marker)


def _figure_bytes(fig, image_format: str, marker: dict | None) -> bytes:
    """A matplotlib figure as image bytes (closed); ``marker`` as the PNG text chunk."""
    import matplotlib.pyplot as plt

    metadata = {MARKER_KEY: json.dumps(marker, sort_keys=True)} if marker else None
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format=image_format, dpi=110, metadata=metadata)
    finally:
        plt.close(fig)
    return buffer.getvalue()


def preview_marker(image: bytes) -> dict | None:
    """The ``cauker`` marker of a PNG written by an export, or None."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(image)) as picture:
            text = picture.info.get(MARKER_KEY)
        marker = json.loads(text) if text else None
    except Exception:  # noqa: BLE001 - not an image, or not ours
        return None
    return marker if isinstance(marker, dict) else None


def _check_out(out: str | Path) -> Path:
    out = Path(out)
    if out.suffix.lower() not in _FORMATS:
        raise ParameterError(f"out must end in one of {sorted(_FORMATS)}, got {str(out)!r}")
    problem = folder_problem(out.parent)
    if problem:
        raise ParameterError(f"out {str(out)!r} cannot be written: {problem}")
    if out.is_dir():
        raise ParameterError(f"out {str(out)!r} is a folder; give an image file name")
    return out


def save_figure(rows: list[dict], config: CauKerConfig, out: str | Path, columns: int = 4) -> Path:
    """Draw ``rows`` (dicts with ``target`` and provenance) into the image ``out``."""
    out = _check_out(out)
    data = render_figure(rows, config, out.suffix.lower()[1:], columns)
    from fsspec.implementations.local import LocalFileSystem

    out.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(LocalFileSystem(), os.fspath(out.absolute()), data)
    return out


def save_preview(config: CauKerConfig, out: str | Path, *, rows: int = 4, columns: int = 4) -> Path:
    """Draw the first ``rows * columns`` rows of ``config`` into the image ``out``: a
    series per panel, or a multivariate row's channels stacked in one panel (a task
    corpus: its first task, ``columns`` classes a line)."""
    rows, columns = check_int("rows", rows, 1, 12), check_int("columns", columns, 1, 12)
    _check_out(out)  # before generating anything
    if is_task_config(config):
        return save_figure(generate(config, stop=1).to_pylist(), config, out, columns=columns)
    table = generate(config, stop=min(config.num_series, rows * columns)).to_pylist()
    return save_figure(table, config, out, columns=columns)
