"""Labelled tasks (cauker.tasks): the config, the rows, the class definitions, the
redraws, the 1-NN column and the augmentations."""

import hashlib

import numpy as np
import pyarrow as pa
import pytest

import cauker
from cauker.errors import ParameterError
from cauker.task_config import AUGMENTATIONS, CLASS_DEFINITIONS, TaskConfig
from cauker.tasks import augment, knn, mechanisms, task_rows
from cauker.tasks import samples as samples_module
from cauker.tasks.prior import fixed_sum

#: Small tasks, so that the tests run fast.
SMALL = dict(length=32, num_nodes=8, max_parents=3, max_kernels=3, max_support=4, max_queries=3)


def small(**fields) -> TaskConfig:
    return TaskConfig(**{"num_tasks": 24, **SMALL, **fields})


def samples(row: dict, name: str) -> np.ndarray:
    return np.array(row[name], dtype=np.float32)


def digest(table: pa.Table) -> str:
    return hashlib.sha256(repr(table.to_pylist()).encode()).hexdigest()


# -- config -------------------------------------------------------------------------


def test_default_task_config_is_the_named_configs_and_every_prior_default_is_the_corpus_one():
    assert TaskConfig() == cauker.named_config("tasks-10k")
    assert cauker.named_config("tasks-1m").num_tasks == 1_000_000
    corpus = cauker.CauKerConfig(num_series=1)
    for name in ("length", "num_nodes", "max_parents", "max_kernels", "kernel_bank", "seed"):
        assert getattr(TaskConfig(), name) == getattr(corpus, name)
    assert (TaskConfig().min_classes, TaskConfig().max_classes) == (2, 10)


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"min_classes": 1}, "min_classes must be in [2, 100], got 1"),
        ({"min_classes": 5, "max_classes": 4}, "max_classes must be in [5, 100], got 4"),
        ({"min_support": 0}, "min_support must be in [1, 1000], got 0"),
        ({"max_queries": 0}, "max_queries must be in [1, 1000], got 0"),
        ({"class_definition": "node"}, "class_definition must be one of ['graph', 'shift']"),
        ({"shift_scale": 0}, "shift_scale must be a number in (0, 1], got 0"),
        ({"shift_scale": 1.5}, "shift_scale must be a number in (0, 1], got 1.5"),
        ({"augmentations": ("blur",)}, "augmentations entries must be one of"),
        ({"augmentations": ("noise", "noise")}, "augmentations must not repeat a name"),
        ({"num_nodes": 0}, "num_nodes must be in [1, 1024], got 0"),
        ({"num_tasks": 0}, "num_tasks must be in [1, 10000000000], got 0"),
        ({"max_support": 1000, "max_queries": 1000}, "needs about"),
    ],
)
def test_bad_fields_are_refused_with_the_field_named(fields, message):
    with pytest.raises(ParameterError) as info:
        TaskConfig(**fields)
    assert message in str(info.value)


def test_fields_are_normalised_and_enter_the_fingerprint():
    config = TaskConfig(augmentations="noise,mixup", shift_scale=1)
    assert config.augmentations == ("mixup", "noise")  # the order of application
    assert isinstance(config.shift_scale, float)
    fingerprints = {
        TaskConfig().fingerprint(),
        TaskConfig(class_definition="shift").fingerprint(),
        TaskConfig(seed=1).fingerprint(),
        TaskConfig(length=256).fingerprint(),
        TaskConfig(augmentations=("noise",)).fingerprint(),
    }
    assert len(fingerprints) == 5
    assert TaskConfig().fingerprint() != cauker.CauKerConfig(num_series=10_000).fingerprint()


def test_named_task_config_refuses_corpus_only_fields():
    with pytest.raises(ParameterError, match=r"unknown task config field\(s\) \['num_series'\]"):
        cauker.named_config("tasks-10k", num_series=5)
    with pytest.raises(ParameterError, match="unknown config field"):
        cauker.named_config("10k", num_tasks=5)


# -- rows -------------------------------------------------------------------------------


