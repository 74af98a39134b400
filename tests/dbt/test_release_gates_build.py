"""The release pattern of integration_tests/ in a real `dbt build`: a candidate with a holdout is evaluated, its metrics
land in dpsynth_metrics, the gates read them, and the released model (`dbt_dpsynth.dpsynth_release`, a table although
the project sets `+materialized: view`) is built only when the gates pass. When a gate fails (here: a stricter test
threshold on the reused candidate release), the released model is skipped and consumers keep the last released
version (~50 s: one AIM build, then a reuse). The candidate's model writes the release report (HTML/JSON/Markdown)
under target/dpsynth, and the table stamps name it. tests/dbt/test_operations_build.py covers a failing release
under view and table settings, with and without the tests."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pytest

from dpsynth_core.accounting.composition import compose
from dpsynth_core.report import SECTION_TITLES
from dpsynth_core.report.numbers import num

from it_project import DBT, copy_integration_project
from it_project import run_dbt as run

SELECT = "nassCDS nass_aim_eps1_candidate nass_aim_eps1"

pytestmark = pytest.mark.skipif(not DBT.exists(), reason="dbt is not installed in this environment")


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return copy_integration_project(tmp_path_factory.mktemp("gates"))


def released(project: Path):
    with duckdb.connect(str(project / "it.duckdb"), read_only=True) as con:
        return con.execute("SELECT count(*), sum(hash(caseid)), sum(weight) FROM main.nass_aim_eps1").fetchall()


def test_failed_gate_skips_the_release_and_keeps_the_last_version(project):
    good = run(project, "build", "--select", SELECT, "--indirect-selection", "cautious")
    assert good.returncode == 0, good.stdout[-3000:]
    first = released(project)
    with duckdb.connect(str(project / "it.duckdb"), read_only=True) as con:
        kinds = dict(con.execute("SELECT kind, count(*) FROM main_dpsynth_private.dpsynth_metrics "
                                 "WHERE model = 'nass_aim_eps1_candidate' GROUP BY kind").fetchall())
    assert kinds.get("privacy", 0) >= 5 and kinds.get("utility", 0) >= 5
    check_the_report_the_model_wrote(project)

    schema = project / "models" / "synthetic" / "schema.yml"
    named = "          name: nass_aim_eps1_candidate_utility_gate\n"
    original = schema.read_text()
    assert named in original
    meta = "          config: {{meta: {{thresholds: {{marginal_tvd_2way: {}}}}}}}\n"
    strict = original.replace(named, named + meta.format(0.0001), 1)
    schema.write_text(strict)
    bad = run(project, "build", "--select", SELECT, "--indirect-selection", "cautious")
    assert bad.returncode != 0
    # one readable console line per failing metric: value, threshold, rule, what the holdout achieves
    lines = [line for line in bad.stdout.splitlines() if "dpsynth gate FAIL nass_aim_eps1_candidate utility" in line]
    assert len(lines) == 1 and "marginal_tvd_2way = " in lines[0] and "> threshold 0.0001" in lines[0], lines
    assert "the holdout achieves" in lines[0]
    assert "SKIP relation main.nass_aim_eps1 " in bad.stdout, bad.stdout[-3000:]
    assert released(project) == first          # consumers still read the last released version

    # the model log says nothing about pass/fail (a non-DP function of the data), only where the metrics went
    # (the first build evaluated the release; the second reused it, with its metrics)
    model_lines = [line for line in good.stdout.splitlines() if "evaluation metrics (NOT DP)" in line]
    assert model_lines and all("fail" not in line.lower() for line in model_lines), model_lines
    assert "main_dpsynth_private" in model_lines[0]

    # thresholds in the test's config (not its arguments, which dbt hashes into the unique_id): after an edit
    # `dbt retry` finds the failed test, reruns it and builds the release
    schema.write_text(original.replace(named, named + meta.format(0.5)))
    retry = run(project, "retry")
    assert retry.returncode == 0, retry.stdout[-3000:]
    assert "nass_aim_eps1_candidate_utility_gate" in retry.stdout
    assert "OK created sql table model main.nass_aim_eps1" in retry.stdout or "nass_aim_eps1 " in retry.stdout
    assert released(project) == first          # the same (reused) candidate release, re-sampled with its seed

VERDICT = re.compile(r"\b(compliant|complies|comply|non-compliant|is anonymous|is deidentified|gdpr-ready|"
                     r"hipaa-compliant)\b", re.IGNORECASE)


def check_the_report_the_model_wrote(project: Path) -> None:
    """The report written from the dbt path for the real, evaluated release: where the stamps say, six sections,
    the ledger's numbers, the evaluation's plots (details stored by the model), the model card's options and fit
    time from the record, and no compliance claim."""
    with duckdb.connect(str(project / "it.duckdb"), read_only=True) as con:
        (rid, record_json, cumulative), = con.execute(
            "SELECT release_id, record_json, cumulative_epsilon FROM main.dpsynth_ledger WHERE status = 'released' "
            "AND model LIKE '%nass_aim_eps1_candidate'").fetchall()
        key_rows = con.execute("SELECT rho, delta, delta_conversion, epsilon, accountant, epsilon_other "
                               "FROM main.dpsynth_ledger WHERE budget_key = 'nassCDS' AND status <> 'reused'").df()
        (path, absolute), = con.execute("SELECT path, absolute_path FROM main.dpsynth_reports WHERE release_id = ?",
                                        [rid]).fetchall()
        comments = dict(con.execute("SELECT table_name, comment FROM duckdb_tables() WHERE table_name IN "
                                    "('nass_aim_eps1_candidate', 'nass_aim_eps1')").fetchall())
        details = con.execute("SELECT count(*) FROM main_dpsynth_private.dpsynth_evaluation_details "
                              "WHERE release_id = ?", [rid]).fetchall()[0][0]
    record = json.loads(record_json)
    assert path.startswith("target/dpsynth/") and Path(absolute) == (project / path).resolve() and details == 1
    assert all(f" report={path}" in c for c in comments.values()), comments     # both stamps point to it
    html = Path(absolute).read_text()
    doc = json.loads(Path(absolute).with_suffix(".json").read_text())
    assert re.findall(r"<h2>(.*?)</h2>", html) == list(SECTION_TITLES)
    assert not VERDICT.search(html) and not VERDICT.search(json.dumps(doc))
    sections = {s["id"]: s for s in doc["sections"]}
    facts = {f["label"]: f["value"] for s in sections.values() for b in s["blocks"] if b["type"] == "facts"
             for f in b["items"]}
    assert (facts["epsilon spent"], facts["delta (total)"], facts["rho (zCDP budget)"]) == (
        record["epsilon_spent"], record["delta"], record["rho"])
    total = compose(key_rows.to_dict("records")).epsilon
    assert facts["composed epsilon of the key, all charged ledger rows"] == pytest.approx(total)
    assert total == pytest.approx(cumulative)                 # the ledger's number when this release was reserved
    assert num(record["epsilon_spent"]) in html and num(total) in html
    assert record["options"]["max_model_size"] > 0 and record["fit_seconds"] > 0     # the model card's inputs
    assert facts["options"] == record["options"] and facts["training time (seconds)"] == record["fit_seconds"]
    figures = [f for b in sections["utility"]["blocks"]
               for f in ([b] if b["type"] == "figure" else b.get("figures", []))]
    assert sum(f["kind"] == "histogram" for f in figures) >= 10 and any(f["kind"] == "heatmap" for f in figures)
    assert doc["meta"]["sensitive"] is True and path in doc["banner"]["text"]
    assert doc["data"]["summary"]["report_path"] == path and doc["data"]["summary"]["release_id"] == rid
