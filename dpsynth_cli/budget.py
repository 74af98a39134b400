"""`dpsynth budget DATABASE [--schema S] [--json]`: budget status per key of the ledger in a DuckDB file.

One line per budget key: charged releases, composed epsilon spent (delta, rho, plain sum), cap in force, remaining
epsilon and the last release. Same numbers as the package's `dpsynth_budget_status` model
(`dbt_dpsynth.budget_status`). Reads the ledger only.
"""

from __future__ import annotations

import dataclasses
import json

from dbt_dpsynth.budget_status import budget_status

from .ledger_file import add_arguments, format_key_status, open_ledger


def register(subparsers) -> None:
    p = subparsers.add_parser("budget", help="budget status per key: cap, composed spend, remaining, last release",
                              description=__doc__.split("\n\n")[0])
    add_arguments(p)
    p.add_argument("--json", action="store_true", help="print a JSON list (one object per key) instead")
    p.set_defaults(func=run)


def run(args) -> int:
    con, location = open_ledger(args.database, args.schema)
    try:
        statuses = budget_status(con, location)
    finally:
        con.close()
    if args.json:
        print(json.dumps([dataclasses.asdict(s) for s in statuses], indent=2, default=str))
        return 0
    print(f"budget {args.database}: {location.ledger}")
    for status in statuses:
        print(f"  {format_key_status(status)}")
    if not statuses:
        print("  no budget keys yet")
    return 0
