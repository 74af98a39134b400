"""Utility metrics against values computed by hand on tiny tables."""

import numpy as np
import pandas as pd
import pytest

from dpsynth_core.errors import InputError
from dpsynth_core.evaluation import prepare
from dpsynth_core.evaluation.coverage import column_checks, rare_categories
from dpsynth_core.evaluation.dependence import mean_dependence_difference, pearson
from dpsynth_core.evaluation.marginals import mean_marginal_tvd
from dpsynth_core.evaluation.subgroup import subgroup_tvd
from dpsynth_core.evaluation.tstr import train_synthetic_test_real


def test_one_way_tvd_by_hand():
    real = pd.DataFrame({"a": ["x", "x", "y", "y"]})
    synth = pd.DataFrame({"a": ["x", "x", "x", "y"]})
    # 0.5 * (|0.5 - 0.75| + |0.5 - 0.25|) = 0.25
    assert mean_marginal_tvd(prepare(real, synth), 1)[0] == pytest.approx(0.25)


def test_nulls_are_their_own_bin():
    real = pd.DataFrame({"a": ["x", None]})
    synth = pd.DataFrame({"a": ["x", "x"]})
    assert mean_marginal_tvd(prepare(real, synth), 1)[0] == pytest.approx(0.5)


def test_numeric_bins_are_fixed_on_real_and_out_of_range_values_land_in_edge_bins():
    real = pd.DataFrame({"v": np.arange(1.0, 11.0)})        # one value per real decile
    synth = pd.DataFrame({"v": np.full(10, 1000.0)})        # everything beyond the real max -> last bin
    p = prepare(real, synth, kinds={"v": "numeric"})
    assert len(p.discretizer.bins[0].edges) == 11
    # real: 0.1 in each of 10 bins; synthetic: 1.0 in the last -> 0.5 * (9 * 0.1 + 0.9) = 0.9
    assert mean_marginal_tvd(p, 1)[0] == pytest.approx(0.9)


def test_two_way_tvd_averages_over_pairs_by_hand():
    real = pd.DataFrame({"a": ["x", "x", "y", "y"], "b": ["u", "u", "v", "v"]})
    synth = pd.DataFrame({"a": ["x", "x", "y", "y"], "b": ["u", "v", "u", "v"]})
    # real cells (x,u)=.5 (y,v)=.5; synth four cells at .25 -> 0.5 * (.25 + .25 + .25 + .25) = 0.5
    assert mean_marginal_tvd(prepare(real, synth), 2)[0] == pytest.approx(0.5)
    assert mean_marginal_tvd(prepare(real, synth), 1)[0] == pytest.approx(0.0)
    assert np.isnan(mean_marginal_tvd(prepare(real, synth), 3)[0])


def test_dependence_difference_pearson_and_cramers_v_by_hand():
    real = pd.DataFrame({"x": [1.0, 2, 3, 4] * 3, "y": [1.0, 2, 3, 4] * 3})
    synth = pd.DataFrame({"x": [1.0, 2, 3, 4] * 3, "y": [4.0, 3, 2, 1] * 3})
    kinds = {"x": "numeric", "y": "numeric"}
    assert mean_dependence_difference(prepare(real, synth, kinds=kinds))[0] == pytest.approx(2.0)  # |1 - (-1)|
    real_c = pd.DataFrame({"a": ["p", "p", "q", "q"], "b": ["u", "u", "v", "v"]})   # V = 1
    synth_c = pd.DataFrame({"a": ["p", "p", "q", "q"], "b": ["u", "v", "u", "v"]})  # V = 0
    assert mean_dependence_difference(prepare(real_c, synth_c))[0] == pytest.approx(1.0)


def test_pearson_ignores_rows_with_nulls_and_constant_columns():
    assert pearson(np.array([1.0, 2, np.nan, 3]), np.array([2.0, 4, 100, 6])) == pytest.approx(1.0)
    assert pearson(np.array([1.0, 1, 1]), np.array([1.0, 2, 3])) == 0.0


