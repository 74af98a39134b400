"""Noise is present at the calibrated scale (and a mis-scaled sampler is caught)."""

import numpy as np
import pytest
from scipy import stats

from dpsynth_core.mechanisms import discrete_gaussian, exponential_mechanism


def _discrete_gaussian_pmf(sigma, support):
    w = np.exp(-(support.astype(float) ** 2) / (2 * sigma ** 2))
    return w / w.sum()


def _chi2_pvalue(samples, sigma):
    support = np.arange(-int(6 * sigma) - 1, int(6 * sigma) + 2)
    expected = _discrete_gaussian_pmf(sigma, support) * samples.size
    observed = np.array([(samples == k).sum() for k in support])
    keep = expected >= 5  # pool the tails
    obs = np.append(observed[keep], observed[~keep].sum())
    exp = np.append(expected[keep], expected[~keep].sum())
    return stats.chisquare(obs, exp * obs.sum() / exp.sum()).pvalue


@pytest.mark.parametrize("sigma", [0.7, 3.0, 25.0])
def test_discrete_gaussian_matches_its_pmf(sigma):
    rng = np.random.default_rng(1)
    x = discrete_gaussian((100_000,), sigma, rng)
    assert x.dtype == np.int64
    assert _chi2_pvalue(x, sigma) > 1e-4
    assert abs(x.mean()) < 5 * sigma / np.sqrt(x.size)


@pytest.mark.parametrize("factor", [0.7, 1.3])
def test_chi2_check_rejects_a_scale_off_by_30_percent(factor):
    rng = np.random.default_rng(2)
    x = discrete_gaussian((100_000,), 3.0 * factor, rng)
    assert _chi2_pvalue(x, 3.0) < 1e-6


def test_discrete_gaussian_shape():
    assert discrete_gaussian((3, 4), 2.0, np.random.default_rng(0)).shape == (3, 4)


def test_exponential_mechanism_frequencies_follow_exp_eps_score_over_2_delta():
    rng = np.random.default_rng(3)
    scores = np.array([0.0, 1.0, 2.0, 4.0])
    eps, sens = 1.0, 1.0
    n = 40_000
    picks = np.bincount([exponential_mechanism(scores, eps, sens, rng) for _ in range(n)], minlength=4)
    p = np.exp(eps * scores / (2 * sens))
    p /= p.sum()
    assert stats.chisquare(picks, p * n).pvalue > 1e-4
