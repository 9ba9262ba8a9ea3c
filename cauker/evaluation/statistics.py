"""Paired comparison of two methods over datasets and seeds: gap, interval, test, verdict.

Two methods (for example a candidate corpus and a reference corpus) are scored
on the same datasets with the same seeds. Seed ``s`` fixes the encoder's
initialisation, the batches, the views and the classifier for both, so only
the corpus differs and the accuracies are *paired* per (dataset, seed): the
comparison works on the differences ``d[dataset, seed]``.

- **gap**: the mean of ``d`` over datasets and seeds (accuracy points);
- **interval**: a 95% two-level percentile bootstrap of that mean: datasets are
  resampled with replacement, then the seeds of every drawn dataset, so the
  interval covers both the choice of datasets and the run-to-run noise;
- **test**: the Wilcoxon signed-rank test (two-sided) of the per-dataset
  differences averaged over seeds, the standard comparison of two classifiers
  across datasets in time-series classification (Demšar, JMLR 2006);
- **verdict**: *better* when the test rejects at ``alpha`` **and** the whole
  interval lies above zero; *worse* is the mirror image; anything else is *no
  clear difference*.

Why both: the signed-rank test keeps the rate of false verdicts at or below
``alpha`` whatever the number of datasets (if, under no difference, the
per-dataset differences are symmetric about zero), whereas a percentile
bootstrap over a handful of datasets is too narrow. The interval says how
large the difference may be. With fewer than 6 datasets the two-sided test
can never reach ``p < 0.05``, so such a comparison is never decisive.

Everything here is plain numpy/scipy on accuracy tables, so it is tested on
synthetic tables whose answer is known.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np

from cauker.errors import ParameterError

#: Two-sided level of the signed-rank test and of the interval (1 - confidence).
ALPHA = 0.05
#: Bootstrap resamples; the interval's own Monte-Carlo error is below 0.05 points
#: for the tables this project produces.
RESAMPLES = 4000
#: Per-dataset differences (seed-averaged) within this many points count as ties
#: in the won/lost/tied summary (descriptive only, not part of the verdict).
TIE_TOLERANCE = 0.5
#: Fewest datasets for which a two-sided signed-rank test can reach p < 0.05.
MIN_DATASETS = 6

VERDICTS = ("better", "worse", "no clear difference")


@dataclasses.dataclass(frozen=True)
class Comparison:
    """The paired comparison of two methods on one classifier."""

    gap: float
    low: float
    high: float
    p_value: float
    datasets: int
    seeds: int
    wins: int
    losses: int
    ties: int
    verdict: str

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def describe(self) -> str:
        """One line: gap, interval, p-value, won/lost/tied and the verdict."""
        return (
            f"{self.gap:+6.2f} points, 95% interval [{self.low:+.2f}, {self.high:+.2f}], "
            f"Wilcoxon p = {self.p_value:.3f}, won/lost/tied {self.wins}/{self.losses}/"
            f"{self.ties} -> {self.verdict}"
        )


def paired_differences(
    a: Mapping[str, Mapping[str, float]], b: Mapping[str, Mapping[str, float]]
) -> np.ndarray:
    """``d[dataset, seed] = a - b`` from two ``{seed: {dataset: accuracy}}`` tables.

    Only the seeds and datasets present in both count; rows follow ``a``'s
    dataset order and columns its seed order.
    """
    seeds = [s for s in a if s in b]
    if not seeds:
        raise ParameterError(f"no seed in common: {sorted(a)} and {sorted(b)}")
    names = [n for n in a[seeds[0]] if all(n in a[s] and n in b[s] for s in seeds)]
    if not names:
        raise ParameterError("no dataset in common between the two methods")
    return np.array([[a[s][n] - b[s][n] for s in seeds] for n in names], dtype=float)


def bootstrap_interval(
    differences: np.ndarray,
    *,
    alpha: float = ALPHA,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> tuple[float, float]:
    """Two-level percentile bootstrap interval of the mean of ``d[dataset, seed]``.

    Datasets are drawn with replacement, then, for each drawn dataset, its
    seeds are drawn with replacement. The generator is seeded, so the interval
    of a table is always the same.
    """
    d = np.asarray(differences, dtype=float)
    if d.ndim != 2 or d.size == 0:
        raise ParameterError(
            f"differences must be a non-empty (datasets, seeds) array, got {d.shape}"
        )
    n, m = d.shape
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, n, size=(resamples, n))
    cols = rng.integers(0, m, size=(resamples, n, m))
    means = d[rows[:, :, None], cols].mean(axis=(1, 2))
    low, high = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)


def signed_rank_p_value(per_dataset: np.ndarray) -> float:
    """Two-sided Wilcoxon signed-rank p-value; 1.0 when every difference is zero.

    Zero differences are dropped (Wilcoxon's convention). scipy computes the
    exact null distribution for up to 50 datasets without ties, exhaustive
    sign permutations for up to 13 with ties, and the normal approximation
    beyond.
    """
    from scipy import stats  # imported here: ``cauker --help`` stays fast

    d = np.asarray(per_dataset, dtype=float)
    if not np.any(d != 0):
        return 1.0
    return float(stats.wilcoxon(d, zero_method="wilcox", alternative="two-sided").pvalue)


def compare(differences: np.ndarray, *, alpha: float = ALPHA) -> Comparison:
    """Gap, interval, test and verdict for paired differences ``d[dataset, seed]``."""
    d = np.asarray(differences, dtype=float)
    if d.ndim == 1:
        d = d[:, None]
    if not np.isfinite(d).all():
        raise ParameterError("differences must be finite")
    per_dataset = d.mean(axis=1)
    low, high = bootstrap_interval(d, alpha=alpha)
    p_value = signed_rank_p_value(per_dataset)
    if p_value < alpha and low > 0:
        verdict = "better"
    elif p_value < alpha and high < 0:
        verdict = "worse"
    else:
        verdict = "no clear difference"
    wins = int(np.sum(per_dataset > TIE_TOLERANCE))
    losses = int(np.sum(per_dataset < -TIE_TOLERANCE))
    return Comparison(
        gap=float(d.mean()),
        low=low,
        high=high,
        p_value=p_value,
        datasets=d.shape[0],
        seeds=d.shape[1],
        wins=wins,
        losses=losses,
        ties=d.shape[0] - wins - losses,
        verdict=verdict,
    )


def compare_tables(
    a: Mapping[str, Mapping[str, Mapping[str, float]]],
    b: Mapping[str, Mapping[str, Mapping[str, float]]],
    classifier: str,
    *,
    alpha: float = ALPHA,
) -> Comparison:
    """:func:`compare` on two ``{seed: {dataset: {classifier: accuracy}}}`` tables."""

    def pick(table):
        return {s: {n: v[classifier] for n, v in rows.items()} for s, rows in table.items()}

    return compare(paired_differences(pick(a), pick(b)), alpha=alpha)


def seed_means(table: Mapping[str, Mapping[str, Mapping[str, float]]], classifier: str) -> dict:
    """Mean accuracy over datasets, per seed, of a ``{seed: {dataset: {classifier: acc}}}``."""
    return {
        seed: float(np.mean([v[classifier] for v in rows.values()])) for seed, rows in table.items()
    }


def mean_accuracy(table, classifier: str, names: Sequence[str] | None = None) -> float:
    """Mean accuracy over datasets (all, or ``names``) and seeds."""
    values = [
        v[classifier]
        for rows in table.values()
        for n, v in rows.items()
        if names is None or n in names
    ]
    return float(np.mean(values))
