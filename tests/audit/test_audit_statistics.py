"""The audit's statistics: golden values (dp-correctness.md) and checks that each bound can fail and is not
over-confident on simulated mechanisms whose true privacy is known."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dpsynth_core.audit import (
    clopper_pearson,
    epsilon_lower_bound,
    gdp_audit,
    lower_bound,
    mu_for_rho,
    one_run_audit,
    one_run_epsilon,
    perfect_attack_ceiling,
    scan_audit,
    split_audit,
    upper_bound,
)
from dpsynth_core.audit.gaussian import mu_standard_error, standardised_sum


@pytest.mark.parametrize("runs, ceiling", [(50, 2.57), (100, 3.28), (200, 3.98), (500, 4.91), (1000, 5.60)])
def test_perfect_attack_ceiling_golden_values(runs, ceiling):
    assert perfect_attack_ceiling(runs, 0.95) == pytest.approx(ceiling, abs=0.005)


def test_exactly_eps_1_mechanism_audits_to_about_0_80_at_500_runs():
    # randomized response at epsilon 1: P[1 | in] = e/(1+e) = 0.731, P[1 | out] = 0.269 -> 366 and 134 of 500
    assert epsilon_lower_bound(366, 500, 134, 500, 0.0, 0.95) == pytest.approx(0.80, abs=0.01)


def test_clopper_pearson_matches_known_interval_and_edges():
    lo, hi = clopper_pearson(5, 10, 0.95)
    assert (lo, hi) == pytest.approx((0.1871, 0.8129), abs=1e-4)
    assert lower_bound(0, 10, 0.025) == 0.0 and upper_bound(10, 10, 0.025) == 1.0
    with pytest.raises(ValueError):
        lower_bound(11, 10, 0.05)


def test_delta_and_bonferroni_only_lower_the_bound():
    base = epsilon_lower_bound(90, 100, 5, 100)
    assert epsilon_lower_bound(90, 100, 5, 100, delta=0.05) < base
    assert epsilon_lower_bound(90, 100, 5, 100, tests=10) < base
    assert epsilon_lower_bound(3, 100, 5, 100, delta=0.05) == -math.inf


@pytest.mark.parametrize("correct, eps", [(900, 2.02), (950, 2.70), (1000, 5.81)])
def test_one_run_golden_values(correct, eps):
    assert one_run_epsilon(2000, 1000, correct, 0.0, 0.95) == pytest.approx(eps, abs=0.01)


def test_one_run_delta_term_lowers_the_bound_and_chance_gives_zero():
    assert one_run_epsilon(2000, 1000, 1000, 1e-4) < one_run_epsilon(2000, 1000, 1000, 0.0)
    assert one_run_epsilon(2000, 1000, 520) == 0.0


def _randomized_response(epsilon: float, bits: np.ndarray, rng) -> np.ndarray:
    keep = rng.random(bits.shape) < math.exp(epsilon) / (1 + math.exp(epsilon))
    return np.where(keep, bits, ~bits).astype(float)


def test_one_run_audit_bounds_randomized_response_below_its_epsilon_and_catches_a_larger_one():
    rng = np.random.default_rng(1)
    coins = rng.random(2000) < 0.5
    honest = one_run_audit(_randomized_response(1.0, coins, rng) + rng.random(2000) * 1e-3, coins, 500, 500,
                           rng=rng)
    leaky = one_run_audit(_randomized_response(4.0, coins, rng) + rng.random(2000) * 1e-3, coins, 500, 500, rng=rng)
    assert honest.epsilon <= 1.0
    assert leaky.epsilon > 1.0 and leaky.epsilon <= 4.0


def test_split_audit_rarely_reports_loss_on_identical_worlds():
    """Same distribution in both worlds: the 95% bound must exceed a small epsilon in at most ~5% of audits."""
    rng = np.random.default_rng(2)
    false_alarms = sum(split_audit({"s": rng.normal(size=100)}, {"s": rng.normal(size=100)}).epsilon > 0.3
                       for _ in range(100))
    assert false_alarms <= 8


def test_split_audit_of_a_perfect_score_reaches_the_half_ceiling_and_never_more():
    out, in_ = {"s": np.zeros(100)}, {"s": np.ones(100)}
    audit = split_audit(out, in_)
    assert audit.epsilon == pytest.approx(perfect_attack_ceiling(50)) == pytest.approx(audit.ceiling)


def test_split_audit_learns_a_direction_for_vector_scores():
    rng = np.random.default_rng(3)
    shift = np.r_[np.full(5, 0.8), np.zeros(25)]
    audit = split_audit({"v": rng.normal(size=(200, 30))}, {"v": rng.normal(size=(200, 30)) + shift})
    assert 1.0 < audit.epsilon <= audit.ceiling


def test_scan_audit_corrects_for_every_threshold_tried():
    out, in_ = np.zeros(200), np.ones(200)
    one = scan_audit(out, in_, [0.5], output_sets=("in_high",))
    many = scan_audit(out, in_, np.linspace(0.1, 0.9, 9))
    assert one.epsilon == pytest.approx(perfect_attack_ceiling(200))
    assert many.tests == 18 and many.epsilon < one.epsilon


def test_mu_audit_passes_the_claimed_noise_and_flags_half_of_it():
    rng = np.random.default_rng(4)
    sigma, n = 2.0, 10_000
    mu_claimed = mu_for_rho(1 / (2 * sigma ** 2))
    honest = gdp_audit(rng.normal(0, sigma, n), rng.normal(1, sigma, n), mu_claimed, 0.999)
    halved = gdp_audit(rng.normal(0, sigma / 2, n), rng.normal(1, sigma / 2, n), mu_claimed, 0.999)
    assert mu_claimed == pytest.approx(0.5)
    assert not honest.exceeded and abs(honest.z) < 4
    assert halved.exceeded and halved.z > 19          # a 2x noise bug is ~19 SE away at 10k draws (issue 8)
    assert honest.se == pytest.approx(math.sqrt(2 / n), rel=0.05)
    assert gdp_audit(np.zeros(5), np.ones(5), 0.5).mu_hat == math.inf      # no noise at all
    assert mu_standard_error(0.0, 100, 100) == pytest.approx(math.sqrt(0.02))


def test_standardised_sum_has_unit_variance_and_the_composed_mean_shift():
    rng = np.random.default_rng(5)
    sigmas = np.array([1.0, 2.0, 4.0])
    draws = [standardised_sum(rng.normal(1, sigmas), [0, 0, 0], sigmas) for _ in range(4000)]
    scores, mus = np.array([d[0] for d in draws]), draws[0][1]
    assert mus == pytest.approx(math.sqrt((1 / sigmas ** 2).sum()))
    assert scores.mean() == pytest.approx(mus, abs=0.05) and scores.std() == pytest.approx(1.0, abs=0.05)
