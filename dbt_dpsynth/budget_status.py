"""Budget status per key and the release catalogue, computed from the ledger, for the CLI (`dpsynth budget`,
`dpsynth ledger`). The package's dbt models `dpsynth_budget_status` / `dpsynth_release_catalogue` are SQL views over
the same tables (python_models/*.sql: a view sees the releases a `dbt build` makes after creating it); tests compare
every column of the views with these functions.

Everything here reads the ledger only (public bookkeeping: which releases happened at which epsilon), never a source.
'reused' ledger rows (a stored release re-materialised) are counted and shown, never charged.
"""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import asdict, dataclass

import pandas as pd

from dpsynth_core.accounting.composition import compose
from dpsynth_core.accounting.policy import Charge

from .ledger import (
    CHARGED_STATUSES,
    REUSED_STATUS,
    Ledger,
    LedgerLocation,
    cap_history,
    caps_in_force,
    policies_in_force,
)


@dataclass(frozen=True)
class KeyStatus:
    """Spend of one budget key.

    Attributes:
        budget_key: the key.
        cap_epsilon: the cap in force (see `ledger.caps_in_force`: the newest row of the caps history, never dropped
            because an invocation did not name the key); None when the key never had one.
        spent_epsilon: composed epsilon of every charged release of the key (zCDP rho-composition, basic composition
            for DP-SGD parts; the ledger's own arithmetic, `dpsynth_core.accounting.composition.compose`).
        remaining_epsilon: cap - spent, floored at 0 (None without a cap). The ledger decides by composing the next
            request with the spend, so a request a little above this can still fit.
        spent_epsilon_naive: plain sum of the charged releases' epsilons (for comparison).
        spent_delta: summed delta.
        spent_rho: summed rho of the zCDP parts.
        releases: charged ledger rows (every status: reserved, released, failed).
        released, failed, reserved: the charged rows by status.
        last_release_id, last_release_model, last_release_status, last_release_at: the key's newest charged ledger
            row, i.e. its newest release attempt (finished_at, or started_at while it is still reserved).
        reused: 'reused' rows of the key (stored releases served again; not charged); last_reused_at the newest.
        cap_changes: rows of the caps history for the key; cap_set_at, cap_set_by, cap_source,
            cap_previous_epsilon: the newest of them (when, who, from where, and the cap it replaced).
        policy_json: the key's budget policy in force when it is more than a lifetime cap (windows, release types).
        windows_json: each window of that policy as of now: [{window, cap, spent, remaining, releases, start, end}]
            (windows limit the spending rate; `spent_epsilon` above, the lifetime loss, never expires).
    """

    budget_key: str
    cap_epsilon: float | None
    spent_epsilon: float
    remaining_epsilon: float | None
    spent_epsilon_naive: float
    spent_delta: float
    spent_rho: float
    releases: int
    released: int
    failed: int
    reserved: int
    last_release_id: str | None
    last_release_model: str | None
    last_release_status: str | None
    last_release_at: _dt.datetime | None
    reused: int = 0
    last_reused_at: _dt.datetime | None = None
    cap_changes: int = 0
    cap_set_at: _dt.datetime | None = None
    cap_set_by: str | None = None
    cap_source: str | None = None
    cap_previous_epsilon: float | None = None
    policy_json: str | None = None
    windows_json: str | None = None


# one row per ledger row: the catalogue's columns, in order
CATALOGUE_COLUMNS = ("release_id", "model", "target_relation", "source_relation", "budget_key", "generator",
                     "epsilon", "delta", "accountant", "status", "rows", "started_at", "finished_at", "invocation_id")


def budget_status(con, location: LedgerLocation) -> list[KeyStatus]:
    """One `KeyStatus` per budget key that has ledger rows or a recorded cap, sorted by key."""
    book = Ledger(con, location)
    caps = caps_in_force(con, location)
    policies = policies_in_force(con, location)
    now = _utcnow()
    history: dict[str, list] = {}
    for change in cap_history(con, location):
        history.setdefault(change.budget_key, []).append(change)
    marks = ", ".join("?" for _ in CHARGED_STATUSES)
    newest = {}
    for key, rid, model, status, started, finished in con.execute(
            f"SELECT budget_key, release_id, model, status, started_at, finished_at FROM {location.ledger} "
            f"WHERE budget_key IS NOT NULL AND status IN ({marks}) ORDER BY started_at",
            list(CHARGED_STATUSES)).fetchall():
        newest[str(key)] = (rid, model, status, finished or started)
    counts: dict[str, dict[str, int]] = {}
    last_reuse: dict[str, _dt.datetime] = {}
    for key, status, n, last in con.execute(
            f"SELECT budget_key, status, count(*), max(finished_at) FROM {location.ledger} WHERE budget_key IS NOT "
            f"NULL AND status IN ({marks}, ?) GROUP BY 1, 2", [*CHARGED_STATUSES, REUSED_STATUS]).fetchall():
        counts.setdefault(str(key), {})[str(status)] = int(n)
        if status == REUSED_STATUS:
            last_reuse[str(key)] = last
    out = []
    for key in sorted(set(newest) | set(caps) | set(counts)):
        charged = book.charged(key)
        total = compose(charged)
        policy_json, windows_json = _policy_columns(policies.get(key), charged, now)
        cap = caps.get(key)
        last = newest.get(key, (None, None, None, None))
        by_status = counts.get(key, {})
        changes = history.get(key, [])
        latest = changes[-1] if changes else None
        out.append(KeyStatus(
            budget_key=key, cap_epsilon=cap, spent_epsilon=total.epsilon,
            remaining_epsilon=None if cap is None else max(cap - total.epsilon, 0.0),
            spent_epsilon_naive=total.epsilon_naive_sum, spent_delta=total.delta, spent_rho=total.rho,
            releases=total.releases, released=by_status.get("released", 0), failed=by_status.get("failed", 0),
            reserved=by_status.get("reserved", 0), last_release_id=last[0], last_release_model=last[1],
            last_release_status=last[2], last_release_at=last[3], reused=by_status.get(REUSED_STATUS, 0),
            last_reused_at=last_reuse.get(key), cap_changes=len(changes),
            cap_set_at=latest.recorded_at if latest else None, cap_set_by=latest.recorded_by if latest else None,
            cap_source=latest.source if latest else None,
            cap_previous_epsilon=latest.previous_cap_epsilon if latest else None,
            policy_json=policy_json, windows_json=windows_json))
    return out


