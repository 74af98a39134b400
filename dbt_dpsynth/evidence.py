"""Release reports from a DuckDB warehouse: read the ledger, caps, metrics and evaluation details, hand plain dicts to
`dpsynth_core.report`, write one HTML/JSON/Markdown report per release.

Tables read (all in the ledger's schema): `dpsynth_ledger`, `dpsynth_budget_caps`, `dpsynth_approvals` (optional),
`dpsynth_metrics` (optional) and
`dpsynth_evaluation_details` (optional; the evaluation's plot data, one JSON document per release, NOT DP like the
metrics). Used by `dpsynth report` and meant for the dbt on-run-end step.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

from dpsynth_core.errors import InputError
from dpsynth_core.report import evidence_from_rows, write_release_report

from .approvals import approvals_by_release, with_approvals
from .ledger import CAPS_TABLE, LEDGER_TABLE, LedgerLocation
from .metrics import METRICS_TABLE
from .tables import DETAILS, LEDGER, METRICS

DETAILS_TABLE = DETAILS.table
DEFAULT_OUT_DIR = Path("target") / "dpsynth"


def _tables(con, schema: str) -> set[str]:
    return {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = ?",
                                      [schema]).fetchall()}


def find_ledger(con, schema: str | None = None, where: str = "the database") -> LedgerLocation:
    """The ledger's location: `schema` when given, else the only schema holding a ledger table."""
    schemas = [r[0] for r in con.execute("SELECT DISTINCT table_schema FROM information_schema.tables "
                                         "WHERE table_name = ? ORDER BY 1", [LEDGER_TABLE]).fetchall()]
    if schema:
        schemas = [s for s in schemas if s == schema]
    if len(schemas) != 1:
        raise InputError(f"found the dpsynth ledger in schemas {schemas} of {where}.",
                         fix="pass --schema with one of them." if schemas else "build a dpsynth model first.")
    return LedgerLocation(schemas[0])


def _rows(con, location: LedgerLocation, table: str, columns) -> list[dict[str, Any]]:
    # columns a newer package version added are read as missing (a report of an older warehouse file still works)
    have = {r[0].lower() for r in con.execute(f"SELECT * FROM {table} LIMIT 0").description}
    names = [n for n, _ in columns if n.lower() in have]
    result = con.execute(f"SELECT {', '.join(location.quote(n) for n in names)} FROM {table}").fetchall()
    return [dict(zip(names, r)) for r in result]


def latest_caps(con, location: LedgerLocation) -> dict[str, float]:
    """The most recently recorded cap of each budget key."""
    if CAPS_TABLE not in _tables(con, location.schema):
        return {}
    rows = con.execute(f"SELECT budget_key, cap_epsilon FROM {location.caps} WHERE budget_key IS NOT NULL "
                       "ORDER BY recorded_at").fetchall()
    return {k: float(v) for k, v in rows}


def write_details(con, location: LedgerLocation, release_id: str, model: str | None,
                  details: Mapping[str, Any], computed_at=None) -> None:
    """Append one release's evaluation details (`EvaluationReport.details`) to `dpsynth_evaluation_details`."""
    import datetime as _dt

    table = location.qualify(DETAILS_TABLE)
    con.execute(DETAILS.create_sql(location.dialect, table))
    when = computed_at or _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None)
    con.execute(f"INSERT INTO {table} VALUES (?, ?, ?, ?)",
                [release_id, model, json.dumps(details, allow_nan=False), when])


def load_evidence(con, location: LedgerLocation, release_id: str | None = None, where: str = "",
                  invocation_id: str | None = None) -> list:
    """`ReleaseEvidence` of every released row (or of `release_id`, a full id or a unique prefix; or of one dbt
    invocation's releases), oldest first."""
    tables = _tables(con, location.schema)
    ledger = with_approvals(_rows(con, location, location.ledger, LEDGER.columns), approvals_by_release(con, location))
    released = sorted((r for r in ledger if r.get("status") == "released" and r.get("record_json")),
                      key=lambda r: str(r.get("started_at")))
    if invocation_id:
        released = [r for r in released if r.get("invocation_id") == invocation_id]
    if release_id:
        released = [r for r in released if str(r["release_id"]).startswith(release_id)]
        if len(released) != 1:
            raise InputError(f"release id {release_id!r} matches {len(released)} released ledger rows.",
                             fix="pass a full release_id from `dpsynth ledger`.")
    caps = latest_caps(con, location)
    metrics_table = location.qualify(METRICS_TABLE)
    metrics = _rows(con, location, metrics_table, METRICS.columns) if METRICS_TABLE in tables else []
    details: dict[str, str] = {}
    if DETAILS_TABLE in tables:
        for rid, doc in con.execute(f"SELECT release_id, details_json FROM {location.qualify(DETAILS_TABLE)} "
                                    "ORDER BY computed_at").fetchall():
            details[str(rid)] = doc
    suffix = f" of {where}" if where else ""
    out = []
    for row in released:
        rid = str(row["release_id"])
        out.append(evidence_from_rows(rid, ledger, caps, metrics, details.get(rid),
                                      metrics_location=f"{metrics_table}{suffix}" if metrics else None))
    return out


def write_reports(con, location: LedgerLocation, out_dir: str | Path = DEFAULT_OUT_DIR, release_id: str | None = None,
                  where: str = "", invocation_id: str | None = None) -> list[dict[str, Path]]:
    """Write the report of each selected release under `out_dir`; returns the paths per release."""
    return [write_release_report(ev, out_dir)
            for ev in load_evidence(con, location, release_id, where=where, invocation_id=invocation_id)]
