"""Plot data of an evaluation (`evaluate(..., details=True)`): same metrics, consistent numbers, compact JSON."""

import json

import numpy as np
import pandas as pd
import pytest

from dpsynth_core.evaluation import EvaluationOptions, evaluate
from dpsynth_core.evaluation.details import MAX_MATRIX_COLUMNS, NULL_LABEL


def _table(n, seed, shift=0.0):
    rng = np.random.default_rng(seed)
    x = rng.normal(shift, 1, n)
    return pd.DataFrame({"id": [f"k{seed}-{i}" for i in range(n)], "x": x,
                         "g": rng.choice(["a", "b", "c"], n, p=[0.6, 0.3, 0.1]),
                         "k": rng.integers(0, 5, n),
                         "y": np.where(x + rng.normal(0, 0.5, n) > 0, "yes", "no"),
                         "z": np.where(rng.random(n) < 0.1, np.nan, rng.exponential(3, n))})


KINDS = {"id": "identifier", "k": "numeric"}
OPTIONS = EvaluationOptions(n_attacks=60, max_distance_rows=600)


@pytest.fixture(scope="module")
def pair():
    real, holdout, synth = _table(800, 1), _table(400, 2), _table(700, 3, shift=0.3)
    plain = evaluate(real, holdout, synth, kinds=KINDS, target="y", options=OPTIONS)
    detailed = evaluate(real, holdout, synth, kinds=KINDS, target="y", options=OPTIONS, details=True)
    return plain, detailed


def test_details_leave_every_metric_unchanged(pair):
    plain, detailed = pair
    assert plain.details is None and "details" not in plain.to_dict()
    assert [r.to_dict() for r in plain.results] == [r.to_dict() for r in detailed.results]
    assert detailed.details["metrics"]["dcr_share"] == dict(detailed["dcr_share"].detail)


def test_histograms_share_bins_sum_to_one_and_average_to_the_1way_metric(pair):
    _, detailed = pair
    columns = detailed.details["columns"]
    assert {c["column"] for c in columns} == {"x", "g", "k", "y", "z"}           # identifier excluded
    for c in columns:
        for side in ("real", "holdout", "synthetic"):
            assert len(c[side]) == len(c["bins"]) and sum(c[side]) == pytest.approx(1.0, abs=1e-3)
    assert [c["tvd"] for c in columns] == sorted((c["tvd"] for c in columns), reverse=True)   # worst first
    mean_tvd = np.mean([c["tvd"] for c in columns])
    assert mean_tvd == pytest.approx(detailed["marginal_tvd_1way"].value, abs=1e-3)
    by_name = {c["column"]: c for c in columns}
    assert by_name["k"]["bins"] == ["0", "1", "2", "3", "4"]                      # one bar per small integer
    assert by_name["z"]["bins"][-1] == NULL_LABEL and by_name["z"]["real"][-1] == pytest.approx(0.1, abs=0.03)
    assert by_name["g"]["bins"][:3] == ["a", "b", "c"]                            # most frequent real value first
    assert by_name["x"]["synthetic"] != by_name["x"]["real"]                     # the shift shows


def test_matrices_are_symmetric_and_the_holdout_is_the_floor(pair):
    _, detailed = pair
    tvd = detailed.details["tvd_2way"]
    d = len(tvd["columns"])
    syn, hold = np.array(tvd["synthetic"], dtype=float), np.array(tvd["holdout"], dtype=float)
    assert syn.shape == (d, d) and np.all(np.isnan(np.diag(syn)))
    assert np.allclose(syn, syn.T, equal_nan=True)
    off = ~np.eye(d, dtype=bool)
    assert np.nanmean(syn[off]) == pytest.approx(detailed["marginal_tvd_2way"].value, abs=1e-3)
    assert np.nanmean(hold[off]) == pytest.approx(detailed["marginal_tvd_2way"].detail["holdout_baseline"], abs=1e-3)
    dep = detailed.details["dependence"]
    for side in ("real", "synthetic", "holdout"):
        m = np.array(dep[side], dtype=float)
        assert np.allclose(np.diag(m), 1.0) and np.allclose(m, m.T)
    i, j = dep["columns"].index("x"), dep["columns"].index("z")
    real = _table(800, 1)
    keep = real["z"].notna()
    assert dep["real"][i][j] == pytest.approx(np.corrcoef(real["x"][keep], real["z"][keep])[0, 1], abs=1e-4)
    assert len(dep["columns"]) <= MAX_MATRIX_COLUMNS


def test_dcr_summary_and_compact_json(pair):
    _, detailed = pair
    dcr = detailed.details["dcr"]
    assert dcr["to_train"] == sorted(dcr["to_train"]) and dcr["to_holdout"] == sorted(dcr["to_holdout"])
    assert sum(dcr["hist_train"]) == pytest.approx(1.0, abs=1e-3)
    assert dcr["to_train"][2] == pytest.approx(detailed["dcr_share"].detail["median_dcr_train"], abs=1e-3)
    text = json.dumps(detailed.details, allow_nan=False)
    assert len(text) < 30_000 and json.loads(detailed.to_json())["details"]["version"] == 1


def test_details_without_holdout_have_no_holdout_side():
    report = evaluate(_table(300, 1), None, _table(300, 2), kinds=KINDS, details=True)
    assert report.details["dcr"] is None and report.details["tvd_2way"]["holdout"] is None
    assert all(c["holdout"] is None for c in report.details["columns"])