@pytest.mark.parametrize("definition", CLASS_DEFINITIONS)
def test_rows_have_balanced_labels_shapes_and_consistent_columns(definition):
    config = small(class_definition=definition)
    table = cauker.generate(config)
    assert table.schema == cauker.arrow_schema(config)
    assert table.column("index").to_pylist() == list(range(24))
    seen_classes = set()
    for row in table.to_pylist():
        c = row["num_classes"]
        seen_classes.add(c)
        support, query = samples(row, "support"), samples(row, "query")
        shots, queries = len(support) // c, len(query) // c
        assert support.shape == (c * shots, config.length) and 1 <= shots <= 4
        assert query.shape == (c * queries, config.length) and 1 <= queries <= 3
        assert np.bincount(row["support_label"]).tolist() == [shots] * c  # balanced
        assert np.bincount(row["query_label"]).tolist() == [queries] * c
        for name in ("class_graph", "class_node", "class_depth", "class_distinction"):
            assert len(row[name]) == c
        assert len(row["class_redraws"]) == c
        expected = list(range(c)) if definition == "graph" else [0] * c
        assert row["class_graph"] == expected
        assert np.isfinite(support).all() and (np.ptp(support, axis=1) > 0).all()
        assert row["knn_accuracy"] == knn.knn_accuracy(
            support[:, None], row["support_label"], query[:, None], row["query_label"]
        )
        assert row["support_label"] != sorted(row["support_label"]) or shots * c <= 2
    assert len(seen_classes) > 3  # the number of classes varies over [2, 10]


def test_multivariate_samples_are_channels_of_distinct_nodes():
    config = small(multivariate=True, series_per_graph=3, num_tasks=6)
    assert config.channels == 3
    table = cauker.generate(config)
    row = table.to_pylist()[0]
    support = samples(row, "support")
    assert support.shape[1:] == (3, config.length)
    assert all(len(set(nodes)) == 3 for nodes in row["class_node"])
    assert table.schema.field("class_node").type == pa.list_(pa.list_(pa.int32(), 3))


@pytest.mark.parametrize("definition", CLASS_DEFINITIONS)
def test_a_range_of_channels_gives_each_task_its_own_count(definition):
    """Every sample of every class of a task has the task's count, drawn uniformly from
    the task's own seed sequence (a redraw keeps it); any slice gives the same bytes."""
    from scipy import stats

    from cauker.tasks.seeding import task_channels

    config = small(
        multivariate=True, series_per_graph=(1, 5), num_tasks=24, class_definition=definition
    )
    assert config.channel_range == (1, 5) and config.channels == 5
    table = cauker.generate(config)
    counts = []
    for i, row in enumerate(table.to_pylist()):
        count = task_channels(config.seed, "train", i, 1, 5)
        for name in ("support", "query"):
            assert {len(sample) for sample in row[name]} == {count}
        assert {len(nodes) for nodes in row["class_node"]} == {count}
        assert all(len(set(nodes)) == count for nodes in row["class_node"])
        counts.append(count)
    assert len(set(counts)) == 5
    assert cauker.generate(config, start=7, stop=13) == table.slice(7, 6)
    law = np.bincount([task_channels(0, "train", i, 1, 5) for i in range(5000)])[1:]
    assert stats.chisquare(law).pvalue > 1e-4


def test_any_slice_and_batch_size_gives_the_same_bytes():
    config = small(num_tasks=30, class_definition="shift", augmentations=AUGMENTATIONS)
    whole = cauker.generate(config)
    for start, stop in [(0, 7), (7, 8), (13, 30), (29, 30)]:
        assert cauker.generate(config, start=start, stop=stop) == whole.slice(start, stop - start)
    batches = list(task_rows.iter_task_batches(config, tasks_per_batch=5))
    assert pa.Table.from_batches(batches) == whole
    single = task_rows.task_rows(config, "train", [21, 3])
    assert single.to_pylist() == [whole.to_pylist()[21], whole.to_pylist()[3]]


def test_seed_split_and_fields_change_the_rows_and_tasks_differ_from_corpora_streams():
    base = cauker.generate(small(), stop=4)
    assert digest(base) != digest(cauker.generate(small(seed=1), stop=4))
    validation = cauker.generate(small(num_validation=4), "validation")
    assert digest(base) != digest(validation)
    validation = small().split_size("validation")
    assert validation == 1 and small(num_validation=9).split_size("validation") == 9


def test_endless_task_corpus_rows_are_those_of_every_finite_one():
    endless = small(num_tasks=None)
    assert endless.endless and endless.split_size("validation") == 10_000
    assert cauker.generate(endless, start=2, stop=5) == cauker.generate(small(), start=2, stop=5)
    with pytest.raises(ParameterError, match="stop must be given"):
        cauker.generate(endless)


