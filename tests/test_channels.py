"""Any number of channels per row, the edges among them, and lead-lag edges."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats

import cauker
from cauker.cli.config_flags import add_config_flags, config_overrides
from cauker.config import config_flags, named_config
from cauker.errors import ParameterError
from cauker.sampler import compiled, loops
from cauker.sampler.rows import sampler_for
from cauker.sampler.scm import Sampler, split_key

RANGE = dict(multivariate=True, series_per_graph=(1, 8))


def config(**fields) -> cauker.CauKerConfig:
    return cauker.CauKerConfig(**{"num_series": 60, "length": 48, **fields})


# -- the count of channels --------------------------------------------------------


def test_counts_follow_the_uniform_law():
    """Chi-square over 8,000 graphs: p > 1e-4 (the seeds are fixed, so this cannot
    flake; a law 20% off in one cell fails it)."""
    sampler = Sampler(config(**RANGE))
    counts = sampler.counts(split_key("train"), list(range(8000)))
    observed = np.bincount(counts, minlength=9)[1:]
    assert counts.min() == 1 and counts.max() == 8
    assert stats.chisquare(observed).pvalue > 1e-4
    biased = observed.copy()  # the test can fail: 20% too many 8s
    biased[-1] += 200
    assert stats.chisquare(biased).pvalue < 1e-4


def test_rows_have_their_graph_count_whatever_redraws():
    """A row's channel count is its graph's, drawn from the graph's seed sequence,
    not from an attempt's stream: redrawing constant graphs keeps every count."""
    base = cauker.generate(config(**RANGE))
    redrawn = cauker.generate(config(**RANGE, redraw_constant=True))
    counts = Sampler(config(**RANGE)).counts(split_key("train"), list(range(60)))
    lengths = pa.compute.list_value_length(base.column("target")).to_numpy()
    assert lengths.tolist() == counts.tolist()
    assert pa.compute.list_value_length(redrawn.column("target")).to_numpy().tolist() == (
        counts.tolist()
    )
    assert max(redrawn.column("redraws").to_pylist()) > 0
    for name in ("node", "is_root", "kernel", "activation"):
        assert pa.compute.list_value_length(base.column(name)).to_numpy().tolist() == (
            counts.tolist()
        )


def test_an_int_count_and_no_lag_keep_the_2_0_0_rows_and_fingerprint():
    """max_lag=0 and edges=False are left out of the fingerprint, and the rows are those
    of the config without them (the golden test and benchmarks/row_hashes.py hold the
    bytes of 2.0.0 themselves)."""
    old = named_config("10k", multivariate=True, num_series=20)
    same = named_config("10k", multivariate=True, num_series=20, max_lag=0, series_per_graph=(4, 4))
    assert same.series_per_graph == 4 and same.fingerprint() == old.fingerprint()
    assert "max_lag" not in old.to_dict() and "edges" not in old.to_dict()
    assert cauker.generate(same).equals(cauker.generate(old))
    assert "edges" not in cauker.arrow_schema(old).names
    lagged = named_config("10k", multivariate=True, num_series=20, max_lag=2)
    assert lagged.fingerprint() != old.fingerprint()


@pytest.mark.parametrize(
    "fields, message",
    [
        (
            dict(series_per_graph=(1, 8)),
            "series_per_graph=1:8 is a range, which needs multivariate=True: row i of a "
            "univariate corpus is series i % k of graph i // k",
        ),
        (dict(RANGE, series_per_graph=(1, 19)), "series_per_graph high must be in [1, 18], got 19"),
        (dict(RANGE, series_per_graph=(0, 4)), "series_per_graph low must be in [1, 18], got 0"),
        (dict(RANGE, series_per_graph=(5, 4)), "series_per_graph high must be in [5, 18], got 4"),
        (dict(RANGE, series_per_graph=(1, 2, 3)), "series_per_graph must be an integer or a range"),
        (dict(series_per_graph=19), "series_per_graph must be in [1, 18], got 19"),
        (dict(max_lag=48), "max_lag must be in [0, 47], got 48"),
        (dict(max_lag=-1), "max_lag must be in [0, 47], got -1"),
        (dict(edges=True), "edges=True needs multivariate=True"),
    ],
)
def test_bad_counts_and_lags_fail_at_config_time(fields, message):
    with pytest.raises(ParameterError) as error:
        config(**fields)
    assert message in str(error.value)


