"""The issue's user story: a fresh dbt project that installs the package and writes only the three-line model gets
a ledger row (caps from its var), a stamped table (the package's on-run-end hook); a plain rebuild serves the same
release without a charge, and a new release asked for once over the cap is refused.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parents[2]
DBT = Path(sys.executable).parent / "dbt"

pytestmark = pytest.mark.skipif(not DBT.exists(), reason="dbt is not installed in this environment")

MODEL = '''import dbt_dpsynth
def model(dbt, session):
    dbt.config(materialized="table", dpsynth={"epsilon": 1.0, "generator": "mst", "budget_key": "patients"})
    return dbt_dpsynth.synthesize(dbt, session, dbt.ref("patients"))
'''


@pytest.fixture(scope="module")
def project(tmp_path_factory, nass) -> Path:
    root = tmp_path_factory.mktemp("newcomer")
    (root / "models").mkdir()
    (root / "seeds").mkdir()
    nass.head(3000)[["dvcat", "dead", "sex", "ageOFocc"]].to_csv(root / "seeds" / "patients.csv", index=False)
    (root / "models" / "patients_synthetic.py").write_text(MODEL)
    (root / "dbt_project.yml").write_text("name: newcomer\nversion: '1.0'\nconfig-version: 2\nprofile: newcomer\n"
                                          "vars:\n  dpsynth_budgets: {patients: 1.2}\n")
    (root / "packages.yml").write_text(f"packages:\n  - local: {ROOT}\n")
    (root / "profiles.yml").write_text(f"newcomer:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
                                       f"      path: {root / 'w.duckdb'}\n      threads: 2\n")
    run(root, "deps")
    return root


def run(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "0"}
    return subprocess.run([str(DBT), *args, "--profiles-dir", "."], cwd=root, env=env, capture_output=True,
                          text=True, timeout=300)


def query(root: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(root / "w.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_three_line_model_is_recorded_stamped_and_capped(project):
    first = run(project, "build")
    assert first.returncode == 0, first.stdout[-3000:]
    assert query(project, "SELECT status, budget_key, epsilon, cap_epsilon, source_relation FROM main.dpsynth_ledger"
                 ) == [("released", "patients", 1.0, 1.2, "seed.newcomer.patients")]
    comment = query(project, "SELECT comment FROM duckdb_tables() WHERE table_name = 'patients_synthetic'")[0][0]
    assert comment.startswith("dpsynth: epsilon=1.0 ") and "budget_key=patients" in comment
    columns = query(project, "SELECT column_name FROM duckdb_columns() WHERE table_name = 'patients_synthetic'")
    assert [c for (c,) in columns] == ["dvcat", "dead", "sex", "ageOFocc"]

    second = run(project, "run")          # unchanged: the stored release is served again, nothing charged
    assert second.returncode == 0, second.stdout[-3000:]
    assert [s for (s,) in query(project, "SELECT status FROM main.dpsynth_ledger ORDER BY started_at")] == [
        "released", "reused"]
    stamp = query(project, "SELECT comment FROM duckdb_tables() WHERE table_name = 'patients_synthetic'")[0][0]
    assert stamp == comment                                                  # same release id in the comment

    # a new release: 1 + 1 composes (in rho) to about 1.4 > cap 1.2, refused before reading data
    third = run(project, "run", "--vars", "{dpsynth_refresh: [patients_synthetic]}")
    assert third.returncode != 0
    assert "Privacy budget exceeded for budget_key 'patients'" in third.stdout
    assert "Traceback" not in third.stdout                                  # one line, not a Python stack
    assert query(project, "SELECT count(*) FROM main.dpsynth_ledger") == [(2,)]
