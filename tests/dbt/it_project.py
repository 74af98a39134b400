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


def run_dbt(project: Path, *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    env = {**os.environ, "DPSYNTH_DUCKDB_PATH": str(project / "it.duckdb"), "DBT_SEND_ANONYMOUS_USAGE_STATS": "0"}
    return subprocess.run([str(DBT), *args, "--profiles-dir", "."], cwd=project, env=env, capture_output=True,
                          text=True, timeout=timeout)


def make_project(parent: Path, name: str, files: dict[str, str], project_yml: str = "") -> Path:
    """A fresh dbt project `name` under `parent` that installs this checkout: `files` maps paths (relative to the
    project, e.g. `models/x.py`) to their text; `project_yml` is appended to dbt_project.yml. The profile reads
    DPSYNTH_DUCKDB_PATH, as `run_dbt` sets it."""
    dest = parent / name
    for rel, text in files.items():
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        (dest / rel).write_text(text)
    (dest / "dbt_project.yml").write_text(f"name: {name}\nversion: '1.0'\nconfig-version: 2\nprofile: {name}\n"
                                          "flags:\n  send_anonymous_usage_stats: false\n" + project_yml)
    (dest / "profiles.yml").write_text(f"{name}:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
                                       "      path: \"{{ env_var('DPSYNTH_DUCKDB_PATH') }}\"\n      schema: main\n"
                                       "      threads: 2\n")
    (dest / "packages.yml").write_text(f"packages:\n  - local: {ROOT}\n")
    run_dbt(dest, "deps")
    return dest
