"""After `dbt build --selector gate_demo`: the demo's utility gate must have failed with severity warn (status
'warn', failures > 0) and stored its failing rows. Exits 1 otherwise, so the failure path stays exercised in CI."""

import json
import sys
from pathlib import Path

results = json.loads(Path(sys.argv[1]).read_text())["results"]
gates = [r for r in results if "utility_gate" in r["unique_id"] and "gate_demo" in r["unique_id"]]
if not gates:
    sys.exit("check_gate_demo: the gate demo's utility gate did not run")
for r in gates:
    if r["status"] != "warn" or not r.get("failures"):
        sys.exit(f"check_gate_demo: expected a warning with failures, got status={r['status']} "
                 f"failures={r.get('failures')} for {r['unique_id']}")
print(f"check_gate_demo: utility gate failed as designed with severity warn ({gates[0]['failures']} failing metrics)")
