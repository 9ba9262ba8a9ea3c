"""The same rows on every machine: rows generated in fresh processes whose BLAS
uses other CPU kernels (``OPENBLAS_CORETYPE``), or whose numpy uses only its
baseline SIMD loops (``NPY_DISABLE_CPU_FEATURES``), are byte-identical to rows
generated natively; corpus rows and task rows (their samples, labels, provenance
and 1-NN accuracy) alike.

``OPENBLAS_CORETYPE`` is read when OpenBLAS loads, so each variant runs in its
own subprocess. Each child reports the kernel OpenBLAS actually uses, so the
test fails instead of passing vacuously if the variable is ignored.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

#: (config overrides, rows): the default config, a variant exercising the v2
#: banks (Matern kernels, tanh/softplus/swish/gaussian) and layered DAGs, and
#: rows of 1 to 8 channels with lagged edges.
WORKLOAD = [
    ({}, 600),
    ({"kernel_bank": "v2", "activation_bank": "v2", "dag_depth": 3}, 200),
    ({"multivariate": True, "series_per_graph": [1, 8], "max_lag": 3}, 40),
]
#: Task corpora (``tasks-10k`` with overrides, tasks): both class definitions, every
#: augmentation, the v2 banks and multivariate samples. A task's "row" is its support and
#: queries, flattened; its structure includes the 1-NN accuracy.
TASK_WORKLOAD = [
    ({"tasks": True}, 24),
    ({"tasks": True, "class_definition": "shift", "augmentations": ["mixup", "crop",
      "time_shift", "scale", "noise"]}, 24),
    ({"tasks": True, "kernel_bank": "v2", "activation_bank": "v2", "multivariate": True,
      "shift_scale": 0.5, "class_definition": "shift", "length": 128}, 12),
]  # fmt: skip

CHILD = r"""
import hashlib, json, sys
import numpy as np
import pyarrow as pa
from threadpoolctl import threadpool_info
import cauker

blas = [i for i in threadpool_info() if i["internal_api"] == "openblas"]
out = {"blas": sorted({i.get("architecture") for i in blas})}
def flat(column):
    column = column.combine_chunks()
    while pa.types.is_fixed_size_list(column.type) or pa.types.is_list(column.type):
        column = column.flatten()
    return np.asarray(column)


def task_values(table):  # each task's support and query values, a row per task (padded)
    per_task = []
    for task in range(table.num_rows):
        both = [flat(table[name].slice(task, 1)) for name in ("support", "query")]
        per_task.append(np.concatenate(both))
    width = max(v.size for v in per_task)
    return np.stack([np.pad(v, (0, width - v.size)) for v in per_task])


for overrides, rows in json.loads(sys.argv[1]):
    tasks = overrides.pop("tasks", False)
    name = "tasks-10k" if tasks else "10k"
    table = cauker.generate(cauker.named_config(name, **overrides), stop=rows)
    if tasks:
        values = task_values(table)
        table = table.drop(["support", "query"])
    else:
        values = flat(table.column("target")).reshape(-1, 512)  # a row per series
        table = table.drop(["target"])
    out.setdefault("rows", []).append([hashlib.sha256(v.tobytes()).hexdigest() for v in values])
    out.setdefault("structure", []).append(json.dumps(table.to_pylist()))
    out.setdefault("values", []).append(values.tolist())
