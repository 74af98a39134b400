"""Plan reports (validation and recommendation before spending) for marginal and deep generators."""

import json

from dpsynth_core.config import SynthesisConfig
from dpsynth_core.forecast import forecast
from dpsynth_core.report import PlanRequest, plan_report, to_html, to_json, to_markdown
from dpsynth_core.report.numbers import num
from dpsynth_core.schema import TableSpec

SPEC = TableSpec.from_dict("crashes", {"dvcat": {"kind": "categorical", "categories": ["a", "b", "c", "d", "e"]},
                                       "dead": {"kind": "categorical", "categories": ["alive", "dead"]},
                                       "age": {"kind": "integer", "lower": 16, "upper": 97}})


def test_marginal_plan_prints_the_forecasts_numbers():
    config = SynthesisConfig(epsilon=0.5, generator="aim")
    report = plan_report(PlanRequest(SPEC, config, 2000, rows_public=False))
    doc = json.loads(to_json(report))
    fc = forecast(SPEC, config, 2000, rows_public=False)
    assert doc["data"]["forecast"]["median_two_way_tvd"] == fc.median_two_way_tvd()
    html, md = to_html(report), to_markdown(report)
    for m in fc.one_way:
        assert num(m.expected_tvd, 3) in html and num(m.expected_tvd, 3) in md
    assert "no data was read and no budget was spent" in html
    assert any("assumption" in n for n in doc["data"]["forecast"]["notes"])      # rows_public=False is said
    assert "ε = 0.5 (requested)" in md


def test_deep_plan_shows_the_checks_without_epsilon_adjectives():
    config = SynthesisConfig(epsilon=1.0, generator="dp-tvae", options={"epochs": 1, "batch_size": 4000})
    report = plan_report(PlanRequest(SPEC, config, 5000))
    text = to_json(report)
    assert report.data["errors"] and "Sampling rate" in report.data["errors"][0]
    assert "privacy_level" not in text and "strong" not in text.lower()
    assert [s.title for s in report.sections] == ["Request", "DP-SGD configuration checks"]
