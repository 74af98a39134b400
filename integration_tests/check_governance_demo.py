"""The governance demo of `make integration`, in two phases around the approval.

    python check_governance_demo.py pending RUN_RESULTS DATABASE    # after `dbt build --selector demos`
    python check_governance_demo.py published RUN_RESULTS DATABASE  # after approval and `--selector governance_publish`

pending: the quarterly window of key nassCDS_governance refused nass_governance_over_window in one line and charged
nothing; the released model was refused because the candidate's release has no approval (or, on a kept database
where it was approved before, it was published). Prints the candidate's release id (for `dpsynth_approve`).
published: the released model was built from that release, its comment carries the usage terms and the approver, the
candidate was reused (no new charge) and the ledger has the 'published' event. Exits 1 otherwise.
"""

import json
import sys
from pathlib import Path

import duckdb

phase, run_results, database = sys.argv[1], sys.argv[2], sys.argv[3]
results = {r["unique_id"].split(".")[-1]: r for r in json.loads(Path(run_results).read_text())["results"]}


def fail(message: str) -> None:
    sys.exit(f"check_governance_demo ({phase}): {message}")


with duckdb.connect(database, read_only=True) as con:
    def one(sql, params=()):
        rows = con.execute(sql, list(params)).fetchall()
        return rows[0] if rows else None

    rid = one("SELECT release_id FROM main.dpsynth_ledger WHERE model LIKE '%.nass_governance_candidate' "
              "AND status = 'released' ORDER BY started_at DESC LIMIT 1")
    if rid is None:
        fail("the candidate has no released ledger row")
    rid = rid[0]
    over = one("SELECT count(*) FROM main.dpsynth_ledger WHERE model LIKE '%.nass_governance_over_window'")[0]
    approved = one("SELECT count(*) FROM main.dpsynth_approvals WHERE release_id = ?", [rid])[0]
    comment = one("SELECT comment FROM duckdb_tables() WHERE table_name = 'nass_governance_released'")

if phase == "pending":
    refused = results.get("nass_governance_over_window", {})
    if refused.get("status") != "error" or "at level per_quarter" not in (refused.get("message") or "") or over:
        fail(f"expected a per_quarter refusal that charged nothing, got {refused.get('status')} "
             f"{refused.get('message')!r} ({over} ledger rows)")
    released = results.get("nass_governance_released", {})
    waiting = released.get("status") == "error" and "requires approval" in (released.get("message") or "")
    if not (waiting or (approved and released.get("status") == "success")):
        fail(f"expected the released model to wait for approval, got {released.get('status')}: "
             f"{released.get('message')!r}")
    print(rid)
elif phase == "published":
    if results.get("nass_governance_released", {}).get("status") != "success" or comment is None:
        fail("the released model was not built after the approval")
    needed = [f"release_id={rid}", "approved_by=", "release_type=vendor_share",
              "terms=[purpose=vendor QA of the crash-analysis dashboard; recipients=acme-analytics; "
              "contract=DEMO-MSA-001; expires=2030-12-31]"]
    missing = [n for n in needed if n not in comment[0]]
    if missing:
        fail(f"the released table's comment lacks {missing}: {comment[0]!r}")
    with duckdb.connect(database, read_only=True) as con:
        events = [r[0] for r in con.execute(
            "SELECT status FROM main.dpsynth_ledger WHERE release_id = ? ORDER BY started_at", [rid]).fetchall()]
    if events[:1] != ["released"] or "reused" not in events or "published" not in events or \
            events.count("released") != 1:
        fail(f"expected released, reused (not charged) and published for {rid}, got {events}")
    print(f"check_governance_demo: release {rid} approved and published with its usage terms; the quarterly window "
          "refused the over-window model and charged nothing")
else:
    fail("phase must be pending or published")
