"""``cauker sweep``: evaluate a grid of configs against a reference, resumably.

A *cell* is one config (the base config with some fields changed), or an
anchor: the untrained encoder (``random_init``) or the raw series (``raw``).
Every cell is pretrained and scored under the same protocol and seeds as
``cauker evaluate``, once, and compared with the reference cell afterwards,
paired over datasets and seeds, so a grid of ``n`` configs costs ``n + 1``
pretrainings per seed, not ``2n``.

Grids (the values of an axis are separated by commas; bank entries by ``+``):

- ``dag_depth=2,4,6,8``, ``num_nodes=10,20,30``, ``series_per_graph=1,4``,
  ``mean_bank=paper,zero,zero+linear``, ``activation_bank=paper,v2``,
  ``max_lag=0,4,16`` (lead-lag edges, not in the paper) (any config field can
  be an axis);
- ``max_kernels/max_parents=3/2,4/3``: fields varied together;
- named cells: ``kernelsynth`` (``dag_depth=0, mean_bank=zero``) and
  ``kernelsynth-means`` (``dag_depth=0``).

By default every axis is varied alone around the base config (the paper's
ablations); ``product=True`` takes the Cartesian product of the axes.

With ``protocol="in-context"`` the base is a task config (``tasks-10k``...),
any of its fields is an axis (``class_definition=graph,shift``,
``shift_scale=0.25,0.5,1``, ``augmentations=none,mixup+noise``), every cell
trains the in-context classifier of :mod:`cauker.evaluation.in_context`, and
the anchors are the untrained classifier and 1-NN with the same context.

Resuming: each cell is one JSON file in ``output_dir``, written as soon as all
its seeds are done (atomically). A later run skips the cells whose file is
present, runs only the seeds a file lacks, and refuses a file made under
another protocol, config or set of datasets (ValueError naming it). The
summary is ``sweep.json``, ``sweep.txt`` (the ranked table) and ``sweep.png``
(the gap with its interval per config).

Examples
--------
>>> grid = expand_grid(["max_kernels/max_parents=3/2,4/3", "dag_depth=2"], ["kernelsynth"])
>>> [name for name, _ in grid]
['kernelsynth', 'max_kernels=3 max_parents=2', 'max_kernels=4 max_parents=3', 'dag_depth=2']
>>> grid[0][1]
{'dag_depth': 0, 'mean_bank': 'zero'}
>>> expand_grid(["num_nodes=10,20", "dag_depth=2,4"], product=True)[3]
('num_nodes=20 dag_depth=4', {'num_nodes': 20, 'dag_depth': 4})
>>> expand_grid(["max_lag=0,4"])
[('max_lag=0', {'max_lag': 0}), ('max_lag=4', {'max_lag': 4})]
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import re
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cauker.config import CauKerConfig, flag_of
from cauker.errors import ParameterError
from cauker.evaluation import statistics
from cauker.evaluation.corpus import Corpus, describe_config, resolve_corpus
from cauker.evaluation.protocol import Protocol
from cauker.evaluation.real_datasets import SHIPPED
from cauker.evaluation.report import CLASSIFIER_NAMES, IN_CONTEXT_NAMES
from cauker.evaluation.run import (
    baseline_tasks,
    checked_protocol,
    corpus_tasks,
    default_workers,
    environment,
    prepare_datasets,
)
from cauker.evaluation.tasks import Task, run_tasks
from cauker.named_configs import NAMES, named_config
from cauker.task_config import TaskConfig

#: The anchors of both protocols (zero-shot: random_init, raw; in-context: random_init, knn).
ANCHORS = ("random_init", "raw", "knn")

#: Named cells: a few fields changed together.
NAMED_CELLS = {
    "kernelsynth": {"dag_depth": 0, "mean_bank": "zero"},
    "kernelsynth-means": {"dag_depth": 0},
}
REFERENCE = "reference"
#: Fields that are not corpus properties, so not axes.
NOT_AXES = ("num_series", "num_tasks", "seed", "num_validation")


# ------------------------------------------------------------------ grid


def _field_value(field: str, text: str, kind: type = CauKerConfig) -> Any:
    """Parse one axis value as the command line does (:class:`cauker.config.Flag`), but
    with ``+`` between bank entries (``zero+linear``: commas separate the values), and
    ``true`` or ``false`` for a switch."""
    flag = flag_of(next(f for f in dataclasses.fields(kind) if f.name == field))
    text = text.strip()
    if flag.switch:
        if text.lower() not in ("true", "false"):
            raise ParameterError(f"vary: {field} values must be true or false, got {text!r}")
        return text.lower() == "true"
    try:
        return flag.parse(text.replace("+", ","))
    except ValueError:
        what = "numbers" if flag.parse is float else "integers"
        raise ParameterError(f"vary: {field} values must be {what}, got {text!r}") from None


def parse_axis(spec: str, kind: type = CauKerConfig) -> list[dict[str, Any]]:
    """``"max_kernels/max_parents=3/2,4/3"`` -> ``[{max_kernels: 3, max_parents: 2}, ...]``
    (fields of ``kind``: ``CauKerConfig``, or ``TaskConfig``)."""
    fields = {f.name for f in dataclasses.fields(kind)} - set(NOT_AXES)
    if not isinstance(spec, str) or "=" not in spec:
        raise ParameterError(f"vary must look like FIELD=V1,V2 or F1/F2=A1/B1,A2/B2, got {spec!r}")
    left, right = spec.split("=", 1)
    names = [n.strip().replace("-", "_") for n in left.split("/")]
    unknown = [n for n in names if n not in fields]
    if unknown:
        raise ParameterError(
            f"vary: unknown field(s) {unknown} in {spec!r}; allowed: {sorted(fields)}"
        )
    values = []
    for group in right.split(","):
        parts = group.split("/")
        if len(parts) != len(names) or not group.strip():
            raise ParameterError(f"vary: {group!r} in {spec!r} must give {len(names)} value(s)")
        values.append({n: _field_value(n, p, kind) for n, p in zip(names, parts, strict=True)})
    return values


def _cell_name(overrides: Mapping[str, Any]) -> str:
    def show(v):
        return "+".join(v) if isinstance(v, tuple) else str(v)

    return " ".join(f"{k}={show(v)}" for k, v in overrides.items())


def expand_grid(
    vary: Sequence[str] = (),
    cells: Sequence[str] = (),
    *,
    product: bool = False,
    kind: type = CauKerConfig,
) -> list[tuple[str, dict[str, Any]]]:
    """The cells of a grid: ``[(name, overrides), ...]``, named cells first, no duplicates."""
    out: dict[str, dict[str, Any]] = {}
    for name in cells:
        if name not in NAMED_CELLS:
            raise ParameterError(f"cells: unknown cell {name!r}; allowed: {sorted(NAMED_CELLS)}")
        out[name] = dict(NAMED_CELLS[name])
    axes = [parse_axis(spec, kind) for spec in vary]
    if product and axes:
        combos = [dict(kv for d in combo for kv in d.items()) for combo in itertools.product(*axes)]
    else:
        combos = [values for axis in axes for values in axis]
    for overrides in combos:
        out.setdefault(_cell_name(overrides), overrides)
    return list(out.items())


# ------------------------------------------------------------------ plan


@dataclasses.dataclass
class Cell:
    """One row of the sweep: a corpus (or an anchor), its file and what it still needs."""

    name: str
    overrides: dict[str, Any]
    corpus: Corpus | None  # None for the anchors random_init and raw
    path: Path
    results: dict[str, Any] = dataclasses.field(default_factory=dict)
    runs: dict[str, Any] = dataclasses.field(default_factory=dict)
    missing: tuple[int, ...] = ()

    @property
    def kind(self) -> str:
        return self.name if self.name in ANCHORS else "pretrain"


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9=.+_-]+", "_", name).strip("_")[:120] or "cell"


@dataclasses.dataclass
class SweepPlan:
    base: CauKerConfig | TaskConfig
    cells: list[Cell]
    protocol: Protocol
    datasets: list
    prepared: dict
    output_dir: Path
    workers: int
    skipped: list[str]

    def tasks(self) -> list[Task]:
        out = []
        for cell in self.cells:
            if cell.corpus is None:
                out += baseline_tasks(cell.missing, (cell.name,))
            else:
                out += corpus_tasks(cell.name, cell.corpus, cell.missing)
        return out


def _cell_header(cell: Cell, plan_protocol: Protocol, dataset_names: list[str]) -> dict:
    """What identifies a cell's results (as JSON would read it back)."""
    header = {
        "cell": cell.name,
        "overrides": {k: list(v) if isinstance(v, tuple) else v for k, v in cell.overrides.items()},
        "corpus": cell.corpus.describe() if cell.corpus is not None else None,
        "protocol": {k: v for k, v in plan_protocol.to_dict().items() if k != "seeds"},
        "fingerprint": plan_protocol.fingerprint(),
        "datasets": dataset_names,
    }
    return json.loads(json.dumps(header))


