"""`dpsynth report LEDGER.duckdb` and `dpsynth plan`: reports written from a real DuckDB ledger and from a spec."""

from __future__ import annotations

import json

from dpsynth_cli import main


def test_report_writes_one_report_per_released_row(ledger_db, tmp_path, capsys):
    out = tmp_path / "reports"
    assert main(["report", str(ledger_db.path), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    html = sorted(p.name for p in out.glob("*.html"))
    assert html == sorted([f"nass_copula-{ledger_db.plain_release_id[:12]}.html",
                           f"nass_mst-{ledger_db.release_id[:12]}.html"])     # the failed attempt has no report
    assert printed.count("dpsynth report: ") == 2 and len(list(out.glob("*.json"))) == len(list(out.glob("*.md"))) == 2
    doc = json.loads((out / f"nass_mst-{ledger_db.release_id[:12]}.json").read_text())
    utility = next(s for s in doc["sections"] if s["id"] == "utility")
    histograms = [f for b in utility["blocks"] if b["type"] == "row" for f in b["figures"] if f["kind"] == "histogram"]
    assert len(histograms) == len(ledger_db.details["columns"])          # details read back from the warehouse
    assert str(ledger_db.path) in doc["banner"]["text"] and "dpsynth_metrics" in doc["banner"]["text"]


def test_report_of_one_release_by_prefix_and_clear_errors(ledger_db, tmp_path, capsys):
    out = tmp_path / "one"
    assert main(["report", str(ledger_db.path), "--release", ledger_db.release_id[:8], "--out", str(out)]) == 0
    assert [p.name for p in out.glob("*.html")] == [f"nass_mst-{ledger_db.release_id[:12]}.html"]
    assert main(["report", str(ledger_db.path), "--release", "zzzz", "--out", str(out)]) == 2
    assert "matches 0 released ledger rows" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "missing.duckdb")]) == 2


def test_plan_writes_a_forecast_report_and_flags_errors(tmp_path, capsys):
    spec = tmp_path / "crashes.yml"
    spec.write_text("columns:\n"
                    "  dvcat: {kind: categorical, categories: ['1-9km/h', '10-24', '25-39', '40-54', '55+']}\n"
                    "  dead: {kind: categorical, categories: [alive, dead]}\n"
                    "  ageOFocc: {kind: integer, lower: 16, upper: 97}\n"
                    "  airbag: {kind: categorical}\n"
                    "  caseid: {kind: identifier}\n")
    out = tmp_path / "plans"
    assert main(["plan", "--spec", str(spec), "--rows", "26217", "--epsilon", "0.5", "--generator", "mst",
                 "--out", str(out)]) == 0
    doc = json.loads((out / "plan-crashes-mst-eps0.5.json").read_text())
    assert [s["title"] for s in doc["sections"]] == ["Request", "Expected noise", "Epsilon sweep",
                                                      "Checks and recommendations"]
    forecast = doc["data"]["forecast"]
    assert forecast["epsilon"] == 0.5 and forecast["rows"] == 26217 and forecast["rho_preprocessing"] > 0
    assert "airbag" in json.dumps(doc["sections"][3])                  # declare its domain, the report says
    assert (out / "plan-crashes-mst-eps0.5.html").read_text().count("<svg") >= 4
    assert main(["plan", "--spec", str(spec), "--rows", "100", "--epsilon", "-1", "--out", str(out)]) == 1
    bad = json.loads((out / "plan-crashes-aim-eps-1.json").read_text())
    assert bad["data"]["errors"] and "epsilon" in bad["data"]["errors"][0]


def test_reports_of_one_invocation(ledger_db, tmp_path):
    import duckdb

    from dbt_dpsynth.evidence import find_ledger, write_reports

    con = duckdb.connect(str(ledger_db.path), read_only=True)
    try:
        location = find_ledger(con)
        assert len(write_reports(con, location, tmp_path / "a", invocation_id="invocation-1")) == 2
        assert write_reports(con, location, tmp_path / "b", invocation_id="another") == []
    finally:
        con.close()
