"""`dpsynth ledger DATABASE [--schema S]`: show the privacy-budget ledger of a DuckDB file.

Prints one line per release (status, budget key, epsilon, cumulative composed epsilon vs cap), the per-key totals
composed in rho (and the plain sum, for comparison), and the `dpsynth:` comment of each released table.
"""

from __future__ import annotations

from pathlib import Path

from dpsynth_core.errors import InputError


def register(subparsers) -> None:
    p = subparsers.add_parser("ledger", help="show the privacy-budget ledger of a DuckDB file",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("database", help="DuckDB file the dbt project (or dbt_dpsynth) wrote")
    p.add_argument("--schema", default=None, help="schema of the ledger (default: the only one holding it)")
    p.set_defaults(func=run)


def run(args) -> int:
    import duckdb

    from dpsynth_core.accounting.composition import compose

    from ..engines.duckdb_engine import quote_ident
    from ..ledger import LEDGER_TABLE, Ledger, LedgerLocation

    if not Path(args.database).is_file():
        raise InputError(f"database {args.database!r} does not exist.", fix="run `make demo` or pass the right path.")
    con = duckdb.connect(args.database, read_only=True)
    schemas = [r[0] for r in con.execute("SELECT DISTINCT table_schema FROM information_schema.tables "
                                         "WHERE table_name = ?", [LEDGER_TABLE]).fetchall()]
    if args.schema:
        schemas = [s for s in schemas if s == args.schema]
    if len(schemas) != 1:
        raise InputError(f"found the ledger in schemas {schemas} of {args.database}.",
                         fix="pass --schema with one of them." if schemas else "build a dpsynth model first.")
    location = LedgerLocation(schemas[0])
    print(f"ledger {args.database}: {location.ledger}")
    rows = con.execute(
        f"SELECT status, budget_key, generator, epsilon, delta, cumulative_epsilon, cap_epsilon, rows, "
        f"target_relation, release_id FROM {location.ledger} ORDER BY started_at").fetchall()
    for status, key, gen, eps, delta, cum, cap, n, target, rid in rows:
        cap_text = f" of cap {cap:g}" if cap is not None else " (no cap)"
        print(f"  {status:<8} key={key} {gen} epsilon={eps:g} delta={delta:.3g} cumulative={cum:.4g}{cap_text} "
              f"rows={n} -> {target} release_id={rid}")
    book = Ledger(con, location)
    keys = [r[0] for r in con.execute(f"SELECT DISTINCT budget_key FROM {location.ledger} "
                                      "WHERE budget_key IS NOT NULL ORDER BY 1").fetchall()]
    for key in keys:
        total = compose(book.charged(key))
        print(f"  budget_key {key}: {total.releases} charged releases, composed epsilon={total.epsilon:.4g} "
              f"(delta={total.delta:.3g}, rho={total.rho:.4g}; plain sum of epsilons {total.epsilon_naive_sum:g})")
    comments = con.execute("SELECT schema_name, table_name, comment FROM duckdb_tables() "
                           "WHERE comment LIKE 'dpsynth:%' ORDER BY 1, 2").fetchall()
    for schema, table, comment in comments:
        print(f"  synthetic table {quote_ident(schema)}.{quote_ident(table)}: {comment}")
    print(f"  release records (JSON): SELECT record_json FROM {location.ledger} WHERE release_id = '<id>'")
    return 0
