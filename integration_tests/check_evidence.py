"""After `make demo` and `dbt docs generate`: the demo's release evidence agrees with the ledger. Exits 1 otherwise.

    python check_evidence.py target/demo/run_results.json DATABASE.duckdb target/docs DPSYNTH_BIN

1. Reports: every synthetic Python model the run built wrote the report of the release it carries (a `dpsynth_reports`
   row of this invocation), the HTML file exists with the six sections, and its summary equals the ledger row.
2. Docs: in the catalog.json of `dbt docs generate`, every synthetic model (and the released model) shows the
   epsilon of the ledger row and the report path, as the table comment and as catalog stats; the manifest's
   `dpsynth` config names the same epsilon.
3. Budget: the package view `dpsynth_budget_status`, `dpsynth budget --json` and the ledger's own composition of the
   charged rows agree for every budget key (the view was created early in the build, before the releases).
"""

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import duckdb

from dpsynth_core.accounting.composition import compose
from dpsynth_core.report import SECTION_TITLES

run_results, database, docs_dir, dpsynth = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), sys.argv[4]
project = next(p for p in run_results.resolve().parents if (p / "dbt_project.yml").is_file())   # integration_tests/
VERDICT = re.compile(r"\b(compliant|complies|non-compliant|is anonymous|gdpr-ready|hipaa-compliant)\b", re.I)
problems: list[str] = []
results = json.loads(run_results.read_text())
invocation = results["metadata"]["invocation_id"]
built = [r["unique_id"] for r in results["results"] if r["status"] == "success" and r["unique_id"].startswith("model.")]

with duckdb.connect(database, read_only=True) as con:
    ledger_cols = [r[0] for r in con.execute("DESCRIBE main.dpsynth_ledger").fetchall()]
    ledger = [dict(zip(ledger_cols, r, strict=True))
              for r in con.execute("SELECT * FROM main.dpsynth_ledger ORDER BY started_at").fetchall()]
    reports = con.execute("SELECT release_id, model, path, absolute_path FROM main.dpsynth_reports "
                          "WHERE invocation_id = ? ORDER BY written_at", [invocation]).fetchall()
    view_cols = [r[0] for r in con.execute("DESCRIBE main.dpsynth_budget_status").fetchall()]
    view = {r[0]: dict(zip(view_cols, r, strict=True))
            for r in con.execute("SELECT * FROM main.dpsynth_budget_status").fetchall()}

# 1. reports of this invocation's releases
released = {r["release_id"]: r for r in ledger if r["status"] == "released"}
carried = {}                                          # model unique_id -> release id it carries after this run
for r in ledger:
    if r["invocation_id"] == invocation and r["status"] in ("released", "reused"):
        carried[r["model"]] = r["release_id"]
by_model = {model: (rid, path, absolute) for rid, model, path, absolute in reports}
for model, rid in carried.items():
    if model not in by_model or by_model[model][0] != rid:
        problems.append(f"no report of release {rid} recorded for {model} in this invocation")
        continue
    _, path, absolute = by_model[model]
    html_file = Path(absolute)
    if not html_file.is_file() or (project / path).resolve() != html_file.resolve():
        problems.append(f"report {path} of {model} is not at {absolute}")
        continue
    html = html_file.read_text()
    if re.findall(r"<h2>(.*?)</h2>", html) != list(SECTION_TITLES) or VERDICT.search(html):
        problems.append(f"report {path}: sections {re.findall(r'<h2>(.*?)</h2>', html)} or a compliance verdict")
    summary = json.loads(html_file.with_suffix(".json").read_text())["data"]["summary"]
    row, record = released[rid], json.loads(released[rid]["record_json"])
    if (summary["release_id"], summary["epsilon"], summary["epsilon_spent"], summary["delta"]) != (
            rid, row["epsilon"], record["epsilon_spent"], row["delta"]) or summary["report_path"] != path:
        problems.append(f"report {path}: summary {summary} differs from ledger row {rid}")

# 2. dbt docs: catalog comment + stats, manifest config
catalog = json.loads((docs_dir / "catalog.json").read_text())["nodes"]
manifest = json.loads((docs_dir / "manifest.json").read_text())["nodes"]
synthetic = [uid for uid in built if isinstance(manifest.get(uid, {}).get("config", {}).get("dpsynth"), dict)
             or manifest.get(uid, {}).get("config", {}).get("materialized") == "dpsynth_release"]
if len(synthetic) < 2:
    problems.append(f"expected the demo's synthetic models in the manifest, found {synthetic}")
for uid in synthetic:
    node, entry = manifest[uid], catalog.get(uid)
    comment = ((entry or {}).get("metadata") or {}).get("comment") or ""
    stats = {k: v.get("value") for k, v in ((entry or {}).get("stats") or {}).items()}
    rid = stats.get("dpsynth_release_id")
    row = released.get(rid)
    if row is None:
        problems.append(f"{uid}: catalog stats name no released ledger row ({stats})")
        continue
    report = stats.get("dpsynth_report")
    if not comment.startswith(f"dpsynth: epsilon={row['epsilon']} ") or f" report={report}" not in comment:
        problems.append(f"{uid}: catalog comment {comment[:120]!r} lacks epsilon={row['epsilon']} / the report path")
    if float(stats.get("dpsynth_epsilon")) != row["epsilon"] or not report or not (project / report).is_file():
        problems.append(f"{uid}: catalog stats {stats} do not show the ledger's epsilon and an existing report")
    configured = (node["config"].get("dpsynth") or {}).get("epsilon")
    if configured is not None and float(configured) != row["epsilon"]:
        problems.append(f"{uid}: manifest config epsilon {configured} != ledger {row['epsilon']}")

# 3. budget status: the view, the CLI and the ledger
cli = {s["budget_key"]: s for s in json.loads(subprocess.run([dpsynth, "budget", database, "--json"], check=True,
                                                              capture_output=True, text=True).stdout)}
charged = [r for r in ledger if r["status"] in ("reserved", "released", "failed")]
if set(view) != set(cli) or not cli:
    problems.append(f"budget keys differ: view {sorted(view)} vs dpsynth budget {sorted(cli)}")
for key, s in cli.items():
    rows = [r for r in charged if r["budget_key"] == key]
    own = compose(rows).epsilon
    v = view.get(key, {})
    for column in ("spent_epsilon", "remaining_epsilon", "spent_delta", "spent_rho", "spent_epsilon_naive"):
        a, b = v.get(column), s[column]
        if (a is None) != (b is None) or (a is not None and not math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)):
            problems.append(f"budget {key}.{column}: view {a} vs dpsynth budget {b}")
    for column in ("cap_epsilon", "releases", "released", "failed", "reserved", "reused", "last_release_id"):
        if v.get(column) != s[column]:
            problems.append(f"budget {key}.{column}: view {v.get(column)} vs dpsynth budget {s[column]}")
    if not math.isclose(s["spent_epsilon"], own, rel_tol=1e-9, abs_tol=1e-12) or s["releases"] != len(rows):
        problems.append(f"budget {key}: dpsynth budget {s['spent_epsilon']} ({s['releases']}) vs ledger {own} "
                        f"({len(rows)} charged rows)")

if problems:
    sys.exit("check_evidence:\n  " + "\n  ".join(problems))
print(f"check_evidence: {len(carried)} release reports, docs of {len(synthetic)} synthetic models and the budget of "
      f"{len(cli)} keys agree with the ledger; reports: {', '.join(p for _, _, p, _ in reports)}")