def test_the_cli_reads_and_writes_a_range(capsys):
    """``--series-per-graph 1:16`` on every subcommand, and the flags that resume a push
    read back the same config."""
    import argparse

    wanted = named_config("10k", multivariate=True, series_per_graph=(1, 16), max_lag=3)
    words = config_flags(wanted, named_config("10k"))
    assert words == ["--series-per-graph", "1:16", "--multivariate", "--max-lag", "3"]
    parser = argparse.ArgumentParser()
    add_config_flags(parser)
    assert named_config("10k", **config_overrides(parser.parse_args(words))) == wanted
    from cauker.cli import main

    assert main(["generate", "10k", "--series-per-graph", "1:4", "--output-dir", "x"]) == 2
    assert "is a range, which needs multivariate=True" in capsys.readouterr().err


# -- the edges among the kept channels -----------------------------------------------


def reference_edges(batch, g: int) -> list[tuple]:
    """The edges of graph ``g`` projected onto its kept nodes, from the batch's
    structure by another route: every evaluated edge from ``Nodes`` (row to row),
    and reachability through dropped nodes by boolean matrix products."""
    nodes, row = batch.nodes, batch.row[g]
    position_of_row = {int(r): p for p, r in enumerate(row.tolist()) if r >= 0}
    n = row.size
    weight, lag = {}, {}
    adjacency = np.zeros((n, n), dtype=bool)  # [parent, child]
    for k, child_row in enumerate(nodes.row.tolist()):
        if child_row not in position_of_row:
            continue
        child = position_of_row[child_row]
        for q in range(nodes.first_parent[k], nodes.first_parent[k + 1]):
            parent = position_of_row[int(nodes.parent_rows[q])]
            adjacency[parent, child] = True
            weight[parent, child] = float(nodes.weights[q])
            lag[parent, child] = 0 if nodes.lags is None else int(nodes.lags[q])
    kept = batch.chosen[g, : batch.counts[g]].tolist()
    dropped = np.ones(n, dtype=bool)
    dropped[kept] = False
    # through[a, b]: a path a -> ... -> b of two edges or more, all inner nodes dropped.
    step = adjacency & dropped[None, :]  # edges into dropped nodes
    reach = step.copy()
    for _ in range(n):
        reach |= (reach.astype(int) @ step.astype(int)) > 0
    through = (reach.astype(int) @ adjacency.astype(int)) > 0
    out = []
    for c, child in enumerate(kept):
        for p, parent in sorted(enumerate(kept)):
            direct, via = bool(adjacency[parent, child]), bool(through[parent, child])
            if direct or via:
                w = weight[parent, child] if direct else None
                out.append((p, c, w, lag[parent, child] if direct else None, via))
    return out


@pytest.mark.parametrize(
    "fields",
    [
        dict(RANGE, max_lag=5),
        dict(multivariate=True, series_per_graph=(2, 12), num_nodes=12, max_parents=3),
        dict(multivariate=True, series_per_graph=6, edges=True, dag_depth=4),
    ],
)
def test_recorded_edges_are_the_graphs_edges_between_kept_nodes(fields):
    """Over 300 graphs: every recorded edge is an edge of the graph between those
    two kept nodes with that weight and lag, every such edge is recorded, and a path
    through dropped nodes only is an entry without weight or lag."""
    c = config(**{**fields, "num_series": 300})
    table = cauker.generate(c)
    sampler = Sampler(c)
    counts = sampler.counts(split_key("train"), list(range(300)))
    direct = indirect = 0
    for start in range(0, 300, 100):
        indices = list(range(start, start + 100))
        attempts = dict(zip(indices, table.column("redraws").to_pylist()[start : start + 100]))
        batch = sampler.plan(split_key("train"), indices, attempts, loops, counts[indices])
        for g, index in enumerate(indices):
            got = [tuple(e.values()) for e in table.column("edges")[index].as_py()]
            assert got == reference_edges(batch, g)
            assert table.column("node")[index].as_py() == (
                batch.dags.node_ids[g, batch.chosen[g, : counts[index]]].tolist()
            )
            direct += sum(e[2] is not None for e in got)
            indirect += sum(e[2] is None for e in got)
    assert direct > 100 and indirect > 20  # both kinds were checked


