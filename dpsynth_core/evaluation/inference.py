"""Attribute inference (privacy): predict a sensitive column from quasi-identifiers with a model trained on the
synthetic table; the attack's accuracy on train records (main) vs holdout records (control) gives an anonymeter-style
inference risk; the holdout accuracy is also compared with a majority-class baseline (what the attacker gets without
any model). A numeric sensitive column is predicted as its real-quantile bin."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..errors import InputError
from .anonymeter import RiskEstimate, risk
from .encoding import subsample_rows
from .models import feature_matrix, fit_classifier, label_vector, predict
from .prepared import Prepared


@dataclass(frozen=True)
class AttributeInference:
    sensitive: str
    quasi_identifiers: tuple[str, ...]
    accuracy_train: float
    accuracy_holdout: float
    baseline_holdout: float
    risk: RiskEstimate


def attribute_inference(prepared: Prepared, sensitive: str, quasi_identifiers: Sequence[str] | None = None,
                        n_attacks: int = 5000, seed: int = 0, max_rows: int = 20000) -> AttributeInference:
    if prepared.holdout is None:
        raise InputError("attribute inference needs a holdout (the control set).", column=sensitive,
                         fix="pass holdout=.")
    if sensitive not in prepared.columns:
        raise InputError(f"sensitive column {sensitive!r} is not a compared column.", column=sensitive,
                         fix=f"pick one of {', '.join(prepared.columns)}.")
    qis = list(quasi_identifiers) if quasi_identifiers else [c for c in prepared.columns if c != sensitive]
    rng = np.random.default_rng(seed)
    X_syn, mask = feature_matrix(prepared, "synthetic", qis)
    y_syn = label_vector(prepared, "synthetic", sensitive)
    rows = subsample_rows(len(y_syn), max_rows, rng)
    X_syn, y_syn = X_syn[rows], y_syn[rows]
    size = min(n_attacks, len(prepared.real), len(prepared.holdout))
    main_rows = subsample_rows(len(prepared.real), size, rng)
    control_rows = subsample_rows(len(prepared.holdout), size, rng)
    X_main = feature_matrix(prepared, "real", qis)[0][main_rows]
    y_main = label_vector(prepared, "real", sensitive)[main_rows]
    X_ctrl = feature_matrix(prepared, "holdout", qis)[0][control_rows]
    y_ctrl = label_vector(prepared, "holdout", sensitive)[control_rows]
    if len(np.unique(y_syn)) < 2:
        guess = lambda X: np.full(len(X), y_syn[0])  # noqa: E731
    else:
        model = fit_classifier(X_syn, y_syn, mask, seed)
        guess = lambda X: predict(model, X)  # noqa: E731
    main_hits = int((guess(X_main) == y_main).sum())
    ctrl_hits = int((guess(X_ctrl) == y_ctrl).sum())
    majority = np.bincount(y_syn).argmax()
    return AttributeInference(
        sensitive, tuple(qis), main_hits / len(y_main), ctrl_hits / len(y_ctrl), float((y_ctrl == majority).mean()),
        risk(main_hits, ctrl_hits, len(y_main), len(y_ctrl)),
    )
