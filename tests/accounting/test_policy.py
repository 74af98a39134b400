"""Budget policy: vocabulary and validation, and refusals exactly at each level's cap (lifetime, calendar and rolling
windows, release types), composed in zCDP like the ledger; windows limit the rate while the lifetime loss grows."""

from __future__ import annotations

import datetime as dt
import functools
import json
import threading

import pytest

from dpsynth_core.accounting.composition import compose
from dpsynth_core.accounting.policy import (
    BudgetPolicy,
    Charge,
    Period,
    enforce_policy,
    evaluate_policy,
    load_policy_file,
    parse_policies,
)
from dpsynth_core.config import SynthesisConfig
from dpsynth_core.errors import BudgetExceededError, BudgetPolicyExceededError, ConfigError

NOW = dt.datetime(2025, 5, 10, 12, 0)


@functools.lru_cache(maxsize=None)
def _accounting(epsilon: float, delta: float | None) -> tuple[float, float, float]:
    """(rho, delta, delta_conversion) of a release as the ledger's requests carry them (cached: the conversion is a
    bisection)."""
    cfg = SynthesisConfig(epsilon=epsilon, delta=delta)
    return cfg.requested_rho(), cfg.resolved_delta(), cfg.budget_plan().delta_conversion


def charge(epsilon: float = 1.0, at: dt.datetime | None = None, release_type: str | None = None,
           delta: float | None = None) -> Charge:
    rho, total_delta, conv = _accounting(epsilon, delta)
    return Charge(epsilon=epsilon, rho=rho, delta=total_delta, delta_conversion=conv, accountant="zcdp",
                  charged_at=at, release_type=release_type)


def composed(*charges: Charge) -> float:
    return compose(c.composition_entry() for c in charges).epsilon


# ---- vocabulary --------------------------------------------------------------------------------------------------

def test_a_plain_number_is_the_lifetime_cap_as_before():
    policy = BudgetPolicy.parse("patients", 3)
    assert policy == BudgetPolicy("patients", 3.0) and policy.windows == () and policy.release_types == ()
    assert policy.to_dict() == {"lifetime": 3.0}


def test_full_vocabulary_parses_and_round_trips():
    raw = {"lifetime": 10, "per_day": 1, "per_week": 1.5, "per_month": 2, "per_quarter": 2, "per_year": 4,
           "window": "90d", "window_cap": 2.5,
           "release_types": {"internal_test": {"max_epsilon": 3}, "vendor_share": {"max_epsilon": 1},
                             "public": {"max_epsilon": 0.5, "max_delta": "1e-7"}}}
    policy = BudgetPolicy.parse("claims", raw)
    assert [w.label for w in policy.windows] == ["per_day", "per_week", "per_month", "per_quarter", "per_year",
                                                 "window 90d"]
    assert policy.release_type("public").max_delta == 1e-7
    assert BudgetPolicy.from_dict("claims", json.loads(json.dumps(policy.to_dict()))) == policy
    assert set(parse_policies({"a": 1, "claims": raw})) == {"a", "claims"}


@pytest.mark.parametrize("value, needle", [
    ({"lifetime": 3, "per_fortnight": 1}, "unknown setting(s) ['per_fortnight']"),
    ({"per_quarter": 1}, "no `lifetime` cap"),
    ({"lifetime": 3, "window": "90d"}, "window without window_cap"),
    ({"lifetime": 3, "window_cap": 1}, "window_cap without window"),
    ({"lifetime": 3, "window": 90, "window_cap": 1}, "`<N>d`"),
    ({"lifetime": 3, "window": "0d", "window_cap": 1}, "`<N>d`"),
    ({"lifetime": 0}, "lifetime is 0"),
    ({"lifetime": True}, "lifetime is True"),
    ({"lifetime": "lots"}, "lifetime is 'lots'"),
    ({"lifetime": 3, "per_quarter": 5}, "exceeds the lifetime cap 3"),
    ({"lifetime": 3, "release_types": {"public": {"max_epsilon": 4}}}, "more than the lifetime cap"),
    ({"lifetime": 3, "release_types": {"public": 0.5}}, "needs `max_epsilon`"),
    ({"lifetime": 3, "release_types": {"Public": {"max_epsilon": 1}}}, "not a lower-case name"),
    ({"lifetime": 3, "release_types": {"public": {"max_epsilon": 1, "ttl": 3}}}, "unknown setting(s) ['ttl']"),
    ({"lifetime": 3, "release_types": {"public": {"max_epsilon": 1, "max_delta": 2}}}, "below 1"),
    ({"lifetime": 3, "release_types": {}}, "non-empty mapping"),
    ([3], "must be a number (lifetime cap) or a mapping"),
    (-1, "the cap is -1"),
])
def test_invalid_policies_name_key_problem_and_fix(value, needle):
    with pytest.raises(ConfigError) as info:
        BudgetPolicy.parse("claims", value)
    message = str(info.value)
    assert needle in message and "'claims'" in message and " Fix: " in message


