"""After `make demo` ran a second time on the same DuckDB file: that invocation spent nothing. Every ledger row it
wrote is a 'reused' event (a stored release served again, not charged), one per synthetic model, each serving a
release an earlier invocation made; no row of it is charged (nor a governance event: the released model publishes the
release it already carried). Exits 1 otherwise.

    python check_reuse.py target/demo/run_results.json DATABASE.duckdb
"""

import json
import sys
from pathlib import Path

import duckdb

run_results, database = sys.argv[1], sys.argv[2]
results = json.loads(Path(run_results).read_text())
invocation = results["metadata"]["invocation_id"]
with duckdb.connect(database, read_only=True) as con:
    rows = con.execute("SELECT model, status, epsilon, release_id FROM main.dpsynth_ledger WHERE invocation_id = ? "
                       "ORDER BY model", [invocation]).fetchall()
    earlier = {r[0] for r in con.execute("SELECT release_id FROM main.dpsynth_ledger WHERE status = 'released' "
                                         "AND invocation_id <> ?", [invocation]).fetchall()}
if not rows:
    sys.exit(f"check_reuse: invocation {invocation} wrote no ledger rows (expected one 'reused' row per model)")
charged = [r for r in rows if r[1] != "reused"]
if charged:
    sys.exit(f"check_reuse: the second run charged the budget again: {charged}")
if any(r[2] != 0 for r in rows) or any(r[3] not in earlier for r in rows):
    sys.exit(f"check_reuse: a reuse row spends epsilon or serves no earlier release: {rows}")
print(f"check_reuse: the second run spent nothing: {len(rows)} reused releases ({', '.join(r[0] for r in rows)})")
