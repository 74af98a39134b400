"""Governance in real dbt builds on DuckDB (issue 13): a rolling window and per-release-type caps refuse exactly when
they should under `--threads 4`; a candidate that requires approval leaves its released model refused (the previous
table in place) until `dpsynth approve`, then the next build publishes it without a new charge, stamped with its usage
terms, the watermark fingerprint and the approver, and watermarked rows; an expired release fails its test and
`dpsynth_drop_expired` drops it and records it; retention deletes the artefacts of releases no table carries.
One small project (gov_project.py), five dbt invocations in order; the steps build on each other."""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from pathlib import Path

import pandas as pd
import pytest
from gov_project import DBT, MASTER_KEY, TERMS, WINDOW_CAP, database, dbt, query, write_project

from dpsynth_cli import main as dpsynth
from dpsynth_core import watermark as wm

pytestmark = pytest.mark.skipif(not DBT.exists(), reason="dbt is not installed in this environment")


@pytest.fixture(scope="module")
def project(tmp_path_factory, nass) -> Path:
    return write_project(tmp_path_factory.mktemp("gov"), nass)


def statuses(root: Path, model: str) -> list[str]:
    return [r[0] for r in query(root, "SELECT status FROM main.dpsynth_ledger WHERE model = ? ORDER BY started_at",
                                [f"model.gov.{model}"])]


def charged(root: Path, key: str) -> int:
    return query(root, "SELECT count(*) FROM main.dpsynth_ledger WHERE budget_key = ? AND status IN "
                       "('reserved', 'released', 'failed')", [key])[0][0]


def table(root: Path, name: str) -> tuple[str | None, tuple | None]:
    rows = query(root, "SELECT comment FROM duckdb_tables() WHERE table_name = ?", [name])
    if not rows:
        return None, None
    content = query(root, f"SELECT count(*), sum(hash(dvcat, dead, sex, ageOFocc, weight)) FROM main.{name}")[0]
    return rows[0][0], content


def candidate_release(root: Path) -> str:
    return query(root, "SELECT release_id FROM main.dpsynth_ledger WHERE model = 'model.gov.gov_candidate' AND "
                       "status = 'released' ORDER BY started_at DESC LIMIT 1")[0][0]


def test_1_windows_and_release_types_refuse_exactly_and_an_unapproved_release_is_not_published(project):
    build = dbt(project, "build", "--threads", "4", "--exclude", "tag:expiry")
    out = build.stdout
    assert build.returncode != 0 and "Traceback" not in out
    # four models race for a 30-day window with room for two: exactly two are charged, two refused in one line
    assert sorted(s for i in range(1, 5) for s in statuses(project, f"win_{i}")) == ["released", "released"]
    assert out.count("Privacy budget policy refused budget_key 'windowed' at level window 30d") == 2
    assert f"cap epsilon={WINDOW_CAP:.4g}" in out and "never expires" in out
    # per-release caps of the release type; a missing release_type is refused; refused runs charge nothing
    assert statuses(project, "typed_public_ok") == ["released"]
    assert statuses(project, "typed_public_over") == statuses(project, "typed_missing") == []
    assert "at level release_type public (a per-release cap): requested epsilon=1 > cap epsilon=0.5" in out
    assert "sets no release_type" in out and charged(project, "typed") == 1
    assert query(project, "SELECT release_type FROM main.dpsynth_ledger WHERE budget_key = 'typed'") == [("public",)]
    policies = dict(query(project, "SELECT budget_key, policy_json FROM main.dpsynth_budget_caps"))
    assert json.loads(policies["windowed"])["window"] == "30d" and policies["gov"] is None
    # the candidate is released; its released model waits for an approval of that release id
    rid = candidate_release(project)
    assert re.search(rf"not releasing .*gov_released.*release {rid} .* requires approval and has none", out)
    assert "The previous table is kept." in out and table(project, "gov_released") == (None, None)


def test_2_an_approval_lets_the_next_build_publish_without_a_new_charge(project, capsys):
    rid = candidate_release(project)
    candidate_before = table(project, "gov_candidate")
    assert dpsynth(["approve", database(project), rid[:12], "--by", "Ana Auditor", "--note", "report reviewed",
                    "--reports-dir", str(project / "no-reports")]) == 0
    assert "approved by Ana Auditor" in capsys.readouterr().out
    # --vars naming one key only: the other keys keep their policies (no caps-history row for them)
    history = query(project, "SELECT count(*) FROM main.dpsynth_budget_caps")
    build = dbt(project, "build", "--select", "gov_candidate", "gov_released",
                "--vars", "{dpsynth_budgets: {gov: 5.0}}")
    assert build.returncode == 0, build.stdout[-3000:]
    assert query(project, "SELECT count(*) FROM main.dpsynth_budget_caps") == history
    assert statuses(project, "gov_candidate") == ["released", "reused"] and charged(project, "gov") == 2
    assert table(project, "gov_candidate") == candidate_before          # reuse: the same (watermarked) rows
    comment, rows = table(project, "gov_released")
    assert rows == candidate_before[1] and f"release_id={rid}" in comment and "approved_by=Ana_Auditor" in comment
    assert f"terms=[purpose={TERMS['purpose']}; recipients=acme; contract={TERMS['contract']}; expires=2099-12-31]" \
        in comment and "release_type=vendor_share" in comment and "expires_at=" in comment
    fingerprint = wm.key_fingerprint(wm.derive_key(MASTER_KEY, "recipient:acme"))
    assert f"watermark={fingerprint}" in comment
    weights = pd.DataFrame(query(project, "SELECT weight FROM main.gov_released"), columns=["weight"])
    assert wm.detect(weights.sample(frac=0.1, random_state=1), wm.derive_key(MASTER_KEY, "recipient:acme")).detected
    [(status, note, fp)] = query(project, "SELECT status, error, watermark_fingerprint FROM main.dpsynth_ledger "
                                          "WHERE model = 'model.gov.gov_released'")
    assert status == "published" and "approved by Ana Auditor" in note and fp == fingerprint
    assert query(project, "SELECT shown_kind, approved_by FROM main.dpsynth_approvals") == [
        ("release_record", "Ana Auditor")]