def test_policy_file_accepts_the_dbt_var_layout(tmp_path):
    path = tmp_path / "budgets.yml"
    path.write_text("dpsynth_budgets:\n  patients: 3\n  claims: {lifetime: 10, window: 30d, window_cap: 1}\n")
    policies = load_policy_file(str(path))
    assert policies["patients"].lifetime == 3 and policies["claims"].windows[0].days == 30


# ---- lifetime ----------------------------------------------------------------------------------------------------

def test_lifetime_refuses_exactly_past_the_composed_cap_and_names_everything():
    cap = composed(charge(), charge(), charge())           # room for exactly three releases of epsilon 1
    policy = BudgetPolicy.parse("patients", cap)
    prior = [charge(at=NOW - dt.timedelta(days=400 * i)) for i in range(3)]
    assert evaluate_policy(policy, prior[:2], charge(), NOW).allowed
    with pytest.raises(BudgetPolicyExceededError) as info:
        enforce_policy(policy, prior, charge(), NOW)
    err = info.value
    assert isinstance(err, BudgetExceededError) and err.level == "lifetime"
    message = str(err)
    assert "'patients'" in message and "level lifetime" in message and "Nothing was charged." in message
    assert f"spent epsilon={composed(*prior):.4g}" in message and "requested epsilon=1" in message
    assert f"cap epsilon={cap:.4g}" in message and "never expires" in message and "Fix: " in message
    assert err.decision.lifetime.would_be == pytest.approx(composed(*prior, charge()))


def test_composition_matches_the_ledgers_compose_including_dp_sgd_parts():
    sgd = Charge(epsilon=2.0, rho=0.01, delta=1e-6, delta_conversion=5e-7, epsilon_other=1.5, accountant="rdp",
                 charged_at=NOW - dt.timedelta(days=1))
    prior = [charge(at=NOW - dt.timedelta(days=2)), sgd]
    policy = BudgetPolicy.parse("k", {"lifetime": 10, "per_month": 9})
    decision = evaluate_policy(policy, prior, charge(), NOW)
    expected = compose([c.composition_entry() for c in prior] + [charge().composition_entry()]).epsilon
    assert decision.lifetime.would_be == pytest.approx(expected)
    assert decision.levels[-1].would_be == pytest.approx(expected)     # both entries fall in May


# ---- windows -----------------------------------------------------------------------------------------------------

def test_quarter_window_counts_only_this_quarter_and_resets_at_its_start():
    cap = composed(charge(), charge())
    policy = BudgetPolicy.parse("k", {"lifetime": 10, "per_quarter": cap})
    q2 = dt.datetime(2025, 4, 1)
    prior = [charge(at=q2), charge(at=q2 + dt.timedelta(days=20)),             # two in Q2: the quarter is full
             charge(at=q2 - dt.timedelta(microseconds=1))]                      # Q1: not counted
    decision = evaluate_policy(policy, prior, charge(), NOW)
    window = decision.levels[1]
    assert not decision.allowed and window.level == "per_quarter" and window.releases == 2
    assert (window.window_start, window.window_end) == (q2, dt.datetime(2025, 7, 1))
    assert window.spent == pytest.approx(cap) and window.frees_at == dt.datetime(2025, 7, 1)
    assert evaluate_policy(policy, prior[1:], charge(), NOW).allowed           # one in Q2 + the request fits
    assert evaluate_policy(policy, prior, charge(), dt.datetime(2025, 7, 1)).allowed


