"""dbt run-operation `dpsynth_scan_relation`: the macro's SQL patterns equal the Python ones, and on DuckDB its
per-column counts equal what those patterns match in Python (planted identifiers found, nassCDS columns silent)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from dpsynth_core.pii_scan import SQL_PATTERNS

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))
from pii_fixtures import people_table  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
MACRO = ROOT / "macros" / "governance" / "dpsynth_scan_relation.sql"
DBT = Path(sys.executable).parent / "dbt"


def macro_patterns() -> dict[str, str]:
    block = MACRO.read_text().split("set patterns = {", 1)[1].split("} -%}", 1)[0]
    return dict(re.findall(r"'(\w+)': '([^']*)'", block))


def test_macro_patterns_equal_the_python_sql_patterns():
    assert macro_patterns() == SQL_PATTERNS


def test_patterns_are_portable():
    for name, pattern in SQL_PATTERNS.items():
        assert "\\" not in pattern and "'" not in pattern and "(?" not in pattern, name


@pytest.mark.skipif(not DBT.exists(), reason="dbt not installed")
def test_run_operation_counts_matches_per_column(tmp_path, nass):
    project = tmp_path / "scan_project"
    (project / "dbt_packages").mkdir(parents=True)
    (project / "dbt_packages" / "dbt_dpsynth").symlink_to(ROOT)      # what `dbt deps` does for a local package
    (project / "dbt_project.yml").write_text("name: scan_check\nversion: '1.0'\nconfig-version: 2\n"
                                             "profile: scan_check\n")
    (project / "profiles.yml").write_text("scan_check:\n  target: dev\n  outputs:\n    dev: {type: duckdb, path: "
                                          f"'{project / 'scan.duckdb'}', threads: 1}}\n")
    ordinary = nass.drop(columns=["caseid", "sex"]).head(600).reset_index(drop=True)   # people has `sex`
    frame = pd.concat([people_table(), ordinary], axis=1)
    con = duckdb.connect(str(project / "scan.duckdb"))
    con.execute("CREATE TABLE people AS SELECT * FROM frame")
    con.close()
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "0"}
    run = subprocess.run([str(DBT), "run-operation", "dpsynth_scan_relation", "--args", '{relation: "main.people"}',
                          "--profiles-dir", "."], cwd=project, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    out = run.stdout
    assert "NOT differentially private" in out and "does not feed a release" in out
    reported = {}
    for line in out.splitlines():
        m = re.match(r"\s+(\S+) \((.+)\): non_null=(\d+) distinct=(\d+)(?:; matches: (.*))?$", line)
        if m:
            hits = dict(item.split("=") for item in m.group(5).split(", ")) if m.group(5) else {}
            reported[m.group(1)] = {k: int(v) for k, v in hits.items()}
    assert set(reported) == set(frame.columns)
    for column in frame.columns:
        values = frame[column].dropna()
        expected = {}
        if values.map(lambda v: isinstance(v, str)).all():
            for name, pattern in SQL_PATTERNS.items():
                count = int(values.map(lambda v, pattern=pattern: re.search(pattern, v) is not None).sum())
                if count:
                    expected[name] = count
        assert reported[column] == expected, column
    for planted, pattern in (("contact", "email"), ("tel", "phone"), ("ref_a", "us_ssn"), ("ref_b", "iban"),
                             ("ref_c", "ip_address"), ("ref_d", "credit_card")):
        assert reported[planted][pattern] == 600
    assert all(not reported[c] for c in ordinary.columns)