def _policy_columns(policy, charged: list[dict], now: _dt.datetime) -> tuple[str | None, str | None]:
    """(policy JSON, windows JSON) of a key whose policy is more than a lifetime cap; (None, None) otherwise."""
    if policy is None or (not policy.windows and not policy.release_types):
        return None, None
    entries = [Charge.from_mapping(c) for c in charged]
    windows = []
    for w in policy.windows:
        inside = [c for c in entries if w.holds(c.charged_at, now)]
        spent = compose(c.composition_entry() for c in inside).epsilon
        start, end = w.bounds(now)
        windows.append({"window": w.label, "cap": w.cap, "spent": spent, "remaining": max(w.cap - spent, 0.0),
                        "releases": len(inside), "start": start.isoformat(), "end": end.isoformat() if end else None})
    return json.dumps(policy.to_dict(), sort_keys=True), json.dumps(windows)


def release_catalogue(con, location: LedgerLocation) -> list[dict]:
    """One dict per ledger row (every status), oldest first, with the `CATALOGUE_COLUMNS`."""
    cols = ", ".join(location.quote(c) for c in CATALOGUE_COLUMNS)
    rows = con.execute(f"SELECT {cols} FROM {location.ledger} ORDER BY started_at").fetchall()
    return [dict(zip(CATALOGUE_COLUMNS, r, strict=True)) for r in rows]


_STATUS_DTYPES = {"budget_key": "string", "cap_epsilon": "Float64", "spent_epsilon": "Float64",
                  "remaining_epsilon": "Float64", "spent_epsilon_naive": "Float64", "spent_delta": "Float64",
                  "spent_rho": "Float64", "releases": "Int64", "released": "Int64", "failed": "Int64",
                  "reserved": "Int64", "last_release_id": "string", "last_release_model": "string",
                  "last_release_status": "string", "last_release_at": "datetime64[us]", "reused": "Int64",
                  "last_reused_at": "datetime64[us]", "cap_changes": "Int64", "cap_set_at": "datetime64[us]",
                  "cap_set_by": "string", "cap_source": "string", "cap_previous_epsilon": "Float64",
                  "policy_json": "string", "windows_json": "string"}
_CATALOGUE_DTYPES = {"release_id": "string", "model": "string", "target_relation": "string",
                     "source_relation": "string", "budget_key": "string", "generator": "string", "epsilon": "Float64",
                     "delta": "Float64", "accountant": "string", "status": "string", "rows": "Int64",
                     "started_at": "datetime64[us]", "finished_at": "datetime64[us]", "invocation_id": "string"}


def _frame(records: list[dict], dtypes: dict[str, str], as_of: _dt.datetime) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(records, columns=list(dtypes)).astype(dtypes)
    frame["as_of"] = pd.Series([as_of] * len(frame), dtype="datetime64[us]")
    return frame


def status_frame(con, location: LedgerLocation, as_of: _dt.datetime | None = None) -> pd.DataFrame:
    """`budget_status` as a DataFrame (typed even when empty) with an `as_of` column (UTC, naive; taken before the
    ledger is read, so every row it shows was committed by then)."""
    as_of = as_of or _utcnow()
    return _frame([asdict(s) for s in budget_status(con, location)], _STATUS_DTYPES, as_of)


def catalogue_frame(con, location: LedgerLocation, as_of: _dt.datetime | None = None) -> pd.DataFrame:
    """`release_catalogue` as a DataFrame (typed even when empty) with an `as_of` column (UTC, naive)."""
    as_of = as_of or _utcnow()
    return _frame(release_catalogue(con, location), _CATALOGUE_DTYPES, as_of)


def _utcnow() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None)
