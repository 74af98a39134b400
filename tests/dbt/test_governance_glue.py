"""Governance in `dbt_dpsynth.synthesize` (issue 13), in-process with a stand-in dbt object: the watermark is embedded
by post-processing with a key from the environment (the record and ledger keep its fingerprint only), a reuse serves
the same watermarked rows, another key marks a fresh sample of the same model (never the same rows); a missing key
refuses before anything is charged; an expired stored release is not served again; the model's release_type meets
the per-release caps of a policy given in the model config; usage terms reach the release record."""

from __future__ import annotations

import json
import time

import duckdb
import numpy as np
import pandas as pd
import pytest
from test_synthesize import SPEC_COLUMNS, Dbt, make_node

import dbt_dpsynth
from dbt_dpsynth import ledger as L
from dpsynth_core import watermark as wm
from dpsynth_core.errors import BudgetPolicyExceededError, ConfigError

LOC = L.LedgerLocation("main", "memory")
MASTER = "glue-test-master-key-0123456789abcdef"
BASE = {"epsilon": 1.0, "generator": "mst", "rows": 600, "seed": 7, "options": {"iters": 30}}
MARKED = {**BASE, "watermark": {"key_env": "GLUE_WM_KEY", "recipient": "acme"},
          "terms": {"purpose": "QA", "recipients": ["acme"], "contract": "C-1"}}
COLUMNS = {**SPEC_COLUMNS, "weight": {"name": "weight", "meta": {"dpsynth": {"kind": "continuous", "lower": 0,
                                                                               "upper": 2000, "bins": 16}}}}


@pytest.fixture
def session(nass):
    con = duckdb.connect()
    small = nass.head(1500).rename(columns={"ageOFocc": "age"})[["sex", "dead", "age", "caseid", "weight"]]
    con.register("small_df", small)
    con.execute("CREATE TABLE patients AS SELECT * FROM small_df")
    return con


@pytest.fixture(autouse=True)
def key(monkeypatch):
    monkeypatch.setenv("GLUE_WM_KEY", MASTER)


def build(session, dpsynth: dict, caps=None) -> pd.DataFrame:
    parsed_model = {**make_node(dpsynth, caps={"patients": 5.0} if caps is None else caps),  # noqa: F841
                    "columns": COLUMNS}
    return dbt_dpsynth.synthesize(Dbt(), session, session.table("patients")).df()   # as dbt-duckdb materialises it


def ledger(con) -> list[dict]:
    cur = con.execute(f"SELECT status, epsilon, release_id, record_json, governance_json, watermark_fingerprint, "
                      f"release_type, expires_at FROM {LOC.ledger} ORDER BY started_at, status")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def test_a_watermark_is_embedded_its_fingerprint_recorded_and_a_reuse_serves_the_same_marked_rows(session):
    acme = wm.derive_key(MASTER, "recipient:acme")
    first = build(session, MARKED)
    assert wm.detect(first, acme).detected and not wm.detect(first, MASTER).detected
    second = build(session, MARKED)
    pd.testing.assert_frame_equal(first, second)                   # same key: the same watermarked rows
    released, reused = ledger(session)
    assert (released["status"], reused["status"], reused["epsilon"]) == ("released", "reused", 0.0)
    record = json.loads(released["record_json"])
    mark = record["governance"]["watermark"]
    assert mark["key_fingerprint"] == wm.key_fingerprint(acme) == released["watermark_fingerprint"]
    assert mark["columns"] == ["weight"] and mark["values_marked"] > 500 and mark["recipient"] == "acme"
    assert record["governance"]["terms"]["contract"] == "C-1"
    assert MASTER not in released["record_json"] + released["governance_json"] and acme.hex() not in str(released)
    assert json.loads(reused["governance_json"])["watermark"]["key_fingerprint"] == mark["key_fingerprint"]


def test_another_recipients_key_marks_a_fresh_sample_of_the_same_release_free(session):
    first = build(session, MARKED)
    other = build(session, {**MARKED, "watermark": {"key_env": "GLUE_WM_KEY", "recipient": "beta"}})
    released, reused = ledger(session)
    assert reused["status"] == "reused" and reused["release_id"] == released["release_id"]   # no new charge
    beta = wm.derive_key(MASTER, "recipient:beta")
    assert wm.detect(other, beta).detected and not wm.detect(other, wm.derive_key(MASTER, "recipient:acme")).detected
    shared = np.intersect1d(first["weight"].to_numpy(), other["weight"].to_numpy())
    assert len(shared) < 0.01 * len(first)                         # not the same rows under two keys
    assert reused["watermark_fingerprint"] == wm.key_fingerprint(beta)


def test_a_missing_watermark_key_refuses_before_anything_is_charged(session, monkeypatch):
    monkeypatch.delenv("GLUE_WM_KEY")
    with pytest.raises(ConfigError, match="GLUE_WM_KEY"):
        build(session, MARKED)
    assert ledger(session) == []


def test_an_expired_or_withdrawn_stored_release_is_not_served_again_and_nothing_is_charged(session):
    build(session, {**BASE, "expires_after_days": 0.00001})       # expires after 0.9 s
    time.sleep(1.2)
    with pytest.raises(ConfigError, match="expired at .* not served again. Nothing was charged"):
        build(session, {**BASE, "expires_after_days": 0.00001})
    build(session, {**BASE, "expires_after_days": 30})            # a later expiry: the same release is served
    build(session, {**BASE, "expires_after_days": 0.00001, "refresh": "always"})   # asked for: a new release
    assert [r["status"] for r in ledger(session)] == ["released", "reused", "released"]
    newest = ledger(session)[-1]["release_id"]
    L.Ledger(session, LOC).record_event(L.WITHDRAWN_STATUS, newest, model=None, target_relation=None,
                                        note="withdrawn by ana: contract ended")
    with pytest.raises(ConfigError, match="was withdrawn .*contract ended"):
        build(session, {**BASE, "expires_after_days": 30})
    assert len(L.Ledger(session, LOC).charged("patients")) == 2


def test_release_type_meets_the_per_release_caps_of_a_policy_from_the_model_config(session):
    caps = {"patients": {"lifetime": 5, "release_types": {"public": {"max_epsilon": 0.5}, "internal": {
        "max_epsilon": 2}}}}
    build(session, {**BASE, "release_type": "internal"}, caps=caps)
    with pytest.raises(BudgetPolicyExceededError, match="release_type public"):
        build(session, {**BASE, "release_type": "public", "epsilon": 0.9}, caps=caps)
    with pytest.raises(BudgetPolicyExceededError, match="release_type public"):   # relabelling the stored release
        build(session, {**BASE, "release_type": "public"}, caps=caps)
    rows = ledger(session)
    assert [(r["status"], r["release_type"]) for r in rows] == [("released", "internal")]
    assert json.loads(L.cap_history(session, LOC)[0].policy_json)["release_types"]["public"] == {"max_epsilon": 0.5}


def test_terms_in_meta_dpsynth_reach_the_record_like_config_terms(session):
    node = {**make_node(BASE, caps={"patients": 5.0}), "columns": COLUMNS}
    node["config"]["meta"] = {"dpsynth": {"terms": {"purpose": "docs", "recipients": ["qa"]}}}
    parsed_model = node  # noqa: F841 - found on the stack like dbt-duckdb's
    dbt_dpsynth.synthesize(Dbt(), session, session.table("patients"))
    [row] = ledger(session)
    terms = json.loads(row["record_json"])["governance"]["terms"]
    assert terms == {"purpose": "docs", "recipients": ["qa"], "contract": None, "expires": None}
