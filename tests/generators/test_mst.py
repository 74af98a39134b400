import numpy as np
import pandas as pd
import pytest

from dpsynth_core.accounting import cdp_eps
from dpsynth_core.api import synthesize_table
from dpsynth_core.config import SynthesisConfig
from dpsynth_core.measurement import PandasEngine
from dpsynth_core.serialization import load_model, save_model


def _toy(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.choice(["x", "y", "z"], n, p=[0.5, 0.3, 0.2])
    b = np.where(rng.random(n) < 0.9, a, rng.choice(["x", "y", "z"], n))    # strongly tied to a
    c = rng.normal(40, 8, n).round(1)
    return pd.DataFrame({"a": a, "b": b, "c": c, "d": rng.integers(0, 5, n)})


SPEC = {"a": {"categories": ["x", "y", "z"]}, "b": {"categories": ["x", "y", "z"]},
        "c": {"kind": "continuous", "lower": 0, "upper": 80, "bins": 16}, "d": {"kind": "integer", "lower": 0,
                                                                                   "upper": 4}}


@pytest.mark.parametrize("epsilon,delta", [(0.5, 1e-6), (1.0, 1e-7), (4.0, 1e-6)])
def test_spend_equals_the_request(epsilon, delta):
    release = synthesize_table(PandasEngine(_toy(), "toy"), SPEC,
                               SynthesisConfig(epsilon=epsilon, delta=delta, generator="mst", seed=0))
    r = release.record
    assert r.rho_spent == pytest.approx(r.rho, rel=1e-9)
    assert r.epsilon_spent <= epsilon
    assert r.epsilon_spent == pytest.approx(epsilon, rel=1e-6)
    assert sum(s["rho"] for s in r.spend) == pytest.approx(r.rho, rel=1e-9)
    assert cdp_eps(r.rho_spent, r.delta_conversion) <= epsilon


def test_mst_learns_the_planted_dependence():
    release = synthesize_table(PandasEngine(_toy(), "toy"), SPEC, SynthesisConfig(epsilon=5.0, seed=1, generator="mst"))
    out = release.data
    assert ("a", "b") in [tuple(sorted(e)) for e in release.model.selected]
    assert (out["a"] == out["b"]).mean() > 0.8          # 0.9 + 0.1/3 in the source; ~1/3 if independent
    assert out["d"].dropna().isin(range(5)).all()
    assert out["c"].dropna().between(0, 80).all() and out["c"].nunique() > 50   # not bin midpoints


def test_sampling_is_reproducible_and_the_model_round_trips(tmp_path):
    release = synthesize_table(PandasEngine(_toy(), "toy"), SPEC, SynthesisConfig(epsilon=1.0, seed=3, generator="mst"))
    model = release.model
    pd.testing.assert_frame_equal(model.sample(500, seed=7), model.sample(500, seed=7))
    assert not model.sample(500, seed=7).equals(model.sample(500, seed=8))
    save_model(model, str(tmp_path / "m"))
    loaded = load_model(str(tmp_path / "m"))
    pd.testing.assert_frame_equal(model.sample(500, seed=7), loaded.sample(500, seed=7))
    assert not list(tmp_path.glob("*.pkl"))


def test_noise_seed_is_not_the_sampling_seed():
    # Same public seed, fresh OS-entropy noise: two releases must differ in their noisy measurements.
    a = synthesize_table(PandasEngine(_toy(), "toy"), SPEC, SynthesisConfig(epsilon=1.0, seed=3, generator="mst"))
    b = synthesize_table(PandasEngine(_toy(), "toy"), SPEC, SynthesisConfig(epsilon=1.0, seed=3, generator="mst"))
    assert not np.array_equal(a.model.model.project(("a",)).values, b.model.model.project(("a",)).values)
