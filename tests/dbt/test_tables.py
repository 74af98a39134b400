"""The package's warehouse tables come from one column list (a dbt macro that Python reads as package data)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from dbt_dpsynth import tables as T
from dbt_dpsynth.engines import dialect
from dpsynth_core.evaluation.result import METRIC_RECORD_COLUMNS

ROOT = Path(__file__).resolve().parents[2]


def test_dbt_reads_the_same_file_python_reads():
    shipped = Path(T.__file__).parent / "macros" / "dpsynth_warehouse_tables.sql"
    macro_paths = yaml.safe_load((ROOT / "dbt_project.yml").read_text())["macro-paths"]
    assert shipped.exists() and str(shipped.parent.relative_to(ROOT)) in macro_paths
    assert "{{ return(fromyaml(tables_yaml)) }}" in shipped.read_text()   # the macro returns the YAML it holds
    assert T.parse(shipped.read_text()) == T.warehouse_tables()


def test_the_ledger_code_and_the_metric_records_use_the_list():
    assert T.METRICS.names == list(METRIC_RECORD_COLUMNS)   # evaluation records are written by these names
    assert {"release_id", "budget_key", "rho", "cumulative_epsilon", "status"} <= set(T.LEDGER.names)
    assert T.CAPS.names[:2] == ["invocation_id", "budget_key"]


def test_ddl_goes_through_the_dialect():
    sql = T.INVOCATIONS.create_sql(dialect("duckdb"), '"main"."inv"')
    assert sql == ('CREATE TABLE IF NOT EXISTS "main"."inv" ("invocation_id" VARCHAR, "started_at" TIMESTAMP, '
                   '"recorded_by" VARCHAR, "refresh_json" VARCHAR)')
    assert T.CAPS.add_columns_sql(dialect("duckdb"), '"main"."caps"', {"invocation_id", "budget_key", "cap_epsilon",
                                                                        "recorded_at", "source", "recorded_by"}) == [
        'ALTER TABLE "main"."caps" ADD COLUMN "previous_cap_epsilon" DOUBLE',
        'ALTER TABLE "main"."caps" ADD COLUMN "policy_json" VARCHAR']


def test_the_model_store_keeps_state_as_text_with_its_digest_never_binary():
    types = dict(T.MODELS.columns)
    assert types["state_text"] == "string" and types["state_sha256"] == "string" and "blob" not in types.values()
    assert {"release_id", "fingerprint", "sample_seed", "rows"} <= set(T.MODELS.names)


def test_unknown_logical_types_are_refused():
    text = "{%- set tables_yaml -%}\nx: {table: t, columns: [[a, varchar2]]}\n{%- endset -%}"
    with pytest.raises(ValueError, match="varchar2"):
        T.parse(text)