def test_shift_classes_share_one_graph_and_change_one_of_its_mechanisms():
    table = cauker.generate(small(class_definition="shift", num_tasks=40))
    kinds = set()
    for row in table.to_pylist():
        assert len(set(row["class_node"])) == 1  # one graph, one node, for every class
        for text in row["class_distinction"]:
            kind = text.split(" of ")[0]
            assert kind in ("kernel", "mean", "weight", "activation"), text
            kinds.add(kind)
    assert kinds == {"kernel", "mean", "weight", "activation"}


def test_graph_classes_describe_their_node():
    row = cauker.generate(small(), stop=1).to_pylist()[0]
    for text, node in zip(row["class_distinction"], row["class_node"]):
        assert text.startswith((f"root {node}:", f"node {node} ("))


# -- the draws ------------------------------------------------------------------------


def test_samples_of_a_class_are_a_pure_function_of_its_mechanism_and_stream():
    """A class's samples depend on its mechanism and its stream only, not on what is
    drawn beside it; another stream gives other samples, all distinct."""
    from cauker.sampler import loops
    from cauker.tasks.prior import prior_for
    from cauker.tasks.seeding import stream

    prior = prior_for(small().prior)
    rng = stream(0, (1, 2, 3))
    origin = rng.bit_generator.state
    graph = mechanisms.draw_graphs(prior, [rng], 1, loops)[0]
    job = samples_module.Job(mechanisms.Mechanism(graph), origin, 6)
    alone = samples_module.draw_samples(prior, [job], 1.0, loops)[0]
    other_origin = stream(0, (1, 2, 4)).bit_generator.state
    other = samples_module.Job(job.mechanism, other_origin, 9)
    together = samples_module.draw_samples(prior, [other, job], 1.0, loops)
    assert np.array_equal(alone, together[1])
    assert not np.array_equal(alone, together[0][:6])
    assert len({sample.tobytes() for sample in alone}) == 6


def test_a_graph_leaves_its_stream_where_numpys_own_calls_would(monkeypatch):
    """The corpora's schedule, rebuilt from raw outputs, keeps the half of a 32-bit
    output numpy would keep: what a stream draws after a graph (a shift task's orders)
    is what follows numpy's own calls."""
    from cauker.sampler import loops
    from cauker.tasks import prior as prior_module
    from cauker.tasks.seeding import stream

    prior = prior_module.prior_for(small().prior)
    rebuilt = [stream(0, (7, i)) for i in range(12)]
    mechanisms.draw_graphs(prior, rebuilt, 1, loops)
    monkeypatch.setattr(prior_module, "raw_outputs_agree", lambda: False)
    called = [stream(0, (7, i)) for i in range(12)]
    mechanisms.draw_graphs(prior, called, 1, loops)
    assert any(rng.bit_generator.state["has_uint32"] for rng in called)  # a kept half
    for a, b in zip(rebuilt, called):
        assert a.integers(0, 1000, 8).tolist() == b.integers(0, 1000, 8).tolist()


def test_numpy_and_compiled_loops_give_the_same_bits(monkeypatch):
    """Every kind of class and intervention (a mixture of activations is left to numpy
    by the compiled propagation), drawn with numpy's loops and with numba's."""
    pytest.importorskip("numba")
    configs = [
        small(class_definition="shift", num_tasks=12),
        small(class_definition="shift", shift_scale=0.5, num_tasks=12),
        small(num_tasks=6, multivariate=True),
    ]
    tables = {}
    for mode in ("0", "1"):
        monkeypatch.setenv("CAUKER_COMPILED", mode)
        tables[mode] = [cauker.generate(config) for config in configs]
        prior = cauker.tasks.prior.prior_for(configs[0].prior)
        assert prior.backend.mode == ("numpy" if mode == "0" else "compiled")
    assert tables["0"] == tables["1"]


def test_a_task_is_drawn_from_one_schur_sweep_per_term(monkeypatch):
    """All samples of a class share one factorisation per Toeplitz term: the sweep count
    does not grow with the number of samples."""
    from cauker.tasks import prior as prior_module

    counts = []
    real = prior_module.toeplitz_draws

    def counting(columns, normals, owner=None, *, loops):
        counts.append((len(columns), len(normals)))
        return real(columns, normals, owner, loops=loops)

    monkeypatch.setattr(prior_module, "toeplitz_draws", counting)
    cauker.generate(TaskConfig(num_tasks=8, length=64, max_support=10, max_queries=5))
    matrices, draws_made = map(sum, zip(*counts))
    assert matrices > 0 and draws_made >= 4 * matrices


# -- redraws -----------------------------------------------------------------------------