def test_an_indirect_path_through_a_dropped_node_is_reported():
    """A hand-made graph: kept 0 -> dropped 1 -> kept 2, and kept 0 -> kept 2 directly
    too in a second graph; a dropped common parent is no edge."""
    from cauker.sampler.dag import Dag

    class Batch:  # what Sampler.edges reads
        pass

    def batch_of(parents: list[list[int]], kept: list[int]):
        dag = Dag(np.arange(len(parents)), tuple(np.array(p, dtype=np.int64) for p in parents))
        b = Batch()
        b.dags = dag.batch()
        b.chosen, b.counts = np.array([kept]), np.array([len(kept)])
        b.row = np.arange(len(parents))[None]
        inner = [i for i, p in enumerate(parents) if p]
        b.values = np.zeros((len(parents), 4))
        b.nodes = loops.Nodes(
            row=np.array(inner),
            first_parent=np.concatenate([[0], np.cumsum([len(parents[i]) for i in inner])]),
            parent_rows=np.array([q for i in inner for q in parents[i]]),
            weights=np.arange(1.0, 1 + sum(len(parents[i]) for i in inner)),
            biases=np.zeros(len(inner)),
            kinds=np.zeros(len(inner), dtype=np.int64),
            params=np.zeros((len(inner), 2)),
            depth=np.ones(len(inner), dtype=np.int64),
            lags=np.array([7] * sum(len(parents[i]) for i in inner)),
        )
        return b

    chain = batch_of([[], [0], [1]], kept=[0, 2])
    assert Sampler.edges(chain, 0) == [(0, 1, None, None, True)]
    both = batch_of([[], [0], [1, 0]], kept=[0, 2])
    assert Sampler.edges(both, 0) == [(0, 1, 3.0, 7, True)]
    confounded = batch_of([[], [0], [0]], kept=[1, 2])
    assert Sampler.edges(confounded, 0) == []
    through_kept = batch_of([[], [0], [1]], kept=[0, 1, 2])
    assert Sampler.edges(through_kept, 0) == [(0, 1, 1.0, 7, False), (1, 2, 2.0, 7, False)]


# -- lead-lag edges ----------------------------------------------------------------


def misfit(parent: np.ndarray, child: np.ndarray, shift: int) -> float:
    """Largest residual of the child fitted as an affine function of its parent
    ``shift`` steps earlier, relative to the child's scale."""
    x, y = parent[: parent.size - shift], child[shift:]
    design = np.stack([x, np.ones_like(x)], axis=1)
    residual = y - design @ np.linalg.lstsq(design, y, rcond=None)[0]
    return float(np.abs(residual).max() / (np.abs(y).max() + 1e-30))


def test_a_child_reads_its_parent_its_lag_earlier():
    """With the linear activation only, a child with one parent is an exact affine
    function of that parent read ``lag`` steps earlier, and of no other shift."""
    c = config(
        multivariate=True,
        series_per_graph=18,
        max_lag=6,
        activation_bank=("linear",),
        num_series=40,
        length=64,
    )
    table = cauker.generate(c)
    checked = set()
    for row in table.to_pylist():
        parents: dict[int, list] = {}
        for e in row["edges"]:
            parents.setdefault(e["child"], []).append(e)
        for child, edges in parents.items():
            if len(edges) != 1 or edges[0]["weight"] is None:
                continue
            if row["is_root"][child] or len(edges) != 1:
                continue
            lag = edges[0]["lag"]
            parent = np.asarray(row["target"][edges[0]["parent"]], dtype=np.float64)
            series = np.asarray(row["target"][child], dtype=np.float64)
            if np.ptp(parent) == 0:
                continue

            if misfit(parent, series, lag) < 1e-4:  # its only parent is kept (none dropped)
                others = [misfit(parent, series, s) for s in range(7) if s != lag]
                assert min(others) > 1e-3
                checked.add(lag)
    assert len(checked) >= 4  # several lags were seen and checked


def test_the_burn_in_leaves_no_constant_start():
    """Lags never make the first points of a series repeat: the roots are drawn on a
    longer grid, so every kept point reads drawn values."""
    c = config(multivariate=True, series_per_graph=18, max_lag=8, num_series=30, length=64)
    assert c.burn_in == 8 * 17
    x, _ = cauker.series_array(cauker.generate(c), mask=True)
    starts = np.diff(x[:, :, :9], axis=2) == 0
    ends = np.diff(x[:, :, -9:], axis=2) == 0  # what a series' own law gives anywhere
    assert starts.mean() <= ends.mean() + 0.02


