"""Bad input is refused when the config is built, with a message that names it."""

import dataclasses

import pytest
from sklearn.gaussian_process.kernels import RBF

from cauker import CauKerConfig, named_config

BAD = [
    ({"num_series": -5}, "num_series must be >= 1, got -5"),
    ({"num_series": 0}, "num_series must be >= 1, got 0"),
    ({"num_series": 2.5}, "num_series must be an integer, got 2.5"),
    ({"num_series": True}, "num_series must be an integer, got True"),
    ({"length": 1}, "length must be >= 2, got 1"),
    ({"num_nodes": 0}, "num_nodes must be >= 1, got 0"),
    ({"max_parents": -1}, "max_parents must be >= 0, got -1"),
    ({"max_kernels": 0}, "max_kernels must be >= 1, got 0"),
    ({"series_per_graph": 19}, "series_per_graph must be in [1, 18], got 19"),
    ({"series_per_graph": 0}, "series_per_graph must be in [1, 18], got 0"),
    ({"dag_depth": 18}, "dag_depth must be in [0, 17], got 18"),
    ({"dag_depth": -1}, "dag_depth must be in [0, 17], got -1"),
    ({"dag_depth": 3, "max_parents": 0}, "dag_depth=3 needs max_parents >= 1"),
    ({"kernel_bank": "v3"}, "kernel_bank must be one of ['paper', 'v2']"),
    ({"kernel_bank": []}, "kernel_bank must be a bank name or a non-empty sequence"),
    ({"kernel_bank": [RBF(), "RBF"]}, "kernel_bank entries must be scikit-learn kernels"),
    ({"mean_bank": "ones"}, "mean_bank must be one of ['paper', 'zero']"),
    ({"mean_bank": ["zero", "cubic"]}, "mean_bank entries must be among"),
    ({"activation_bank": "v9"}, "activation_bank must be one of ['paper', 'v2']"),
    ({"activation_bank": ["relu", "gelu"]}, "activation_bank entries must be among"),
    ({"multivariate": "yes"}, "multivariate must be True or False, got 'yes'"),
    ({"seed": -1}, "seed must be >= 0, got -1"),
    ({"num_validation": -3}, "num_validation must be >= 0, got -3"),
]


@pytest.mark.parametrize("fields, message", BAD)
def test_bad_config_names_field_value_and_allowed(fields, message):
    with pytest.raises(ValueError) as info:
        CauKerConfig(**{"num_series": 10, **fields})
    assert message in str(info.value)


def test_config_is_immutable_and_fingerprint_tracks_fields():
    c = CauKerConfig(num_series=10)
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.length = 3
    assert c.fingerprint() == CauKerConfig(num_series=10).fingerprint()
    assert c.fingerprint() != dataclasses.replace(c, seed=1).fingerprint()
    assert c.fingerprint() != dataclasses.replace(c, mean_bank=("zero",)).fingerprint()


def test_named_configs_and_overrides():
    c = named_config("100k", length=1024, dag_depth=4)
    assert (c.num_series, c.length, c.dag_depth, c.num_nodes) == (100_000, 1024, 4, 18)
    with pytest.raises(ValueError, match="config name must be one of"):
        named_config("5k")
    with pytest.raises(ValueError, match=r"unknown config field\(s\) \['lenght'\]"):
        named_config("10k", lenght=3)


def test_split_sizes():
    c = CauKerConfig(num_series=1000)
    assert c.split_size("train") == 1000
    assert c.split_size("validation") == 10
    assert CauKerConfig(num_series=50).split_size("validation") == 1
    assert CauKerConfig(num_series=50, num_validation=7).split_size("validation") == 7
    with pytest.raises(ValueError, match="split must be 'train' or 'validation', got 'test'"):
        c.split_size("test")
