"""Rows from a config: shapes, provenance, determinism, validity, the paper's laws."""

import dataclasses
import multiprocessing
import re

import numpy as np
import pyarrow as pa
import pytest

import cauker
from cauker import CauKerConfig, generate, iter_batches

SMALL = CauKerConfig(num_series=90, length=64)


def targets(table):
    column = table.column("target").combine_chunks()
    while pa.types.is_fixed_size_list(column.type):
        column = column.flatten()
    return np.asarray(column)


def test_shape_schema_and_index():
    table = generate(SMALL)
    assert table.num_rows == 90
    assert table.schema == cauker.arrow_schema(SMALL)
    assert table.schema.field("target").type == pa.list_(pa.float32(), 64)
    assert table.column("index").to_pylist() == list(range(90))
    assert table.column("graph").to_pylist() == [i // 4 for i in range(90)]
    assert np.isfinite(targets(table)).all()


def test_any_split_of_the_rows_gives_the_same_bytes():
    whole = generate(SMALL)
    cuts = [0, 1, 5, 6, 37, 38, 88, 90]
    pieces = [generate(SMALL, start=a, stop=b) for a, b in zip(cuts, cuts[1:])]
    assert pa.concat_tables(pieces).equals(whole)
    for per_batch in (1, 3):
        batches = list(iter_batches(SMALL, graphs_per_batch=per_batch))
        assert pa.Table.from_batches(batches).equals(whole)


def _rows(args):
    config, start, stop = args
    return (
        generate(config, start=start, stop=stop)
        .column("target")
        .combine_chunks()
        .buffers()[-1]
        .to_pybytes()
    )


def test_same_bytes_whatever_the_process_count():
    """Two fresh processes, each with cold caches, give the bytes of one process."""
    config = CauKerConfig(num_series=40, length=128, seed=3)
    alone = _rows((config, 0, 40))
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        parts = pool.map(_rows, [(config, 0, 17), (config, 17, 40)])
    assert b"".join(parts) == alone


def test_seed_and_split_change_the_rows():
    a = targets(generate(SMALL, stop=8))
    b = targets(generate(dataclasses.replace(SMALL, seed=1), stop=8))
    v = targets(generate(SMALL, split="validation"))
    assert not np.array_equal(a, b)
    assert len(v) == SMALL.split_size("validation") * 64
    assert not np.array_equal(a[: len(v)], v)


def test_provenance_is_consistent():
    table = generate(CauKerConfig(num_series=400, length=32)).to_pylist()
    names = set(cauker.banks.ACTIVATION_BANKS["paper"])
    for row in table:
        if row["is_root"]:
            assert row["depth"] == 0 and row["kernel"] and row["mean"] and row["activation"] is None
        else:
            assert row["depth"] >= 1 and row["kernel"] is None and row["activation"] in names
        assert 0 <= row["node"] < 18 and row["redraws"] == 0
    # the 4 series of a graph are 4 distinct nodes
    for g in range(100):
        assert len({r["node"] for r in table[4 * g : 4 * g + 4]}) == 4


def test_dag_depth_controls_depth():
    for depth in (0, 3):
        table = generate(CauKerConfig(num_series=200, length=32, dag_depth=depth))
        depths = np.array(table.column("depth").to_pylist())
        assert depths.max() == depth
        assert (depths == 0).all() == (depth == 0)


def test_multivariate_rows_are_the_graphs_series():
    uni = generate(CauKerConfig(num_series=24, length=32))
    multi_config = CauKerConfig(num_series=6, length=32, multivariate=True)
    multi = generate(multi_config)
    assert multi.num_rows == 6
    assert multi.schema.field("target").type == pa.list_(pa.list_(pa.float32(), 32), 4)
    assert np.array_equal(targets(multi), targets(uni))
    assert multi.column("node").to_pylist()[1] == uni.column("node").to_pylist()[4:8]
    assert generate(multi_config, start=2, stop=5).equals(multi.slice(2, 3))


def test_ten_thousand_series_are_finite_and_follow_the_paper_laws():
    table = generate(CauKerConfig(num_series=10_000, length=64))
    assert np.isfinite(targets(table)).all()
    n = table.num_rows
    # A chosen node is a root with probability E[roots] / 18 = 4.164 / 18.
    p_root = sum(1 / (min(i, 6) + 1) for i in range(18)) / 18
    is_root = np.array(table.column("is_root").to_pylist())
    assert abs(is_root.mean() - p_root) < 5 * np.sqrt(p_root * (1 - p_root) / n)
    # Activations are uniform over the paper bank (6 entries).
    acts = [a for a in table.column("activation").to_pylist() if a is not None]
    for name in cauker.banks.ACTIVATION_BANKS["paper"]:
        share = acts.count(name) / len(acts)
        assert abs(share - 1 / 6) < 5 * np.sqrt((1 / 6) * (5 / 6) / len(acts)), name
    # Each root composes UniformInt(1, 7) kernels.
    pattern = re.compile(
        r"(ExpSineSquared|DotProduct|RBF|RationalQuadratic|WhiteKernel|ConstantKernel)\("
    )
    counts = [len(pattern.findall(k)) for k in table.column("kernel").to_pylist() if k]
    for k in range(1, 8):
        share = counts.count(k) / len(counts)
        assert abs(share - 1 / 7) < 5 * np.sqrt((1 / 7) * (6 / 7) / len(counts)), k


def test_redraw_policy_for_constant_series():
    """ReLU-only graphs often give a constant series. Off (the paper): they are kept.
    On: every row is non-constant and the redraws are counted in the data."""
    base = CauKerConfig(num_series=200, length=32, activation_bank=("relu",))
    kept = generate(base)
    values = targets(kept).reshape(-1, 32)
    assert (np.ptp(values, axis=1) == 0).any()
    redrawn = generate(dataclasses.replace(base, redraw_constant=True))
    values = targets(redrawn).reshape(-1, 32)
    assert (np.ptp(values, axis=1) > 0).all()
    assert max(redrawn.column("redraws").to_pylist()) > 0


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"split": "test"}, "split must be 'train' or 'validation'"),
        ({"start": 5, "stop": 2}, "must satisfy 0 <= start <= stop <= 90"),
        ({"stop": 91}, "must satisfy 0 <= start <= stop <= 90"),
        ({"start": -1}, "must satisfy 0 <= start <= stop <= 90"),
        ({"start": 1.5}, "start must be an integer, got 1.5"),
    ],
)
def test_bad_ranges(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        generate(SMALL, **kwargs)


def test_config_type_is_checked():
    with pytest.raises(ValueError, match="config must be a CauKerConfig, got dict"):
        generate({"num_series": 3})


def test_custom_kernel_bank_end_to_end():
    from sklearn.gaussian_process.kernels import RBF, DotProduct

    config = CauKerConfig(num_series=12, length=32, kernel_bank=(RBF(0.2), DotProduct(1.0) ** 2))
    table = generate(config)
    assert np.isfinite(targets(table)).all()
    kernels = [k for k in table.column("kernel").to_pylist() if k]
    assert all("RBF" in k or "DotProduct" in k for k in kernels)


@pytest.mark.parametrize(
    "bad, allowed",
    [(0, ">= 1"), (-1, ">= 1"), (2.5, "an integer"), (True, "an integer"), (None, "an integer")],
)
def test_graphs_per_batch_must_be_a_positive_integer(bad, allowed):
    with pytest.raises(ValueError, match=f"graphs_per_batch must be {allowed}, got {bad!r}"):
        next(iter_batches(SMALL, graphs_per_batch=bad))