def _load_cell(cell: Cell, header: dict) -> None:
    """Fill ``cell`` from its file, if any; ValueError if the file is of another sweep."""
    if not cell.path.is_file():
        return
    try:
        data = json.loads(cell.path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise ParameterError(f"sweep: cannot read {cell.path}: {error}") from error
    for key in ("fingerprint", "corpus", "datasets"):
        if data.get(key) != header[key]:
            raise ParameterError(
                f"sweep: {cell.path} holds results of another {key} than this sweep's; "
                "pass another output_dir, or delete the file to recompute it"
            )
    cell.results = data.get("results", {})
    cell.runs = data.get("runs", {})


def plan_sweep(
    base: CauKerConfig | TaskConfig | str = "10k",
    *,
    protocol: str = "zero-shot",
    vary: Sequence[str] = (),
    cells: Sequence[str] = (),
    product: bool = False,
    reference: CauKerConfig | str | os.PathLike | None = None,
    output_dir: str | os.PathLike = "sweep",
    datasets: str | Sequence[str] = SHIPPED,
    baselines: bool = True,
    workers: int | None = None,
    **protocol_options: Any,
) -> SweepPlan:
    """Check everything, read the cells already on disk and list what remains to run.

    ``vary``, ``cells`` and ``product`` make the grid (:func:`expand_grid`);
    ``protocol`` is ``"zero-shot"`` (a corpus config) or ``"in-context"`` (a task
    config); ``reference`` is what every cell is compared with (default: ``base``);
    ``output_dir`` holds one JSON file per cell. The other arguments are those of
    :func:`cauker.evaluation.evaluate` (the protocol of every cell).
    """
    in_context = protocol == "in-context"
    kind = TaskConfig if in_context else CauKerConfig
    if isinstance(base, str):
        if base not in NAMES:
            raise ParameterError(f"base must be a config or one of {list(NAMES)}, got {base!r}")
        base = named_config(base)
    if not isinstance(base, kind):
        raise ParameterError(
            f"base must be a {kind.__name__} or its config name with protocol={protocol!r}, "
            f"got {base!r}"
        )
    protocol, workers = checked_protocol(workers, protocol_options, protocol)
    if in_context:
        from cauker.evaluation.in_context import describe_tasks as describe
        from cauker.evaluation.in_context import resolve_tasks
    else:
        from cauker.evaluation.encoders import ENCODERS

        ENCODERS[protocol.encoder].check_length(base.length)
        describe, resolve_tasks = describe_config, None
    grid = expand_grid(vary, cells, product=product, kind=kind)
    if not grid:
        raise ParameterError("sweep needs at least one cell: pass vary=[...] or cells=[...]")
    output = Path(output_dir).expanduser()
    if output.exists() and not output.is_dir():
        raise ParameterError(f"output_dir {str(output)!r} exists and is not a folder")

    if reference is None:
        ref = Corpus(label=describe(base), length=base.length, config=base)
    elif in_context:
        ref = resolve_tasks(reference, what="reference")
    else:
        ref = resolve_corpus(reference, what="reference")
        if ref.length != base.length:
            raise ParameterError(f"reference must have the length {base.length}, got {ref.length}")
    entries: list[tuple[str, dict, Corpus | None]] = [(REFERENCE, {}, ref)]
    skipped = []
    for name, overrides in grid:
        config = dataclasses.replace(base, **overrides)  # validates the values
        if ref.config is not None and config == ref.config:
            skipped.append(name)  # the reference itself: its gap is 0 by definition
            continue
        entries.append((name, overrides, Corpus(describe(config), base.length, config)))
    if baselines:
        entries += [(b, {}, None) for b in protocol.baselines]

    real, prepared = prepare_datasets(datasets, base.length)
    names = [d.name for d in real]
    plan_cells = []
    for name, overrides, corpus in entries:
        cell = Cell(name, overrides, corpus, output / f"{_slug(name)}.json")
        _load_cell(cell, _cell_header(cell, protocol, names))
        cell.missing = tuple(s for s in protocol.seeds if str(s) not in cell.results)
        plan_cells.append(cell)
    pretraining = sum(len(c.missing) for c in plan_cells if c.corpus is not None)
    return SweepPlan(
        base=base,
        cells=plan_cells,
        protocol=protocol,
        datasets=real,
        prepared=prepared,
        output_dir=output,
        workers=workers or default_workers(protocol, pretraining),
        skipped=skipped,
    )


# ------------------------------------------------------------------ run


def _write_json(path: Path, data: dict) -> None:
    """Write ``data`` to ``path`` whole or not at all, under a temporary name of its
    own: two sweeps into one folder never write through each other's temporary file."""
    import fsspec

    from cauker.files.atomic_files import write_atomically

    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=1) + "\n"
    write_atomically(fsspec.filesystem("file"), str(path), text.encode("utf-8"))


