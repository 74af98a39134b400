"""`dpsynth approve DATABASE RELEASE_ID --by NAME [--note TEXT] [--report FILE]`: approve a release for publication.

Appends one row to the ledger's append-only `dpsynth_approvals` table: who, when (UTC), the note and what was shown (the
SHA-256 of the report file, `--report` or the release's report under `--reports-dir`; else of the release record). A
`dpsynth_release` model whose candidate requires approval (`require_approval: true`) is built by the next dbt build;
the candidate is reused, so nothing is charged again. Costs no privacy budget. The dbt twin is
`dbt run-operation dpsynth_approve --args '{release_id: ..., by: ...}'`.
"""

from __future__ import annotations

from pathlib import Path

from dpsynth_core.errors import InputError


def register(subparsers) -> None:
    p = subparsers.add_parser("approve", help="approve a release for publication (append-only approvals table)",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("database", help="DuckDB file holding the dpsynth ledger")
    p.add_argument("release_id", help="release id (or a unique prefix of at least 8 characters)")
    p.add_argument("--by", required=True, help="who approves (recorded as given)")
    p.add_argument("--note", default=None, help="why, or under which conditions")
    p.add_argument("--report", default=None, help="the report file you reviewed (its SHA-256 is recorded)")
    p.add_argument("--reports-dir", default="target/dpsynth",
                   help="where to find the release's report when --report is not given (default target/dpsynth)")
    p.add_argument("--schema", default=None, help="schema of the ledger (default: the only one holding it)")
    p.set_defaults(func=run)


def run(args) -> int:
    import duckdb

    from dbt_dpsynth.approvals import approve
    from dbt_dpsynth.evidence import find_ledger

    if not Path(args.database).is_file():
        raise InputError(f"database {args.database!r} does not exist.", fix="pass the DuckDB file dbt writes to.")
    con = duckdb.connect(args.database)
    try:
        location = find_ledger(con, args.schema, where=args.database)
        done = approve(con, location, args.release_id, by=args.by, note=args.note, report=args.report,
                       reports_dir=args.reports_dir)
    finally:
        con.close()
    shown = (f"report {done.shown_path}" if done.shown_kind == "report" else "the release record") + \
        f" (sha256 {done.shown_sha256[:16]}...)"
    print(f"dpsynth approve: release {done.release_id} of {done.target_relation or done.model} approved by "
          f"{done.approved_by} at {done.approved_at:%Y-%m-%d %H:%M:%S} UTC; shown: {shown}. The next dbt build "
          "publishes it through its dpsynth_release model (the candidate is reused: no new charge).")
    return 0
