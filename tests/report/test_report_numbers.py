"""What epsilon means numerically: the closed forms the Privacy section prints."""

import math

import pytest

from dpsynth_core.report.numbers import membership_auc_bound, num, posterior_bound, tpr_bound, trade_off_curve


@pytest.mark.parametrize("eps", [0.1, 0.5, 1.0, 3.0, 10.0])
def test_pure_dp_auc_bound_is_the_logistic_of_epsilon(eps):
    assert membership_auc_bound(eps) == pytest.approx(math.exp(eps) / (1 + math.exp(eps)), rel=1e-12)


@pytest.mark.parametrize("eps,delta", [(0.5, 1e-6), (1.0, 1e-3), (2.0, 0.05), (0.0, 0.1)])
def test_auc_bound_with_delta_is_the_area_under_the_trade_off_boundary(eps, delta):
    n = 20_000   # midpoint rule on the boundary itself (piecewise linear: error O(1/n²))
    area = sum(tpr_bound(eps, delta, (i + 0.5) / n) for i in range(n)) / n
    assert membership_auc_bound(eps, delta) == pytest.approx(area, abs=1e-7)
    assert membership_auc_bound(eps, delta) >= membership_auc_bound(eps)


def test_bounds_behave_at_the_edges():
    assert membership_auc_bound(0.0) == 0.5 and tpr_bound(0.0, 0.0, 0.3) == pytest.approx(0.3)
    assert tpr_bound(1.0, 0.0, 0.01) == pytest.approx(math.e * 0.01)
    assert posterior_bound(1.0, 0.5) == pytest.approx(math.e / (1 + math.e))
    assert posterior_bound(0.0, 0.2) == pytest.approx(0.2)
    curve = trade_off_curve(1.0, 1e-6)
    assert curve[0] == [0.0, pytest.approx(1e-6, abs=1e-4)] and curve[-1] == [1.0, 1.0]
    assert all(b[1] >= a[1] for a, b in zip(curve, curve[1:], strict=False))       # a ROC bound never decreases
    with pytest.raises(ValueError):
        membership_auc_bound(-1.0)


def test_num_prints_four_significant_digits_and_missing_values():
    assert num(0.024129622) == "0.02413" and num(3) == "3" and num(None) == "n/a" and num(float("nan")) == "n/a"
    assert num(1e-6) == "1e-06" and num(True) == "true"
