"""Are the rows the same bytes under other CPU kernels? One table, fresh processes.

    python benchmarks/determinism.py            # 4,000 rows of 10k, 1,000 of three variants
    python benchmarks/determinism.py --rows 500 # quicker

Each variant generates the rows in a fresh process with another OpenBLAS kernel
(``OPENBLAS_CORETYPE``: what another x86 CPU family gets), or with numpy's
CPU-specific loops disabled (``NPY_DISABLE_CPU_FEATURES``: what an older CPU
gets), and compares them with the native run: share of byte-identical rows,
worst difference relative to a row's largest value, structure columns equal.
The machinery is the one of tests/test_determinism.py.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from results import Table, record  # noqa: E402
from test_determinism import (  # noqa: E402
    compare,
    generate_in_subprocess,
    numpy_baseline_only,
    other_core_types,
)

VARIANTS = {
    "10k (defaults)": {},
    "v2 banks, depth 3": {"kernel_bank": "v2", "activation_bank": "v2", "dag_depth": 3},
    "length 2048": {"length": 2048},
    "3 kernels, 2 parents, 10 nodes": {"max_kernels": 3, "max_parents": 2, "num_nodes": 10},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=4000, help="rows of the default config")
    args = parser.parse_args()
    workload = [
        (overrides, args.rows if not overrides else max(1, args.rows // 4))
        for overrides in VARIANTS.values()
    ]
    native = generate_in_subprocess({}, workload)
    runs = {f"OPENBLAS_CORETYPE={c}": {"OPENBLAS_CORETYPE": c} for c in other_core_types()}
    disabled = numpy_baseline_only()
    if disabled:
        runs[f"NPY_DISABLE_CPU_FEATURES='{disabled}'"] = {"NPY_DISABLE_CPU_FEATURES": disabled}
    columns = ["run", "BLAS kernel", "config", "rows", "identical rows", "worst relative"]
    table = Table("Rows under other CPU kernels", [*columns, "structure"])
    for label, env in runs.items():
        other = generate_in_subprocess(env, workload)
        for (name, (_, rows)), item in zip(zip(VARIANTS, workload), compare(native, other)):
            table.add(
                label,
                ", ".join(other["blas"]),
                name,
                f"{rows:,}",
                f"{item['identical_rows']:.2%}",
                f"{item['worst_relative']:.1e}",
                "equal" if item["structure_equal"] else "DIFFERENT",
            )
    note = f"native OpenBLAS kernel: {', '.join(native['blas'])}"
    print(note, table.markdown(), sep="\n")
    record(__file__, table, notes=[note])


if __name__ == "__main__":
    main()
