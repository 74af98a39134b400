"""`dpsynth report LEDGER.duckdb [--release ID] [--out DIR] [--schema S]`: one HTML report per release (plus the same
content as JSON and Markdown) from a DuckDB file holding the dpsynth ledger. `--written [--invocation ID]` renders
nothing: it lists the reports the dbt models of the newest (or that) invocation wrote (`dpsynth_reports`).

Reports of evaluated releases contain the (non-DP) metrics of real rows: they are as sensitive as the metrics table.
"""

from __future__ import annotations

from pathlib import Path

from dpsynth_core.errors import InputError


def register(subparsers) -> None:
    p = subparsers.add_parser("report", help="write the release reports (HTML, JSON, Markdown) of a DuckDB ledger",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("database", help="DuckDB file the dbt project (or dbt_dpsynth) wrote")
    p.add_argument("--release", default=None, help="one release id (or a unique prefix); default: every release")
    p.add_argument("--out", default="target/dpsynth", help="output directory (default target/dpsynth)")
    p.add_argument("--schema", default=None, help="schema of the ledger (default: the only one holding it)")
    p.add_argument("--written", action="store_true",
                   help="list the reports dbt models wrote (newest invocation, or --invocation) instead of rendering")
    p.add_argument("--invocation", default=None, help="with --written: a dbt invocation id")
    p.set_defaults(func=run)


def _list_written(con, location, args) -> int:
    from dbt_dpsynth.evidence import reports_written

    rows = reports_written(con, location, args.invocation)
    if not rows:
        print(f"dpsynth report: no report written by a dbt model recorded in {location.schema} of {args.database}"
              + (f" for invocation {args.invocation}" if args.invocation else ""))
        return 0
    print(f"dpsynth report: HTML reports of the {len(rows)} release(s) of dbt invocation {rows[0]['invocation_id']}:")
    for r in rows:
        missing = "" if Path(str(r["absolute_path"])).is_file() else " (file no longer there)"
        print(f"  {r['absolute_path']}{missing}")
    return 0


def run(args) -> int:
    import duckdb

    from dbt_dpsynth.evidence import find_ledger, write_reports

    if not Path(args.database).is_file():
        raise InputError(f"database {args.database!r} does not exist.", fix="run `make demo` or pass the right path.")
    con = duckdb.connect(args.database, read_only=True)
    try:
        location = find_ledger(con, args.schema, where=args.database)
        if args.written:
            return _list_written(con, location, args)
        written = write_reports(con, location, args.out, args.release, where=args.database)
    finally:
        con.close()
    if not written:
        print(f"dpsynth report: no released rows in {location.ledger} of {args.database}")
    for paths in written:
        print(f"dpsynth report: {paths['html']} (also {paths['json'].name}, {paths['md'].name})")
    return 0
