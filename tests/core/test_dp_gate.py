"""The DP gate (hole 6): one noisy threshold test of the holdout's marginal TVD against the model, charged to the
release's budget as its own node. Its sensitivity claim, its charge, its noise, and that it can fail."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from dpsynth_core.accounting.budget import PrivacyBudget
from dpsynth_core.api import synthesize_table
from dpsynth_core.config import SynthesisConfig
from dpsynth_core.dp_gate import DpGateConfig, run_dp_gate
from dpsynth_core.errors import ConfigError
from dpsynth_core.measurement.binning import CategoricalBinning
from dpsynth_core.measurement.pandas_engine import PandasEngine
from dpsynth_core.measurement.private_table import PrivateTable

BINNINGS = [CategoricalBinning("a", ("x", "y", "z")), CategoricalBinning("b", ("u", "v"))]


def statistic(frame: pd.DataFrame, q: np.ndarray, threshold: float) -> float:
    """G without noise: a huge rho makes sigma negligible."""
    private = PrivateTable(PandasEngine(frame), PrivacyBudget(1e30, 1e-6), np.random.default_rng(0))
    return private.noisy_tvd_test([BINNINGS], [q], threshold, sigma=1e-12, step="t")


@pytest.mark.parametrize("seed", range(20))
def test_one_row_moves_the_statistic_by_at_most_one_plus_the_threshold(seed):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"a": rng.choice(["x", "y", "z", None], 40), "b": rng.choice(["u", "v", "w"], 40)})
    q = rng.dirichlet(np.ones(5 * 4)).reshape(5, 4)        # any distribution over the (value, other, null) cells
    threshold = float(rng.uniform(0, 0.5))
    g = statistic(frame, q, threshold)
    for i in range(len(frame)):                              # remove any one row
        assert abs(statistic(frame.drop(index=i), q, threshold) - g) <= 1 + threshold + 1e-6
    extra = pd.DataFrame({"a": ["x"], "b": ["w"]})           # add one
    assert abs(statistic(pd.concat([frame, extra], ignore_index=True), q, threshold) - g) <= 1 + threshold + 1e-6


def test_the_statistic_is_n_times_mean_tvd_minus_threshold():
    frame = pd.DataFrame({"a": ["x"] * 30 + ["y"] * 10, "b": ["u"] * 40})
    q = np.zeros((5, 4))
    q[0, 0] = 1.0                                            # all mass on (x, u): TVD = 10/40 = 0.25
    assert statistic(frame, q, 0.1) == pytest.approx(40 * (0.25 - 0.1))


class _Fitted:
    """A stand-in fitted model whose sample puts every row in one cell (a model that learned nothing)."""

    def __init__(self, domain):
        self.domain = domain

    def sample_codes(self, n, rng):
        return np.zeros((n, len(self.domain.columns)), dtype=np.int64)


def _release(nass, dp_gate, seed=0):
    frame = nass.head(4000)[["dvcat", "dead", "sex", "airbag", "seatbelt"]]
    return synthesize_table(PandasEngine(frame, "nass"), {}, SynthesisConfig(epsilon=1.0, generator="mst",
                                                                            holdout=0.25, seed=1),
                            noise_rng=np.random.default_rng(seed), dp_gate=dp_gate, evaluation_rows=False)


def test_the_gate_is_charged_as_its_own_node_and_recorded(nass):
    release = _release(nass, DpGateConfig(threshold=0.1, share=0.05))
    nodes = {n["label"]: n for n in release.record.budget_tree}
    gate = nodes["zcdp/dp_gate"]
    assert gate["share"] == pytest.approx(0.05) and gate["rho_spent"] == pytest.approx(gate["rho"])
    spent = [s for s in release.record.spend if s["step"].startswith("dp_gate:")]
    assert len(spent) == 1 and spent[0]["rho"] == pytest.approx(gate["rho"])
    assert release.record.rho_spent <= release.record.rho * (1 + 1e-9)        # inside the release's budget
    result = release.record.dp_gate
    assert result["passed"] is True and result["differentially_private"] is True
    assert 0 < result["noisy_value"] < 0.1


def test_noise_is_really_applied(nass):
    values = {round(_release(nass, DpGateConfig(threshold=0.1), seed=s).record.dp_gate["noisy_value"], 12)
              for s in range(3)}
    assert len(values) == 3


def test_a_model_that_learned_nothing_fails(nass):
    frame = nass.head(4000)[["dvcat", "dead", "sex", "airbag"]]
    release = synthesize_table(PandasEngine(frame, "nass"), {}, SynthesisConfig(epsilon=1.0, generator="mst",
                                                                               holdout=0.25, rows=10),
                               noise_rng=np.random.default_rng(0), evaluation_rows=False)
    budget = PrivacyBudget(0.01, 1e-6)
    holdout = PandasEngine(frame.sample(frac=0.25, random_state=0), "nass (holdout)")
    result = run_dp_gate(PrivateTable(holdout, budget, np.random.default_rng(0)), _Fitted(release.model.domain),
                         DpGateConfig(threshold=0.1), budget.child("dp_gate", share=1.0), 1000.0, 10)
    assert result.passed is False and result.noisy_value > 0.3
    n_pairs = len(list(itertools.combinations(range(4), 2)))
    assert result.column_sets == n_pairs and result.sensitivity == pytest.approx(n_pairs * 1.1)


def test_the_gate_needs_a_holdout_and_is_refused_before_reading(nass):
    with pytest.raises(ConfigError, match="holdout"):
        synthesize_table(PandasEngine(nass.head(100)[["sex", "dead"]]), {},
                         SynthesisConfig(epsilon=1.0, generator="mst"), dp_gate=DpGateConfig())
