"""Opening the ledger of a DuckDB file (shared by `dpsynth ledger` and `dpsynth budget`)."""

from __future__ import annotations

import json
from pathlib import Path

from dbt_dpsynth.ledger import LEDGER_TABLE, LedgerLocation
from dpsynth_core.errors import InputError


def open_ledger(database: str, schema: str | None = None):
    """(read-only DuckDB connection, LedgerLocation) of the ledger in `database`.

    Raises:
        InputError: the file does not exist, or holds no ledger / several and `schema` does not pick one.
    """
    import duckdb

    if not Path(database).is_file():
        raise InputError(f"database {database!r} does not exist.", fix="run `make demo` or pass the right path.")
    con = duckdb.connect(database, read_only=True)
    schemas = [r[0] for r in con.execute("SELECT DISTINCT table_schema FROM information_schema.tables "
                                         "WHERE table_name = ?", [LEDGER_TABLE]).fetchall()]
    if schema:
        schemas = [s for s in schemas if s == schema]
    if len(schemas) != 1:
        con.close()
        raise InputError(f"found the ledger in schemas {schemas} of {database}.",
                         fix="pass --schema with one of them." if schemas else "build a dpsynth model first.")
    return con, LedgerLocation(schemas[0])


def add_arguments(parser) -> None:
    parser.add_argument("database", help="DuckDB file the dbt project (or dbt_dpsynth) wrote")
    parser.add_argument("--schema", default=None, help="schema of the ledger (default: the only one holding it)")


def _when(at) -> str:
    return f"{at:%Y-%m-%d %H:%M:%S}" if at is not None else "?"


def format_key_status(s) -> str:
    """One line per budget key (shared wording of `dpsynth ledger` and `dpsynth budget`)."""
    if s.cap_epsilon is None:
        cap = "no cap"
    else:
        cap = f"cap {s.cap_epsilon:g}, remaining {s.remaining_epsilon:.4g}"
        if s.cap_set_at is not None:
            was = f" (was {s.cap_previous_epsilon:g})" if s.cap_previous_epsilon is not None else ""
            cap += (f" (cap set{was} {_when(s.cap_set_at)} by {s.cap_set_by or 'unknown'} from "
                    f"{s.cap_source or 'unknown'}; {s.cap_changes} cap change{'s' if s.cap_changes != 1 else ''})")
    last = (f"last release {s.last_release_id} ({s.last_release_status}, {s.last_release_model}, "
            f"{_when(s.last_release_at)})" if s.last_release_id else "no release yet")
    reused = (f"; {s.reused} reuse{'s' if s.reused != 1 else ''} of stored releases (not charged), last "
              f"{_when(s.last_reused_at)}" if s.reused else "")
    windows = "".join(f"; {w['window']}: spent {w['spent']:.4g} of {w['cap']:g}, remaining {w['remaining']:.4g}"
                      for w in json.loads(s.windows_json or "[]"))
    if windows:
        windows += " (windows limit the rate; the composed epsilon above never expires)"
    return (f"budget_key {s.budget_key}: {s.releases} charged releases, composed epsilon={s.spent_epsilon:.4g} "
            f"(delta={s.spent_delta:.3g}, rho={s.spent_rho:.4g}; plain sum of epsilons {s.spent_epsilon_naive:g}); "
            f"{cap}{windows}; {last}{reused}")
