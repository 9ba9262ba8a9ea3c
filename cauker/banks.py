"""The names of the banks, and the checks of a user's kernel bank.

The config checks its bank fields against these names without importing the
sampler, which builds the banks themselves (:mod:`cauker.sampler.kernels`,
:mod:`cauker.sampler.means`, :mod:`cauker.sampler.activations`). A bank's
order is part of the distribution: entries are drawn by index.
"""

from __future__ import annotations

import functools
import pickle
from typing import TYPE_CHECKING, Any

import numpy as np

from cauker.errors import ParameterError

if TYPE_CHECKING:
    from sklearn.gaussian_process.kernels import Kernel

#: The named kernel banks (``paper``: KernelSynth's 33 entries; ``v2``: 34).
KERNEL_BANKS = ("paper", "v2")

#: The mean functions of the GP roots, in the order of their codes.
MEANS = ("zero", "linear", "exponential", "anomalies")
#: The named mean banks.
MEAN_BANKS: dict[str, tuple[str, ...]] = {"paper": MEANS, "zero": ("zero",)}

#: The activations of the non-root nodes.
ACTIVATIONS = (
    "linear",
    "relu",
    "sigmoid",
    "sin",
    "mod",
    "leaky_relu",
    "tanh",
    "softplus",
    "swish",
    "gaussian",
)
#: The named activation banks.
ACTIVATION_BANKS: dict[str, tuple[str, ...]] = {
    "paper": ("linear", "relu", "sigmoid", "sin", "mod", "leaky_relu"),
    "v2": ("sigmoid", "sin", "mod", "tanh", "softplus", "swish", "gaussian"),
}


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


#: Relative tolerance of the semi-definiteness check. Rounding makes the
#: eigenvalues of a valid kernel matrix negative by up to about
#: ``length * 2.2e-16`` of its norm, so zero would refuse the paper's own
#: kernels; a negative part larger than 1e-8 of the norm is not rounding, and
#: would change the draws by more than the float32 resolution of the output (6e-8).
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