print(json.dumps(out))
"""


def generate_in_subprocess(env_changes: dict[str, str], workload=WORKLOAD + TASK_WORKLOAD) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE",)}
    env.pop("NPY_DISABLE_CPU_FEATURES", None)
    env.update(env_changes)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(Path(__file__).resolve().parents[1]), env.get("PYTHONPATH", "")]
    )
    done = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(workload)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith(("flags", "Features")):
            return set(line.split(":", 1)[1].split())
    return set()


def other_core_types() -> list[str]:
    """OpenBLAS core types this CPU can run, other than the generic native choice."""
    machine = platform.machine().lower()
    flags = cpu_flags()
    if machine in ("x86_64", "amd64"):
        # "pni" is how Linux names SSE3.
        ladder = [("Prescott", "pni"), ("SandyBridge", "avx"), ("Haswell", "avx2")]
        return [core for core, flag in ladder if flag in flags]
    if machine in ("aarch64", "arm64"):
        return ["ARMV8", "CORTEXA57"]
    return []


def numpy_baseline_only() -> str | None:
    """The ``NPY_DISABLE_CPU_FEATURES`` value that leaves numpy its baseline loops only."""
    from numpy._core import _multiarray_umath as umath

    enabled = [f for f in umath.__cpu_dispatch__ if umath.__cpu_features__.get(f)]
    return " ".join(enabled) or None


def compare(native: dict, other: dict) -> dict:
    """Identical rows, worst relative difference, structure equality, per workload item."""
    report = []
    for k in range(len(native["rows"])):
        same = np.array([a == b for a, b in zip(native["rows"][k], other["rows"][k])])
        x, y = np.array(native["values"][k]), np.array(other["values"][k])
        scale = np.abs(x).max(axis=1)
        worst = (np.abs(x - y).max(axis=1) / np.where(scale > 0, scale, 1.0)).max()
        report.append(
            {
                "identical_rows": float(same.mean()),
                "worst_relative": float(worst),
                "structure_equal": native["structure"][k] == other["structure"][k],
            }
        )
    return report


@pytest.fixture(scope="module")
def native():
    return generate_in_subprocess({})


@pytest.fixture(scope="module")
def other_kernels() -> dict[str, dict]:
    cores = other_core_types()
    return {core: generate_in_subprocess({"OPENBLAS_CORETYPE": core}) for core in cores}


def test_rows_are_identical_under_other_blas_kernels(native, other_kernels):
    """At least two kernels other than the native one (else the test would be vacuous)."""
    if not other_kernels:
        pytest.skip(f"no OpenBLAS core types known for {platform.machine()}")
    others = {core: run for core, run in other_kernels.items() if run["blas"] != native["blas"]}
    assert len(others) >= 2, (native["blas"], {c: r["blas"] for c, r in other_kernels.items()})
    for core, run in others.items():
        for item in compare(native, run):
            expected = {"identical_rows": 1.0, "worst_relative": 0.0, "structure_equal": True}
            assert item == expected, (core, run["blas"], item)


def test_rows_are_identical_with_numpy_baseline_loops(native, other_kernels):
    """numpy's CPU-specific loops (AVX2/AVX-512 exp, sin, reductions) are not used:
    an old CPU, emulated by disabling them and picking the oldest BLAS kernel,
    gives the same bytes."""
    disabled = numpy_baseline_only()
    if disabled is None:
        pytest.skip("this CPU already runs numpy's baseline loops")
    env = {"NPY_DISABLE_CPU_FEATURES": disabled}
    if other_kernels:
        env["OPENBLAS_CORETYPE"] = next(iter(other_kernels))
    for item in compare(native, generate_in_subprocess(env)):
        assert item == {"identical_rows": 1.0, "worst_relative": 0.0, "structure_equal": True}


def test_comparison_detects_a_difference(native):
    """``compare`` is not vacuous: one changed value in one row is reported."""
    changed = json.loads(json.dumps(native))
    changed["values"][0][5][7] += 1e-3
    changed["rows"][0][5] = "different"
    item = compare(native, changed)[0]
    assert item["identical_rows"] == pytest.approx(1 - 1 / len(native["rows"][0]))
    assert item["worst_relative"] > 0 and item["structure_equal"]


def test_rows_are_identical_with_compiled_loops_built_for_another_cpu(native, tmp_path):
    """The numba loops (cauker.sampler.compiled), compiled for a generic CPU of this
    architecture (no AVX, no FMA: as on an older machine) instead of this one, give the
    bytes of numpy's loops that the native run used."""
    pytest.importorskip("numba")
    env = {"CAUKER_COMPILED": "1", "NUMBA_CPU_NAME": "generic", "NUMBA_CACHE_DIR": str(tmp_path)}
    run = generate_in_subprocess(env)
    assert list(tmp_path.rglob("compiled.*.nbi")), "the compiled loops did not run"
    for item in compare(native, run):
        assert item == {"identical_rows": 1.0, "worst_relative": 0.0, "structure_equal": True}
