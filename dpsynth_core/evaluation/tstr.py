"""Train-on-synthetic, test-on-real (utility): does a model trained on the synthetic table predict the holdout as well
as one trained on the real train sample?

A HistGradientBoosting classifier predicts `target` from every other compared column; both models are scored on the
holdout with ROC AUC (binary) or macro one-vs-rest AUC (multiclass). A numeric target is predicted as its real-quantile
bin. The gated value is the gap `auc_real - auc_synthetic` (lower is better).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import roc_auc_score

from ..errors import InputError
from .encoding import subsample_rows
from .models import aligned_probabilities, feature_matrix, fit_classifier, label_vector
from .prepared import Prepared

BOOTSTRAP_RESAMPLES = 200


@dataclass(frozen=True)
class TSTRResult:
    target: str
    auc_synthetic: float
    auc_real: float
    n_classes: int
    gap_lower: float = float("nan")   # one-sided 95% lower bound of the gap (bootstrap over the holdout's rows)

    @property
    def gap(self) -> float:
        return self.auc_real - self.auc_synthetic


def bootstrap_gap_lower(y: np.ndarray, proba_real: np.ndarray, proba_synth: np.ndarray, classes: np.ndarray,
                        rng: np.random.Generator, resamples: int = BOOTSTRAP_RESAMPLES) -> float:
    """5th percentile of auc_real - auc_synthetic over holdout rows resampled with replacement (both models scored on
    the same resample: the paired difference). A holdout of a few hundred positives moves each AUC by ~0.02."""
    gaps = []
    for _ in range(resamples):
        rows = rng.integers(len(y), size=len(y))
        if len(np.unique(y[rows])) < 2:
            continue
        gaps.append(holdout_auc(y[rows], proba_real[rows], classes) - holdout_auc(y[rows], proba_synth[rows], classes))
    return float(np.percentile(gaps, 5)) if gaps else float("nan")


def holdout_auc(y_true: np.ndarray, proba: np.ndarray, classes: np.ndarray) -> float:
    """AUC of class probabilities `proba` (columns = `classes`) on labels `y_true`; NaN with one class present."""
    present = np.unique(y_true)
    if len(present) < 2:
        return float("nan")
    keep = np.isin(classes, present)
    p = proba[:, keep]
    totals = p.sum(1, keepdims=True)
    p = np.where(totals > 0, p / np.where(totals > 0, totals, 1.0), 1.0 / keep.sum())
    if len(present) == 2:
        return float(roc_auc_score(y_true == classes[keep][1], p[:, 1]))
    return float(roc_auc_score(y_true, p, labels=classes[keep], multi_class="ovr", average="macro"))


def _fit_score(X_train, y_train, mask, X_test, classes, seed) -> np.ndarray:
    if len(np.unique(y_train)) < 2:   # a constant table predicts its one class everywhere
        proba = np.zeros((len(X_test), len(classes)))
        proba[:, list(classes).index(y_train[0]) if y_train[0] in classes else 0] = 1.0
        return proba
    model = fit_classifier(X_train, y_train, mask, seed)
    return aligned_probabilities(model, X_test, classes)


def train_synthetic_test_real(prepared: Prepared, target: str, seed: int = 0, max_rows: int = 20000) -> TSTRResult:
    if prepared.holdout is None:
        raise InputError("TSTR needs a holdout the generator never saw.", column=target,
                         fix="pass holdout= (or let the CLI split one off).")
    if target not in prepared.columns:
        raise InputError(f"target {target!r} is not a compared column.", column=target,
                         fix=f"pick one of {', '.join(prepared.columns)}.")
    features = [c for c in prepared.columns if c != target]
    rng = np.random.default_rng(seed)
    X_hold, mask = feature_matrix(prepared, "holdout", features)
    y_hold = label_vector(prepared, "holdout", target)
    classes = np.unique(np.concatenate([label_vector(prepared, w, target) for w in ("real", "synthetic", "holdout")]))
    aucs, probas = {}, {}
    for which in ("real", "synthetic"):
        X, _ = feature_matrix(prepared, which, features)
        y = label_vector(prepared, which, target)
        rows = subsample_rows(len(y), max_rows, rng)
        probas[which] = _fit_score(X[rows], y[rows], mask, X_hold, classes, seed)
        aucs[which] = holdout_auc(y_hold, probas[which], classes)
    lower = bootstrap_gap_lower(y_hold, probas["real"], probas["synthetic"], classes, rng) \
        if len(np.unique(y_hold)) >= 2 else float("nan")
    return TSTRResult(target, aucs["synthetic"], aucs["real"], int(len(np.unique(y_hold))), lower)