def test_rolling_window_slides_and_frees_exactly_when_the_oldest_entry_leaves():
    cap = composed(charge(), charge())
    policy = BudgetPolicy.parse("k", {"lifetime": 10, "window": "90d", "window_cap": cap})
    oldest, newer = NOW - dt.timedelta(days=80), NOW - dt.timedelta(days=10)
    prior = [charge(at=oldest), charge(at=newer)]
    decision = evaluate_policy(policy, prior, charge(), NOW)
    window = decision.levels[1]
    assert not decision.allowed and window.frees_at == oldest + dt.timedelta(days=90)
    assert window.window_start == NOW - dt.timedelta(days=90)
    before = window.frees_at - dt.timedelta(seconds=1)
    assert not evaluate_policy(policy, prior, charge(), before).allowed
    assert evaluate_policy(policy, prior, charge(), window.frees_at).allowed  # (now - 90d, now]: the oldest left
    with pytest.raises(BudgetPolicyExceededError) as info:
        enforce_policy(policy, prior, charge(), NOW)
    message = str(info.value)
    assert "level window 90d" in message and f"wait until {window.frees_at:%Y-%m-%d %H:%M} UTC" in message
    assert "spending rate" in message and "never expires" in message and "Nothing was charged." in message


def test_a_request_larger_than_the_window_cap_is_told_that_waiting_does_not_help():
    policy = BudgetPolicy.parse("k", {"lifetime": 10, "per_month": 1})
    with pytest.raises(BudgetPolicyExceededError, match="waiting does not help") as info:
        enforce_policy(policy, [], charge(2.0), NOW)
    assert info.value.decision.levels[1].frees_at is None


def test_entries_without_a_charge_time_count_in_every_window():
    policy = BudgetPolicy.parse("k", {"lifetime": 10, "per_day": 1.2, "window": "7d", "window_cap": 1.2})
    decision = evaluate_policy(policy, [charge(at=None)], charge(), NOW)
    assert [lv.releases for lv in decision.levels[1:]] == [1, 1] and not decision.allowed
    assert decision.levels[2].frees_at is None


def test_windows_limit_the_rate_but_the_lifetime_loss_keeps_growing_and_finally_binds():
    policy = BudgetPolicy.parse("k", {"lifetime": 2.5, "per_quarter": 1})
    prior: list[Charge] = []
    lifetimes = []
    at = dt.datetime(2024, 1, 15)
    for _ in range(20):                                  # one release of epsilon 1 per quarter, as the window allows
        decision = evaluate_policy(policy, prior, charge(), at)
        lifetimes.append(decision.lifetime_epsilon)
        if not decision.allowed:
            break
        prior.append(charge(at=at))
        at = Period.QUARTER.next_start(at) + dt.timedelta(days=14)
    assert not evaluate_policy(policy, prior[:1], charge(), dt.datetime(2024, 2, 1)).levels[1].allowed  # 1 a quarter
    assert lifetimes == sorted(lifetimes) and lifetimes[-1] > 2.5                # never reset by the windows
    assert [lv.level for lv in decision.refusals] == ["lifetime"]               # the quarter itself was empty
    assert composed(*prior) <= 2.5 < composed(*prior, charge()) and len(prior) >= 3


@pytest.mark.parametrize("period, at, start, end", [
    (Period.DAY, dt.datetime(2025, 3, 4, 17), dt.datetime(2025, 3, 4), dt.datetime(2025, 3, 5)),
    (Period.WEEK, dt.datetime(2025, 3, 9, 23), dt.datetime(2025, 3, 3), dt.datetime(2025, 3, 10)),   # Sunday
    (Period.MONTH, dt.datetime(2024, 12, 31), dt.datetime(2024, 12, 1), dt.datetime(2025, 1, 1)),
    (Period.QUARTER, dt.datetime(2025, 12, 31), dt.datetime(2025, 10, 1), dt.datetime(2026, 1, 1)),
    (Period.YEAR, dt.datetime(2025, 6, 1), dt.datetime(2025, 1, 1), dt.datetime(2026, 1, 1)),
])
def test_calendar_periods_are_utc_calendar_units(period, at, start, end):
    assert (period.start(at), period.next_start(at)) == (start, end)


