"""A small dbt project for the governance tests (issue 13): a 2,000-row slice of nassCDS and MST models on three budget
keys: four models racing for a rolling window with room for exactly two releases (`windowed`), three models against
per-release-type caps (`typed`), and a candidate that requires approval, carries usage terms and a per-recipient
watermark, with its released model and a short-lived release for the expiry test (`gov`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd

from dpsynth_core.accounting.composition import compose
from dpsynth_core.config import SynthesisConfig

ROOT = Path(__file__).resolve().parents[2]
DBT = Path(sys.executable).parent / "dbt"
WATERMARK_ENV = "GOV_TEST_WATERMARK_KEY"
MASTER_KEY = "governance-test-master-key-0123456789"

COLUMNS = """      - name: dvcat
        meta: {dpsynth: {kind: categorical, categories: ["1-9km/h", "10-24", "25-39", "40-54", "55+"]}}
      - name: dead
        meta: {dpsynth: {kind: categorical, categories: [alive, dead]}}
      - name: sex
        meta: {dpsynth: {kind: categorical, categories: [f, m]}}
      - name: ageOFocc
        meta: {dpsynth: {kind: integer, lower: 0, upper: 100, bins: 10}}
      - name: weight
        meta: {dpsynth: {kind: continuous, lower: 0, upper: 2000, bins: 16}}
"""
TERMS = {"purpose": "vendor QA of the crash dashboard", "recipients": ["acme"], "contract": "MSA-2025-017",
         "expires": "2099-12-31"}


def composed(n: int, epsilon: float = 1.0) -> float:
    cfg = SynthesisConfig(epsilon=epsilon)
    entry = {"rho": cfg.requested_rho(), "delta": cfg.resolved_delta(),
             "delta_conversion": cfg.budget_plan().delta_conversion, "epsilon": epsilon}
    return compose([entry] * n).epsilon


WINDOW_CAP = (composed(2) + composed(3)) / 2     # a rolling 30-day window with room for exactly two epsilon-1 releases
BUDGETS = {"windowed": {"lifetime": 10, "window": "30d", "window_cap": WINDOW_CAP},
           "typed": {"lifetime": 10, "release_types": {"internal_test": {"max_epsilon": 3},
                                                       "public": {"max_epsilon": 0.5}}},
           "gov": 5.0}


def mst_model(key: str, epsilon: float = 1.0, extra: str = "") -> str:
    return (f'import dbt_dpsynth\n\n\ndef model(dbt, session):\n'
            f'    dbt.config(materialized="table", dpsynth={{"epsilon": {epsilon}, "generator": "mst", '
            f'"budget_key": "{key}", "options": {{"iters": 30}}{extra}}})\n'
            f'    return dbt_dpsynth.synthesize(dbt, session, dbt.ref("patients"))\n')


def write_project(root: Path, nass: pd.DataFrame) -> Path:
    for folder in ("seeds", "models/windowed", "models/typed", "models/gov"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    nass.head(2000)[["dvcat", "dead", "sex", "ageOFocc", "weight"]].to_csv(root / "seeds" / "patients.csv", index=False)
    for i in range(1, 5):
        (root / f"models/windowed/win_{i}.py").write_text(mst_model("windowed"))
    (root / "models/typed/typed_public_ok.py").write_text(mst_model("typed", 0.5, ', "release_type": "public"'))
    (root / "models/typed/typed_public_over.py").write_text(mst_model("typed", 1.0, ', "release_type": "public"'))
    (root / "models/typed/typed_missing.py").write_text(mst_model("typed", 0.5))
    (root / "models/gov/gov_candidate.py").write_text(mst_model(
        "gov", 1.0, f', "release_type": "vendor_share", "require_approval": True, "expires_after_days": 30, '
                    f'"watermark": {{"key_env": "{WATERMARK_ENV}", "recipient": "acme"}}, "terms": {TERMS!r}'))
    (root / "models/gov/gov_released.sql").write_text(
        "{{ dbt_dpsynth.dpsynth_release(ref('gov_candidate'), require_gates=false) }}\n")
    (root / "models/gov/short_lived.py").write_text(mst_model("gov", 0.5, ', "expires_after_days": 0.0001'))
    yml = "version: 2\nmodels:\n"
    for name in [f"win_{i}" for i in range(1, 5)] + ["typed_public_ok", "typed_public_over", "typed_missing",
                                                       "gov_candidate"]:
        yml += f"  - name: {name}\n    columns:\n{COLUMNS}"
    yml += ("  - name: short_lived\n    data_tests:\n      - dbt_dpsynth.dpsynth_not_expired:\n"
            "          config: {tags: [expiry]}\n    columns:\n" + COLUMNS)
    (root / "models/schema.yml").write_text(yml)
    (root / "dbt_project.yml").write_text(f"""name: gov
version: '1.0'
config-version: 2
profile: gov
flags: {{send_anonymous_usage_stats: false}}
vars:
  dpsynth_package_models: false
  dpsynth_budgets: {BUDGETS!r}
""")
    (root / "packages.yml").write_text(f"packages:\n  - local: {ROOT}\n")
    (root / "profiles.yml").write_text(f"gov:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
                                       f"      path: {root / 'gov.duckdb'}\n      threads: 4\n")
    dbt(root, "deps")
    return root


def dbt(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "0", "DPSYNTH_RECORDED_BY": "gov-test",
           WATERMARK_ENV: MASTER_KEY}
    return subprocess.run([str(DBT), *args, "--profiles-dir", "."], cwd=root, env=env, capture_output=True,
                          text=True, timeout=600)


def database(root: Path) -> str:
    return str(root / "gov.duckdb")


def query(root: Path, sql: str, params=None) -> list[tuple]:
    with duckdb.connect(database(root), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()
