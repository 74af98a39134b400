import itertools

import numpy as np
import pandas as pd
import pytest

from dpsynth_core.accounting import cdp_eps
from dpsynth_core.api import synthesize_table
from dpsynth_core.config import SynthesisConfig
from dpsynth_core.errors import ConfigError
from dpsynth_core.generators.aim import AIM, candidate_weights, workload
from dpsynth_core.measurement import PandasEngine
from dpsynth_core.pgm import hypothetical_model_size
from dpsynth_core.serialization import load_model, save_model


def _toy(n=3000, seed=0):
    """a -> b strongly (90% copies); target t = parity of (a is "x") and (d >= 2), 85% of the time; c is noise."""
    rng = np.random.default_rng(seed)
    a = rng.choice(["x", "y", "z"], n, p=[0.5, 0.3, 0.2])
    copies = rng.random(n) < 0.9
    d = rng.integers(0, 5, n)
    parity = ((a == "x") ^ (d >= 2)).astype(int)
    t = np.where(rng.random(n) < 0.85, parity, 1 - parity)
    return pd.DataFrame({"a": a, "b": np.where(copies, a, rng.choice(["x", "y", "z"], n)),
                         "c": rng.normal(40, 8, n).round(1), "d": d, "t": t})


SPEC = {
    "a": {"categories": ["x", "y", "z"]},
    "b": {"categories": ["x", "y", "z"]},
    "c": {"kind": "continuous", "lower": 0, "upper": 80, "bins": 16},
    "d": {"kind": "integer", "lower": 0, "upper": 4},
    "t": {"kind": "integer", "lower": 0, "upper": 1},
}


def _release(epsilon=1.0, delta=1e-6, seed=0, data=None, **options):
    config = SynthesisConfig(epsilon=epsilon, delta=delta, generator="aim", seed=seed, options=options)
    return synthesize_table(PandasEngine(_toy() if data is None else data, "toy"), SPEC, config)


def test_workload_and_candidate_weights():
    attrs = ("a", "b", "c", "d")
    assert workload(attrs, None) == list(itertools.combinations(attrs, 2))
    with_target = workload(attrs, "d")
    assert ("a", "b", "d") in with_target and ("a", "b", "c") not in with_target
    assert len(with_target) == 6 + 3
    weights = candidate_weights(attrs, with_target)
    # r = (a,): overlaps the 3 pairs with a and the 2 triples with a.
    assert weights[("a",)] == 5
    # r = (a, d): |r ∩ s| summed over 6 pairs (a-b:1, a-c:1, a-d:2, b-d:1, c-d:1) and 3 triples (2, 2, 1).
    assert weights[("a", "d")] == 6 + 5
    assert ("a", "b", "c") not in weights


@pytest.mark.parametrize("epsilon,delta", [(0.5, 1e-6), (1.0, 1e-7), (4.0, 1e-6)])
def test_spend_equals_the_request(epsilon, delta):
    record = _release(epsilon, delta).record
    assert record.rho_spent == pytest.approx(record.rho, rel=1e-9)
    assert record.epsilon_spent <= epsilon
    assert record.epsilon_spent == pytest.approx(epsilon, rel=1e-6)
    assert cdp_eps(record.rho_spent, record.delta_conversion) <= epsilon
    steps = [s["step"] for s in record.spend]
    aim_steps = [s for s in steps if s.startswith("aim:")]
    assert [s for s in aim_steps if s.startswith("aim:1way:")] == [f"aim:1way:{c}" for c in "abcdt"]
    selections = [s for s in aim_steps if s.startswith("aim:select:")]
    measures = [s for s in aim_steps if s.startswith("aim:measure:")]
    assert len(selections) == len(measures) >= 1
    assert len(aim_steps) == 5 + 2 * len(selections)


def test_last_round_spends_the_remainder_nine_to_one():
    spend = _release(1.0).record.spend
    select, measure = spend[-2], spend[-1]
    assert select["step"].startswith("aim:select:") and measure["step"].startswith("aim:measure:")
    assert measure["rho"] == pytest.approx(9 * select["rho"], rel=1e-9)


def test_sampling_is_reproducible_and_the_model_round_trips(tmp_path):
    model = _release(1.0, seed=3).model
    assert model.generator == "aim"
    pd.testing.assert_frame_equal(model.sample(400, seed=7), model.sample(400, seed=7))
    assert not model.sample(400, seed=7).equals(model.sample(400, seed=8))
    save_model(model, str(tmp_path / "m"))
    loaded = load_model(str(tmp_path / "m"))
    assert loaded.selected == model.selected
    pd.testing.assert_frame_equal(model.sample(400, seed=7), loaded.sample(400, seed=7))
    assert not list(tmp_path.glob("*.pkl"))


def _tvd(x: pd.DataFrame, y: pd.DataFrame, cols) -> float:
    px = x.groupby(list(cols)).size() / len(x)
    py = y.groupby(list(cols)).size() / len(y)
    return 0.5 * px.sub(py, fill_value=0).abs().sum()


def test_learns_the_planted_dependence_better_than_independent_columns():
    data = _toy(seed=4)
    out = _release(10.0, seed=1, data=data).data
    rng = np.random.default_rng(0)
    independent = pd.DataFrame({c: rng.permutation(data[c].to_numpy()) for c in ("a", "b")})
    baseline = _tvd(data, independent, ("a", "b"))
    assert baseline > 0.4  # the planted dependence is strong
    assert _tvd(data, out, ("a", "b")) < 0.25 * baseline
    assert (out["a"] == out["b"]).mean() > 0.85  # 0.9 + 0.1/3 in the source; ~0.38 if independent


def test_model_size_limit_keeps_tiny_models_to_one_way_marginals():
    model = _release(4.0, max_model_size=1e-5).model  # ~1 cell of float64: nothing beyond what is measured
    assert model.selected and all(len(c) == 1 for c in model.selected)
    assert hypothetical_model_size(model.model.domain, model.model.cliques) < 1e-3


def test_target_adds_three_way_candidates_and_must_be_modelled():
    data = _toy(seed=5)
    release = _release(10.0, seed=2, data=data, target="t")
    assert release.record.rho_spent == pytest.approx(release.record.rho, rel=1e-9)
    assert any(len(c) == 3 and "t" in c for c in release.model.selected)
    # The parity of (a, d) decides t: only a 3-way marginal carries it (every 2-way with t is nearly uniform).
    out = release.data.dropna(subset=["a", "d", "t"])  # nullable columns: the null code has a little noise mass
    assert len(out) > 0.9 * len(release.data)

    def agreement(df):
        return (((df["a"] == "x") ^ (df["d"].astype(int) >= 2)).astype(int) == df["t"].astype(int)).mean()

    assert agreement(data) > 0.8 and agreement(out) > 0.7
    with pytest.raises(ConfigError, match="'nope'"):
        _release(1.0, target="nope")


def test_bad_options_are_rejected_before_reading_data():
    with pytest.raises(ConfigError, match="unknown AIM option"):
        AIM(colour="blue")
    with pytest.raises(ConfigError, match="max_model_size"):
        AIM(max_model_size=0)
    with pytest.raises(ConfigError, match="iters"):
        AIM(iters=0)


def test_fresh_noise_each_release():
    a = _release(1.0, seed=3).model.model
    b = _release(1.0, seed=3).model.model
    assert not np.array_equal(a.project(("a",)).values, b.project(("a",)).values)
