"""Small statistics shared by the metrics: total variation distance, Cramér's V, Wilson interval, AUC with DeLong CI."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats as _stats


def tvd(p: pd.Series, q: pd.Series) -> float:
    """Total variation distance 0.5 * sum |p - q| of two distributions.

    Each is given as a Series over its cells (the two cell sets may differ).
    """
    aligned = pd.concat([p, q], axis=1).fillna(0.0)
    return 0.5 * float(np.abs(aligned.iloc[:, 0] - aligned.iloc[:, 1]).sum())


def cramers_v(a: np.ndarray, b: np.ndarray) -> float:
    """Cramér's V (no bias correction) of two integer code arrays; 0 when either side has a single observed level."""
    if len(a) == 0:
        return 0.0
    _, ai = np.unique(a, return_inverse=True)
    _, bi = np.unique(b, return_inverse=True)
    r, c = int(ai.max()) + 1, int(bi.max()) + 1
    if min(r, c) < 2:
        return 0.0
    table = np.zeros((r, c))
    np.add.at(table, (ai, bi), 1.0)
    n = table.sum()
    expected = np.outer(table.sum(1), table.sum(0)) / n
    chi2 = float(((table - expected) ** 2 / expected).sum())
    return math.sqrt(chi2 / n / (min(r, c) - 1))


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (Wilson 1927); (0, 1) when n == 0."""
    if n == 0:
        return 0.0, 1.0
    z = _stats.norm.ppf(0.5 + confidence / 2)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def auc_with_delong_ci(positive_scores: np.ndarray, negative_scores: np.ndarray,
                       confidence: float = 0.95) -> tuple[float, float, float]:
    """ROC AUC = P(score_pos > score_neg) + 0.5 P(tie), with the DeLong et al. (1988) variance; (auc, low, high)."""
    x = np.asarray(positive_scores, dtype="float64")
    y = np.asarray(negative_scores, dtype="float64")
    m, n = len(x), len(y)
    if m == 0 or n == 0:
        return float("nan"), float("nan"), float("nan")
    all_ranks = _stats.rankdata(np.concatenate([x, y]))
    rx, ry = _stats.rankdata(x), _stats.rankdata(y)
    auc = (all_ranks[:m].sum() - m * (m + 1) / 2) / (m * n)
    v10 = (all_ranks[:m] - rx) / n          # per positive: share of negatives below (ties half)
    v01 = 1.0 - (all_ranks[m:] - ry) / m    # per negative: share of positives above (ties half)
    var = (np.var(v10, ddof=1) / m if m > 1 else 0.0) + (np.var(v01, ddof=1) / n if n > 1 else 0.0)
    z = _stats.norm.ppf(0.5 + confidence / 2)
    half = z * math.sqrt(max(var, 0.0))
    return float(auc), max(0.0, float(auc - half)), min(1.0, float(auc + half))
