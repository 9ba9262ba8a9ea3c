"""Where a benchmark's tables go: one JSON file per script, which the documentation renders.

A script builds its tables with :class:`Table` (``add`` a row of cells as the
script prints them; ``markdown`` is what it prints) and calls :func:`record`
once at the end::

    from results import Table, record

    table = Table("Builder overhead", ["path", "seconds", "overhead"])
    table.add("generation only", f"{base:.2f}", "")
    print(table.markdown())
    record(__file__, table, notes=["20,000 series of length 512, one process"])

``record`` writes ``docs/benchmarks/results/<script>.json``: the tables, the
notes, the figures (PNG files the script saved beside it), the date, the
machine, the command as it was typed, and the versions of cauker, its
algorithm and the libraries that set the speed. The Benchmarks page of the
documentation renders every such file, so a new run updates the page with no
hand edit. ``CAUKER_BENCHMARK_RESULTS=DIR`` writes into ``DIR`` instead (a run
that should not replace the published one).
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
RESULTS = REPOSITORY / "docs" / "benchmarks" / "results"


@dataclass
class Table:
    """A table as the script prints it: a title, column names and rows of text cells."""

    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)

    def add(self, *cells: object) -> None:
        if len(cells) != len(self.columns):
            raise ValueError(f"{self.title}: {len(cells)} cells for {len(self.columns)} columns")
        self.rows.append([str(cell) for cell in cells])

    def markdown(self) -> str:
        lines = [self.title, "", "| " + " | ".join(self.columns) + " |"]
        lines.append("|" + "---|" * len(self.columns))
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        return "\n".join(lines)


def results_folder() -> Path:
    """Where results (and the figures beside them) go; made if missing."""
    folder = Path(os.environ.get("CAUKER_BENCHMARK_RESULTS", RESULTS))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def record(
    script: str,
    *tables: Table,
    notes: list[str] | tuple[str, ...] = (),
    figures: list[str] | tuple[str, ...] = (),
) -> Path:
    """Write the run's tables, with its date, machine, command and versions.

    ``script`` is the benchmark's ``__file__``; ``figures`` are names of files
    the script wrote into :func:`results_folder`. Returns the JSON file's path.
    """
    name = Path(script).stem
    result = {
        "script": f"benchmarks/{name}.py",
        "command": shlex.join(["python", f"benchmarks/{name}.py", *sys.argv[1:]]),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "versions": versions(),
        "tables": [asdict(table) for table in tables],
        "notes": list(notes),
        "figures": list(figures),
    }
    path = results_folder() / f"{name}.json"
    path.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    print(f"recorded {path}")
    return path


def machine() -> str:
    """CPU model, cores, memory and load: what a reader needs to weigh the figures."""
    model = platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            names = [
                line.split(":", 1)[1].strip() for line in info if line.startswith("model name")
            ]
        model = names[0] if names else model
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = os.getloadavg()[0]
    return (
        f"{model}, {os.cpu_count()} cores, {memory:.0f} GiB, {platform.system()}; "
        f"load average {load:.1f} at the end of the run"
    )


def versions() -> dict[str, str]:
    import numpy
    import pyarrow

    import cauker

    found = {
        "cauker": cauker.__version__,
        "algorithm": cauker.ALGORITHM_VERSION,
        "commit": commit(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "pyarrow": pyarrow.__version__,
    }
    try:
        import numba

        found["numba"] = numba.__version__
    except ImportError:
        pass
    return found


def commit() -> str:
    """The checkout's commit, ``+changes`` when files of the package differ from it."""

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=REPOSITORY, capture_output=True, text=True, check=False
        )
        return done.stdout.strip() if done.returncode == 0 else ""

    head = git("rev-parse", "--short", "HEAD")
    if not head:
        return "unknown"
    return head + ("+changes" if git("status", "--porcelain", "--", "cauker") else "")
