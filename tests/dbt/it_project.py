"""A throwaway copy of integration_tests/ that installs this checkout, and a dbt runner on its own DuckDB file."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DBT = Path(sys.executable).parent / "dbt"


def copy_integration_project(parent: Path) -> Path:
    dest = parent / "integration_tests"
    shutil.copytree(ROOT / "integration_tests", dest,
                    ignore=shutil.ignore_patterns("target", "dbt_packages", "logs", "*.duckdb", "*.wal",
                                                  "package-lock.yml"))
    (dest / "packages.yml").write_text(f"packages:\n  - local: {ROOT}\n")
    run_dbt(dest, "deps")
    return dest


def run_dbt(project: Path, *args: str, timeout: int = 400) -> subprocess.CompletedProcess:
    env = {**os.environ, "DPSYNTH_DUCKDB_PATH": str(project / "it.duckdb"), "DBT_SEND_ANONYMOUS_USAGE_STATS": "0"}
    return subprocess.run([str(DBT), *args, "--profiles-dir", "."], cwd=project, env=env, capture_output=True,
                          text=True, timeout=timeout)
