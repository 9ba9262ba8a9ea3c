"""Bad input is refused when the config is built, with a message that names it."""

import dataclasses
import time

import pytest
from sklearn.gaussian_process.kernels import RBF

import cauker
from cauker import CauKerConfig, named_config
from cauker.errors import ParameterError

BAD = [
    ({"num_series": -5}, "num_series must be in [1, 10000000000], got -5"),
    ({"num_series": 0}, "num_series must be in [1, 10000000000], got 0"),
    ({"num_series": 2.5}, "num_series must be an integer, got 2.5"),
    ({"num_series": True}, "num_series must be an integer, got True"),
    ({"length": 1}, "length must be >= 2, got 1"),
    ({"num_nodes": 0}, "num_nodes must be in [1, 1024], got 0"),
    ({"max_parents": -1}, "max_parents must be in [0, 1023], got -1"),
    ({"max_kernels": 0}, "max_kernels must be in [1, 32], got 0"),
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
    ({"seed": -1}, "seed must be in [0, 9223372036854775807], got -1"),
    ({"num_validation": -3}, "num_validation must be in [0, 10000000000], got -3"),
    ({"activation_bank": [["relu"]]}, "activation_bank entries must be among"),
    ({"mean_bank": [{"zero": 1}]}, "mean_bank entries must be among"),
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
    for name in (["10k"], None, 10):  # D14: a ParameterError, not a TypeError
        with pytest.raises(ParameterError, match="config name must be one of"):
            named_config(name)


def test_split_sizes():
    c = CauKerConfig(num_series=1000)
    assert c.split_size("train") == 1000
    assert c.split_size("validation") == 10
    assert CauKerConfig(num_series=50).split_size("validation") == 1
    assert CauKerConfig(num_series=50, num_validation=7).split_size("validation") == 7
    with pytest.raises(ValueError, match="split must be 'train' or 'validation', got 'test'"):
        c.split_size("test")


ABSURD = [
    ({"num_series": 10**13}, "num_series must be in [1, 10000000000], got 10000000000000"),
    ({"num_validation": 10**13}, "num_validation must be in [0, 10000000000]"),
    ({"length": 10**7}, "length=10000000 needs about"),
    ({"length": 30_000}, "length=30000 needs about"),
    ({"num_nodes": 10**6}, "num_nodes must be in [1, 1024], got 1000000"),
    ({"max_kernels": 10**6}, "max_kernels must be in [1, 32], got 1000000"),
    ({"max_parents": 10**6}, "max_parents must be in [0, 1023], got 1000000"),
    ({"series_per_graph": 10**6, "num_nodes": 10**6}, "num_nodes must be in [1, 1024]"),
    ({"seed": 2**64}, "seed must be in [0, 9223372036854775807]"),
]


@pytest.mark.parametrize("fields, message", ABSURD)
def test_absurd_sizes_fail_at_once_naming_the_limit(fields, message, monkeypatch):
    monkeypatch.setenv("CAUKER_MEMORY_GIB", "16")  # the same answer on every machine
    start = time.perf_counter()
    with pytest.raises(ValueError) as info:  # the config, or the memory where work starts
        cauker.generate(CauKerConfig(**{"num_series": 10, **fields}), stop=1)
    assert time.perf_counter() - start < 1.0
    assert message in str(info.value)


BAD_KERNELS = [
    (lambda k: [k.RBF(0.2), k.ConstantKernel(-1.0)], "entry 1", "not positive semi-definite"),
    (lambda k: [k.RBF(0.3) + k.ConstantKernel(-5.0)], "entry 0", "not positive semi-definite"),
    (lambda k: [k.WhiteKernel(-1.0)], "entry 0", "not positive semi-definite"),
    (lambda k: [k.RBF(float("nan"))], "entry 0", "not finite"),
    (lambda k: [k.RBF(length_scale=[0.1, 0.2])], "entry 0", "one-dimensional"),
    (lambda k: [k.CompoundKernel([k.RBF(), k.RBF(0.5)])], "entry 0", "one 16 x 16 covariance"),
    # D9: finite, but its draws overflow float32 (generation ended in RedrawError)
    (lambda k: [k.RBF(0.2), k.ConstantKernel(1e80)], "entry 1", "takes values up to 1e+80"),
    (lambda k: [k.WhiteKernel(1e40) * k.RBF(0.3)], "entry 0", "more than 101"),
    (lambda k: [k.DotProduct(sigma_0=11.0)], "entry 0", "takes values up to 122"),
]


@pytest.mark.parametrize("bank, entry, message", BAD_KERNELS)
def test_bad_custom_kernels_are_refused_when_the_config_is_built(bank, entry, message):
    from sklearn.gaussian_process import kernels

    with pytest.raises(ValueError) as info:
        CauKerConfig(num_series=10, length=16, kernel_bank=bank(kernels))
    text = str(info.value)
    assert text.startswith(f"kernel_bank {entry} (") and message in text, text
    assert "nan**2" not in text  # scikit-learn's repr of a negative ConstantKernel


def test_good_custom_kernels_pass_including_nearly_singular_ones():
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel, DotProduct, WhiteKernel

    # RBF(10) is singular to rounding (eigenvalues down to -1e-13 of the largest in
    # float64): a tolerance of zero would refuse the paper's own bank entry.
    bank = (RBF(10.0), DotProduct(1.0) ** 2, ConstantKernel(0.0), WhiteKernel(0.5) * RBF(0.1))
    bank += (DotProduct(sigma_0=10.0), ConstantKernel(100.0) * RBF(0.2))  # the paper's scale
    for length in (16, 1024):
        assert CauKerConfig(num_series=10, length=length, kernel_bank=bank).kernel_bank == bank


def test_the_kernel_bound_keeps_any_allowed_composition_finite_in_float32():
    import numpy as np

    from cauker.banks import MAX_KERNEL_VALUE
    from cauker.config import MAX_KERNELS

    deviation = MAX_KERNEL_VALUE ** (MAX_KERNELS / 2)  # a product of MAX_KERNELS entries
    assert deviation * 1e6 < np.finfo(np.float32).max


def test_custom_kernels_enter_the_fingerprint_exactly():
    """scikit-learn's repr rounds to 3 digits; the fingerprint must not."""
    from sklearn.gaussian_process.kernels import RBF

    a = CauKerConfig(num_series=8, length=16, kernel_bank=(RBF(0.3),))
    b = CauKerConfig(num_series=8, length=16, kernel_bank=(RBF(0.30001),))
    assert repr(a.kernel_bank) == repr(b.kernel_bank)
    assert a.fingerprint() != b.fingerprint()
    assert (
        a.fingerprint()
        == CauKerConfig(num_series=8, length=16, kernel_bank=(RBF(0.3),)).fingerprint()
    )
