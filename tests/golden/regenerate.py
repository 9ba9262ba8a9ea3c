"""Write tests/golden/rows-<version>.npz: the first rows of every named config and
of a few variants, as the golden tests check them.

Run it only together with a bump of ``cauker.ALGORITHM_VERSION`` (a deliberate
change of the bytes), never to make a failing golden test pass:

    python tests/golden/regenerate.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from test_golden import CASES, first_rows, structure_hash, targets  # noqa: E402

import cauker  # noqa: E402


def main() -> None:
    arrays = {}
    for name, (config, split, rows) in CASES.items():
        table = first_rows(config, split, rows)
        arrays[f"{name}/target"] = targets(table)
        arrays[f"{name}/structure"] = np.array(structure_hash(table))
    path = Path(__file__).with_name(f"rows-{cauker.ALGORITHM_VERSION}.npz")
    np.savez_compressed(path, **arrays)
    print(f"wrote {path} ({path.stat().st_size:,} bytes, {len(CASES)} cases)")


if __name__ == "__main__":
    main()
