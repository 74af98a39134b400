"""The pre-spend forecast matches what the generators then really do: the same noise std per measurement, the same
domain sizes, the same preprocessing split; its expected-TVD formula matches simulation."""

import math

import numpy as np
import pytest

from dpsynth_core.api import synthesize_table
from dpsynth_core.config import SynthesisConfig
from dpsynth_core.forecast import epsilon_sweep, forecast, planned_codes, smallest_epsilon
from dpsynth_core.measurement import PandasEngine
from dpsynth_core.schema import TableSpec

# fully declared: domains and nullability (an undeclared `nullable` is a small charged DP test)
DECLARED = {"sex": {"kind": "categorical", "categories": ["f", "m"], "nullable": False},
            "dead": {"kind": "categorical", "categories": ["alive", "dead"], "nullable": False},
            "ageOFocc": {"kind": "integer", "lower": 0, "upper": 100, "bins": 10, "nullable": False},
            "yearacc": {"kind": "integer", "lower": 1997, "upper": 2002, "nullable": False},
            "caseid": {"kind": "identifier"}}


@pytest.fixture(scope="module")
def frame(nass):
    return nass[list(DECLARED)].head(800).reset_index(drop=True)


def _sigmas(record, prefix):
    return [s["detail"]["sigma"] for s in record.spend if s["step"].startswith(prefix)]


AIM_FAST = {"iters": 5, "final_iters": 5}


@pytest.mark.parametrize("generator,options,unit", [
    ("mst", {"iters": 20}, None), ("aim", {"rounds": 8, **AIM_FAST}, None), ("aim", {"rounds": 4, **AIM_FAST}, None),
    ("copula", {}, None), ("mst", {"iters": 20}, 2), ("aim", {"rounds": 8, **AIM_FAST}, 2), ("copula", {}, 3)])
def test_forecast_noise_equals_the_generators_measurement_noise(frame, generator, options, unit):
    """Also under a privacy unit of at most k rows per caseid: every sigma k times the row-level one, on both sides."""
    units = {"privacy_unit": "caseid", "max_rows_per_unit": unit} if unit else {}
    config = SynthesisConfig(epsilon=1.0, generator=generator, options=options, seed=0, **units)
    spec = TableSpec.from_dict("nassCDS", DECLARED)
    fc = forecast(spec, config, rows=len(frame))
    record = synthesize_table(PandasEngine(frame, "nassCDS"), DECLARED, config).record
    assert fc.rho_preprocessing == 0 and fc.rho == pytest.approx(record.rho)        # all domains declared
    assert {c.name: c.codes for c in fc.columns} == {n: c["codes"] for n, c in record.columns.items()
                                                      if c["domain"] != "surrogate_keys"}
    one_way = _sigmas(record, f"{generator}:1way")
    assert one_way and all(s == pytest.approx(fc.one_way[0].sigma, rel=1e-9) for s in one_way)
    if generator == "mst":
        assert _sigmas(record, "mst:2way") == pytest.approx([fc.two_way[0].sigma] * (len(fc.columns) - 1), rel=1e-6)
    if generator == "aim":      # rounds start at sigma0 and only get less noisy (annealing), except the last round
        measured = _sigmas(record, "aim:measure")
        assert measured[0] == pytest.approx(fc.two_way[0].sigma, rel=1e-9)
    if generator == "copula":
        assert fc.two_way == () and fc.correlation_noise is not None
        correlation = [s for s in record.spend if s["step"] == "copula:correlation"]
        assert correlation[0]["detail"]["sigma"] == pytest.approx(fc.correlation_noise * len(frame), rel=1e-9)
    if unit:
        row_level = forecast(spec, SynthesisConfig(epsilon=1.0, generator=generator, options=options), len(frame))
        assert fc.one_way[0].sigma == pytest.approx(unit * row_level.one_way[0].sigma, rel=1e-12)


