import math

import pytest

from dpsynth_core.accounting import PrivacyBudget, cdp_delta, cdp_eps, cdp_rho, gaussian_rho, sigma_for_rho
from dpsynth_core.accounting.composition import compose
from dpsynth_core.errors import BudgetOverspendError


def test_gaussian_rho_closed_form():
    # rho = Δ²/(2σ²)
    assert gaussian_rho(2.0) == pytest.approx(1 / 8)
    assert gaussian_rho(2.0, sensitivity=3.0) == pytest.approx(9 / 8)
    assert sigma_for_rho(gaussian_rho(3.7)) == pytest.approx(3.7)


def test_conversion_against_exact_gaussian_golden_value():
    # dp-accounting golden value: the Gaussian mechanism with σ = 4.530877117 is exactly (1, 1e-6)-DP. zCDP's
    # conversion can be no tighter than the exact privacy profile, and CKS's conversion is within a few percent.
    eps = cdp_eps(gaussian_rho(4.530877117), 1e-6)
    assert 1.0 <= eps <= 1.06


@pytest.mark.parametrize("rho,delta", [(0.01, 1e-6), (0.5, 1e-5), (2.0, 1e-9), (10.0, 1e-6)])
def test_conversion_is_tighter_than_classic_bound(rho, delta):
    classic = rho + 2 * math.sqrt(rho * math.log(1 / delta))
    eps = cdp_eps(rho, delta)
    assert 0 < eps < classic
    assert cdp_delta(rho, eps) <= delta * (1 + 1e-9)


@pytest.mark.parametrize("eps,delta", [(0.1, 1e-6), (1.0, 1e-6), (1.0, 1e-9), (5.0, 1e-7), (10.0, 1e-5)])
def test_rho_round_trip_never_exceeds_requested_epsilon(eps, delta):
    rho = cdp_rho(eps, delta)
    back = cdp_eps(rho, delta)
    assert back <= eps
    assert back == pytest.approx(eps, rel=1e-6)


def test_edge_cases_are_exact():
    assert cdp_eps(0.0, 1e-6) == 0.0
    assert cdp_rho(0.0, 1e-6) == 0.0
    with pytest.raises(ValueError):
        cdp_eps(0.1, 0.0)
    with pytest.raises(ValueError):
        sigma_for_rho(0.0)


def test_budget_refuses_overspend_and_keeps_breakdown():
    budget = PrivacyBudget(rho=0.1, delta_conversion=1e-6)
    budget.spend("a", "gaussian", 0.04)
    budget.spend("b", "exponential", 0.06)
    with pytest.raises(BudgetOverspendError):
        budget.spend("c", "gaussian", 1e-6)
    assert [r["step"] for r in budget.breakdown()] == ["a", "b"]
    assert budget.spent == pytest.approx(0.1)
    assert budget.epsilon_spent() == pytest.approx(cdp_eps(0.1, 1e-6))


def test_composition_adds_rho_and_is_tighter_than_summing_epsilons():
    r = {"rho": cdp_rho(1.0, 1e-6), "delta": 1e-6, "delta_conversion": 1e-6, "epsilon": 1.0}
    c = compose([r, r, r, r])
    assert c.rho == pytest.approx(4 * r["rho"])
    assert c.delta == pytest.approx(4e-6)
    assert c.epsilon == pytest.approx(cdp_eps(4 * r["rho"], 4e-6))
    assert c.epsilon < c.epsilon_naive_sum == pytest.approx(4.0)


def test_composition_adds_non_zcdp_parts_basically():
    zc = {"rho": cdp_rho(1.0, 1e-6), "delta": 1e-6, "delta_conversion": 1e-6, "epsilon": 1.0}
    sgd = {"rho": 0.0, "delta": 1e-6, "delta_conversion": 0.0, "epsilon": 2.0, "epsilon_other": 2.0}
    c = compose([zc, sgd])
    assert c.epsilon == pytest.approx(3.0, rel=1e-6)
    assert compose([]).epsilon == 0.0
