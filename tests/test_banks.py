"""The bank names the config checks are the banks the sampler builds."""

from cauker import banks
from cauker.sampler import activations, kernels, means


def test_the_sampler_builds_every_bank_the_config_accepts_and_no_other():
    assert tuple(activations.FUNCTIONS) == banks.ACTIVATIONS
    for name, entries in banks.ACTIVATION_BANKS.items():
        assert [entry for entry, _ in activations.activation_bank(name)] == list(entries)
    assert tuple(kernels.BANK_TABLES) == banks.KERNEL_BANKS
    assert [len(kernels.kernel_bank(name, 64)) for name in banks.KERNEL_BANKS] == [33, 34]
    assert means.mean_bank("paper").tolist() == [means.ZERO, means.LINEAR, means.EXPONENTIAL, 3]
    assert means.mean_bank("zero").tolist() == [means.ZERO]
