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

``check_kernels`` refuses a user's bank that would give silent garbage: an
entry must be one covariance function of one-dimensional inputs, finite and
positive semi-definite on the grid.
"""

from __future__ import annotations

import functools
import pickle
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

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


KERNEL_BANKS = {"paper": paper_bank, "v2": v2_bank}


def kernel_bank(bank: str | tuple[Kernel, ...], length: int) -> tuple[BankKernel, ...]:
    """Resolve a bank name, or a user's sequence of scikit-learn kernels, at ``length``."""
    if isinstance(bank, str):
        return KERNEL_BANKS[bank](length)
    return tuple(BankKernel(repr(k), spec_of(k), k) for k in bank)


def exact_description(kernel: Any) -> str:
    """A scikit-learn kernel with every hyperparameter written exactly (``repr`` of
    floats round-trips), nested kernels included: ``RBF(length_scale=0.30001)``."""
    params = kernel.get_params(deep=False)
    parts = []
    for name in sorted(params):
        value = params[name]
        if hasattr(value, "get_params"):
            text = exact_description(value)
        elif isinstance(value, float | int | str | type(None)):
            text = repr(value)
        else:
            text = repr(np.asarray(value, dtype=float).tolist())
        parts.append(f"{name}={text}")
    return f"{type(kernel).__name__}({', '.join(parts)})"


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


#: Relative tolerance of the semi-definiteness check. Rounding makes the
#: eigenvalues of a valid kernel matrix negative by up to about
#: ``length * 2.2e-16`` of its norm (measured: -3e-14 for a periodic kernel at
#: 4,096 points), so zero would refuse the paper's own kernels; a negative part
#: larger than 1e-8 of the norm is not rounding, and would change the draws by
#: more than the float32 resolution of the output (6e-8).
PSD_TOLERANCE = 1e-8


#: Largest value (in magnitude) that an entry of a custom kernel bank may take on
#: the grid. A root's covariance folds up to ``cauker.config.MAX_KERNELS`` (32)
#: entries with sums and products, so its values can reach this to the 32nd
#: power: 101 ** 32 = 1.4e64, a standard deviation of 101 ** 16 = 1.2e32, three
#: million times below the largest float32 (3.4e38) that the series are stored
#: in, which leaves room for draws of many standard deviations, the means and the
#: children's weighted sums. 101 is the largest value of the paper bank
#: (DotProduct(sigma_0=10) on [0, 1]: 10 ** 2 + 1 * 1), for which MAX_KERNELS was
#: sized. A larger entry would overflow and be redrawn until ``RedrawError``
#: (``ConstantKernel(1e80)``: every draw).
MAX_KERNEL_VALUE = 101.0


def check_kernels(kernels: tuple[Kernel, ...], length: int) -> None:
    """Raise ``ValueError`` naming the first entry of a user's bank that is not a
    finite, positive semi-definite covariance of one-dimensional inputs on the grid
    ``linspace(0, 1, length)``, with values of at most ``MAX_KERNEL_VALUE``. Sums
    and products of such kernels are such kernels too (Schur product theorem), so
    checking the entries checks every fold.

    Examples
    --------
    >>> from sklearn.gaussian_process.kernels import RBF, ConstantKernel
    >>> check_kernels((RBF(0.2), ConstantKernel(2.0) * RBF(0.5)), 64)
    >>> check_kernels((ConstantKernel(1e80),), 64)
    Traceback (most recent call last):
        ...
    cauker.errors.ParameterError: kernel_bank entry 0 (ConstantKernel(1e+80)) takes values up to ...
    """
    for i, kernel in enumerate(kernels):
        problem = _kernel_problem(pickle.dumps(kernel), length)
        if problem:
            raise ParameterError(f"kernel_bank entry {i} ({_describe(kernel)}) {problem}")


def _describe(kernel: Kernel) -> str:
    """``repr`` of a kernel, except that scikit-learn shows ``ConstantKernel(-1)`` as
    ``nan**2`` (the square root of its value), which is no help in an error message."""
    from sklearn.gaussian_process.kernels import ConstantKernel, Exponentiation, Product, Sum

    if type(kernel) in (Sum, Product):
        op = "+" if type(kernel) is Sum else "*"
        return f"{_describe(kernel.k1)} {op} {_describe(kernel.k2)}"
    if type(kernel) is Exponentiation:
        return f"({_describe(kernel.kernel)}) ** {kernel.exponent}"
    if type(kernel) is ConstantKernel and np.ndim(kernel.constant_value) == 0:
        return f"ConstantKernel({kernel.constant_value:g})"
    with np.errstate(all="ignore"):
        return repr(kernel)


@functools.lru_cache(maxsize=256)
def _kernel_problem(pickled: bytes, length: int) -> str | None:
    """What is wrong with a kernel on the grid, or None. Cached by the exact kernel
    (its pickle), since configs are rebuilt often (copies, the builder, workers)."""
    from scipy.linalg import LinAlgError, cholesky

    kernel = pickle.loads(pickled)
    grid = np.linspace(0.0, 1.0, length)[:, None]
    try:
        with np.errstate(all="ignore"):
            matrix = np.asarray(kernel(grid), dtype=np.float64)
    except Exception as error:  # noqa: BLE001 - any failure means: not usable here
        cause = " ".join(str(error).split()) or type(error).__name__
        return f"cannot be evaluated on one-dimensional inputs (the time grid): {cause}"
    if matrix.shape != (length, length):
        return (
            f"must give one {length} x {length} covariance matrix on the grid of {length} "
            f"points, got an array of shape {matrix.shape}"
        )
    if not np.isfinite(matrix).all():
        return "is not finite on the grid (a hyperparameter is nan, infinite or zero?)"
    largest = np.abs(matrix).max()
    if largest > MAX_KERNEL_VALUE:
        return (
            f"takes values up to {largest:.3g} on the grid, more than {MAX_KERNEL_VALUE:g} (the "
            "paper bank's largest): a product of up to 32 entries of a root's covariance could "
            "overflow float32; scale it down"
        )
    scale = np.abs(matrix).sum(axis=1).max()  # bounds the largest eigenvalue
    if not np.allclose(matrix, matrix.T, rtol=0.0, atol=PSD_TOLERANCE * scale):
        return "is not symmetric on the grid: a covariance must be"
    if scale == 0.0:
        return None  # the zero kernel: useless, but a valid covariance
    try:
        shifted = matrix + (PSD_TOLERANCE * scale) * np.eye(length)
        cholesky(shifted, lower=True, check_finite=False, overwrite_a=True)
    except LinAlgError:
        return (
            f"is not positive semi-definite on the grid of {length} points (an eigenvalue "
            f"below -{PSD_TOLERANCE:g} of its norm): it is not a covariance, and its draws "
            "would be silently wrong"
        )
    return None
