"""Golden rows: the first rows of every named config and of a few variants, as
published by this algorithm version, on any machine.

The structure columns (graph, node, kernel, mean, activation, ...) must hash
exactly as stored. The values must be within 1e-6 of each row's largest
absolute value: the bytes are meant to be identical on every machine (the
determinism tests check that across BLAS kernels), and the tolerance keeps a
machine we have not foreseen from failing on a last bit while any real change
of the rows still fails. Any intended change of the rows bumps
``cauker.ALGORITHM_VERSION`` and regenerates the file
(``python tests/golden/regenerate.py``).
"""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

import cauker

GOLDEN = Path(__file__).with_name("golden") / f"rows-{cauker.ALGORITHM_VERSION}.npz"

#: Relative tolerance on values, per row: |got - golden| <= TOLERANCE * max|golden row|.
TOLERANCE = 1e-6

VARIANTS = {
    "v2-depth3": dict(kernel_bank="v2", activation_bank="v2", dag_depth=3),
    "multivariate": dict(multivariate=True, num_series=100),
    "length2048": dict(length=2048),
    "kernelsynth": dict(dag_depth=0, mean_bank="zero", max_kernels=5),
}

CASES = {
    "named/train": (cauker.named_config("10k"), "train", 16),
    "named/validation": (cauker.named_config("10k"), "validation", 4),
    **{
        f"variant/{name}": (cauker.named_config("10k", **kw), "train", 4)
        for name, kw in VARIANTS.items()
    },
}


def first_rows(config: cauker.CauKerConfig, split: str, rows: int) -> pa.Table:
    return cauker.generate(config, split=split, stop=rows)


def targets(table: pa.Table) -> np.ndarray:
    """The values, one row per table row (series flattened)."""
    column = table.column("target").combine_chunks()
    while pa.types.is_fixed_size_list(column.type):
        column = column.flatten()
    return np.asarray(column, dtype=np.float32).reshape(table.num_rows, -1)


def structure_hash(table: pa.Table) -> str:
    """A hash of every column but ``target``, stable across pyarrow versions."""
    rest = table.drop(["target"]).to_pylist()
    return hashlib.sha256(json.dumps(rest, sort_keys=True).encode()).hexdigest()[:16]


@pytest.fixture(scope="module")
def golden():
    assert GOLDEN.exists(), f"no golden rows for algorithm version {cauker.ALGORITHM_VERSION}"
    with np.load(GOLDEN) as data:
        return {key: data[key] for key in data.files}


def check(table: pa.Table, golden: dict, case: str) -> None:
    assert structure_hash(table) == str(golden[f"{case}/structure"]), "structure columns changed"
    got, expected = targets(table), golden[f"{case}/target"]
    assert got.shape == expected.shape
    scale = np.abs(expected).max(axis=1, keepdims=True)
    error = np.abs(got.astype(np.float64) - expected) / np.where(scale > 0, scale, 1.0)
    assert error.max() <= TOLERANCE, f"row {error.max(axis=1).argmax()} is off by {error.max():.3g}"
    if not np.array_equal(got.view(np.uint32), expected.view(np.uint32)):
        same = (got.view(np.uint32) == expected.view(np.uint32)).all(axis=1).mean()
        warnings.warn(
            f"{case}: values within tolerance but not byte-identical ({same:.0%} of rows); "
            "report this machine's CPU and numpy build",
            stacklevel=2,
        )


@pytest.mark.parametrize("name", list(cauker.NAMED_SIZES))
@pytest.mark.parametrize("split, rows", [("train", 16), ("validation", 4)])
def test_golden_first_rows_of_every_named_config(golden, name, split, rows):
    check(first_rows(cauker.named_config(name), split, rows), golden, f"named/{split}")


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_golden_first_rows_of_variants(golden, variant):
    config, split, rows = CASES[f"variant/{variant}"]
    check(first_rows(config, split, rows), golden, f"variant/{variant}")


def test_golden_check_fails_on_a_small_change(golden):
    """The check is not vacuous: a change of 1e-5 of a row's scale in one value fails it."""
    table = first_rows(*CASES["named/validation"])
    values = targets(table).copy()
    values[2, 100] += 1e-5 * np.abs(values[2]).max()
    changed = table.set_column(
        table.schema.get_field_index("target"),
        "target",
        pa.FixedSizeListArray.from_arrays(pa.array(values.reshape(-1)), values.shape[1]),
    )
    with pytest.raises(AssertionError, match="row 2 is off"):
        check(changed, golden, "named/validation")
    renamed = table.set_column(
        table.schema.get_field_index("activation"), "activation", pa.array(["x"] * 4)
    )
    with pytest.raises(AssertionError, match="structure columns changed"):
        check(renamed, golden, "named/validation")
