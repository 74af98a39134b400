"""`dpsynth scan INPUT [--table T] [--format spec|dbt] [--json]`: which columns look like identifiers (owner-facing).

Reads the owner's raw table (CSV, Parquet, or `--table` in a DuckDB file) and reports columns that look like direct
identifiers or fine-grained quasi-identifiers, with a suggested spec to copy by hand. The output is not differentially
private and never feeds a release (see dpsynth_core/pii_scan.py).
"""

from __future__ import annotations

import json
from pathlib import Path

from dpsynth_core.pii_scan import scan_frame

from ._tables import read_table


def register(subparsers) -> None:
    p = subparsers.add_parser("scan", help="report columns that look like identifiers (owner-facing, not DP)",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("input", help="table file (.csv, .parquet, or a .duckdb file with --table)")
    p.add_argument("--table", default=None, help="[schema.]table inside a DuckDB file")
    p.add_argument("--max-rows", type=int, default=200_000, help="scan at most this many rows (default 200000)")
    p.add_argument("--format", choices=("spec", "dbt"), default="spec",
                   help="suggested spec as a --spec file (default) or as schema.yml columns with meta.dpsynth")
    p.add_argument("--json", action="store_true", help="print the full report as JSON")
    p.set_defaults(func=run)


def run(args) -> int:
    name = args.table or Path(args.input).stem
    report = scan_frame(read_table(args.input, args.table, limit=args.max_rows), table=name)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(report.to_text(args.format), end="")
    return 0
