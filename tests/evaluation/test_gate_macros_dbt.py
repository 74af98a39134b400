"""The gate macros in a real `dbt build` on DuckDB: a throwaway dbt project installs the package (`local:`), seeds a
`dpsynth_metrics` table and attaches the gates to three candidate models. Checks: the latest release is the one
gated, failing rows name metric/value/threshold, overrides apply, severity: warn keeps the build green, missing metrics
fail closed, and store_failures stores the rows."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parents[2]
DBT = Path(sys.executable).with_name("dbt")

METRICS = """release_id,model,metric,kind,value,threshold,passed,computed_at,rule,holdout_value
r_old,synth_good,exact_copy_rate,privacy,0.2,0.01,false,2026-01-01 00:00:00,configured,
r_new,synth_good,exact_copy_rate,privacy,0.0,0.01,true,2026-01-02 00:00:00,configured,
r_new,synth_good,dcr_share,privacy,0.50,0.51,true,2026-01-02 00:00:00,configured,
r_new,synth_good,marginal_tvd_2way,utility,0.03,0.06,true,2026-01-02 00:00:00,configured,
r_bad,synth_bad,exact_copy_rate,privacy,0.05,0.01,false,2026-01-03 00:00:00,configured,
r_bad,synth_bad,dcr_share,privacy,0.52,0.51,false,2026-01-03 00:00:00,configured,
r_bad,synth_bad,membership_auc_distance,privacy,0.52,0.6,true,2026-01-03 00:00:00,configured,
r_bad,synth_bad,marginal_tvd_2way,utility,0.03,0.06,true,2026-01-03 00:00:00,configured,
"""

SCHEMA = """
version: 2
models:
  - name: synth_good
    data_tests:
      - dbt_dpsynth.dpsynth_privacy_gate
      - dbt_dpsynth.dpsynth_utility_gate
  - name: synth_bad
    data_tests:
      - dbt_dpsynth.dpsynth_privacy_gate:
          config: {severity: warn, store_failures: true, alias: bad_privacy_failures}
      - dbt_dpsynth.dpsynth_utility_gate:
          name: synth_bad_utility_gate
          config: {severity: warn, meta: {thresholds: {marginal_tvd_2way: 0.02}}}
      - dbt_dpsynth.dpsynth_privacy_gate:
          arguments: {thresholds: {exact_copy_rate: 0.1, dcr_share: 0.6, membership_auc_distance: 0.6}}
          config: {alias: bad_privacy_relaxed}
  - name: synth_missing
    data_tests:
      - dbt_dpsynth.dpsynth_privacy_gate:
          config: {severity: warn}
"""





@pytest.fixture(scope="module")
def build(tmp_path_factory):
    if not DBT.exists():
        pytest.skip("dbt is not installed in this environment")
    project = tmp_path_factory.mktemp("gates_project")
    (project / "models").mkdir()
    (project / "seeds").mkdir()
    (project / "dbt_project.yml").write_text(
        "name: gates_check\nversion: '0.1.0'\nconfig-version: 2\nprofile: gates_check\n"
        "model-paths: [models]\nseed-paths: [seeds]\n")
    (project / "profiles.yml").write_text(
        f"gates_check:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
        f"      path: {project / 'gates.duckdb'}\n      schema: main\n      threads: 1\n")
    (project / "packages.yml").write_text(f"packages:\n  - local: {ROOT}\n")
    (project / "metrics.csv").write_text(METRICS)
    for name in ("synth_good", "synth_bad", "synth_missing"):
        (project / "models" / f"{name}.sql").write_text("select 1 as x\n")
    (project / "models" / "schema.yml").write_text(SCHEMA)
    env_args = ["--project-dir", str(project), "--profiles-dir", str(project)]
    subprocess.run([str(DBT), "deps", *env_args], check=True, capture_output=True, cwd=project)
    # the metrics rows the glue would have written in the private schema (the on-run-start hook keeps an existing
    # table)
    with duckdb.connect(str(project / "gates.duckdb")) as con:
        con.execute("create schema main_dpsynth_private")
        con.execute(f"create table main_dpsynth_private.dpsynth_metrics as select * from read_csv("
                    f"'{project / 'metrics.csv'}', types={{'passed': 'BOOLEAN', 'computed_at': 'TIMESTAMP', "
                    "'holdout_value': 'DOUBLE', 'value': 'DOUBLE', 'threshold': 'DOUBLE'})")
    proc = subprocess.run([str(DBT), "build", "--exclude", "resource_type:seed", *env_args], capture_output=True,
                          text=True, cwd=project)
    results = json.loads((project / "target" / "run_results.json").read_text())["results"]
    yield proc, {r["unique_id"]: r for r in results}, project
    shutil.rmtree(project, ignore_errors=True)


def test_gates_pass_on_the_latest_good_release(build):
    proc, results, _ = build
    good = {uid: r for uid, r in results.items() if "synth_good" in uid and uid.startswith("test.")}
    assert len(good) == 2 and all(r["status"] == "pass" for r in good.values()), proc.stdout[-3000:]


def test_failing_gates_warn_name_the_metrics_and_store_them(build):
    proc, results, project = build
    statuses = {uid.split(".")[2].replace("dbt_dpsynth_dpsynth_", ""): (r["status"], r["failures"])
                for uid, r in results.items() if uid.startswith("test.")}
    assert statuses["privacy_gate_synth_bad_"] == ("warn", 2), statuses      # exact_copy_rate and dcr_share
    assert statuses["synth_bad_utility_gate"] == ("warn", 1), statuses       # meta override 0.02 < 0.03
    relaxed = [v for k, v in statuses.items() if k.startswith("privacy_gate_synth_bad_0_1")]
    assert relaxed == [("pass", 0)], statuses                                 # overrides above every value
    assert statuses["privacy_gate_synth_missing_"] == ("warn", 1), statuses  # no metrics: fail closed
    assert proc.returncode == 0, proc.stdout[-3000:]          # warnings keep the build green
    with duckdb.connect(str(project / "gates.duckdb"), read_only=True) as con:
        rows = con.execute("select metric, value, threshold from main_dpsynth_private.bad_privacy_failures "
                           "order by metric").fetchall()
    assert rows == [("dcr_share", 0.52, 0.51), ("exact_copy_rate", 0.05, 0.01)]   # stored in the private schema


def test_each_failing_metric_is_one_console_line(build):
    proc, _, _ = build
    lines = [line for line in proc.stdout.splitlines() if "dpsynth gate FAIL" in line]
    assert any("synth_bad privacy: dcr_share = 0.52 > threshold 0.51" in line for line in lines), lines
    assert any("synth_bad utility: marginal_tvd_2way = 0.03 > threshold 0.02 (rule: override" in line
               for line in lines), lines
    assert any("synth_missing privacy: no privacy metrics" in line for line in lines), lines
