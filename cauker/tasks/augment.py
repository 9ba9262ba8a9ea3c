"""Optional augmentations of a task's samples: deterministic, from the task's own stream.

Applied to every support and query sample, in this order, each with its own
numbers (a multivariate sample's channels share them):

- ``mixup``: with probability 1/2 a sample ``x`` of class ``c`` becomes
  ``mean(x) + std(x) * (lam * z(x) + (1 - lam) * z(y))``, ``lam ~ U(0.6, 1)``,
  where ``y`` is a fresh sample of another class (uniform) and ``z`` z-normalises
  each channel: the label stays ``c``, whose part dominates;
- ``crop``: a window of ``f ~ U(0.8, 1)`` of the series, starting uniformly,
  stretched back to ``length`` points by linear interpolation;
- ``time_shift``: the series delayed by ``d ~ UniformInt(-length // 10, length // 10)``
  points, the end values repeated;
- ``scale``: ``a * x + b * std(x)``, ``log a ~ U(log 1/2, log 2)``, ``b ~ U(-1, 1)``;
- ``noise``: ``x + sigma * std(x) * e``, ``sigma ~ U(0, 0.1)``, ``e ~ N(0, 1)``.

The numbers come from the task's augmentation stream (sub-stream 1 of the task
stream): first the mixup plan (drawn before the classes, which must then draw
the partners), then, for each augmentation in the order above, its numbers for
all samples at once. Means and deviations are sums in a fixed order
(:func:`cauker.tasks.prior.fixed_sum`): the same bits on every machine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cauker.tasks.prior import fixed_sum, portable_math

#: The probability that a sample is mixed, and the range of its own weight.
MIXUP_PROBABILITY = 0.5
MIXUP_WEIGHT = (0.6, 1.0)
#: The kept fraction of a crop.
CROP_FRACTION = (0.8, 1.0)
#: The largest time shift, as a fraction of the length.
MAX_SHIFT = 0.1
#: The amplitude factor is ``2 ** v``, ``v ~ U(-1, 1)``; the offset is at most this
#: many deviations.
OFFSET = 1.0
#: ln 2, written out: a constant, not a call whose last bit could depend on the CPU.
LN2 = 0.6931471805599453
#: The largest noise level, in deviations.
MAX_NOISE = 0.1


@dataclass
class MixupPlan:
    """Which samples are mixed, with which weight, and with which partner: sample
    ``partner_slot[i]`` of the extra samples of class ``partner[i]``."""

    mixed: np.ndarray
    weight: np.ndarray
    partner: np.ndarray
    partner_slot: np.ndarray

    def extras(self, classes: int) -> list[int]:
        """Extra samples each class must draw as partners."""
        return np.bincount(self.partner[self.mixed], minlength=classes).tolist()


def plan_mixup(rng: np.random.Generator, labels: np.ndarray, classes: int) -> MixupPlan:
    """The mixup plan of samples with ``labels`` (uniforms, weights, then partners)."""
    count = len(labels)
    mixed = rng.random(count) < MIXUP_PROBABILITY
    low, high = MIXUP_WEIGHT
    weight = low + (high - low) * rng.random(count)
    other = rng.integers(0, classes - 1, count)
    partner = other + (other >= labels)  # uniform among the other classes
    slot = np.zeros(count, dtype=np.int64)
    seen = np.zeros(classes, dtype=np.int64)
    for i in np.flatnonzero(mixed).tolist():
        slot[i] = seen[partner[i]]
        seen[partner[i]] += 1
    return MixupPlan(mixed, weight, partner, slot)


def _moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of each channel of ``(n, channels, length)``,
    shaped to broadcast."""
    points = np.moveaxis(x, -1, 0)
    mean = fixed_sum(points) / x.shape[-1]
    centred = points - mean
    std = np.sqrt(fixed_sum(centred * centred) / x.shape[-1])
    return mean[..., None], std[..., None]


def _standardised(x: np.ndarray) -> np.ndarray:
    mean, std = _moments(x)
    return (x - mean) / np.where(std > 0, std, 1.0)


def _mixup(x, rng, plan: MixupPlan, partners: list[np.ndarray]) -> np.ndarray:
    mixed = np.flatnonzero(plan.mixed)
    if mixed.size == 0:
        return x
    y = np.stack([partners[plan.partner[i]][plan.partner_slot[i]] for i in mixed.tolist()])
    mean, std = _moments(x[mixed])
    lam = plan.weight[mixed][:, None, None]
    out = x.copy()
    out[mixed] = mean + std * (lam * _standardised(x[mixed]) + (1.0 - lam) * _standardised(y))
    return out


def _crop(x, rng) -> np.ndarray:
    n, length = len(x), x.shape[-1]
    low, high = CROP_FRACTION
    keep = low + (high - low) * rng.random(n)
    start = (1.0 - keep) * rng.random(n)
    grid = np.arange(length) / (length - 1)
    positions = (start[:, None] + keep[:, None] * grid) * (length - 1)
    left = np.clip(np.floor(positions).astype(np.int64), 0, length - 2)
    w = (positions - left)[:, None, :]
    rows = np.arange(n)[:, None, None]
    channels = np.arange(x.shape[1])[None, :, None]
    a = x[rows, channels, left[:, None, :]]
    b = x[rows, channels, left[:, None, :] + 1]
    return a + w * (b - a)


def _time_shift(x, rng) -> np.ndarray:
    n, length = len(x), x.shape[-1]
    most = int(MAX_SHIFT * length)
    delay = rng.integers(-most, most + 1, n)
    source = np.clip(np.arange(length)[None, :] - delay[:, None], 0, length - 1)
    return np.take_along_axis(x, np.broadcast_to(source[:, None, :], x.shape), axis=2)


def _scale(x, rng) -> np.ndarray:
    n = len(x)
    amplitude = portable_math.exp((2.0 * rng.random(n) - 1.0) * LN2)
    offset = -OFFSET + 2 * OFFSET * rng.random(n)
    _, std = _moments(x)
    return amplitude[:, None, None] * x + offset[:, None, None] * std


def _noise(x, rng) -> np.ndarray:
    sigma = MAX_NOISE * rng.random(len(x))
    _, std = _moments(x)
    return x + (sigma[:, None, None] * std) * rng.standard_normal(x.shape)


_LAWS = {"crop": _crop, "time_shift": _time_shift, "scale": _scale, "noise": _noise}


def augment(
    x: np.ndarray,
    names: tuple[str, ...],
    rng: np.random.Generator,
    plan: MixupPlan | None = None,
    partners: list[np.ndarray] | None = None,
) -> np.ndarray:
    """``x`` ``(n, channels, length)`` (float64) with the augmentations ``names``
    applied in order; ``plan`` and ``partners`` (each class's extra samples) for mixup."""
    with np.errstate(all="ignore"):  # a non-finite result redraws the task
        for name in names:
            x = _mixup(x, rng, plan, partners) if name == "mixup" else _LAWS[name](x, rng)
    return x