def test_aware_timestamps_are_compared_in_utc():
    policy = BudgetPolicy.parse("k", {"lifetime": 10, "per_day": 1.2})
    tz = dt.timezone(dt.timedelta(hours=-5))
    late_local = dt.datetime(2025, 5, 9, 22, 0, tzinfo=tz)                  # = 2025-05-10 03:00 UTC
    decision = evaluate_policy(policy, [{"epsilon": 1.0, "rho": charge().rho, "delta": 1e-6,
                                         "delta_conversion": charge().delta_conversion,
                                         "started_at": late_local.isoformat()}], charge(), NOW)
    assert decision.levels[1].releases == 1 and not decision.allowed


# ---- release types -----------------------------------------------------------------------------------------------

def test_release_type_caps_each_release_and_unknown_types_are_refused_before_charging():
    policy = BudgetPolicy.parse("k", {"lifetime": 10, "release_types": {
        "internal_test": {"max_epsilon": 3}, "public": {"max_epsilon": 0.5, "max_delta": 1e-7}}})
    assert evaluate_policy(policy, [], charge(3.0, release_type="internal_test"), NOW).allowed
    assert not evaluate_policy(policy, [], charge(3.01, release_type="internal_test"), NOW).allowed
    assert evaluate_policy(policy, [], charge(0.5, release_type="public", delta=1e-7), NOW).allowed
    with pytest.raises(BudgetPolicyExceededError) as info:
        enforce_policy(policy, [], charge(0.6, release_type="public", delta=1e-6), NOW)
    message = str(info.value)
    assert "level release_type public (a per-release cap): requested epsilon=0.6 > cap epsilon=0.5" in message
    assert "Also over: release_type public (delta)" in message and "Nothing was charged." in message
    with pytest.raises(ConfigError, match="not declared.*Nothing was charged"):
        evaluate_policy(policy, [], charge(0.1, release_type="publik"), NOW)
    with pytest.raises(ConfigError, match="sets no release_type"):
        evaluate_policy(policy, [], charge(0.1), NOW)


def test_release_type_is_free_form_when_the_policy_declares_none():
    decision = evaluate_policy(BudgetPolicy.parse("k", 5), [], charge(release_type="vendor_share"), NOW)
    assert decision.allowed and [lv.level for lv in decision.levels] == ["lifetime"]


# ---- reports and serialised use ----------------------------------------------------------------------------------

def test_decision_reports_every_level_as_json():
    policy = BudgetPolicy.parse("k", {"lifetime": 10, "per_quarter": 2, "window": "30d", "window_cap": 1.5,
                                      "release_types": {"public": {"max_epsilon": 1}}})
    decision = evaluate_policy(policy, [charge(at=NOW - dt.timedelta(days=3), release_type="public")],
                               charge(release_type="public"), NOW)
    out = json.loads(json.dumps(decision.to_dict()))
    assert [lv["level"] for lv in out["levels"]] == ["lifetime", "release_type public", "per_quarter", "window 30d"]
    assert out["levels"][0]["remaining"] == pytest.approx(10 - 1.0)
    assert "never expires" in out["note"] and out["policy"]["per_quarter"] == 2


def test_serialised_reservations_never_overspend_a_window_under_parallel_requests():
    """The function is pure; called under the ledger's lock (as `Ledger.reserve` does) parallel builds cannot both
    take the last room in a window."""
    policy = BudgetPolicy.parse("k", {"lifetime": 100, "per_day": composed(charge(), charge(), charge())})
    ledger: list[Charge] = []
    lock = threading.Lock()
    outcomes: list[bool] = []

    def reserve():
        with lock:
            decision = evaluate_policy(policy, list(ledger), charge(), NOW)
            if decision.allowed:
                ledger.append(charge(at=NOW))
            outcomes.append(decision.allowed)

    threads = [threading.Thread(target=reserve) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == [False] * 5 + [True] * 3 and len(ledger) == 3
