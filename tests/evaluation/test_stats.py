import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from dpsynth_core.evaluation.stats import auc_with_delong_ci, cramers_v, tvd, wilson_interval


def test_tvd_aligns_cells():
    assert tvd(pd.Series({1: 0.5, 2: 0.5}), pd.Series({2: 0.5, 3: 0.5})) == pytest.approx(0.5)


def test_cramers_v_extremes():
    a = np.array([0, 0, 1, 1])
    assert cramers_v(a, a) == pytest.approx(1.0)
    assert cramers_v(a, np.array([0, 1, 0, 1])) == pytest.approx(0.0)
    assert cramers_v(a, np.zeros(4, dtype=int)) == 0.0


def test_wilson_interval_closed_form():
    lo, hi = wilson_interval(0, 10)
    z2 = 1.959963984540054 ** 2
    assert lo == 0.0 and hi == pytest.approx(z2 / (10 + z2))
    lo, hi = wilson_interval(5, 10)
    assert lo + hi == pytest.approx(1.0)


def test_auc_matches_sklearn_and_ci_covers_it():
    rng = np.random.default_rng(0)
    pos, neg = rng.normal(0.5, 1, 300), rng.normal(0, 1, 400)
    pos[:20] = neg[:20]                                            # ties
    auc, lo, hi = auc_with_delong_ci(pos, neg)
    y = np.r_[np.ones(300), np.zeros(400)]
    assert auc == pytest.approx(roc_auc_score(y, np.r_[pos, neg]))
    assert lo < auc < hi and 0.05 < hi - lo < 0.2


def test_delong_variance_matches_hand_computation():
    # pos [1, 3], neg [0, 2]: V10 = [1/2, 1], V01 = [1, 1/2]; AUC = 3/4;
    # var = s2(V10)/2 + s2(V01)/2 = (1/8)/2 + (1/8)/2 = 1/8 (sample variances, ddof=1)
    auc, lo, hi = auc_with_delong_ci(np.array([1.0, 3.0]), np.array([0.0, 2.0]))
    assert auc == pytest.approx(0.75)
    assert auc - lo == pytest.approx(1.959963984540054 * np.sqrt(1 / 8))
    assert hi == 1.0
