"""Kernel banks: tables of scikit-learn kernels with readable names.

Periodicities are fractions of the unit interval, ``p / length``, so a bank
depends on the series length. ``kernel_bank(name_or_kernels, length)`` returns a
tuple of :class:`BankKernel`; its order is part of the distribution (entries
are drawn by index, and 4/L appears three times in the paper bank on purpose).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sklearn.gaussian_process.kernels import Kernel

#: The periods, in samples, of the KernelSynth (Chronos) bank, in bank order.
PAPER_PERIODS = (24, 48, 96, 168, 336, 672, 7, 14, 30, 60, 365, 730, 4, 26, 52, 4, 6, 12, 4, 40, 10)


@dataclass(frozen=True)
class BankKernel:
    """One bank entry: a scikit-learn kernel and the name shown in provenance."""

    name: str
    kernel: Kernel


def _num(value: float) -> str:
    return f"{value:g}"


def _paper_bank(length: int) -> list[BankKernel]:
    from sklearn.gaussian_process.kernels import (
        RBF,
        DotProduct,
        ExpSineSquared,
        RationalQuadratic,
        WhiteKernel,
    )

    bank = [
        BankKernel(f"ExpSineSquared(p={p}/{length})", ExpSineSquared(periodicity=p / length))
        for p in PAPER_PERIODS
    ]
    bank += [BankKernel(f"DotProduct({_num(s)})", DotProduct(sigma_0=s)) for s in (0.0, 1.0, 10.0)]
    bank += [BankKernel(f"RBF({_num(s)})", RBF(length_scale=s)) for s in (0.1, 1.0, 10.0)]
    bank += [
        BankKernel(f"RationalQuadratic(alpha={_num(a)})", RationalQuadratic(alpha=a))
        for a in (0.1, 1.0, 10.0)
    ]
    bank += [BankKernel(f"WhiteKernel({_num(n)})", WhiteKernel(noise_level=n)) for n in (0.1, 1.0)]
    return bank


def paper_bank(length: int) -> tuple[BankKernel, ...]:
    """The V1 bank (KernelSynth, 33 entries)."""
    from sklearn.gaussian_process.kernels import ConstantKernel

    return tuple(_paper_bank(length) + [BankKernel("ConstantKernel(1)", ConstantKernel())])


def v2_bank(length: int) -> tuple[BankKernel, ...]:
    """The V2 bank (34 entries): paper bank without Constant, plus two Materns."""
    from sklearn.gaussian_process.kernels import Matern

    return tuple(
        _paper_bank(length)
        + [
            BankKernel(f"Matern(l=1/{length}, nu=0.5)", Matern(length_scale=1 / length, nu=0.5)),
            BankKernel(f"Matern(l=5/{length}, nu=1.5)", Matern(length_scale=5 / length, nu=1.5)),
        ]
    )


KERNEL_BANKS = {"paper": paper_bank, "v2": v2_bank}


def kernel_bank(bank: str | tuple[Kernel, ...], length: int) -> tuple[BankKernel, ...]:
    """Resolve a bank name, or a user's sequence of kernels, at ``length``."""
    if isinstance(bank, str):
        return KERNEL_BANKS[bank](length)
    return tuple(BankKernel(repr(k), k) for k in bank)


def compose_name(names: list[str], ops: list[str]) -> str:
    """Readable left-folded expression: ``((k1 + k2) * k3)`` shows as ``(k1 + k2) * k3``."""
    expr, has_sum = names[0], False
    for op, name in zip(ops, names[1:]):
        if op == "*" and has_sum:
            expr = f"({expr}) * {name}"
            has_sum = False
        else:
            expr = f"{expr} {op} {name}"
            has_sum = has_sum or op == "+"
    return expr
