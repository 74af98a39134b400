"""Budget policies in the ledger (issue 13, item 1): the policy in force is read from the caps history inside
`Ledger.reserve`'s serialised transaction; windows and per-release-type caps refuse exactly when they should and a
refused request writes nothing; the caps history keeps a key's policy when an invocation omits the key; a reuse under
another release type is checked against that type's per-release cap."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import threading

import duckdb
import pytest
from test_ledger import composed, request, snapshot

from dbt_dpsynth import ledger as L
from dpsynth_core.errors import BudgetExceededError, BudgetPolicyExceededError, ConfigError

WINDOW_CAP = (composed(2) + composed(3)) / 2          # room for exactly two epsilon-1 releases
TYPES = {"internal_test": {"max_epsilon": 3}, "public": {"max_epsilon": 0.5, "max_delta": 1e-5}}


@pytest.fixture
def book():
    con = duckdb.connect()
    loc = L.LedgerLocation("main")
    L.ensure_tables(con, loc)
    return L.Ledger(con, loc)


def typed(epsilon: float, release_type: str | None, key: str = "patients") -> L.ReleaseRequest:
    return dataclasses.replace(request(epsilon, key=key), release_type=release_type)


def test_a_rolling_window_admits_exactly_the_releases_that_fit_and_a_refusal_writes_nothing(book):
    L.record_caps(book.con, book.location, "inv-1", {"patients": {"lifetime": 10, "window": "30d",
                                                                  "window_cap": WINDOW_CAP}})
    first, second = book.reserve(request()), book.reserve(request())
    assert second.cumulative_epsilon == pytest.approx(composed(2)) and second.cap_epsilon == 10
    assert [lv.level for lv in second.decision.levels] == ["lifetime", "window 30d"]
    before = snapshot(book)
    with pytest.raises(BudgetPolicyExceededError) as info:
        book.reserve(request())
    message = str(info.value)
    assert "budget_key 'patients' at level window 30d" in message and "Nothing was charged" in message
    assert f"cap epsilon={WINDOW_CAP:.4g}" in message and "never expires" in message and "wait until" in message
    assert isinstance(info.value, BudgetExceededError) and snapshot(book) == before
    # the window slides: entries charged more than 30 days ago no longer count (the lifetime still does)
    book.con.execute(f"UPDATE {book.location.ledger} SET started_at = started_at - INTERVAL 31 DAY "
                     "WHERE release_id = ?", [first.release_id])
    third = book.reserve(request())
    assert third.cumulative_epsilon == pytest.approx(composed(3))       # the lifetime loss keeps growing
    assert third.decision.levels[1].spent == pytest.approx(1.0)


def test_a_calendar_window_counts_this_period_only(book):
    L.record_caps(book.con, book.location, "inv-1", {"patients": {"lifetime": 10, "per_day": 1.2}})
    book.reserve(request())
    with pytest.raises(BudgetPolicyExceededError, match="at level per_day"):
        book.reserve(request())                                          # composed(2) = 1.40 > 1.2
    book.con.execute(f"UPDATE {book.location.ledger} SET started_at = started_at - INTERVAL 1 DAY")
    assert book.reserve(request()).decision.levels[1].spent == 0.0     # yesterday's release left the window


def test_the_lifetime_level_keeps_the_cap_message_it_always_had(book):
    L.record_caps(book.con, book.location, "inv-1", {"patients": {"lifetime": 1.3, "per_year": 1.3}})
    book.reserve(request())
    with pytest.raises(BudgetExceededError) as info:
        book.reserve(request())
    assert not isinstance(info.value, BudgetPolicyExceededError)
    assert str(info.value).startswith("Privacy budget exceeded for budget_key 'patients'")


def test_release_type_caps_each_release_and_a_missing_or_unknown_type_charges_nothing(book):
    L.record_caps(book.con, book.location, "inv-1", {"patients": {"lifetime": 10, "release_types": TYPES}})
    assert book.reserve(typed(0.5, "public")).decision.allowed
    assert book.reserve(typed(3.0, "internal_test")).decision.allowed
    before = snapshot(book)
    with pytest.raises(BudgetPolicyExceededError, match=r"release_type public \(a per-release cap\): requested "
                                                        r"epsilon=0.6 > cap epsilon=0.5"):
        book.reserve(typed(0.6, "public"))
    with pytest.raises(ConfigError, match="sets no release_type"):
        book.reserve(typed(0.1, None))
    with pytest.raises(ConfigError, match="'vendor' is not declared"):
        book.reserve(typed(0.1, "vendor"))
    assert snapshot(book) == before
    types = [r[0] for r in book.con.execute(f"SELECT release_type FROM {book.location.ledger} "
                                            "ORDER BY started_at").fetchall()]
    assert types == ["public", "internal_test"]                      # recorded per ledger row


def test_without_release_types_in_the_policy_a_release_type_is_recorded_not_capped(book):
    book.reserve(typed(2.0, "public"), cap_epsilon=5.0)
    assert book.con.execute(f"SELECT release_type FROM {book.location.ledger}").fetchall() == [("public",)]


def test_the_caps_history_stores_the_policy_and_keeps_it_when_an_invocation_omits_the_key(book):
    loc = book.location
    policy = {"lifetime": 10, "per_quarter": 2, "release_types": {"public": {"max_epsilon": 0.5}}}
    [change] = L.record_caps(book.con, loc, "inv-1", {"claims": policy, "patients": 3.0})[:1]
    assert (change.budget_key, change.cap_epsilon) == ("claims", 10.0)
    assert json.loads(change.policy_json) == {"lifetime": 10.0, "per_quarter": 2.0,
                                              "release_types": {"public": {"max_epsilon": 0.5}}}
    assert L.record_caps(book.con, loc, "inv-2", {"claims": dict(policy), "patients": 3.0}) == []   # unchanged
    assert L.record_caps(book.con, loc, "inv-3", {"patients": 4.0})[0].budget_key == "patients"    # omits claims
    in_force = L.policies_in_force(book.con, loc)
    assert in_force["claims"].to_dict() == L.BudgetPolicy.parse("claims", policy).to_dict()
    assert L.caps_in_force(book.con, loc) == {"claims": 10.0, "patients": 4.0}
    # a changed window is a new history row with the previous lifetime; a plain number replaces the whole policy
    [moved] = L.record_caps(book.con, loc, "inv-4", {"claims": {**policy, "per_quarter": 3}})
    assert (moved.cap_epsilon, moved.previous_cap_epsilon) == (10.0, 10.0) and '"per_quarter": 3' in moved.policy_json
    [plain] = L.record_caps(book.con, loc, "inv-5", {"claims": 10})
    assert plain.policy_json is None and not L.policies_in_force(book.con, loc)["claims"].windows
    assert len(L.cap_history(book.con, loc)) == 5


def test_parallel_reservations_never_take_a_windows_last_room_twice(tmp_path):
    path = str(tmp_path / "ledger.duckdb")
    con = duckdb.connect(path)
    loc = L.LedgerLocation("main")
    L.ensure_tables(con, loc)
    L.record_caps(con, loc, "inv-1", {"patients": {"lifetime": 10, "window": "7d", "window_cap": WINDOW_CAP}})
    outcomes: list[str] = []

    def one():
        try:
            L.Ledger(con.cursor(), loc).reserve(request())
            outcomes.append("reserved")
        except BudgetPolicyExceededError:
            outcomes.append("refused")

    threads = [threading.Thread(target=one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["refused"] * 6 + ["reserved"] * 2
    assert len(L.Ledger(con, loc).charged("patients")) == 2


def test_a_stored_policy_that_no_longer_validates_refuses_before_charging(book):
    book.con.execute(f"INSERT INTO {book.location.caps} (budget_key, cap_epsilon, recorded_at, policy_json) "
                     "VALUES ('patients', 3, now(), '{\"lifetime\": 3, \"per_fortnight\": 1}')")
    with pytest.raises(ConfigError, match="unknown setting"):
        book.reserve(request())
    assert snapshot(book) == []


def test_a_reuse_under_another_release_type_is_checked_against_its_per_release_cap(book):
    L.record_caps(book.con, book.location, "inv-1", {"patients": {"lifetime": 10, "release_types": TYPES}})
    res = book.reserve(typed(2.0, "internal_test"))
    book.finish_released(res, {"release_id": "r1", "rows": 10})
    assert book.record_reuse(typed(2.0, "internal_test"), "r1", rows=10, sample_seed=1).release_id == "r1"
    before = snapshot(book)
    with pytest.raises(BudgetPolicyExceededError, match="release_type public"):
        book.record_reuse(typed(2.0, "public"), "r1", rows=10, sample_seed=1)    # relabelling never passes a cap
    assert snapshot(book) == before


def test_governance_events_are_recorded_and_never_charged(book):
    res = book.reserve(request(), cap_epsilon=3.0)
    book.finish_released(res, {"release_id": "r1", "rows": 10,
                               "governance": {"release_type": "public", "expires_at": "2030-01-01 00:00:00",
                                              "watermark": {"key_fingerprint": "wm1:abc"}}})
    book.record_event(L.PUBLISHED_STATUS, "r1", model="model.x.released", target_relation='"db"."main"."rel"')
    book.record_event(L.DROPPED_STATUS, "r1", model="model.x.released", target_relation='"db"."main"."rel"',
                      note="expired")
    rows = book.con.execute(f"SELECT status, epsilon, release_type, expires_at, watermark_fingerprint "
                            f"FROM {book.location.ledger} ORDER BY started_at").fetchall()
    assert rows[0] == ("released", 1.0, "public", dt.datetime(2030, 1, 1), "wm1:abc")
    assert [(s, e) for s, e, *_ in rows[1:]] == [("published", 0.0), ("dropped", 0.0)]
    assert len(book.charged("patients")) == 1
    with pytest.raises(ValueError):
        book.record_event("released", "r1", model=None, target_relation=None)
