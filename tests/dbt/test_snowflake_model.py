"""The dbt-snowflake path, emulated: the model file dbt-snowflake would run as a stored procedure, compiled the way
dbt compiles it (`snowflake_wrapper`), runs end to end on a Snowpark local-testing session. The ledger, the caps and
the fitted model go through the Snowpark warehouse store (DataFrames only: local mode has no `session.sql()`)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from snowflake_wrapper import compile_model, run_stored_procedure

from dbt_dpsynth import ledger as L
from dbt_dpsynth.stores import store_for
from dpsynth_core.errors import BudgetExceededError

pytest.importorskip("snowflake.snowpark")

DATABASE, SCHEMA, TARGET = "ANALYTICS", "SYNTHETIC", "PATIENTS_SYN"
SOURCE = f"{DATABASE}.RAW.PATIENTS"
LEDGER_AT = L.LedgerLocation(SCHEMA, DATABASE)
CAP = 1.2          # one release of epsilon 1 fits; a second composes (zCDP) to about 1.40

MODEL = '''
import dbt_dpsynth

def model(dbt, session):
    dbt.config(materialized="table", packages=["numpy", "pandas", "scipy", "pyyaml"])
    dbt.config.get("dpsynth")   # dbt-snowflake passes only the config keys the model file reads
    return dbt_dpsynth.synthesize(dbt, session, dbt.ref("patients"))
'''

DPSYNTH = {"epsilon": 1.0, "generator": "mst", "rows": 250, "seed": 3, "budget_key": "patients",
           "refresh": "always", "options": {"iters": 30},
           "columns": {"sex": {"kind": "categorical", "categories": ["f", "m"], "nullable": False},
                       "dead": {"kind": "categorical", "categories": ["alive", "dead"], "nullable": False},
                       "age": {"kind": "integer", "lower": 0, "upper": 100, "bins": 10}}}


@pytest.fixture
def session():
    from snowflake.snowpark import Session

    session = Session.builder.config("local_testing", True).create()
    rng = np.random.default_rng(0)
    n = 600
    source = pd.DataFrame({"SEX": rng.choice(["f", "m"], n), "DEAD": rng.choice(["alive", "dead"], n, p=[0.8, 0.2]),
                           "AGE": rng.integers(0, 100, n)})
    session.create_dataframe(source).write.save_as_table(SOURCE, mode="overwrite")
    # what the package's on-run-start hook does on a real account (as SQL): the ledger tables and the caps
    L.ensure_tables(session, LEDGER_AT)
    L.record_caps(session, LEDGER_AT, None, {"patients": CAP}, source="var dpsynth_budgets")
    yield session
    session.close()


def build(session) -> str:
    script = compile_model(MODEL, config={"materialized": "table", "dpsynth": DPSYNTH},
                           refs={"patients": SOURCE}, database=DATABASE, schema=SCHEMA, identifier=TARGET)
    return run_stored_procedure(script, session)


def ledger(session) -> list[dict]:
    rows = store_for(session).select(LEDGER_AT, L.LEDGER_TABLE, L.LEDGER.names, order_by=["started_at"])
    return [dict(zip(L.LEDGER.names, r, strict=True)) for r in rows]


def test_the_compiled_model_passes_only_the_config_keys_it_reads():
    script = compile_model(MODEL, config={"dpsynth": DPSYNTH, "other": 1}, refs={"patients": SOURCE},
                           database=DATABASE, schema=SCHEMA, identifier=TARGET)
    assert "config_dict = {'dpsynth': " in script and "'other'" not in script
    assert 'save_as_table(\'ANALYTICS.SYNTHETIC.PATIENTS_SYN\'' in script


def test_the_model_writes_its_synthetic_table_and_a_released_ledger_row(session):
    assert build(session) == "OK"
    table = session.table(f"{DATABASE}.{SCHEMA}.{TARGET}").to_pandas()
    assert list(table.columns) == ["SEX", "DEAD", "AGE"] and len(table) == DPSYNTH["rows"]
    assert set(table["SEX"]) <= {"f", "m"} and set(table["DEAD"]) <= {"alive", "dead"}
    assert table["AGE"].between(0, 100).all()
    [row] = ledger(session)
    assert (row["status"], row["budget_key"], row["epsilon"], row["generator"]) == ("released", "patients", 1.0, "mst")
    assert row["source_relation"] == SOURCE and row["target_relation"] == f"{DATABASE}.{SCHEMA}.{TARGET}"
    assert row["cap_epsilon"] == CAP and row["cumulative_epsilon"] == pytest.approx(1.0)
    assert 0 < row["delta"] < 1e-3 and row["rho"] > 0 and row["rows"] == DPSYNTH["rows"]
    spend = json.loads(row["spend_json"])
    assert spend and json.loads(row["record_json"])["epsilon"] == 1.0
    # the fitted model is stored beside the released row (same release id), checked by its SHA-256
    [(release_id, digest)] = store_for(session).select(LEDGER_AT, "dpsynth_models", ["release_id", "state_sha256"])
    assert release_id == row["release_id"] and len(digest) == 64


def test_a_release_over_the_cap_is_refused_and_charges_nothing(session):
    build(session)
    before = ledger(session)
    kept = session.table(f"{DATABASE}.{SCHEMA}.{TARGET}").to_pandas()
    with pytest.raises(BudgetExceededError) as refused:   # composed 1.0 + 1.0 > cap 1.2
        build(session)
    assert "patients" in str(refused.value) and "1.2" in str(refused.value)
    assert ledger(session) == before                       # no reserved row, nothing charged
    assert L.Ledger(session, LEDGER_AT).charged("patients")[0]["epsilon"] == 1.0
    assert len(L.Ledger(session, LEDGER_AT).charged("patients")) == 1
    again = session.table(f"{DATABASE}.{SCHEMA}.{TARGET}").to_pandas()
    pd.testing.assert_frame_equal(again, kept)            # the previous synthetic table survives


def test_the_snowpark_store_is_picked_for_a_snowpark_session(session):
    from dbt_dpsynth.stores.snowpark import SnowparkStore

    store = store_for(session)
    assert isinstance(store, SnowparkStore) and store.local
    assert store.schemas_with(L.LEDGER_TABLE, DATABASE) == []      # no INFORMATION_SCHEMA in local mode
    assert "release_id" in store.columns_of(LEDGER_AT, L.LEDGER_TABLE)
    assert store.columns_of(LEDGER_AT, "no_such_table") == set()


def test_a_session_without_a_ledger_store_is_refused_before_anything_is_charged():
    from dbt_dpsynth.stores import open_store
    from dpsynth_core.errors import ConfigError

    class SparkSession:   # what dbt-databricks passes: no DB-API `execute`, not Snowpark
        def sql(self, text):
            raise AssertionError("nothing may run")

    with pytest.raises(ConfigError, match="nothing was charged"):
        open_store(SparkSession())