def test_validity_refuses_constant_duplicated_and_non_finite_samples():
    good = np.random.default_rng(0).standard_normal((4, 1, 16))
    assert task_rows._valid(good)
    constant = good.copy()
    constant[2, 0] = 3.0
    duplicated = good.copy()
    duplicated[3] = duplicated[1]
    infinite = good.copy()
    infinite[0, 0, 5] = 1e300  # finite in float64, not in float32
    assert not task_rows._valid(constant)
    assert not task_rows._valid(duplicated)
    assert not task_rows._valid(infinite)


def test_redraws_are_recorded_per_class_and_per_task():
    # relu nodes of negative signals are often constant: classes are redrawn
    graph = cauker.generate(small(activation_bank=("relu",), num_tasks=40)).to_pylist()
    assert sum(sum(row["class_redraws"]) for row in graph) > 0
    assert all(row["redraws"] == 0 for row in graph)
    shift = cauker.generate(
        small(activation_bank=("relu",), class_definition="shift", num_tasks=40)
    ).to_pylist()
    assert sum(row["redraws"] for row in shift) > 0
    assert all(set(row["class_redraws"]) == {0} for row in shift)
    for row in graph + shift:
        support = samples(row, "support")
        assert (np.ptp(support, axis=1) > 0).all()


# -- 1-NN ----------------------------------------------------------------------------------


def test_knn_takes_the_nearest_z_normalised_sample_and_the_first_on_a_tie():
    t = np.linspace(0, 1, 64)
    support = np.stack([np.cos(6 * t), np.sin(6 * t), np.sin(6 * t), np.cos(7 * t)])[:, None]
    query = np.stack([np.sin(6 * t) + 0.01 * t, np.cos(7 * t)])[:, None]
    # the second and third are the same series: a tie, won by the first of them
    labels = np.array([6, 7, 8, 9])
    assert knn.nearest_labels(support, labels, query).tolist() == [7, 9]
    assert knn.nearest_labels(support[[0, 2, 1, 3]], labels, query).tolist() == [7, 9]
    assert knn.knn_accuracy(support, labels, query, np.array([8, 9])) == 0.5


def test_fixed_sum_adds_in_order_whatever_the_layout():
    values = np.array([1e16, 1.0, -1e16, 1.0])
    assert fixed_sum(values) == 1.0  # ((1e16 + 1) - 1e16) + 1, in this order
    assert fixed_sum(values[:, None]).tolist() == [1.0]  # one column: still in order
    rows_ = np.random.default_rng(1).standard_normal((300, 7))
    expected = np.zeros(7)
    for row in rows_:
        expected = expected + row
    assert np.array_equal(fixed_sum(rows_), expected)


def test_knn_accuracy_spans_the_range_and_classes_are_not_trivial():
    values = cauker.generate(small(num_tasks=60)).column("knn_accuracy").to_numpy()
    assert values.min() < 0.7 and values.max() == 1.0
    assert 0.4 < values.mean() < 0.95


# -- augmentations ------------------------------------------------------------------------


@pytest.mark.parametrize("name", AUGMENTATIONS)
def test_each_augmentation_changes_the_samples_and_keeps_labels(name):
    plain = cauker.generate(small(num_tasks=4)).to_pylist()
    augmented = cauker.generate(small(num_tasks=4, augmentations=(name,))).to_pylist()
    for a, b in zip(plain, augmented):
        assert a["support_label"] == b["support_label"] and a["query_label"] == b["query_label"]
        assert a["class_distinction"] == b["class_distinction"]
    for a, b in zip(plain, augmented):
        assert not np.array_equal(samples(a, "support"), samples(b, "support"))


def test_mixup_partners_come_from_other_classes():
    plan = augment.plan_mixup(np.random.default_rng(0), np.repeat(np.arange(3), 5), 3)
    assert plan.mixed.any() and not plan.mixed.all()
    labels = np.repeat(np.arange(3), 5)
    assert (plan.partner[plan.mixed] != labels[plan.mixed]).all()
    assert sum(plan.extras(3)) == plan.mixed.sum()
    assert ((plan.weight >= 0.6) & (plan.weight < 1.0)).all()


def test_time_shift_and_crop_keep_values_within_the_series_range():
    x = np.random.default_rng(2).standard_normal((6, 2, 40))
    for law in (augment._crop, augment._time_shift):
        y = law(x, np.random.default_rng(3))
        assert y.shape == x.shape
        assert (y.max(axis=2) <= x.max(axis=2) + 1e-12).all()
        assert (y.min(axis=2) >= x.min(axis=2) - 1e-12).all()
