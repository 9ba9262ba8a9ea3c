"""Kernel banks: tables of kernels with readable names.

Periodicities are fractions of the unit interval, ``p / length``, so a bank
depends on the series length. ``kernel_bank(name_or_kernels, length)`` returns a
tuple of :class:`BankKernel`; its order is part of the distribution (entries
are drawn by index, and 4/L appears three times in the paper bank on purpose).

A named bank is a table of :class:`KernelSpec`: a scikit-learn kernel class and
its hyperparameters, which the sampler evaluates itself (``cauker.sampler.kernel_columns``)
without importing scikit-learn (its import alone costs about a second). The
scikit-learn object is built only when asked for (``BankKernel.kernel``: tests,
custom banks).

A user's bank is checked when the config is built (:func:`cauker.banks.check_kernels`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cauker.banks import KERNEL_BANKS
from cauker.errors import ParameterError

if TYPE_CHECKING:
    from sklearn.gaussian_process.kernels import Kernel

#: The periods, in samples, of the KernelSynth (Chronos) bank, in bank order.
PAPER_PERIODS = (24, 48, 96, 168, 336, 672, 7, 14, 30, 60, 365, 730, 4, 26, 52, 4, 6, 12, 4, 40, 10)

#: The scikit-learn kernel classes a spec can name.
SPEC_KINDS = (
    "ExpSineSquared",
    "RBF",
    "RationalQuadratic",
    "Matern",
    "DotProduct",
    "ConstantKernel",
    "WhiteKernel",
)
#: Hyperparameters of each class, with scikit-learn's defaults.
_DEFAULTS = {
    "ExpSineSquared": {"length_scale": 1.0, "periodicity": 1.0},
    "RBF": {"length_scale": 1.0},
    "RationalQuadratic": {"length_scale": 1.0, "alpha": 1.0},
    "Matern": {"length_scale": 1.0, "nu": 1.5},
    "DotProduct": {"sigma_0": 1.0},
    "ConstantKernel": {"constant_value": 1.0},
    "WhiteKernel": {"noise_level": 1.0},
}


@dataclass(frozen=True)
class KernelSpec:
    """A scikit-learn kernel class (by name) and its hyperparameters."""

    kind: str
    params: tuple[tuple[str, float], ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in SPEC_KINDS:
            raise ParameterError(
                f"kernel kind must be one of {list(SPEC_KINDS)}, got {self.kind!r}"
            )

    def get(self, name: str) -> float:
        return dict(self.params).get(name, _DEFAULTS[self.kind][name])

    def to_sklearn(self) -> Kernel:
        from sklearn.gaussian_process import kernels

        return getattr(kernels, self.kind)(**dict(self.params))


def spec(kind: str, **params: float) -> KernelSpec:
    return KernelSpec(kind, tuple(sorted((k, float(v)) for k, v in params.items())))


def spec_of(kernel: Any) -> KernelSpec | None:
    """The spec of a scikit-learn kernel of one of ``SPEC_KINDS`` with scalar
    hyperparameters, or None (composite kernels, anisotropic length scales,
    other classes: the sampler evaluates those densely)."""
    kind = type(kernel).__name__
    if kind not in SPEC_KINDS or type(kernel).__module__ != "sklearn.gaussian_process.kernels":
        return None
    params = {}
    for name in _DEFAULTS[kind]:
        value = getattr(kernel, name)
        try:
            params[name] = float(value)
        except (TypeError, ValueError):
            return None  # an array of length scales
    return spec(kind, **params)


@dataclass(frozen=True)
class BankKernel:
    """One bank entry: a kernel, its spec (None if cauker cannot decompose it),
    and the name shown in provenance."""

    name: str
    spec: KernelSpec | None
    custom: Any = None  # the user's scikit-learn kernel, for custom banks

    @property
    def kernel(self) -> Kernel:
        """The scikit-learn kernel (built on demand for named banks)."""
        return self.custom if self.custom is not None else self.spec.to_sklearn()


def _num(value: float) -> str:
    return f"{value:g}"


def _paper_bank(length: int) -> list[BankKernel]:
    bank = [
        BankKernel(
            f"ExpSineSquared(p={p}/{length})", spec("ExpSineSquared", periodicity=p / length)
        )
        for p in PAPER_PERIODS
    ]
    bank += [
        BankKernel(f"DotProduct({_num(s)})", spec("DotProduct", sigma_0=s)) for s in (0, 1, 10)
    ]
    bank += [BankKernel(f"RBF({_num(s)})", spec("RBF", length_scale=s)) for s in (0.1, 1.0, 10.0)]
    bank += [
        BankKernel(f"RationalQuadratic(alpha={_num(a)})", spec("RationalQuadratic", alpha=a))
        for a in (0.1, 1.0, 10.0)
    ]
    bank += [
        BankKernel(f"WhiteKernel({_num(n)})", spec("WhiteKernel", noise_level=n))
        for n in (0.1, 1.0)
    ]
    return bank


def paper_bank(length: int) -> tuple[BankKernel, ...]:
    """The V1 bank (KernelSynth, 33 entries)."""
    return tuple(_paper_bank(length) + [BankKernel("ConstantKernel(1)", spec("ConstantKernel"))])


def v2_bank(length: int) -> tuple[BankKernel, ...]:
    """The V2 bank (34 entries): paper bank without Constant, plus two Materns."""
    return tuple(
        _paper_bank(length)
        + [
            BankKernel(
                f"Matern(l=1/{length}, nu=0.5)", spec("Matern", length_scale=1 / length, nu=0.5)
            ),
            BankKernel(
                f"Matern(l=5/{length}, nu=1.5)", spec("Matern", length_scale=5 / length, nu=1.5)
            ),
        ]
    )


#: The named banks (their names: ``cauker.banks.KERNEL_BANKS``).
BANK_TABLES = dict(zip(KERNEL_BANKS, (paper_bank, v2_bank), strict=True))


def kernel_bank(bank: str | tuple[Kernel, ...], length: int) -> tuple[BankKernel, ...]:
    """Resolve a bank name, or a user's sequence of scikit-learn kernels, at ``length``."""
    if isinstance(bank, str):
        return BANK_TABLES[bank](length)
    return tuple(BankKernel(repr(k), spec_of(k), k) for k in bank)


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