def test_rare_category_recall_and_novel_rate_by_hand():
    real = pd.DataFrame({"c": ["a"] * 199 + ["r"]})            # 'r' has share 0.5% < 1%
    with_rare = pd.DataFrame({"c": ["a", "r", "z", "z"]})       # two novel cells of four
    without = pd.DataFrame({"c": ["a", "a", "a", "a"]})
    got = rare_categories(prepare(real, with_rare))
    assert (got.n_rare, got.recall, got.novel_rate) == (1, 1.0, 0.5)
    got = rare_categories(prepare(real, without))
    assert (got.recall, got.novel_rate, got.missing) == (0.0, 0.0, (("c", "r"),))


def test_range_and_null_rate_checks_by_hand():
    real = pd.DataFrame({"v": np.arange(0.0, 11.0), "c": ["a"] * 10 + [None]})
    synth = pd.DataFrame({"v": [5.0, 11.0, -1.0, 5.0], "c": [None, None, "a", "a"]})
    checks = {c.column: c for c in column_checks(prepare(real, synth, kinds={"v": "numeric", "c": "categorical"}))}
    assert checks["v"].out_of_range_rate == pytest.approx(0.5)
    assert checks["c"].null_rate_diff == pytest.approx(0.5 - 1 / 11)


def test_subgroup_tvd_by_hand():
    real = pd.DataFrame({"g": ["A", "A", "B", "B"], "v": ["x", "x", "y", "y"]})
    synth = pd.DataFrame({"g": ["A", "A", "A", "A"], "v": ["x", "y", "x", "y"]})
    value, levels = subgroup_tvd(prepare(real, synth), "g")
    # level A (weight .5): real v all x, synthetic half x -> TVD .5; level B (weight .5): absent in synthetic -> 1.0
    assert levels == {"A": pytest.approx(0.5), "B": 1.0}
    assert value == pytest.approx(0.75)
    with pytest.raises(InputError, match="subgroup column"):
        subgroup_tvd(prepare(real, synth), "nope")


def _labelled(n, seed, broken=False):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    y = np.where(x > 0, "yes", "no")
    if broken:
        y = rng.permutation(y)
    return pd.DataFrame({"x": x, "noise": rng.normal(size=n), "y": y})


def test_tstr_gap_is_small_for_faithful_and_large_for_broken_synthetic():
    real, holdout = _labelled(400, 1), _labelled(400, 2)
    good = train_synthetic_test_real(prepare(real, _labelled(400, 3), holdout), "y")
    bad = train_synthetic_test_real(prepare(real, _labelled(400, 4, broken=True), holdout), "y")
    assert good.auc_real > 0.95 and abs(good.gap) < 0.05
    assert bad.auc_synthetic < 0.7 and bad.gap > 0.25


def test_tstr_multiclass_with_a_class_missing_from_synthetic():
    rng = np.random.default_rng(0)
    def table(n, classes):
        x = rng.integers(0, 3, size=n)
        return pd.DataFrame({"x": x.astype(str), "y": np.array(list(classes))[np.minimum(x, len(classes) - 1)]})
    result = train_synthetic_test_real(prepare(table(300, "abc"), table(300, "ab"), table(300, "abc")), "y")
    assert result.n_classes == 3
    assert result.auc_real == pytest.approx(1.0)
    assert 0.5 <= result.auc_synthetic < 1.0   # classes b and c merged in synthetic -> not separable


def test_tstr_needs_a_holdout_and_a_known_target():
    real = _labelled(50, 1)
    with pytest.raises(InputError, match="holdout"):
        train_synthetic_test_real(prepare(real, real), "y")
    with pytest.raises(InputError, match="target 'zz'"):
        train_synthetic_test_real(prepare(real, real, real), "zz")
