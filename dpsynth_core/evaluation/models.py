"""Feature encoding and scikit-learn HistGradientBoosting models shared by TSTR, attribute inference and the
density-ratio membership attack. Categorical columns are ordinal-coded (codes fixed on the real data, unseen
values -> missing) and declared categorical to the model; numerics pass through with NaN as missing."""

from __future__ import annotations

from typing import Sequence

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

from .prepared import Prepared

#: HistGradientBoosting accepts at most this many categories per categorical feature
MAX_MODEL_CATEGORIES = 250


def feature_matrix(prepared: Prepared, which: str, columns: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(X, categorical mask) for `columns` of table `which` ('real'|'synthetic'|'holdout')."""
    codes = getattr(prepared, f"{which}_codes")
    frame = getattr(prepared, which)
    names = prepared.discretizer.columns
    cols, mask = [], []
    for column in columns:
        bins = prepared.discretizer.bins[names.index(column)]
        if prepared.kinds[column] == "categorical" and bins.size - 1 <= MAX_MODEL_CATEGORIES:
            c = codes[:, names.index(column)].astype("float64")
            c[c == bins.size - 1] = np.nan
            cols.append(c)
            mask.append(True)
        elif prepared.kinds[column] == "categorical":
            cols.append(codes[:, names.index(column)].astype("float64"))
            mask.append(False)
        else:
            cols.append(frame[column].to_numpy("float64"))
            mask.append(False)
    return np.column_stack(cols) if cols else np.zeros((len(frame), 0)), np.array(mask, dtype=bool)


def label_vector(prepared: Prepared, which: str, column: str) -> np.ndarray:
    """Integer class labels of `column`: its bin codes.

    Categories, or real-quantile bins for numerics; null is a class of its own.
    """
    codes = getattr(prepared, f"{which}_codes")
    return codes[:, prepared.discretizer.columns.index(column)]


def single_threaded():
    """OpenMP limited to one thread: on a busy 2-core machine HistGradientBoosting with 2 spinning OpenMP threads was
    measured ~50x slower than with one."""
    return threadpool_limits(limits=1, user_api="openmp")


def fit_classifier(X: np.ndarray, y: np.ndarray, categorical_mask: np.ndarray, seed: int = 0,
                   max_iter: int = 100) -> HistGradientBoostingClassifier:
    model = HistGradientBoostingClassifier(
        max_iter=max_iter, categorical_features=categorical_mask if categorical_mask.any() else None,
        random_state=seed, early_stopping=False,
    )
    with single_threaded():
        return model.fit(X, y)


def predict_proba(model, X: np.ndarray) -> np.ndarray:
    with single_threaded():
        return model.predict_proba(X)


def predict(model, X: np.ndarray) -> np.ndarray:
    with single_threaded():
        return model.predict(X)


def aligned_probabilities(model, X: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """predict_proba columns re-ordered to `classes` (classes the model never saw get probability 0), rows
    renormalised (uniform where nothing is left)."""
    proba = predict_proba(model, X)
    out = np.zeros((len(X), len(classes)))
    position = {c: i for i, c in enumerate(classes)}
    for k, c in enumerate(model.classes_):
        if c in position:
            out[:, position[c]] = proba[:, k]
    totals = out.sum(1, keepdims=True)
    return np.where(totals > 0, out / np.where(totals > 0, totals, 1.0), 1.0 / len(classes))
