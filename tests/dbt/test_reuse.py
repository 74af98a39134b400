"""Releases are reused by default: a rebuild whose fingerprint is unchanged serves the stored model (same rows, same
release id, a 'reused' ledger row that is never charged); a new release only when the fingerprint changes or when
asked (refresh policy, var dpsynth_refresh). Runs `dbt_dpsynth.synthesize` in-process with a stand-in dbt object."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest
from test_synthesize import FAST, Dbt, make_node

import dbt_dpsynth
import dpsynth_core.api
from dbt_dpsynth import ledger as L
from dbt_dpsynth import model_store, refresh
from dpsynth_core.accounting.composition import compose
from dpsynth_core.errors import ConfigError
from dpsynth_core.measurement.private_table import PrivateTable

LOC = L.LedgerLocation("main", "memory")
NO_SEED = {k: v for k, v in FAST.items() if k != "seed"}   # the sampling seed is drawn, then stored


@pytest.fixture
def session(nass):
    con = duckdb.connect()
    small = nass.head(1500).rename(columns={"ageOFocc": "age"})[["sex", "dead", "age", "caseid"]]
    con.register("small_df", small)
    con.execute("CREATE TABLE patients AS SELECT * FROM small_df")
    return con


def build(session, dpsynth: dict, caps: dict | None = None) -> pd.DataFrame:
    parsed_model = make_node(dpsynth, caps={"patients": 5.0} if caps is None else caps)  # noqa: F841 - find_node
    return dbt_dpsynth.synthesize(Dbt(), session, session.table("patients")).df()   # as dbt-duckdb materialises it


def events(con) -> list[tuple]:
    return con.execute(f"SELECT release_id, status, epsilon, rho, rows FROM {LOC.ledger} ORDER BY started_at, status"
                       ).fetchall()


def charged_epsilon(con) -> float:
    return compose(L.Ledger(con, LOC).charged("patients")).epsilon


def test_an_unchanged_rebuild_serves_the_same_rows_and_release_without_a_charge(session, monkeypatch):
    first = build(session, NO_SEED)
    spent = charged_epsilon(session)

    def must_not_run(*args, **kwargs):
        raise AssertionError("the source was read for a reuse")

    monkeypatch.setattr(dpsynth_core.api, "synthesize_table", must_not_run)
    monkeypatch.setattr(PrivateTable, "__init__", must_not_run)
    second = build(session, NO_SEED)
    pd.testing.assert_frame_equal(first, second)                  # the stored sampling seed: identical rows
    (rid, status, eps, _, rows), (rid2, status2, eps2, rho2, rows2) = events(session)
    assert (status, status2) == ("released", "reused") and rid2 == rid and rows2 == rows == len(first)
    assert eps == 1.0 and (eps2, rho2) == (0.0, 0.0)
    assert charged_epsilon(session) == pytest.approx(spent)        # 'reused' is not a charged status
    seed = session.execute(f"SELECT sample_seed FROM {LOC.models}").fetchall()
    assert len(seed) == 1 and seed[0][0] is not None


def test_a_changed_setting_makes_one_new_release_and_the_old_one_stays_reusable(session):
    build(session, FAST)
    build(session, {**FAST, "epsilon": 0.5})                       # fingerprint changed: a new, charged release
    build(session, {**FAST, "epsilon": 0.5})                       # unchanged again: reused
    build(session, FAST)                                           # back to the first settings: its release serves
    statuses = [s for _, s, *_ in events(session)]
    assert statuses == ["released", "released", "reused", "reused"]
    ids = [r for r, *_ in events(session)]
    assert ids[3] == ids[0] and ids[2] == ids[1] != ids[0]
    assert len(L.Ledger(session, LOC).charged("patients")) == 2


def test_refresh_always_and_the_var_ask_for_a_new_release(session):
    from dbt_common.invocation import get_invocation_id

    build(session, FAST)
    build(session, {**FAST, "refresh": "always"})
    L.record_invocation(session, LOC, get_invocation_id(), refresh=["patients_syn"])   # --vars dpsynth_refresh
    build(session, FAST)
    assert [s for _, s, *_ in events(session)] == ["released"] * 3
    assert len({r for r, *_ in events(session)}) == 3


def test_a_failed_model_write_leaves_no_reusable_half_state(session, monkeypatch):
    def broken_insert(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(model_store, "insert", broken_insert)
    with pytest.raises(RuntimeError, match="disk full"):
        build(session, FAST)
    assert [s for _, s, *_ in events(session)] == ["failed"]       # charged, not released
    assert session.execute(f"SELECT count(*) FROM {LOC.models}").fetchall() == [(0,)]
    monkeypatch.undo()
    build(session, FAST)                                           # nothing to reuse: a new release
    assert [s for _, s, *_ in events(session)] == ["failed", "released"]


def test_a_tampered_stored_model_is_refused_before_any_charge(session):
    build(session, FAST)
    session.execute(f"UPDATE {LOC.models} SET state_text = replace(state_text, 'dpsynth-state', 'dpsynth-stat3')")
    before = events(session)
    with pytest.raises(ConfigError, match="SHA-256") as info:
        build(session, FAST)
    assert "dpsynth_refresh" in str(info.value) and events(session) == before


def test_a_model_row_without_a_released_ledger_row_is_never_served(session):
    build(session, FAST)
    session.execute(f"UPDATE {LOC.ledger} SET status = 'failed'")  # e.g. the row was not released after all
    build(session, FAST)
    assert [s for _, s, *_ in events(session)] == ["failed", "released"]


def test_refresh_policy_parsing_and_decisions():
    now = dt.datetime(2025, 6, 1)
    every = refresh.RefreshPolicy.parse({"every": "90d"})
    assert every.max_age == dt.timedelta(days=90) and refresh.RefreshPolicy.parse(None).mode == "on_change"
    assert refresh.decide(every, asked=False, stored_at=now - dt.timedelta(days=10), now=now).reuse
    assert not refresh.decide(every, asked=False, stored_at=now - dt.timedelta(days=91), now=now).reuse
    assert not refresh.decide(refresh.RefreshPolicy(), asked=False, stored_at=None, now=now).reuse
    assert not refresh.decide(refresh.RefreshPolicy(), asked=True, stored_at=now, now=now).reuse
    assert not refresh.decide(refresh.RefreshPolicy("always"), asked=False, stored_at=now, now=now).reuse
    assert refresh.requested(["*"], "m", "model.p.m") and refresh.requested(["model.p.m"], "m", "model.p.m")
    assert not refresh.requested(["other"], "m", "model.p.m")
    for bad in ("sometimes", {"every": "soon"}, {"every": "0d"}, {"every": "9d", "x": 1}):
        with pytest.raises(ConfigError, match="refresh"):
            refresh.RefreshPolicy.parse(bad, "m")


def test_the_fingerprint_covers_public_settings_and_nothing_else(session):
    from dbt_dpsynth.fingerprint import release_fingerprint
    from dpsynth_core.config import SynthesisConfig
    from dpsynth_core.schema import TableSpec

    schema = [("sex", "VARCHAR"), ("age", "BIGINT")]
    spec = TableSpec.from_dict("t", {"sex": {"kind": "categorical", "categories": ["f", "m"]}}, schema)

    def digest(source="seed.p.t", schema=schema, spec=spec, **settings):
        return release_fingerprint(source=source, schema=schema, spec=spec,
                                   synthesis=SynthesisConfig(**{"epsilon": 1.0, **settings})).digest

    base = digest()
    assert digest() == base and digest(table="for messages") == base
    changed = [digest(source="seed.p.other"), digest(schema=[("sex", "VARCHAR"), ("age", "DOUBLE")]),
               digest(spec=TableSpec.from_dict("t", {"sex": {"kind": "categorical", "categories": ["f"]}}, schema)),
               digest(epsilon=2.0), digest(generator="mst"), digest(options={"iters": 9}), digest(seed=3),
               digest(rows=10), digest(holdout=0.2), digest(budget_key="k")]
    assert len(set(changed) | {base}) == len(changed) + 1