def run_sweep(plan: SweepPlan, *, progress: bool = True) -> SweepReport:
    """Run the missing seeds of every cell, writing each cell's file when it completes."""
    tasks = plan.tasks()
    by_name = {c.name: c for c in plan.cells}
    names = [d.name for d in plan.datasets]
    left = {c.name: len(c.missing) for c in plan.cells}
    env = environment()

    def on_result(i: int, out: dict) -> None:
        task = tasks[i]
        cell = by_name[task.method]
        cell.results[str(task.seed)] = out["scores"]
        cell.runs[str(task.seed)] = {k: v for k, v in out.items() if k != "scores"}
        left[cell.name] -= 1
        if left[cell.name] == 0:
            data = _cell_header(cell, plan.protocol, names)
            data |= {"results": cell.results, "runs": cell.runs, "environment": env}
            _write_json(cell.path, data)

    started = time.perf_counter()
    plan.output_dir.mkdir(parents=True, exist_ok=True)
    run_tasks(
        tasks,
        plan.protocol,
        plan.prepared,
        workers=plan.workers,
        progress=progress,
        on_result=on_result,
    )
    report = SweepReport.from_plan(plan, seconds=time.perf_counter() - started)
    report.save(plan.output_dir)
    return report


def sweep(
    base: CauKerConfig | TaskConfig | str = "10k", *, progress: bool = True, **options
) -> SweepReport:
    """Evaluate a grid of configs against a reference; see :func:`plan_sweep` for the options.

    Returns the :class:`SweepReport` and writes it to ``output_dir`` (one JSON
    per cell, ``sweep.json``, ``sweep.txt`` and ``sweep.png``).
    """
    return run_sweep(plan_sweep(base, **options), progress=progress)