def test_preprocessing_share_and_discovery_noise_match_the_resolver(frame):
    spec_raw = {"sex": {"kind": "categorical"}, "dead": {"kind": "categorical"},
                "ageOFocc": {"kind": "integer"}, "yearacc": {"kind": "integer", "lower": 1997, "upper": 2002},
                "caseid": {"kind": "identifier"}}
    config = SynthesisConfig(epsilon=2.0, generator="mst", options={"iters": 20})
    fc = forecast(TableSpec.from_dict("nassCDS", spec_raw), config, rows=len(frame))
    record = synthesize_table(PandasEngine(frame, "nassCDS"), spec_raw, config).record
    discovery = [s for s in record.spend if s["step"].split(":")[0] in ("domain", "bounds", "histogram")]
    assert fc.rho_preprocessing == pytest.approx(sum(s["rho"] for s in discovery), rel=1e-9)
    # the split is weighted by stage (preprocessing.plan.STAGE_WEIGHTS): each stage's noise as forecast
    assert all(s["detail"]["sigma"] == pytest.approx(fc.discovery_sigmas[s["step"].split(":")[1]]) for s in discovery)
    assert {c.name: c.source for c in fc.columns} == {"sex": "assumed", "dead": "assumed", "ageOFocc": "assumed",
                                                      "yearacc": "declared"}
    assert fc.discovery_threshold > 1 and any("not declared" in n for n in fc.notes)


def test_expected_tvd_formula_matches_simulation():
    spec = TableSpec.from_dict("t", {"a": {"kind": "categorical", "categories": list("abcdefghij")},
                                     "b": {"kind": "integer", "lower": 0, "upper": 19}})
    fc = forecast(spec, SynthesisConfig(epsilon=0.5, generator="mst"), rows=5000)
    pair = fc.two_way[0]
    rng = np.random.default_rng(0)
    simulated = np.mean([0.5 * np.abs(rng.normal(0, pair.sigma, pair.cells)).sum() / 5000 for _ in range(400)])
    assert pair.cells == 12 * 21 and pair.expected_tvd == pytest.approx(simulated, rel=0.03)
    counts = rng.multinomial(5000, np.full(pair.cells, 1 / pair.cells), size=200) / 5000
    sampling = np.mean(0.5 * np.abs(counts - 1 / pair.cells).sum(axis=1))
    assert sampling <= pair.sampling_tvd                                  # the stated ceiling holds


def test_sweep_and_smallest_epsilon_are_consistent():
    spec = TableSpec.from_dict("t", {"a": {"kind": "categorical", "categories": list("abcde")},
                                     "b": {"kind": "categorical", "categories": list("xyz")},
                                     "c": {"kind": "integer", "lower": 0, "upper": 9}})
    config = SynthesisConfig(epsilon=0.5, generator="mst")
    sweep = epsilon_sweep(spec, config, 2000)
    values = [s["median_two_way_tvd"] for s in sweep]
    assert values == sorted(values, reverse=True) and sum(s["requested"] for s in sweep) == 1
    needed = smallest_epsilon(spec, config, 2000, target_tvd=0.05)
    from dataclasses import replace
    assert forecast(spec, replace(config, epsilon=needed), 2000).median_two_way_tvd() <= 0.05
    assert forecast(spec, replace(config, epsilon=needed * 0.99), 2000).median_two_way_tvd() > 0.05
    assert smallest_epsilon(spec, config, 20, target_tvd=0.001) is None         # 20 rows: no epsilon is enough


def test_planned_codes_follow_the_domain_rules():
    spec = TableSpec.from_dict("t", {"n": {"kind": "continuous", "lower": 0, "upper": 1, "bins": [0, 0.5, 1]},
                                     "w": {"kind": "integer", "lower": 0, "upper": 1000},
                                     "f": {"kind": "boolean", "nullable": False}})
    codes = {c.name: planned_codes(c) for c in spec.columns}
    assert codes["n"].codes == 3 and codes["n"].source == "declared"
    assert codes["w"].codes == 33 and codes["w"].source == "assumed"        # 32 DP quantile bins + null
    assert codes["f"].codes == 2
    with pytest.raises(ValueError, match="forecast covers"):
        forecast(spec, SynthesisConfig(epsilon=1, generator="dp-ctgan"), 100)
    assert not math.isnan(forecast(spec, SynthesisConfig(epsilon=1, generator="aim"), 100).one_way[0].sigma)
