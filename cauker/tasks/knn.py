"""How hard a task is: the accuracy of 1-nearest-neighbour from its context to its queries.

Each series (each channel of a multivariate one) is z-normalised; the
distance between two samples is the Euclidean one over all their channels and
points; a query takes the label of its nearest support sample, ties going to
the first in the row's order. Every sum runs in a fixed order of IEEE
operations (:func:`cauker.tasks.prior.fixed_sum`, no BLAS), so the column is
the same bytes on every machine.

Examples
--------
>>> import numpy as np
>>> t = np.linspace(0, 1, 32)
>>> support = np.stack([np.sin(8 * t), t]).astype(np.float32)[:, None]  # (2, 1, 32)
>>> query = np.stack([t**2, np.sin(8 * t + 0.1)]).astype(np.float32)[:, None]
>>> nearest_labels(support, np.array([0, 1]), query).tolist()
[1, 0]
>>> knn_accuracy(support, np.array([0, 1]), query, np.array([1, 0]))
1.0
"""

from __future__ import annotations

import numpy as np

from cauker.tasks.prior import combine, fixed_sum


def z_normalise(samples: np.ndarray) -> np.ndarray:
    """``(n, channels, length)`` samples, each channel to mean 0 and standard deviation 1
    (float64; a constant channel becomes 0)."""
    x = np.asarray(samples, dtype=np.float64)
    length = x.shape[-1]
    points = np.moveaxis(x, -1, 0)  # (length, n, channels): sums over the first axis
    mean = fixed_sum(points) / length
    centred = points - mean
    std = np.sqrt(fixed_sum(centred * centred) / length)
    scaled = np.where(std > 0, centred / np.where(std > 0, std, 1.0), 0.0)
    return np.moveaxis(scaled, 0, -1)


def distances(support: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances ``(queries, support)`` between z-normalised samples,
    as ``|q|^2 + |s|^2 - 2 q.s`` (each sum over the points in a fixed order)."""
    s = z_normalise(support).reshape(len(support), -1)  # (S, C * L)
    q = z_normalise(query).reshape(len(query), -1)
    dots = combine(q, np.ascontiguousarray(s.T))  # (Q, S)
    s_norm = fixed_sum((s * s).T)
    q_norm = fixed_sum((q * q).T)
    return (q_norm[:, None] + s_norm[None, :]) - 2.0 * dots


def nearest_labels(support: np.ndarray, support_label: np.ndarray, query: np.ndarray):
    """The label of each query's nearest support sample (the first one on a tie)."""
    return np.asarray(support_label)[np.argmin(distances(support, query), axis=1)]


def knn_accuracy(support, support_label, query, query_label) -> float:
    """The fraction of queries whose nearest support sample has their label."""
    predicted = nearest_labels(support, support_label, query)
    return float(np.count_nonzero(predicted == np.asarray(query_label)) / len(query_label))
