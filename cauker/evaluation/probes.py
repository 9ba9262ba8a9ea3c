"""The probes of the zero-shot protocol: classifiers fitted per dataset on frozen features.

Features are either the embeddings of a frozen encoder or the raw series
(both on the series resampled to the corpus length). On each dataset a random
forest (100 trees, the paper's protocol) and a logistic regression (on
standardised features) are fitted on the train split and scored on the test
split.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from cauker.errors import ParameterError

CLASSIFIERS = ("rf", "logreg")


def classifier(name: str, seed: int):
    if name == "rf":
        return RandomForestClassifier(n_estimators=100, random_state=seed, n_jobs=1)
    if name == "logreg":
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, C=1.0))
    raise ParameterError(f"classifier must be one of {CLASSIFIERS}, got {name!r}")


def accuracies(
    train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, test_y: np.ndarray, seed: int
) -> dict[str, float]:
    """Test accuracy (in %) of each classifier fitted on the train features."""
    scores = {}
    for name in CLASSIFIERS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = classifier(name, seed).fit(train_x, train_y)
        scores[name] = 100.0 * float(np.mean(model.predict(test_x) == test_y))
    return scores


def score_features(
    datasets: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
    featurize,
    seed: int,
) -> dict[str, dict[str, float]]:
    """``{dataset: {classifier: accuracy}}`` for features ``featurize(series)``.

    ``datasets`` maps a name to ``(train_x, train_y, test_x, test_y)`` with the
    series already resampled.
    """
    result = {}
    for name, (train_x, train_y, test_x, test_y) in datasets.items():
        result[name] = accuracies(featurize(train_x), train_y, featurize(test_x), test_y, seed)
    return result
