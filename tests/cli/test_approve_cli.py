"""`dpsynth approve` (issue 13, item 2): an append-only approval row naming who, when and what was shown (the report
file's SHA-256 when one exists, else the release record's); refusals with exit code 2; approvals and governance events
in `dpsynth ledger` and in the report's audit narrative."""

from __future__ import annotations

import hashlib
import json

import duckdb
import pytest

from dbt_dpsynth import ledger as L
from dbt_dpsynth.evidence import load_evidence
from dpsynth_cli import main
from dpsynth_core.report.document import Bullets
from dpsynth_core.report.sections import audit

RECORD = {"rows": 10, "generator": "mst", "epsilon": 1.0, "delta": 1e-6, "spend": [], "created_at": "2026-01-01"}


@pytest.fixture
def warehouse(tmp_path):
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    loc = L.LedgerLocation("main")
    L.ensure_tables(con, loc)
    book = L.Ledger(con, loc)
    request = L.ReleaseRequest("patients", "model.p.cand", '"w"."main"."cand"', "patients", "mst", 1.0, 1e-6, 1e-6,
                               0.02, "zcdp", None, None, "inv-1")
    res = book.reserve(request, cap_epsilon=3.0)
    rid = book.finish_released(res, {**RECORD, "release_id": res.release_id})
    book.record_event(L.PUBLISHED_STATUS, rid, model="model.p.released", target_relation='"w"."main"."released"',
                      budget_key="patients", note="approved by ana")
    con.close()
    return path, rid


def approvals(path) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("SELECT release_id, approved_by, note, shown_kind, shown_sha256, shown_path, source "
                           "FROM main.dpsynth_approvals ORDER BY approved_at").fetchall()


def test_approving_appends_who_when_and_the_hash_of_what_was_shown(warehouse, tmp_path, capsys):
    path, rid = warehouse
    assert main(["approve", str(path), rid[:8], "--by", "ana", "--note", "looks fine",
                 "--reports-dir", str(tmp_path / "none")]) == 0
    assert "approved by ana" in capsys.readouterr().out
    with duckdb.connect(str(path), read_only=True) as con:
        record_json = con.execute("SELECT record_json FROM main.dpsynth_ledger WHERE status = 'released'").fetchall()
    digest = hashlib.sha256(record_json[0][0].encode()).hexdigest()
    assert approvals(path) == [(rid, "ana", "looks fine", "release_record", digest, None, "dpsynth approve")]
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / f"cand-{rid[:12]}.html").write_text("<html>the report ana read</html>")
    assert main(["approve", str(path), rid, "--by", "bo", "--reports-dir", str(reports)]) == 0
    second = approvals(path)[1]
    assert second[3] == "report" and second[4] == hashlib.sha256(b"<html>the report ana read</html>").hexdigest()
    assert len(approvals(path)) == 2 and approvals(path)[0][1] == "ana"      # appended, the first untouched


@pytest.mark.parametrize("args, needle", [
    (["0000000000"], "matches 0 released"),
    (["abc"], "too many"),
    (["{rid}", "--report", "/no/such/report.html"], "does not exist"),
])
def test_bad_approvals_are_refused_with_exit_code_2_and_write_nothing(warehouse, capsys, args, needle):
    path, rid = warehouse
    args = [a.replace("{rid}", rid) for a in args]
    assert main(["approve", str(path), *args, "--by", "ana"]) == 2
    assert needle in capsys.readouterr().err and approvals(path) == []


def test_ledger_and_audit_narrative_show_approvals_and_governance_events(warehouse, capsys):
    path, rid = warehouse
    assert main(["approve", str(path), rid, "--by", "ana", "--note", "ok", "--reports-dir", "/nonexistent"]) == 0
    capsys.readouterr()
    assert main(["ledger", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"approved release_id={rid} by ana" in out and "published key=patients" in out and "not charged" in out
    with duckdb.connect(str(path), read_only=True) as con:
        [evidence] = load_evidence(con, L.LedgerLocation("main"))
    section = audit.build(evidence)
    sentences = [s for b in section.blocks if isinstance(b, Bullets) for s in b.items]
    assert any(f"release {rid[:12]} approved by ana (ok); shown: the release record with SHA-256" in s
               for s in sentences)
    assert any(s.endswith("published release " + rid[:12] + ' as "w"."main"."released" (a released model; not '
                          "charged); approved by ana.") for s in sentences), sentences
    assert "no approvals" not in json.dumps(section.to_dict())


def test_drops_and_withdrawals_read_as_uncharged_events_in_the_audit_narrative(warehouse):
    path, rid = warehouse
    with duckdb.connect(str(path)) as con:
        book = L.Ledger(con, L.LedgerLocation("main"))
        book.record_event(L.DROPPED_STATUS, rid, model="model.p.cand", target_relation='"w"."main"."cand"',
                          budget_key="patients", note="expired at 2026-02-01 00:00:00 UTC")
        book.record_event(L.WITHDRAWN_STATUS, rid, model="model.p.released", target_relation='"w"."main"."released"',
                          budget_key="patients", note="withdrawn by ana: contract ended")
        [evidence] = load_evidence(con, L.LedgerLocation("main"))
    sentences = [s for b in audit.build(evidence).blocks if isinstance(b, Bullets) for s in b.items]
    dropped = [s for s in sentences if "dropped \"w\".\"main\".\"cand\"" in s]
    withdrawn = [s for s in sentences if "withdrawn by ana: contract ended" in s]
    assert len(dropped) == len(withdrawn) == 1 and "nothing is refunded" in dropped[0] + withdrawn[0]
    assert "never served again" in withdrawn[0]
