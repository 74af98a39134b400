"""Privacy metrics against values computed by hand, and attack properties on small tables."""

import numpy as np
import pandas as pd
import pytest

from dpsynth_core.evaluation import prepare
from dpsynth_core.evaluation.anonymeter import Predicate, linkability_risk, risk, singling_out_risk
from dpsynth_core.evaluation.copies import exact_copies
from dpsynth_core.evaluation.encoding import encode, nearest
from dpsynth_core.evaluation.inference import attribute_inference
from dpsynth_core.evaluation.membership import density_ratio_membership_auc
from dpsynth_core.evaluation.neighbours import (
    NeighbourSamples,
    dcr_share,
    distance_membership_auc,
    nndr,
    nndr_check,
    one_sided_bound,
)


def test_exact_copies_compare_canonical_values():
    train = pd.DataFrame({"n": [1, 2, 3, 4], "c": ["a", "b", "a", None]})
    holdout = pd.DataFrame({"n": [1.0, 9.0], "c": ["a", "b"]})
    synth = pd.DataFrame({"n": [1.0, 2.0, 4.0, 4.0], "c": ["a", "a", None, "b"]})   # rows 0 and 2 copy train
    got = exact_copies(prepare(train, synth, holdout, kinds={"n": "numeric", "c": "categorical"}))
    assert got.rate == pytest.approx(0.5)
    assert got.baseline == pytest.approx(0.5)      # holdout (1.0, a) collides with train (1, a)


def test_distance_encoding_is_gower_like():
    real = pd.DataFrame({"v": [0.0, 10.0], "c": ["a", "b"]})
    p = prepare(real, real, kinds={"v": "numeric", "c": "categorical"})
    x = encode(p, "real")
    # rows differ by a whole range on v (1) and by one category (1): squared distance 2
    assert np.sum((x[0] - x[1]) ** 2) == pytest.approx(2.0)


def _samples(train, holdout, synthetic):
    arr = lambda v: np.asarray(v, dtype=float).reshape(-1, 1)  # noqa: E731
    return NeighbourSamples(arr(train), arr(holdout), arr(synthetic), arr(synthetic))


def test_dcr_share_counts_closer_to_train_and_splits_ties():
    s = _samples(train=[0.0, 10.0], holdout=[4.0, 20.0], synthetic=[0.0, 1.0, 3.0, 2.0])
    # 0 -> train (1); 1 -> train (1); 3 -> holdout (0); 2 -> tie (0.5)
    assert dcr_share(s).share == pytest.approx(2.5 / 4)
    assert one_sided_bound(0.5, 100, 2.33) == pytest.approx(0.5 + 2.33 * 0.05)


def test_nndr_by_hand():
    ratios = nndr(np.array([[0.0], [1.0], [10.0]]), np.array([[0.5], [0.0], [9.0]]))
    assert ratios == pytest.approx([1.0, 0.0, 1 / 8])


def test_nndr_share_is_high_for_copies():
    rng = np.random.default_rng(0)
    train, holdout = rng.normal(size=(500, 2)), rng.normal(size=(500, 2))
    fresh = NeighbourSamples(train, holdout, rng.normal(size=(500, 2)), rng.normal(size=(500, 2)))
    copied = NeighbourSamples(train, holdout, train[:250].copy(), train.copy())
    assert nndr_check(fresh).share_below < 0.1
    assert nndr_check(copied).share_below > 0.45


def test_distance_membership_auc_is_one_when_synthetic_copies_train():
    rng = np.random.default_rng(0)
    train, holdout = rng.normal(size=(200, 3)), rng.normal(size=(200, 3))
    auc, lo, hi = distance_membership_auc(NeighbourSamples(train, holdout, train, train))
    assert auc == pytest.approx(1.0) and lo <= auc <= hi
    auc, lo, hi = distance_membership_auc(NeighbourSamples(train, holdout, holdout, holdout))
    assert auc == pytest.approx(0.0)


def test_nearest_sets_rounding_noise_to_exact_zero():
    x = np.array([[0.1, 0.2, 0.3]]) * 1e3
    assert nearest(x, x.copy())[0][0, 0] == 0.0


def test_risk_formula_by_hand():
    r = risk(30, 10, 100, 100)
    assert r.value == pytest.approx((0.3 - 0.1) / 0.9)
    assert r.ci[0] <= r.value <= r.ci[1]
    assert risk(5, 10, 100, 100).value == 0.0        # main below control: no risk
    assert risk(10, 10, 10, 10).value == 0.0         # control always succeeds
    assert risk(60, 10, 100, 100).significant and not risk(12, 10, 100, 100).significant


def test_predicate_matching():
    table = np.array([[0.0, 1.0], [1.0, 5.0], [1.0, np.nan]])
    assert Predicate(((0, "==", 1.0), (1, ">=", 2.0))).matches(table).tolist() == [False, True, False]
    assert Predicate(((1, "==", np.nan),)).matches(table).tolist() == [False, False, True]
    assert Predicate(((1, "<=", 1.0),)).matches(table).tolist() == [True, False, False]


def _people(n, seed):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"age": rng.integers(18, 90, n).astype(float), "income": rng.lognormal(10, 1, n).round(0),
                         "zip": rng.integers(0, 50, n).astype(str), "sex": rng.choice(["f", "m"], n)})


def test_singling_out_and_linkability_risks_flag_a_copy_but_not_fresh_rows():
    train, holdout, fresh = _people(1500, 1), _people(1500, 2), _people(1500, 3)
    kinds = {"age": "numeric", "income": "numeric", "zip": "categorical", "sex": "categorical"}
    copy = prepare(train, train.sample(frac=1.0, random_state=0), holdout, kinds)
    clean = prepare(train, fresh, holdout, kinds)
    assert singling_out_risk(copy, n_attacks=200).value > 0.3
    assert singling_out_risk(clean, n_attacks=200).value < 0.09
    assert linkability_risk(copy, ["age", "zip"], ["income", "sex"], n_attacks=300).value > 0.5
    assert linkability_risk(clean, ["age", "zip"], ["income", "sex"], n_attacks=300).value < 0.09


def test_attribute_inference_reports_accuracies_and_baseline():
    rng = np.random.default_rng(0)
    def table(n):
        x = rng.integers(0, 4, n)
        return pd.DataFrame({"x": x.astype(str), "s": np.where(x < 3, "low", "high")})
    got = attribute_inference(prepare(table(400), table(400), table(400)), "s", ["x"])
    assert got.accuracy_holdout == pytest.approx(1.0)   # s is a function of x in every table
    assert 0.6 < got.baseline_holdout < 0.9            # majority class 'low' ~ 3/4
    assert got.risk.value == 0.0                       # no member advantage: the relation is population-wide


def test_density_ratio_attack_is_near_chance_for_fresh_rows():
    train, holdout, fresh = _people(1500, 1), _people(1500, 2), _people(1500, 3)
    auc, lo, hi = density_ratio_membership_auc(prepare(train, fresh, holdout))
    assert abs(auc - 0.5) < 0.08 and lo < auc < hi
