"""`dpsynth ledger DATABASE [--schema S]`: show the privacy-budget ledger of a DuckDB file.

Prints one line per ledger row (status, budget key, epsilon, cumulative composed epsilon vs cap; a 'reused' row serves a
stored release again and is not charged; 'published', 'dropped' and 'withdrawn' are governance events, never
charged), the
approvals, the caps history (each cap or policy set or changed: when, by whom, from where), one
line per budget key (charged releases, composed epsilon, delta and rho, the plain sum for comparison, the cap in force,
what remains, the last release and the reuses; the numbers of `dpsynth budget`), and the `dpsynth:` comment of each
stamped table.
"""

from __future__ import annotations

from dbt_dpsynth.approvals import approvals_by_release
from dbt_dpsynth.budget_status import budget_status
from dbt_dpsynth.ledger import EVENT_STATUSES, REUSED_STATUS, cap_history

from .ledger_file import add_arguments, format_key_status, open_ledger


def register(subparsers) -> None:
    p = subparsers.add_parser("ledger", help="show the privacy-budget ledger of a DuckDB file",
                              description=__doc__.split("\n\n")[0])
    add_arguments(p)
    p.set_defaults(func=run)


def run(args) -> int:
    con, location = open_ledger(args.database, args.schema)
    try:
        print(f"ledger {args.database}: {location.ledger}")
        have = {r[0].lower() for r in con.execute(f"SELECT * FROM {location.ledger} LIMIT 0").description}
        extra = [c if c in have else f"NULL AS {c}" for c in ("release_type", "expires_at", "error")]
        rows = con.execute(
            f"SELECT status, budget_key, generator, epsilon, delta, cumulative_epsilon, cap_epsilon, rows, "
            f"target_relation, release_id, {', '.join(extra)} FROM {location.ledger} ORDER BY started_at").fetchall()
        for status, key, gen, eps, delta, cum, cap, n, target, rid, rtype, expires, note in rows:
            if status in EVENT_STATUSES:
                print(f"  {status:<8} key={key} release_id={rid} -> {target}; governance event, not charged"
                      + (f"; {note}" if note else ""))
                continue
            cap_text = f" of cap {cap:g}" if cap is not None else " (no cap)"
            cap_text += (f" type={rtype}" if rtype else "") + (f" expires={expires:%Y-%m-%d %H:%M}" if expires else "")
            if status == REUSED_STATUS:
                print(f"  {status:<8} key={key} {gen} stored release served again, not charged; cumulative stays "
                      f"{cum:.4g}{cap_text} rows={n} -> {target} release_id={rid}")
                continue
            print(f"  {status:<8} key={key} {gen} epsilon={eps:g} delta={delta:.3g} cumulative={cum:.4g}{cap_text} "
                  f"rows={n} -> {target} release_id={rid}")
        for rid, approvals in approvals_by_release(con, location).items():
            for a in approvals:
                print(f"  approved release_id={rid} by {a['approved_by']} at {a['approved_at']:%Y-%m-%d %H:%M:%S} "
                      f"(shown: {a['shown_kind']} sha256 {str(a['shown_sha256'])[:16]}...)"
                      + (f": {a['note']}" if a["note"] else ""))
        for change in cap_history(con, location):
            was = f" (was {change.previous_cap_epsilon:g})" if change.previous_cap_epsilon is not None else ""
            policy = f" with policy {change.policy_json}" if change.policy_json else ""
            print(f"  cap      key={change.budget_key} set to {change.cap_epsilon:g}{was}{policy} at "
                  f"{change.recorded_at:%Y-%m-%d %H:%M:%S} by {change.recorded_by or 'unknown'} from "
                  f"{change.source or 'unknown'}")
        for status in budget_status(con, location):
            print(f"  {format_key_status(status)}")
        comments = con.execute("SELECT schema_name, table_name, comment FROM duckdb_tables() "
                               "WHERE comment LIKE 'dpsynth:%' ORDER BY 1, 2").fetchall()
        for schema, table, comment in comments:
            print(f"  synthetic table {location.quote(schema)}.{location.quote(table)}: {comment}")
        print(f"  release records (JSON): SELECT record_json FROM {location.ledger} WHERE release_id = '<id>'")
    finally:
        con.close()
    return 0
