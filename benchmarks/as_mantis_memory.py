"""Memory of reading a corpus larger than memory allows into MantisTrainer (``as_mantis``).

    python benchmarks/as_mantis_memory.py                      # 100,000 series x 16 copies
    python benchmarks/as_mantis_memory.py --rows 20000 --copies 4 --limit-gib 0.25   # quick

A corpus of ``--rows`` univariate series of length 512 is written once as
Arrow IPC files (``cauker generate --format arrow``), then copied ``--copies``
times on disk (distinct files, so distinct pages: the corpus really is that
large). Each reader runs in a fresh process whose private memory is capped by
``RLIMIT_DATA`` (``--limit-gib``, well below the corpus' size): the cap counts
what a process allocates (a copy), not the read-only memory map of files.

- ``as_mantis``: the files memory-mapped and concatenated (views), then
  ``cauker.as_mantis`` and the loop ``MantisTrainer.pretrain`` runs over its
  data (``DataLoader(view, batch_size=512)``), every row read once;
- ``series_array``: the array ``(n, 1, 512)`` the example built before
  ``as_mantis`` (``cauker.series_array`` of the same table): a copy.

The table gives the outcome, the rows read, the peak of the anonymous
(private) resident memory, sampled after every batch, and the peak resident
set (``VmHWM``, which also counts the mapped pages the loop touched: the
kernel may drop those at any time).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from results import Table, record

CHILD = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path

    import pyarrow as pa

    def status(field):
        for line in open("/proc/self/status"):
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024

    files = sorted(Path(sys.argv[2]).glob("*.arrow"))
    mode = sys.argv[1]
    out = {"mode": mode, "rows": 0, "anon_peak": 0}
    began = time.perf_counter()
    try:
        import torch
        import cauker

        tables = [pa.ipc.open_file(pa.memory_map(str(f))).read_all() for f in files]
        table = pa.concat_tables(tables)
        out["corpus_bytes"] = table.column("target").nbytes
        if mode == "as_mantis":
            view = cauker.as_mantis(table)
            for batch in torch.utils.data.DataLoader(view, batch_size=512):
                out["rows"] += len(batch["data"])
                out["anon_peak"] = max(out["anon_peak"], status("RssAnon"))
        else:
            x = cauker.series_array(table)
            out["rows"] = len(x)
            out["anon_peak"] = status("RssAnon")
        out["outcome"] = "read"
    except MemoryError:
        out["outcome"] = "MemoryError"
    out["anon_peak"] = max(out["anon_peak"], status("RssAnon"))
    out["hwm"] = status("VmHWM")
    out["seconds"] = time.perf_counter() - began
    print(json.dumps(out))
    """
)


def write_corpus(folder: Path, rows: int, copies: int) -> Path:
    """The train split's files, copied ``copies`` times into ``folder/big``."""
    big = folder / "big"
    if big.is_dir() and len(list(big.glob("*.arrow"))) >= copies:
        return big
    from cauker.cli import main

    argv = ["generate", "10m", "--num-series", str(rows), "--format", "arrow", "--quiet"]
    if main([*argv, "--output-dir", str(folder / "corpus"), "--num-proc", "2"]) != 0:
        sys.exit("generation failed")
    big.mkdir(parents=True, exist_ok=True)
    files = sorted((folder / "corpus" / "train").glob("*.arrow"))
    for copy in range(copies):
        for f in files:
            shutil.copyfile(f, big / f"{copy:03d}-{f.name}")
    return big


def run(mode: str, big: Path, limit: int) -> dict:
    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))

    done = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(big)],
        capture_output=True,
        text=True,
        preexec_fn=cap,
        env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"},
    )
    if done.returncode != 0 or not done.stdout.strip():
        return {"mode": mode, "outcome": f"died ({done.stderr.strip().splitlines()[-1:]})"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--copies", type=int, default=16)
    parser.add_argument("--limit-gib", type=float, default=1.0)
    parser.add_argument("--folder", default="as-mantis-corpus", help="kept for another run")
    args = parser.parse_args()
    big = write_corpus(Path(args.folder), args.rows, args.copies)
    limit = int(args.limit_gib * 2**30)
    gib = 2**30
    table = Table(
        f"Reading a corpus under a {args.limit_gib:g} GiB cap of private memory (RLIMIT_DATA)",
        ["reader", "outcome", "rows read", "corpus GiB", "peak private GiB", "peak RSS GiB", "s"],
    )
    for mode in ("as_mantis", "series_array"):
        r = run(mode, big, limit)
        print(r, flush=True)
        table.add(
            mode,
            r["outcome"],
            f"{r.get('rows', 0):,}",
            f"{r.get('corpus_bytes', 0) / gib:.2f}",
            f"{r.get('anon_peak', 0) / gib:.2f}",
            f"{r.get('hwm', 0) / gib:.2f}",
            f"{r.get('seconds', 0):.0f}",
        )
    print(table.markdown())
    record(
        __file__,
        table,
        notes=[
            f"{args.rows:,} series of length 512 written once, copied {args.copies} times on "
            "disk (distinct files); each reader in a fresh process",
            "as_mantis: the loop of MantisTrainer.pretrain (DataLoader, batch_size=512) over "
            "every row; series_array: the (n, 1, 512) array the example built before",
        ],
    )


if __name__ == "__main__":
    main()