# ------------------------------------------------------------------ report


@dataclasses.dataclass
class SweepReport:
    """The cells' accuracies, each compared with the reference cell."""

    cells: dict[str, dict[str, Any]]  # name -> {"results": ..., "overrides": ..., "label": ...}
    protocol: dict[str, Any]
    datasets: list[str]
    skipped: list[str]
    seconds: float = 0.0

    @classmethod
    def from_plan(cls, plan: SweepPlan, seconds: float = 0.0) -> SweepReport:
        seeds = [str(s) for s in plan.protocol.seeds]
        cells = {
            c.name: {
                "overrides": c.overrides,
                "label": c.corpus.label if c.corpus is not None else c.name,
                "results": {s: c.results[s] for s in seeds},
            }
            for c in plan.cells
        }
        return cls(
            cells=cells,
            protocol=plan.protocol.to_dict(),
            datasets=[d.name for d in plan.datasets],
            skipped=plan.skipped,
            seconds=seconds,
        )

    @property
    def classifiers(self) -> dict[str, str]:
        """The probes of the protocol, by key: random forest and logistic regression
        (zero-shot), or the in-context classifier itself."""
        if self.protocol.get("protocol") == "in-context":
            return IN_CONTEXT_NAMES
        return CLASSIFIER_NAMES

    def rows(self) -> list[dict[str, Any]]:
        """Every cell but the reference against it, ranked by the first probe's gap."""
        ref = self.cells[REFERENCE]["results"]
        out = []
        for name, cell in self.cells.items():
            if name == REFERENCE:
                continue
            row = {"cell": name}
            for classifier in self.classifiers:
                c = statistics.compare_tables(cell["results"], ref, classifier)
                row[classifier] = c.to_dict()
                row[f"{classifier}_mean"] = statistics.mean_accuracy(cell["results"], classifier)
            out.append(row)
        first = next(iter(self.classifiers))
        return sorted(out, key=lambda r: -r[first]["gap"])

    def recommended(self) -> list[str]:
        """Configs decisively better than the reference on every probe."""
        return [
            r["cell"]
            for r in self.rows()
            if r["cell"] not in ANCHORS
            and all(r[c]["verdict"] == "better" for c in self.classifiers)
        ]

    def format_table(self) -> str:
        ref = self.cells[REFERENCE]
        p = self.protocol
        seeds = len(p["seeds"])
        rows = self.rows()
        width = max(12, *(len(r["cell"]) for r in rows)) + 2
        unit = "tasks" if self.protocol.get("protocol") == "in-context" else "series"
        means = ", ".join(
            f"{name} {statistics.mean_accuracy(ref['results'], key):.2f}"
            for key, name in self.classifiers.items()
        )
        short = {"rf": "RF", "logreg": "LR", "in_context": "ICL"}
        head = "".join(
            f"{short[c] + ' gap':>8}  {'95% interval':<17}{'p':>7}  {'verdict':<21}"
            for c in self.classifiers
        )
        lines = [
            f"Sweep: gap to the reference ({ref['label']}) in accuracy points, paired over "
            f"{len(self.datasets)} datasets x {seeds} seeds; encoder {p['encoder']}, "
            f"{p['series']} {unit}, {p['recipe']['steps']} steps x {p['recipe']['batch_size']}",
            f"reference mean accuracy: {means}",
            "",
            f"{'config':<{width}}{head}".rstrip(),
        ]
        lines.append("-" * (len(lines[-1]) + 12))
        for r in rows:
            line = f"{r['cell']:<{width}}"
            for classifier in self.classifiers:
                c = r[classifier]
                interval = f"[{c['low']:+.2f}, {c['high']:+.2f}]"
                line += f"{c['gap']:>+8.2f}  {interval:<17}{c['p_value']:>7.3f}  "
                line += f"{c['verdict']:<21}"
            lines.append(line.rstrip())
        if self.skipped:
            lines.append(f"same config as the reference (gap 0): {', '.join(self.skipped)}")
        best = self.recommended()
        probes = "both probes" if len(self.classifiers) > 1 else "the probe"
        lines.append(
            f"decisively better than the reference on {probes}: "
            + (", ".join(best) if best else "none")
        )
        lines.append(f"wall time: {self.seconds:.0f} s")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "reference": self.cells[REFERENCE]["label"],
            "protocol": self.protocol,
            "datasets": self.datasets,
            "ranking": self.rows(),
            "recommended": self.recommended(),
            "skipped": self.skipped,
            "seconds": self.seconds,
        }

    def plot(self, path: str | os.PathLike) -> Path:
        """A horizontal chart: each config's gap with its 95% interval, per probe."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        rows = self.rows()[::-1]  # best on top
        colors = {"better": "tab:green", "worse": "tab:red", "no clear difference": "tab:gray"}
        figure, axis = plt.subplots(figsize=(8, 1.2 + 0.45 * len(rows)))
        markers = dict(zip(self.classifiers, ("o", "s")))
        offsets = (0.15, -0.15) if len(markers) > 1 else (0.0,)
        for offset, (classifier, marker) in zip(offsets, markers.items()):
            for y, r in enumerate(rows):
                c = r[classifier]
                axis.errorbar(
                    c["gap"],
                    y + offset,
                    xerr=[[c["gap"] - c["low"]], [c["high"] - c["gap"]]],
                    fmt=marker,
                    color=colors[c["verdict"]],
                    capsize=3,
                )
        axis.axvline(0.0, color="black", linewidth=0.8)
        axis.set_yticks(range(len(rows)), [r["cell"] for r in rows])
        axis.set_xlabel("accuracy gap to the reference (points), with its 95% interval")
        axis.legend(
            handles=[
                *(
                    plt.Line2D([], [], marker=marker, linestyle="", color="black", label=label)
                    for (classifier, label), marker in zip(self.classifiers.items(), ("o", "s"))
                ),
                *(
                    plt.Line2D([], [], linewidth=6, color=color, label=verdict)
                    for verdict, color in colors.items()
                ),
            ],
            fontsize=7,
            loc="best",
        )
        axis.set_title(
            f"reference: {self.cells[REFERENCE]['label']}\n{len(self.datasets)} datasets x "
            f"{len(self.protocol['seeds'])} seeds, encoder {self.protocol['encoder']}",
            fontsize=9,
        )
        figure.tight_layout()
        path = Path(path)
        figure.savefig(path, dpi=110)
        plt.close(figure)
        return path

    def save(self, output_dir: str | os.PathLike) -> None:
        output = Path(output_dir)
        output.mkdir(parents=True, exist_ok=True)
        _write_json(output / "sweep.json", self.to_dict())
        (output / "sweep.txt").write_text(self.format_table() + "\n")
        self.plot(output / "sweep.png")
