"""The release report of a real release: its sections, numbers equal to the record's and the ledger's, the non-DP
marking, self-containedness, and no compliance verdict anywhere."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest
from report_fixtures import CAP, KEY

from dpsynth_core.accounting.composition import compose
from dpsynth_core.report import (
    SECTION_TITLES,
    evidence_from_rows,
    release_report,
    to_html,
    to_json,
    to_markdown,
    write_release_report,
)
from dpsynth_core.report.numbers import membership_auc_bound, num

# verdict words: a report may show evidence, never declare it sufficient under a law
VERDICTS = re.compile(r"\b(compliant|complies|comply|non-compliant|is anonymous|are anonymous|is deidentified|"
                      r"guarantees anonymity|gdpr-ready|hipaa-compliant|fully protected)\b", re.IGNORECASE)
LEVEL_WORDS = re.compile(r"\b(strong|weak|moderate|nominal) privacy\b|privacy level", re.IGNORECASE)


@pytest.fixture(scope="module")
def evidence(ledger_db):
    return evidence_from_rows(ledger_db.release_id, ledger_db.ledger_rows, {KEY: CAP}, ledger_db.metric_rows,
                              json.dumps(ledger_db.details), metrics_location="main.dpsynth_metrics",
                              written_to="target/dpsynth/nass_mst.html")


@pytest.fixture(scope="module")
def doc(evidence):
    return json.loads(to_json(release_report(evidence)))


def _section(doc, section_id):
    return next(s for s in doc["sections"] if s["id"] == section_id)


def _facts(section):
    return {f["label"]: f for b in section["blocks"] if b["type"] == "facts" for f in b["items"]}


def _figures(section):
    out = []
    for b in section["blocks"]:
        out += [b] if b["type"] == "figure" else b.get("figures", []) if b["type"] == "row" else []
    return out


def _strings(obj):
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _strings(v)


def test_sections_are_the_issues_six_in_order(evidence, doc):
    assert [s["title"] for s in doc["sections"]] == list(SECTION_TITLES)
    html = to_html(release_report(evidence))
    assert re.findall(r"<h2>(.*?)</h2>", html) == list(SECTION_TITLES)
    md = to_markdown(release_report(evidence))
    assert re.findall(r"^## (.*)$", md, re.MULTILINE) == list(SECTION_TITLES)


def test_privacy_numbers_equal_the_record_and_the_ledger(ledger_db, evidence, doc):
    record = json.loads(next(r for r in ledger_db.ledger_rows if r["release_id"] == ledger_db.release_id)
                        ["record_json"])
    assert evidence.record == record
    facts = _facts(_section(doc, "privacy"))
    for label, key in (("epsilon (requested)", "epsilon"), ("epsilon spent", "epsilon_spent"),
                       ("delta (total)", "delta"), ("rho (zCDP budget)", "rho"), ("rho spent", "rho_spent"),
                       ("accountant", "accountant")):
        assert facts[label]["value"] == record[key], label
    assert facts["rows released"]["value"] == record["rows"]
    # the key's total is the ledger's own arithmetic over every charged row, and matches the last row's cumulative
    key_rows = [r for r in ledger_db.ledger_rows if r["budget_key"] == KEY]
    assert [r["status"] for r in key_rows] == ["failed", "released"]
    total = compose(key_rows)
    assert facts["composed epsilon of the key, all charged ledger rows"]["value"] == pytest.approx(total.epsilon)
    assert total.epsilon == pytest.approx(key_rows[-1]["cumulative_epsilon"])
    assert facts["remaining epsilon of the key"]["value"] == pytest.approx(CAP - total.epsilon)
    cumulative = next(f for f in _figures(_section(doc, "privacy")) if f["kind"] == "cumulative")["data"]
    assert [p["value"] for p in cumulative["points"]] == [r["cumulative_epsilon"] for r in key_rows]
    assert cumulative["cap"] == CAP and [p["current"] for p in cumulative["points"]] == [False, True]
    # the budget split adds up to what the record says was spent
    split = next(f for f in _figures(_section(doc, "privacy")) if f["title"].startswith("Share of the release"))
    assert split["data"]["source"] == "budget_tree"      # the record carries the whole tree
    assert sum(split["data"]["values"]) == pytest.approx(100 * record["rho_spent"] / record["rho"])
    # printed numbers: the HTML and the Markdown show the same formatted values
    html, md = to_html(release_report(evidence)), to_markdown(release_report(evidence))
    for value in (record["epsilon_spent"], record["rho"], record["delta"], total.epsilon, CAP - total.epsilon,
                  membership_auc_bound(record["epsilon_spent"], record["delta"])):
        assert num(value) in html and num(value) in md


def test_summary_for_dbt_docs_holds_public_numbers_only(ledger_db, evidence, doc):
    summary = doc["data"]["summary"]
    record = evidence.record
    assert {k: summary[k] for k in ("release_id", "generator", "epsilon", "epsilon_spent", "delta", "rows")} == {
        k: record[k] for k in ("release_id", "generator", "epsilon", "epsilon_spent", "delta", "rows")}
    assert summary["budget_key"] == KEY and summary["cap"] == CAP and summary["model"] == "nass_mst"
    assert summary["key_epsilon"] == pytest.approx(ledger_db.ledger_rows[1]["cumulative_epsilon"])
    assert summary["report_path"] == "target/dpsynth/nass_mst.html"
    assert summary["evaluated"] is True
    assert not {"value", "details", "metrics", "gates_failed", "passed"} & set(summary)   # nothing non-DP


def test_public_and_discovered_domains_come_from_the_record(evidence, doc):
    columns = evidence.record["columns"]
    table = next(b for b in _section(doc, "privacy")["blocks"] if b["type"] == "table"
                 and b["headers"] == ["column", "kind", "domain", "codes"])
    assert {r[0]: r[2] for r in table["rows"]} == {c: v["domain"] for c, v in columns.items()}
    assert columns["sex"]["domain"] == "public" and columns["dvcat"]["domain"] == "dp_discovered"
    assert columns["caseid"]["domain"] == "surrogate_keys"


def test_utility_and_privacy_evaluation_show_the_metrics_rows(ledger_db, doc):
    rows = {m["metric"]: m for m in ledger_db.metric_rows}
    utility = _section(doc, "utility")
    assert utility["blocks"][0]["tone"] == "warning" and "NON-DP" in utility["blocks"][0]["text"]
    assert "main.dpsynth_metrics" in utility["blocks"][0]["text"]
    table = next(b for b in utility["blocks"] if b["type"] == "table")
    for metric, value, _holdout, threshold, gate in table["rows"]:
        assert value == num(rows[metric]["value"]) and threshold == num(rows[metric]["threshold"])
        assert gate == {True: "gate passed", False: "gate failed", None: "not gated (reported only)"}[
            rows[metric]["passed"]]
    assert dict((r[0], r[2]) for r in table["rows"])["marginal_tvd_2way"] == num(
        ledger_db.details["metrics"]["marginal_tvd_2way"]["holdout_baseline"])
    kinds = [f["kind"] for f in _figures(utility)]
    assert kinds.count("histogram") == len(ledger_db.details["columns"]) and "heatmap" in kinds
    worst_first = [f["title"].split(":")[0] for f in _figures(utility) if f["kind"] == "histogram"]
    assert worst_first == [c["column"] for c in ledger_db.details["columns"]]

    evaluation = _section(doc, "privacy_evaluation")
    assert evaluation["blocks"][0]["tone"] == "warning"
    assert "target/dpsynth/nass_mst.html" in evaluation["blocks"][0]["text"]
    plot = next(f for f in _figures(evaluation) if f["kind"] == "intervals")["data"]["rows"]
    privacy_rows = [m for m in ledger_db.metric_rows if m["kind"] == "privacy"]
    assert [r["metric"] for r in plot] == [m["metric"] for m in privacy_rows]
    bound = membership_auc_bound(json.loads(ledger_db.ledger_rows[1]["record_json"])["epsilon_spent"],
                                 json.loads(ledger_db.ledger_rows[1]["record_json"])["delta"])
    for r in plot:
        assert r["value"] == pytest.approx(rows[r["metric"]]["value"]) and r["passed"] == rows[r["metric"]]["passed"]
        ci = ledger_db.details["metrics"][r["metric"]].get("ci95")
        assert (r["lo"], r["hi"]) == ((ci[0], ci[1]) if ci else (None, None))
        assert r["bound"] == (pytest.approx(bound) if r["metric"].startswith("membership_auc") else None)


def test_audit_narrative_follows_the_ledger_in_order(ledger_db, doc):
    audit = _section(doc, "audit")
    sentences = next(b for b in audit["blocks"] if b["type"] == "bullets")["items"]
    reserved = [s for s in sentences if ": reserved epsilon" in s]
    assert len(reserved) == 2 and "nass_aim_attempt" in reserved[0] and "nass_mst" in reserved[1]
    def first(needle):
        return next(i for i, s in enumerate(sentences) if needle in s)

    assert first("for nass_aim_attempt") < first("failed (ConfigError") < first("for nass_mst") < first(
        "released") < first("evaluated on the holdout")
    assert "stays charged" in sentences[first("failed (ConfigError")]
    assert any("gates" in s and "passed" in s for s in sentences)
    assert sentences == next(b for b in _section(json.loads(to_json(release_report(evidence_from_rows(
        ledger_db.release_id, ledger_db.ledger_rows, {KEY: CAP}, ledger_db.metric_rows, ledger_db.details)))),
        "audit")["blocks"] if b["type"] == "bullets")["items"]          # deterministic: same rows, same text


def test_model_card_and_compliance_evidence(doc, evidence):
    card = _facts(_section(doc, "model_card"))
    assert card["generator"]["value"] == "mst" and card["seed"]["value"] == evidence.record["seed"]
    assert card["library version"]["value"] == evidence.record["library_version"]
    graph = next(f for f in _figures(_section(doc, "model_card")) if f["kind"] == "graph")["data"]
    measured = [s for s in evidence.record["spend"] if s["step"].startswith("mst:2way")]
    assert len(graph["edges"]) == len(measured) == len(graph["nodes"]) - 1      # a spanning tree
    compliance = _section(doc, "compliance")
    headings = [b["text"] for b in compliance["blocks"] if b["type"] == "heading"]
    for needle in ("Art. 5(1)(c)", "Art. 25", "Art. 32", "Art. 35", "Recital 26", "singling out", "linkability",
                   "inference", "§164.514(b)(1)", "§1798.140(m)", "motivated intruder"):
        assert any(needle in h for h in headings), needle
    for b in compliance["blocks"]:
        if b["type"] == "bullets":
            assert b["items"] and not re.search(r"\b(pass|passed|fail|failed|satisf\w*|meets)\b", " ".join(b["items"]),
                                                re.IGNORECASE)
    assert any("singling_out_risk" in i for b in compliance["blocks"] if b["type"] == "bullets" for i in b["items"])


def test_no_text_claims_compliance_or_prints_epsilon_levels(evidence):
    report = release_report(evidence)
    for text in (to_html(report), to_markdown(report), to_json(report)):
        assert not VERDICTS.search(text), VERDICTS.search(text)
        assert not LEVEL_WORDS.search(text), LEVEL_WORDS.search(text)


def test_html_is_self_contained_and_files_are_written(evidence, tmp_path):
    paths = write_release_report(replace(evidence, written_to=None), tmp_path / "out")
    html = paths["html"].read_text()
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert not re.search(r"https?://|<script|<link|<img|@import|url\(", html)
    assert html.count("<svg") >= 6 and str(paths["html"]) in html           # says where it was written
    doc = json.loads(paths["json"].read_text())
    assert doc["meta"]["release_id"] == evidence.release_id and doc["meta"]["sensitive"] is True
    assert paths["md"].read_text().startswith("# Release evidence: nassCDS")
    assert to_html(release_report(evidence)) == to_html(release_report(evidence))   # deterministic


def test_release_without_evaluation_says_so(ledger_db):
    ev = evidence_from_rows(ledger_db.plain_release_id, ledger_db.ledger_rows, {"nass_plain": 2.0})
    report = json.loads(to_json(release_report(ev)))
    assert report["banner"]["tone"] == "note" and report["meta"]["sensitive"] is False
    assert _section(report, "utility")["blocks"][0]["text"].startswith("Not evaluated: the release kept no holdout")
    assert _section(report, "privacy_evaluation")["blocks"][0]["text"].startswith("Not evaluated")
    compliance = " ".join(_strings(_section(report, "compliance")))
    assert "Not measured for this release" in compliance
    assert "copula" in " ".join(_strings(_section(report, "model_card")))
    assert "Mironov" in " ".join(_strings(_section(report, "privacy")))    # the copula's floating-point caveat


def test_budget_tree_replaces_the_flat_spend_when_present(evidence):
    rho = evidence.record["rho"]
    tree = [{"label": "release", "parent": None, "accountant": "zcdp", "rho": rho, "epsilon": 1.0, "delta": 1e-6,
             "share": 1.0},
            {"label": "preprocessing", "parent": "release", "accountant": "zcdp", "rho": 0.1 * rho, "epsilon": None,
             "delta": None, "share": 0.1},
            {"label": "mst", "parent": "release", "accountant": "zcdp", "rho": 0.9 * rho, "epsilon": None,
             "delta": None, "share": 0.9}]
    ev = replace(evidence, record={**evidence.record, "budget_tree": tree})
    privacy = json.loads(to_json(release_report(ev)))["sections"][0]
    split = next(f for f in _figures(privacy) if f["title"].startswith("Share of the release"))["data"]
    assert split["source"] == "budget_tree" and [s.strip() for s in split["labels"]] == ["preprocessing", "mst"]
    assert split["values"] == pytest.approx([10.0, 90.0])
    tree_table = next(b for b in privacy["blocks"] if b["type"] == "table" and b["headers"][0] == "node")
    assert [r[0].strip() for r in tree_table["rows"]] == ["release", "preprocessing", "mst"]


def test_unknown_release_and_unreleased_rows_are_clear_errors(ledger_db):
    from dpsynth_core.errors import InputError

    with pytest.raises(InputError, match="not in the ledger"):
        evidence_from_rows("nope", ledger_db.ledger_rows)
    with pytest.raises(InputError, match="has no record"):
        evidence_from_rows(ledger_db.failed_release_id, ledger_db.ledger_rows)
