"""`dpsynth ledger DATABASE [--schema S]`: show the privacy-budget ledger of a DuckDB file.

Prints one line per release (status, budget key, epsilon, cumulative composed epsilon vs cap), one line per budget key
(charged releases, composed epsilon, delta and rho, the plain sum for comparison, the cap in force, what remains and the
last release; the numbers of `dpsynth budget`), and the `dpsynth:` comment of each released table.
"""

from __future__ import annotations

from dbt_dpsynth.budget_status import budget_status

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
        rows = con.execute(
            f"SELECT status, budget_key, generator, epsilon, delta, cumulative_epsilon, cap_epsilon, rows, "
            f"target_relation, release_id FROM {location.ledger} ORDER BY started_at").fetchall()
        for status, key, gen, eps, delta, cum, cap, n, target, rid in rows:
            cap_text = f" of cap {cap:g}" if cap is not None else " (no cap)"
            print(f"  {status:<8} key={key} {gen} epsilon={eps:g} delta={delta:.3g} cumulative={cum:.4g}{cap_text} "
                  f"rows={n} -> {target} release_id={rid}")
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
