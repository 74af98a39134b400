"""Approvals of releases: the append-only table `dpsynth_approvals` beside the ledger.

One row per approval: which release (its id, model and target), who, when (UTC), a note, and what the approver was
shown: the SHA-256 of the report file they read (`shown_kind` 'report', with its path) or, when no report exists, of
the release record (`shown_kind` 'release_record': the ledger's `record_json`, hashed as stored). Nothing in the
package updates or deletes a row. A `dpsynth_release` model whose candidate requires approval is built only when its
candidate's release id has a row (macros/release/dpsynth_release_governance.sql); the same row appears in the audit
narrative of the release report. The run-operation twin is macros/governance/dpsynth_approve.sql.

Approving records a decision about publishing; it costs no privacy budget and changes nothing the release
guarantees.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import uuid
from dataclasses import dataclass
from pathlib import Path

from dpsynth_core.errors import ConfigError, InputError

from .ledger import LedgerLocation, _now, ensure_tables
from .stores import store_for
from .tables import APPROVALS

SOURCE_CLI = "dpsynth approve"


@dataclass(frozen=True)
class Approval:
    """One row of `dpsynth_approvals`."""

    approval_id: str
    release_id: str
    model: str | None
    target_relation: str | None
    approved_by: str
    approved_at: _dt.datetime
    note: str | None
    shown_kind: str            # 'report' | 'release_record'
    shown_sha256: str
    shown_path: str | None
    source: str

    def to_row(self) -> dict:
        return {n: getattr(self, n) for n in APPROVALS.names}


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def find_report(reports_dir: str | Path | None, release_id: str) -> Path | None:
    """The HTML report of `release_id` under `reports_dir` (`<model>-<first 12 of the id>.html`), if exactly one."""
    if reports_dir is None or not Path(reports_dir).is_dir():
        return None
    found = sorted(Path(reports_dir).glob(f"*-{release_id[:12]}.html"))
    return found[0] if len(found) == 1 else None


def _released_row(con, location: LedgerLocation, release_id: str) -> tuple:
    rows = con.execute(f"SELECT release_id, model, target_relation, record_json, expires_at FROM {location.ledger} "
                       "WHERE status = 'released' AND release_id LIKE ?", [f"{release_id}%"]).fetchall()
    if len(release_id) < 8 or len(rows) != 1:
        raise InputError(f"release id {release_id!r} matches {len(rows) if len(release_id) >= 8 else 'too many'} "
                         f"released ledger rows in {location.ledger}.",
                         fix="pass the full release_id of a released row (see `dpsynth ledger FILE`).")
    return rows[0]


def approve(con, location: LedgerLocation, release_id: str, *, by: str, note: str | None = None,
            report: str | Path | None = None, reports_dir: str | Path | None = None,
            source: str = SOURCE_CLI, now: _dt.datetime | None = None) -> Approval:
    """Append an approval of `release_id` (a full id or a unique prefix of at least 8 characters).

    Args:
        con: a read-write DuckDB connection holding the ledger.
        location: the ledger's location.
        release_id: the release approved (a 'released' ledger row).
        by: who approves (required).
        note: free text (why, conditions).
        report: the report file the approver read; its SHA-256 is recorded.
        reports_dir: where to look for the release's report when `report` is not given (the file found is hashed);
            without one, the release record's SHA-256 is recorded.
        source: how the approval was made (for the audit trail).
        now: the approval time (default: now, UTC).
    Returns:
        The Approval written.
    Raises:
        ConfigError without `by`, or when the release has expired or was withdrawn; InputError when the id matches
        no single released row or the report file does not exist.
    """
    if not by or not str(by).strip():
        raise ConfigError("an approval needs the approver's name.", fix="pass --by <your name>.")
    ensure_tables(con, location)
    rid, model, target, record_json, expires_at = _released_row(con, location, release_id)
    now = now or _now()
    if expires_at is not None and expires_at <= now:
        raise ConfigError(f"release {rid} expired at {expires_at:%Y-%m-%d %H:%M} UTC; approving it would publish "
                          "nothing.", fix="make a new release (--vars '{dpsynth_refresh: [<model>]}') and approve it.")
    withdrawn = con.execute(f"SELECT error FROM {location.ledger} WHERE release_id = ? AND status = 'withdrawn'",
                            [rid]).fetchall()
    if withdrawn:
        raise ConfigError(f"release {rid} was withdrawn ({withdrawn[0][0]}); it cannot be approved.",
                          fix="approve a new release instead.")
    path = Path(report) if report is not None else find_report(reports_dir, rid)
    if path is not None and not path.is_file():
        raise InputError(f"report file {str(path)!r} does not exist.", fix="pass the report you reviewed.")
    if path is not None:
        kind, digest = "report", sha256_file(path)
    else:
        kind, digest = "release_record", hashlib.sha256((record_json or "").encode("utf-8")).hexdigest()
    approval = Approval(uuid.uuid4().hex, str(rid), model, target, str(by).strip(), now, note, kind, digest,
                        str(path) if path is not None else None, source)
    row = approval.to_row()
    store_for(con).serialised(lambda c: c.insert(location, APPROVALS, [row]), location)
    return approval


def approvals_by_release(con, location: LedgerLocation) -> dict[str, list[dict]]:
    """`{release_id: [approval rows, oldest first]}` (empty when the table does not exist yet)."""
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = ?",
                                        [location.schema]).fetchall()}
    if APPROVALS.table not in tables:
        return {}
    names = APPROVALS.names
    out: dict[str, list[dict]] = {}
    for values in con.execute(f"SELECT {', '.join(location.quote(n) for n in names)} FROM {location.approvals} "
                              "ORDER BY approved_at").fetchall():
        row = dict(zip(names, values, strict=True))
        out.setdefault(str(row["release_id"]), []).append(row)
    return out


def with_approvals(ledger_rows: list[dict], approvals: dict[str, list[dict]]) -> list[dict]:
    """The ledger rows with each released row's approvals attached (for the audit narrative): `approvals` (every
    row, oldest first) and `approved_by`, `approved_at`, `approval_note` of the newest."""
    out = []
    for row in ledger_rows:
        found = approvals.get(str(row.get("release_id"))) if row.get("status") == "released" else None
        if found:
            newest = found[-1]
            row = {**row, "approvals": found, "approved_by": newest["approved_by"],
                   "approved_at": newest["approved_at"], "approval_note": newest["note"]}
        out.append(row)
    return out