def wait_until_expired(project: Path, model: str) -> None:
    """Sleep until the model's newest release has expired (its expiry is seconds after its release, so a fast run of
    the tests before could reach the build below first)."""
    (expires_at,), = query(project, f"SELECT max(expires_at) FROM main.dpsynth_ledger WHERE model = '{model}'")
    if expires_at.tzinfo is None:  # a naive TIMESTAMP in the ledger is UTC
        expires_at = expires_at.replace(tzinfo=dt.timezone.utc)
    left = (expires_at - dt.datetime.now(dt.timezone.utc)).total_seconds()
    if left > 0:
        time.sleep(left + 1.0)


def test_3_a_new_unapproved_release_leaves_the_previous_table_and_an_expired_release_fails_its_test(project):
    previous = table(project, "gov_released")
    wait_until_expired(project, "model.gov.short_lived")
    build = dbt(project, "build", "--select", "gov_candidate", "gov_released", "tag:expiry",
                "--vars", "{dpsynth_refresh: [gov_candidate]}")
    assert build.returncode != 0
    new = candidate_release(project)
    assert f"release {new} of candidate" in build.stdout and "requires approval" in build.stdout
    assert table(project, "gov_released") == previous                  # the approved release stays published
    assert statuses(project, "gov_candidate") == ["released", "reused", "released"]
    assert re.search(r"FAIL 1 dbt_dpsynth_dpsynth_not_expired_short_lived", build.stdout), build.stdout[-3000:]


def test_4_dropping_expired_releases_removes_the_table_and_records_it_uncharged(project):
    spent = charged(project, "gov")
    run = dbt(project, "run-operation", "dpsynth_drop_expired")
    assert run.returncode == 0, run.stdout[-3000:]
    assert "dropped" in run.stdout and "nothing refunded" in run.stdout
    assert table(project, "short_lived") == (None, None) and table(project, "gov_released")[0] is not None
    [(rid, epsilon, note)] = query(project, "SELECT release_id, epsilon, error FROM main.dpsynth_ledger "
                                            "WHERE status = 'dropped'")
    assert epsilon == 0 and "expired at" in note and charged(project, "gov") == spent
    assert statuses(project, "short_lived") == ["released", "dropped"]
    assert rid == query(project, "SELECT release_id FROM main.dpsynth_ledger WHERE model = 'model.gov.short_lived' "
                                 "AND status = 'released'")[0][0]


def test_5_retention_deletes_the_artefacts_of_releases_no_table_carries(project):
    carried = {r[0] for r in query(project, "SELECT release_id FROM main.dpsynth_ledger WHERE status = 'published'")}
    before = {r[0] for r in query(project, "SELECT release_id FROM main.dpsynth_models")}
    run = dbt(project, "run-operation", "dpsynth_apply_retention", "--vars", "{dpsynth_retention: {models_days: 0}}")
    assert run.returncode == 0, run.stdout[-3000:]
    after = {r[0] for r in query(project, "SELECT release_id FROM main.dpsynth_models")}
    dropped = query(project, "SELECT release_id FROM main.dpsynth_ledger WHERE status = 'dropped'")[0][0]
    assert dropped in before and dropped not in after and carried <= after   # the published release keeps its model
    assert after == before - {dropped}                                     # every other release is still carried
    assert query(project, "SELECT count(*) FROM main.dpsynth_approvals") == [(1,)]   # the audit trail stays


def test_6_a_withdrawal_drops_the_tables_carrying_the_release_and_records_who_and_why(project):
    published = query(project, "SELECT release_id FROM main.dpsynth_ledger WHERE status = 'published'")[0][0]
    run = dbt(project, "run-operation", "dpsynth_withdraw", "--args",
              f"{{release_id: {published}, by: ana, reason: contract ended}}")
    assert run.returncode == 0, run.stdout[-3000:]
    assert table(project, "gov_released") == (None, None)
    assert table(project, "gov_candidate")[0] is not None            # it carries the newer, unapproved release
    assert query(project, "SELECT target_relation, epsilon, error FROM main.dpsynth_ledger WHERE status = "
                          "'withdrawn'") == [('"gov"."main"."gov_released"', 0.0, "withdrawn by ana: contract ended")]
    assert dpsynth(["approve", database(project), published, "--by", "ana"]) == 2    # never approved again
