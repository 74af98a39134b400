import pandas as pd
import pytest

from dpsynth_core.api import synthesize_table
from dpsynth_core.config import SynthesisConfig
from dpsynth_core.errors import ConfigError, SpecError
from dpsynth_core.measurement import PandasEngine


class ExplodingEngine(PandasEngine):
    def count_cells(self, binnings):
        raise AssertionError("data was read")

    count_values = fetch_rows = partition_rows = count_cells


@pytest.mark.parametrize("config,match", [
    ({"epsilon": -1}, "epsilon"), ({"epsilon": 1, "delta": 0.5}, "delta"), ({"epsilon": 1, "generator": "gan9"},
                                                                            "generator"),
    ({"epsilon": 1, "rows": -3}, "rows"), ({"epsilon": 1, "holdout": 1.5}, "holdout"), ({"epsilon": 1, "bogus": 1},
                                                                                       "bogus")])
def test_bad_config_is_refused_before_reading(config, match):
    with pytest.raises(ConfigError, match=match):
        synthesize_table(ExplodingEngine(pd.DataFrame({"a": ["x"]}), "people"), {},
                         SynthesisConfig.from_dict(config, table="people"))


def test_bad_spec_names_table_column_and_fix_before_reading():
    engine = ExplodingEngine(pd.DataFrame({"a": ["x"], "n": [1]}), "people")
    with pytest.raises(SpecError) as err:
        synthesize_table(engine, {"n": {"kind": "integer", "lower": 5, "upper": 1}}, SynthesisConfig(epsilon=1))
    msg = str(err.value)
    assert "people" in msg and "'n'" in msg and "Fix:" in msg
    with pytest.raises(SpecError, match="does not have"):
        synthesize_table(engine, {"nope": {"kind": "integer"}}, SynthesisConfig(epsilon=1))


def test_end_to_end_on_nass_with_dp_discovery(nass):
    release = synthesize_table(PandasEngine(nass, "nassCDS"), {"caseid": {"kind": "identifier"}},
                               SynthesisConfig(epsilon=1.0, seed=0))
    r, out = release.record, release.data
    assert r.epsilon_spent <= 1.0 and r.rows_source == "dp_estimate"
    assert abs(r.rows - len(nass)) < 1000                       # DP row estimate, not the true count
    assert list(out.columns) == list(nass.columns)
    assert not set(out["caseid"]) & set(nass["caseid"])       # identifiers never learned
    steps = {s["step"].split(":")[0] for s in r.spend}
    stages = {s["step"].split(":")[1] for s in r.spend if s["step"].startswith("domain:")}   # domain:<stage>:<col>
    assert {"domain", "aim"} <= steps and {"categories", "bounds"} <= stages
    for col in ["dvcat", "airbag", "sex"]:                      # released categories are real ones
        assert set(out[col].dropna()) <= set(nass[col].dropna())


def test_holdout_is_recorded_and_not_seen(nass):
    release = synthesize_table(PandasEngine(nass.head(4000), "nassCDS"), {"caseid": {"kind": "identifier"}},
                               SynthesisConfig(epsilon=2.0, holdout=0.25, seed=0, rows=100))
    assert release.record.holdout["used"] and release.record.rows == 100
    n_train = len(release.evaluation.train)
    n_hold = len(release.evaluation.holdout)
    assert n_train + n_hold == 4000 and 800 < n_hold < 1200


def test_dp_sgd_generators_split_the_budget_before_reading():
    cfg = SynthesisConfig(epsilon=2.0, delta=1e-6, generator="dp-tvae", options={"preprocessing_share": 0.25})
    plan = cfg.budget_plan()
    assert plan.epsilon_sgd == pytest.approx(1.5) and plan.delta_sgd == pytest.approx(0.75e-6)
    assert plan.delta_conversion + plan.delta_threshold + plan.delta_sgd == pytest.approx(1e-6)
    from dpsynth_core.accounting import cdp_eps

    assert cdp_eps(plan.rho, plan.delta_conversion) == pytest.approx(0.5, rel=1e-6)
    marginal = SynthesisConfig(epsilon=2.0, delta=1e-6).budget_plan()
    assert marginal.epsilon_sgd == 0 and marginal.accountant == "zcdp"


def test_sample_false_leaves_the_rows_to_the_caller(nass):
    release = synthesize_table(PandasEngine(nass.head(2000), "nassCDS"), {"caseid": {"kind": "identifier"}},
                               SynthesisConfig(epsilon=1.0, generator="mst", holdout=0.2, options={"iters": 20}),
                               sample=False)
    assert release.data is None and release.record.rows > 1000
    assert list(release.evaluation.train.columns) == list(nass.columns)
    assert len(release.model.sample(10, seed=1)) == 10
