import numpy as np
import pandas as pd
import pytest

from dpsynth_core.accounting import PrivacyBudget
from dpsynth_core.errors import BudgetOverspendError
from dpsynth_core.measurement import CategoricalBinning, NumericBinning, PandasEngine, PrivateTable, threshold_for


class CountingEngine(PandasEngine):
    """Counts reads, so tests can prove a refused step read nothing."""

    def __init__(self, frame):
        super().__init__(frame, "people")
        self.reads = 0

    def count_cells(self, binnings):
        self.reads += 1
        return super().count_cells(binnings)

    def count_values(self, column):
        self.reads += 1
        return super().count_values(column)


FRAME = pd.DataFrame({"colour": ["red", "blue", None, "red", "green"], "x": [1.0, 5.0, 9.5, None, 100.0]})


def test_code_layout():
    e = PandasEngine(FRAME)
    cat = CategoricalBinning("colour", ("red", "blue"), has_other=True, nullable=True)
    assert e.count_cells([cat]).tolist() == [2, 1, 1, 1]   # red, blue, other(green), null
    num = NumericBinning("x", (0.0, 5.0, 10.0), nullable=True)
    assert e.count_cells([num]).tolist() == [1, 3, 1]        # 1 | 5, 9.5, 100 (clipped) | null
    joint = e.count_cells([cat, num])
    assert joint.shape == (4, 3) and joint.sum() == 5 and joint[0, 0] == joint[0, 2] == joint[3, 1] == 1


def test_measure_adds_noise_at_the_calibrated_scale_and_charges_rho():
    frame = pd.DataFrame({"c": ["a"] * 50 + ["b"] * 30})
    budget = PrivacyBudget(rho=100.0, delta_conversion=1e-6)
    private = PrivateTable(PandasEngine(frame), budget, np.random.default_rng(0))
    b = CategoricalBinning("c", ("a", "b"), has_other=False, nullable=False)
    sigma = 4.0
    draws = np.array([private.measure([b], sigma, step=f"m{i}") for i in range(2000)]) - np.array([50, 30])
    assert draws.std() == pytest.approx(sigma, rel=0.05)
    assert abs(draws.mean()) < 0.2
    assert budget.spent == pytest.approx(2000 / (2 * sigma ** 2))


def test_refused_step_reads_nothing():
    engine = CountingEngine(FRAME)
    private = PrivateTable(engine, PrivacyBudget(rho=0.01, delta_conversion=1e-6), np.random.default_rng(0))
    with pytest.raises(BudgetOverspendError):
        private.measure([CategoricalBinning("colour", ("red",))], sigma=1.0, step="too expensive")  # rho 0.5
    assert engine.reads == 0 and private.budget.spent == 0


def test_threshold_bounds_the_release_probability_of_a_singleton():
    sigma, delta = 10.0, 1e-6
    tau = threshold_for(sigma, delta)
    # subgaussian tail bound at k = tau - 1
    assert np.exp(-((tau - 1) ** 2) / (2 * sigma ** 2)) <= delta


def test_canary_category_never_enters_the_discovered_domain():
    # 'canary' is held by exactly one row. With the threshold above, P(released) <= delta_threshold = 1e-7 per run
    # (subgaussian tail bound), so over 200 independent runs we expect to see it with probability <= 2e-5. The issue
    # asks for >= 95% of seeds; we require all of them.
    frame = pd.DataFrame({"c": ["common"] * 3000 + ["canary"]})
    seen = 0
    for seed in range(200):
        private = PrivateTable(PandasEngine(frame), PrivacyBudget(rho=0.1, delta_conversion=1e-6),
                               np.random.default_rng(seed))
        found = private.discover_categories("c", sigma=3.0, delta_threshold=1e-7, step="domain", max_categories=10)
        assert "common" in found
        seen += "canary" in found
    assert seen == 0


def test_selection_scores_stay_private_and_charge_exponential_cost():
    frame = pd.DataFrame({"a": [0, 1] * 50, "b": [0, 1] * 50, "c": [0] * 50 + [1] * 50})
    budget = PrivacyBudget(rho=1.0, delta_conversion=1e-6)
    private = PrivateTable(PandasEngine(frame), budget, np.random.default_rng(0))
    bins = {k: NumericBinning(k, (-0.5, 0.5, 1.5), nullable=False) for k in "abc"}
    independent = np.full((2, 2), 25.0)
    # (a, b) is perfectly dependent: far from the independent estimate; (a, c) is exactly independent
    picks = [private.select_worst_approximated([(bins["a"], bins["b"]), (bins["a"], bins["c"])],
                                              [independent, independent], epsilon=1.0, step="s") for _ in range(5)]
    assert picks == [0] * 5
    assert budget.spent == pytest.approx(5 * 1.0 ** 2 / 8)
