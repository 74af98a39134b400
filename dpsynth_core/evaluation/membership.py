"""Density-ratio membership inference (privacy; AUC, 0.5 = chance).

DOMIAS-style (van Breugel et al. 2023): a row that the generator over-represents relative to the population is
likely a training member. The ratio p_synthetic(x) / p_population(x) is estimated with a classifier trained to tell
synthetic rows (label 1) from a reference half of the holdout (label 0); its probability is the attack score. Members =
train sample, non-members = the other half of the holdout, equal sizes. AUC with a DeLong 95% CI.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from .encoding import subsample_rows
from .models import feature_matrix, fit_classifier, predict_proba
from .prepared import Prepared
from .stats import auc_with_delong_ci


def density_ratio_membership_auc(prepared: Prepared, max_rows: int = 5000, seed: int = 0) -> tuple[float, float, float]:
    if prepared.holdout is None or len(prepared.holdout) < 4:
        raise InputError("the density-ratio attack needs a holdout of at least 4 rows.",
                         fix="pass a larger holdout.")
    rng = np.random.default_rng(seed)
    columns = prepared.columns
    X_real, mask = feature_matrix(prepared, "real", columns)
    X_hold, _ = feature_matrix(prepared, "holdout", columns)
    X_syn, _ = feature_matrix(prepared, "synthetic", columns)
    order = rng.permutation(len(X_hold))
    half = len(order) // 2
    reference, non_members = X_hold[order[:half]], X_hold[order[half:]]
    non_members = non_members[subsample_rows(len(non_members), max_rows, rng)]
    members = X_real[subsample_rows(len(X_real), len(non_members), rng)]
    reference = reference[subsample_rows(len(reference), max_rows, rng)]
    synth = X_syn[subsample_rows(len(X_syn), max(len(reference), 1), rng)]
    X = np.vstack([synth, reference])
    y = np.concatenate([np.ones(len(synth)), np.zeros(len(reference))])
    model = fit_classifier(X, y, mask, seed)
    score = lambda rows: predict_proba(model, rows)[:, 1]  # noqa: E731
    return auc_with_delong_ci(score(members), score(non_members))
