"""DP Gaussian copula: exact spend, calibrated correlation noise, seeded sampling, round trip, planted correlation."""

import numpy as np
import pandas as pd
import pytest

from dpsynth_core.accounting.budget import PrivacyBudget
from dpsynth_core.accounting.zcdp import gaussian_rho
from dpsynth_core.api import resolve_spec, synthesize_table
from dpsynth_core.config import SynthesisConfig
from dpsynth_core.generators.copula import nearest_correlation, normal_scores, probabilities_from_counts
from dpsynth_core.measurement import PandasEngine
from dpsynth_core.measurement.pandas_engine import codes_of
from dpsynth_core.measurement.private_table import PrivateTable, off_diagonal_sensitivity
from dpsynth_core.preprocessing.domains import resolve_domains
from dpsynth_core.serialization import load_model, save_model


def _planted(n=4000, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, n)
    y = 0.9 * x + np.sqrt(1 - 0.81) * rng.normal(0, 1, n)        # latent correlation 0.9 with x
    w = rng.normal(0, 1, n)                                      # independent of both
    cat = np.where(x + 0.5 * rng.normal(0, 1, n) > 0, "hi", "lo")  # tied to x
    return pd.DataFrame({"x": x * 10 + 50, "y": y * 5 + 20, "w": w * 3 + 10, "cat": cat})


SPEC = {"x": {"kind": "continuous", "lower": 0, "upper": 100, "bins": 20},
        "y": {"kind": "continuous", "lower": 0, "upper": 40, "bins": 20},
        "w": {"kind": "continuous", "lower": 0, "upper": 20, "bins": 20},
        "cat": {"categories": ["hi", "lo"]}}


def _release(epsilon, delta=1e-6, seed=0, data=None):
    data = _planted() if data is None else data
    return synthesize_table(PandasEngine(data, "planted"), SPEC,
                            SynthesisConfig(epsilon=epsilon, delta=delta, generator="copula", seed=seed))


@pytest.mark.parametrize("epsilon,delta", [(0.5, 1e-6), (1.0, 1e-7), (8.0, 1e-6)])
def test_spend_equals_the_request(epsilon, delta):
    r = _release(epsilon, delta).record
    assert r.rho_spent == pytest.approx(r.rho, rel=1e-9)
    assert r.epsilon_spent <= epsilon and r.epsilon_spent == pytest.approx(epsilon, rel=1e-6)
    steps = [s["step"] for s in r.spend]
    assert steps.count("copula:correlation") == 1
    assert sum(s.startswith("copula:1way:") for s in steps) == 4


def test_sensitivity_bound_holds_and_is_attained():
    rng = np.random.default_rng(0)
    d, bound = 7, 14.0
    for _ in range(2000):
        z = rng.normal(size=d) * rng.exponential(size=d)
        z *= np.sqrt(bound / (z @ z))                              # on the sphere ||z||^2 = bound
        off = np.outer(z, z)[np.triu_indices(d, 1)]
        assert np.linalg.norm(off) <= off_diagonal_sensitivity(d, bound) + 1e-9
    z = np.full(d, np.sqrt(bound / d))                               # all coordinates equal: the bound is tight
    assert np.linalg.norm(np.outer(z, z)[np.triu_indices(d, 1)]) == pytest.approx(
        off_diagonal_sensitivity(d, bound))


def test_correlation_noise_is_present_at_the_calibrated_scale():
    data = _planted(n=500)
    engine = PandasEngine(data, "planted")
    budget = PrivacyBudget(1e6, 1e-6)
    private = PrivateTable(engine, budget, np.random.default_rng(1))
    domain = resolve_domains(private, resolve_spec(engine, SPEC), budget.child("domains", rho=0.0), 1e-7)
    scores = [normal_scores(probabilities_from_counts(private.measure([c.binning], 1.0, "1way")))
              for c in domain.columns]
    d, bound = len(domain.columns), 2.0 * len(domain.columns)
    z = np.column_stack([s[codes_of(data[c.name], c.binning)] for s, c in zip(scores, domain.columns, strict=True)])
    z *= np.sqrt(bound / np.maximum((z * z).sum(1), bound))[:, None]
    exact = (z.T @ z)[np.triu_indices(d, 1)]
    sigma = 40.0
    binnings = [c.binning for c in domain.columns]
    errors = np.concatenate([
        private.noisy_score_products(binnings, scores, bound, sigma, step="corr") - exact for _ in range(200)])
    assert errors.std() == pytest.approx(sigma, rel=0.08)      # 1200 draws: std within ~4% (2 s.e.) + slack
    assert abs(errors.mean()) < 4 * sigma / np.sqrt(errors.size)
    charged = [r for r in budget.records if r.step == "corr"]
    assert len(charged) == 200
    assert charged[0].rho == pytest.approx(gaussian_rho(sigma, off_diagonal_sensitivity(d, bound)))


def test_sampling_is_reproducible_and_the_model_round_trips(tmp_path):
    model = _release(1.0, seed=3).model
    pd.testing.assert_frame_equal(model.sample(400, seed=7), model.sample(400, seed=7))
    assert not model.sample(400, seed=7).equals(model.sample(400, seed=8))
    save_model(model, str(tmp_path / "m"))
    loaded = load_model(str(tmp_path / "m"))
    np.testing.assert_array_equal(loaded.correlation, model.correlation)
    for a, b in zip(loaded.probabilities, model.probabilities, strict=True):
        np.testing.assert_array_equal(a, b)
    pd.testing.assert_frame_equal(model.sample(400, seed=7), loaded.sample(400, seed=7))
    assert not list(tmp_path.glob("*.pkl"))


def test_recovers_a_strong_planted_correlation_at_high_epsilon():
    release = _release(50.0, seed=1, data=_planted(n=20000))
    out = release.data
    assert out["x"].corr(out["y"], method="spearman") > 0.8            # source: ~0.89
    assert abs(out["x"].corr(out["w"], method="spearman")) < 0.1        # source: ~0
    hi = out["cat"] == "hi"
    assert out.loc[hi, "x"].mean() > out.loc[~hi, "x"].mean() + 8       # source: ~13 apart
    assert out["x"].between(0, 100).all() and out["x"].nunique() > 100   # within bounds, not midpoints
    assert release.model.estimated_rows == pytest.approx(20000, rel=0.02)


def test_nearest_correlation_is_positive_definite_with_unit_diagonal():
    bad = np.array([[1.0, 0.99, -0.99], [0.99, 1.0, 0.99], [-0.99, 0.99, 1.0]])   # not PSD
    fixed = nearest_correlation(bad)
    assert np.linalg.eigvalsh(fixed).min() > 0
    np.testing.assert_allclose(np.diag(fixed), 1.0)
    assert np.abs(fixed - bad).max() < 0.7


def test_normal_scores_are_slice_means_of_the_standard_normal():
    p = np.array([0.5, 0.0, 0.5])
    s = normal_scores(p)
    assert s[0] == pytest.approx(-np.sqrt(2 / np.pi)) and s[2] == pytest.approx(np.sqrt(2 / np.pi)) and s[1] == 0
    assert float(np.dot(p, s)) == pytest.approx(0.0, abs=1e-12)
