"""A small dbt project for the day-to-day operation tests (reuse, released tables, caps, quiet errors): a 2,000-row
slice of nassCDS, MST models, one candidate with a holdout and its released tables (one folder set to
`+materialized: view`, one to `table`), four models racing for one key, and a model with a config error."""

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

COLUMNS = """      - name: dvcat
        meta: {dpsynth: {kind: categorical, categories: ["1-9km/h", "10-24", "25-39", "40-54", "55+"]}}
      - name: dead
        meta: {dpsynth: {kind: categorical, categories: [alive, dead]}}
      - name: sex
        meta: {dpsynth: {kind: categorical, categories: [f, m]}}
      - name: airbag
        meta: {dpsynth: {kind: categorical, categories: [airbag, none]}}
      - name: ageOFocc
        meta: {dpsynth: {kind: integer, lower: 0, upper: 100, bins: 10}}
"""
# every gate off (None) except one loose utility bound, so a 2,000-row candidate passes; STRICT makes that bound fail
LENIENT = ('{"marginal_tvd_2way": 0.9, "noise_floor_factor": None, "dcr_z": None, "nndr_z": None, '
           '"membership_auc_distance": None, "membership_auc_density": None, "singling_out_risk": None, '
           '"linkability_risk": None, "attribute_inference_risk": None, "marginal_tvd_1way": None, '
           '"marginal_tvd_3way": None, "dependence_diff": None, "tstr_auc_gap": None, "subgroup_tvd": None, '
           '"range_violation_rate": None, "null_rate_diff": None, "exact_copy_rate": None}')
STRICT = LENIENT.replace('"marginal_tvd_2way": 0.9', '"marginal_tvd_2way": 0.0001')


def mst_model(key: str, epsilon: float = 1.0, extra: str = "") -> str:
    return (f'import dbt_dpsynth\n\n\ndef model(dbt, session):\n'
            f'    dbt.config(materialized="table", dpsynth={{"epsilon": {epsilon}, "generator": "mst", '
            f'"budget_key": "{key}", "options": {{"iters": 50}}{extra}}})\n'
            f'    return dbt_dpsynth.synthesize(dbt, session, dbt.ref("patients"))\n')


def composed(n: int, epsilon: float = 1.0) -> float:
    cfg = SynthesisConfig(epsilon=epsilon)
    entry = {"rho": cfg.requested_rho(), "delta": cfg.resolved_delta(),
             "delta_conversion": cfg.budget_plan().delta_conversion, "epsilon": epsilon}
    return compose([entry] * n).epsilon


RACE_CAP = (composed(2) + composed(3)) / 2     # room for exactly two epsilon-1 releases on key 'shared'


def write_project(root: Path, nass: pd.DataFrame) -> Path:
    for folder in ("seeds", "models/synthetic", "models/released_view", "models/released_table", "models/race"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    nass.head(2000)[["dvcat", "dead", "sex", "airbag", "ageOFocc"]].to_csv(root / "seeds" / "patients.csv",
                                                                            index=False)
    (root / "models/synthetic/patients_mst.py").write_text(mst_model("patients"))
    (root / "models/synthetic/patients_candidate.py").write_text(mst_model(
        "patients_gate", 2.0, ', "holdout": 0.2, "target": "dead", "gates": {"thresholds": ' + LENIENT
        + ', "options": {"n_attacks": 30, "max_distance_rows": 500}}'))
    release = "{{ dbt_dpsynth.dpsynth_release(ref('patients_candidate')) }}\n"
    (root / "models/released_view/patients_released_view.sql").write_text(release)
    (root / "models/released_table/patients_released_table.sql").write_text(release)
    for i in range(1, 5):
        (root / f"models/race/race_{i}.py").write_text(mst_model("shared"))
    (root / "models/race/bad_config.py").write_text(mst_model("shared", extra=', "epsilonn": 1'))
    yml = "version: 2\nmodels:\n"
    for name in ["patients_mst", "patients_candidate"] + [f"race_{i}" for i in range(1, 5)] + ["bad_config"]:
        tests = "    data_tests: [dbt_dpsynth.dpsynth_utility_gate]\n" if name == "patients_candidate" else ""
        yml += f"  - name: {name}\n{tests}    columns:\n{COLUMNS}"
    (root / "models/schema.yml").write_text(yml)
    (root / "dbt_project.yml").write_text(f"""name: ops
version: '1.0'
config-version: 2
profile: ops
flags: {{send_anonymous_usage_stats: false}}
models:
  ops:
    synthetic:
      +post-hook: [{{sql: "{{{{ dbt_dpsynth.dpsynth_comment_release() }}}}", transaction: false}}]
    released_view: {{+materialized: view}}
    released_table: {{+materialized: table}}
    race: {{+tags: [race]}}
vars:
  dpsynth_package_models: false
  dpsynth_budgets: {{patients: 3.0, patients_gate: 20, shared: {RACE_CAP!r}}}
""")
    (root / "packages.yml").write_text(f"packages:\n  - local: {ROOT}\n")
    (root / "profiles.yml").write_text(f"ops:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
                                       f"      path: {root / 'ops.duckdb'}\n      threads: 4\n")
    dbt(root, "deps")
    return root


def dbt(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "0", "DPSYNTH_RECORDED_BY": "ops-test"}
    return subprocess.run([str(DBT), *args, "--profiles-dir", "."], cwd=root, env=env, capture_output=True,
                          text=True, timeout=600)


def query(root: Path, sql: str, params=None) -> list[tuple]:
    with duckdb.connect(str(root / "ops.duckdb"), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()
