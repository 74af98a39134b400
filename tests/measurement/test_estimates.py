import numpy as np
import pytest

from dpsynth_core.measurement.estimates import dp_row_count


def test_dp_row_count_weights_histograms_by_their_variance():
    hist = {"a": np.array([50.0, 50.0]), "b": np.array([10.0] * 8 + [30.0, 30.0])}   # totals 100 and 140
    assert dp_row_count(list(hist.values()), [1.0, 1.0]) == pytest.approx((100 / 2 + 140 / 10) / (1 / 2 + 1 / 10))


def test_dp_row_count_uses_each_tables_noise_scale():
    # equal cells, sigma 1 vs 3: variances 2 and 18 -> weights 1/2 and 1/18
    assert dp_row_count([np.array([50.0, 50.0]), np.array([70.0, 70.0])], [1.0, 3.0]) == pytest.approx(
        (100 / 2 + 140 / 18) / (1 / 2 + 1 / 18))
    assert dp_row_count([np.array([-5.0])], [1.0]) == 1.0
