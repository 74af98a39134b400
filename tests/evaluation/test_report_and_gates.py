import json
import math

import numpy as np
import pandas as pd
import pytest

from dpsynth_core.errors import ConfigError, InputError
from dpsynth_core.evaluation import (
    METRIC_RECORD_COLUMNS,
    EvaluationOptions,
    EvaluationReport,
    GateConfig,
    MetricResult,
    evaluate,
    load_gates,
)


def test_gated_pass_fail_in_both_directions():
    assert MetricResult.gated("m", 0.5, 0.6, "privacy").passed is True
    assert MetricResult.gated("m", 0.7, 0.6, "privacy").passed is False
    assert MetricResult.gated("m", 0.7, 0.6, "utility", direction="min").passed is True
    assert MetricResult.gated("m", math.nan, 0.6, "utility").passed is False      # unknown never passes
    assert MetricResult.gated("m", 0.9, None, "utility").passed is None          # reported only


def test_an_excess_whose_lower_bound_is_below_the_threshold_passes_and_says_so():
    r = MetricResult.gated("risk", 0.2, 0.09, "privacy", lower_bound=0.05)
    assert r.passed is True and r.detail["not_significant"] is True and r.detail["lower_bound"] == 0.05
    assert MetricResult.gated("risk", 0.2, 0.09, "privacy", lower_bound=0.1).passed is False


def test_report_records_and_json():
    report = EvaluationReport((MetricResult.gated("a", 0.1, 0.2, "utility"),
                               MetricResult.gated("b", 0.9, 0.6, "privacy", ci95=[np.float64(0.8), math.nan]),
                               MetricResult.gated("c", 3.0, None, "utility")))
    assert not report.passed and report.passed_kind("utility") and not report.passed_kind("privacy")
    assert [r.metric for r in report.failures()] == ["b"]
    rows = report.to_records(release_id="r1", model="patients_synth")
    assert [tuple(r) for r in rows] == [METRIC_RECORD_COLUMNS] * 3
    assert rows[1] == {"release_id": "r1", "model": "patients_synth", "metric": "b", "kind": "privacy", "value": 0.9,
                       "threshold": 0.6, "passed": False, "computed_at": report.computed_at,
                       "rule": "configured", "holdout_value": None}
    doc = json.loads(report.to_json())
    assert doc["passed"] is False and doc["differentially_private"] is False
    assert doc["metrics"][1]["detail"]["ci95"] == [0.8, None]


def test_gates_yaml_round_trip_and_errors(tmp_path):
    path = tmp_path / "gates.yml"
    path.write_text("thresholds:\n  membership_auc_distance: 0.55\n  dcr_z: null\noptions:\n  target: dead\n"
                    "  link_columns: [[a, b], [c]]\n")
    gates, options = load_gates(path)
    assert gates.membership_auc_distance == 0.55 and gates.dcr_z is None
    assert gates.marginal_tvd_2way == GateConfig().marginal_tvd_2way
    assert options.target == "dead" and options.link_columns == (("a", "b"), ("c",))
    path.write_text("thresholds:\n  membership_auc: 0.5\n")
    with pytest.raises(ConfigError, match="membership_auc"):
        load_gates(path)
    with pytest.raises(ConfigError, match="does not exist"):
        load_gates(tmp_path / "missing.yml")


def _table(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return pd.DataFrame({"id": [f"k{seed}-{i}" for i in range(n)], "x": x, "g": rng.choice(["a", "b", "c"], n),
                         "y": np.where(x + rng.normal(0, 0.5, n) > 0, "yes", "no")})


def test_evaluate_end_to_end_excludes_identifiers_and_passes_fresh_rows():
    report = evaluate(_table(600, 1), _table(600, 2), _table(600, 3), target="y",
                      options=EvaluationOptions(n_attacks=100))
    assert "identifier columns excluded: id" in report.notes
    assert {"marginal_tvd_2way", "dependence_diff", "tstr_auc_gap", "subgroup_tvd", "exact_copy_rate", "dcr_share",
            "membership_auc_distance", "membership_auc_density", "singling_out_risk", "linkability_risk",
            "attribute_inference_risk"} <= set(report.metrics())
    assert report.passed_kind("privacy"), report.failures()


def test_evaluate_without_holdout_keeps_utility_and_exact_copies_only():
    train = _table(300, 1)
    report = evaluate(train, None, train, kinds={"id": "identifier"})
    assert report["exact_copy_rate"].value == 1.0 and report["exact_copy_rate"].passed is False
    assert "dcr_share" not in report.metrics() and any("no holdout" in n for n in report.notes)


def test_evaluate_notes_columns_missing_on_one_side():
    real = _table(200, 1)
    report = evaluate(real, None, real.drop(columns="g").assign(extra=1), kinds={"id": "identifier"})
    assert "not compared (missing on one side): real only ['g'], synthetic only ['extra']" in report.notes


def test_evaluate_rejects_unknown_kind_and_disjoint_tables():
    with pytest.raises(InputError, match="unknown evaluation kind"):
        evaluate(_table(10, 1), None, _table(10, 2), kinds={"x": "float"})
    with pytest.raises(InputError, match="share no column"):
        evaluate(pd.DataFrame({"a": [1]}), None, pd.DataFrame({"b": [1]}))