def test_lagged_propagation_is_bit_for_bit_numpys():
    c = config(multivariate=True, series_per_graph=(1, 18), max_lag=9, num_series=200)
    sampler = Sampler(c)
    key, indices = split_key("train"), list(range(100))
    batch = sampler.plan(key, indices, dict.fromkeys(indices, 0), loops)
    assert batch.nodes.lags is not None and batch.nodes.lags.max() == 9
    values = batch.values.copy()
    expected = sampler.propagate(batch, loops)
    batch.values[:] = values
    got = sampler.propagate(batch, compiled)
    assert np.isfinite(expected).mean() > 0.5
    assert np.array_equal(got.view(np.uint64), expected.view(np.uint64))


def test_lags_follow_their_law():
    c = config(multivariate=True, series_per_graph=18, max_lag=4, num_series=200)
    lags = [e["lag"] for row in cauker.generate(c).column("edges").to_pylist() for e in row]
    lags = np.array([lag for lag in lags if lag is not None])
    observed = np.bincount(lags, minlength=5)
    assert lags.size > 1000 and stats.chisquare(observed).pvalue > 1e-4


# -- determinism ------------------------------------------------------------------


def test_rows_do_not_depend_on_ranges_batches_or_parts():
    c = config(**RANGE, max_lag=3, num_series=90)
    whole = cauker.generate(c)
    pieces = [cauker.generate(c, start=a, stop=b) for a, b in [(0, 7), (7, 50), (50, 90)]]
    assert pa.concat_tables(pieces).equals(whole)
    small = pa.Table.from_batches(list(cauker.iter_batches(c, graphs_per_batch=11)))
    assert small.equals(whole)
    from cauker.hf.parts import Part

    parts = [
        pa.Table.from_batches(list(Part().cut(3, i).iter_batches(c, "train"))) for i in range(3)
    ]
    rows = {r["index"]: r for part in parts for r in part.to_pylist()}
    assert [rows[i] for i in range(90)] == whole.to_pylist()


# -- arrays -----------------------------------------------------------------------


def test_series_array_pads_with_zeros_and_a_mask_never_nans():
    table = cauker.generate(config(**RANGE))
    with pytest.raises(ParameterError, match="pass|mask=True"):
        cauker.series_array(table)
    x, mask = cauker.series_array(table, mask=True)
    counts = pa.compute.list_value_length(table.column("target")).to_numpy()
    assert x.shape == (60, counts.max(), 48) and mask.sum(axis=1).tolist() == counts.tolist()
    assert np.isfinite(x).all() and (x[~mask] == 0).all()
    for i in (0, 17, 59):
        assert np.array_equal(x[i, : counts[i]], np.asarray(table.column("target")[i].as_py()))
    fixed, full = cauker.series_array(cauker.generate(config()), mask=True)
    assert fixed.shape == (60, 1, 48) and full.all()


def test_sampler_for_caches_by_config():
    assert sampler_for(config(**RANGE)) is sampler_for(config(**RANGE))


def test_each_count_is_drawn_from_its_graphs_seed_sequence():
    """Graph ``i``'s count: ``integers(low, high + 1)`` of ``PCG64(SeedSequence(seed,
    spawn_key=(split_key, i)))``, the parent of its attempts' sequences (documented)."""
    sampler = Sampler(config(**RANGE, seed=5))
    for index, count in zip(range(30, 40), sampler.counts(7, list(range(30, 40)))):
        reference = np.random.Generator(
            np.random.PCG64(np.random.SeedSequence(5, spawn_key=(7, index)))
        )
        assert count == reference.integers(1, 9)


def test_the_card_writes_a_range_as_the_command_line_does():
    """The card's table: ``1:6``, and a 2.0.0 config's parameters (without the later
    fields) read with their defaults, not None."""
    from cauker.hub.card import _table

    ranged = named_config("10k", multivariate=True, series_per_graph=(1, 6), max_lag=2)
    old = named_config("10k")
    blocks = [
        {"config_name": name, "version": "2.0.0", "parameters": c.to_dict()}
        for name, c in (("ranged", ranged), ("old", old))
    ]
    ranged_row, old_row = _table(blocks).splitlines()[2:]
    assert "| 1:6 |" in ranged_row and ranged_row.endswith("| 2 | False |")
    assert old_row.endswith("| 0 | False |") and "None | False | 0" not in old_row[-12:]
