"""Arrow IPC files for training scripts: ``cauker generate --format arrow`` and
``--format gluonts``.

Both write the Arrow IPC *file* format (random access, memory-mappable, the
``ARROW1`` magic), which is what ``pyarrow.dataset.dataset(path,
format="arrow")``, GluonTS' ``FileDataset`` and ``datasets.load_dataset("arrow",
...)`` read; the IPC *stream* format that ``datasets`` writes for itself fails
in ``pyarrow.dataset`` with "Not an Arrow file". One folder per split:

    <output>/train/train-NNNNN-of-NNNNN.arrow
    <output>/validation/validation-NNNNN-of-NNNNN.arrow

so that a folder holds one split only (``pyarrow.dataset`` and ``FileDataset``
read every file of the folder they are given). Files follow the plan of
``cauker.files.shard_plan`` and hold one record batch per generation batch.

- ``arrow``: cauker's columns (``arrow_schema``): ``index``, ``target`` (a
  fixed-size list of float32), ``graph`` and the provenance.
- ``gluonts``: what GluonTS' ``ArrowWriter`` writes and Chronos' training
  script reads: ``start`` (``timestamp[s]``, 2000-01-01 for every series, as in
  KernelSynth and the authors' V1 script) and ``target`` (a list of float32; a
  list of such lists in multivariate mode), then ``index`` and the provenance
  columns, which GluonTS passes through untouched.

Uncompressed, so a reader can map a file instead of reading it. Each file is
written under a temporary name and renamed when complete.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import pyarrow as pa

from cauker.config import CauKerConfig
from cauker.errors import ParameterError
from cauker.files.lifeline import die_with_parent
from cauker.files.shard_plan import SPLITS, Shard, plan_shards
from cauker.sampler.rows import iter_batches
from cauker.sampler.schema import arrow_schema

#: Formats written here, by ``--format`` name.
FORMATS = ("arrow", "gluonts")

#: The ``start`` of every GluonTS series.
GLUONTS_START = np.datetime64("2000-01-01T00:00:00", "s")


def gluonts_schema(config: CauKerConfig) -> pa.Schema:
    """``start`` and ``target`` as GluonTS writes them, then cauker's other columns."""
    series = pa.list_(pa.float32())
    target = pa.list_(series) if config.multivariate else series
    rest = [f for f in arrow_schema(config) if f.name != "target"]
    return pa.schema(
        [pa.field("start", pa.timestamp("s")), pa.field("target", target), *rest],
        metadata=arrow_schema(config).metadata,
    )


def _as_gluonts(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    columns = {
        "start": pa.array(np.full(batch.num_rows, GLUONTS_START), type=pa.timestamp("s")),
        "target": batch.column("target").cast(schema.field("target").type),
    }
    arrays = [columns[f.name] if f.name in columns else batch.column(f.name) for f in schema]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def schema_for(config: CauKerConfig, format: str) -> pa.Schema:
    return gluonts_schema(config) if format == "gluonts" else arrow_schema(config)


def shard_file(output: Path, shard: Shard) -> Path:
    return output / shard.split / shard.file_name("arrow")


def write_file(output: str, config: CauKerConfig, format: str, shard: Shard) -> int:
    """Generate ``shard`` into its IPC file under ``output``; returns its rows.
    A plain function of picklable arguments (it runs in worker processes)."""
    path = shard_file(Path(output), shard)
    path.parent.mkdir(parents=True, exist_ok=True)
    schema = schema_for(config, format)
    temporary = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex}")
    try:
        with pa.OSFile(str(temporary), "wb") as sink, pa.ipc.new_file(sink, schema) as writer:
            for batch in iter_batches(config, shard.split, shard.start, shard.stop):
                writer.write_batch(_as_gluonts(batch, schema) if format == "gluonts" else batch)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return shard.num_rows


def complete(path: Path, shard: Shard) -> bool:
    """A file of ``shard`` that opens as an IPC file with its rows."""
    try:
        with pa.memory_map(str(path)) as source:
            reader = pa.ipc.open_file(source)
            return sum(reader.get_batch(i).num_rows for i in range(reader.num_record_batches)) == (
                shard.num_rows
            )
    except (OSError, pa.ArrowInvalid):
        return False


def write_ipc_files(
    config: CauKerConfig,
    output: str | os.PathLike,
    format: str,
    *,
    num_proc: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[Path]:
    """Write both splits of ``config`` as IPC files of ``format`` (``"arrow"`` or
    ``"gluonts"``) under ``output``; files already complete are kept. Returns
    every file, in order. ``progress`` is called with the rows of each file done."""
    if format not in FORMATS:
        raise ParameterError(f"format must be one of {list(FORMATS)}, got {format!r}")
    output = Path(output)
    shards = [s for split in SPLITS for s in plan_shards(config, split)]
    done = progress or (lambda rows: None)
    todo = []
    for shard in shards:
        if complete(shard_file(output, shard), shard):
            done(shard.num_rows)
        else:
            todo.append(shard)
    task = functools.partial(write_file, str(output), config, format)
    if not num_proc or num_proc == 1 or len(todo) < 2:
        for shard in todo:
            done(task(shard))
    else:
        # spawn: workers start clean (no inherited threads or BLAS state), as in cauker.export
        context = get_context("spawn")
        with ProcessPoolExecutor(
            min(num_proc, len(todo)), mp_context=context, initializer=die_with_parent
        ) as pool:
            for future in as_completed([pool.submit(task, shard) for shard in todo]):
                done(future.result())
    return [shard_file(output, s) for s in shards]
