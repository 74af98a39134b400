"""dbt_dpsynth.synthesize end to end on DuckDB with a stand-in dbt object (the node sits where dbt-duckdb puts it)."""

from __future__ import annotations

import json
import sys

import duckdb
import pandas as pd
import pytest

import dbt_dpsynth
import dpsynth_core.api
from dbt_dpsynth import ledger as L
from dpsynth_core.errors import BudgetExceededError, ConfigError, EngineError, InputError, SpecError

SPEC_COLUMNS = {
    "sex": {"name": "sex", "meta": {"dpsynth": {"kind": "categorical", "categories": ["f", "m"], "nullable": False}}},
    "dead": {"name": "dead", "meta": {"dpsynth": {"kind": "categorical", "categories": ["alive", "dead"]}}},
    "age": {"name": "age", "meta": {"dpsynth": {"kind": "integer", "lower": 0, "upper": 100, "bins": 10}}},
    "caseid": {"name": "caseid", "meta": {"dpsynth": {"kind": "identifier"}}},
}


class This:
    database, schema, identifier = "memory", "main", "patients_syn"

    def __repr__(self):
        return '"memory"."main"."patients_syn"'


class Dbt:
    this = This()

    class config:   # noqa: N801 - mirrors dbt's generated class
        @staticmethod
        def get(key, default=None):
            return default


def make_node(dpsynth: dict, caps: dict | None = None) -> dict:
    config = {"dpsynth": dpsynth}
    if caps is not None:
        config["dpsynth_budgets"] = caps
    return {"name": "patients_syn", "unique_id": "model.demo.patients_syn", "config": config,
            "columns": SPEC_COLUMNS, "refs": [{"name": "patients"}], "sources": [],
            "depends_on": {"nodes": ["seed.demo.patients"]}}


def run_model(session, node: dict, **overrides) -> pd.DataFrame:
    """The model's rows as dbt-duckdb would materialise them (the glue returns a relation with the source's types)."""
    parsed_model = node  # noqa: F841 - dbt-duckdb's submit_python_job holds the node in this local
    return dbt_dpsynth.synthesize(Dbt(), session, session.table("patients"), **overrides).df()


def test_the_synthetic_columns_have_the_source_types(session):
    session.execute("CREATE TABLE typed AS SELECT CAST(age AS SMALLINT) AS age, CAST(age * 1.25 AS DECIMAL(6, 2)) AS "
                    "fare, DATE '2020-01-01' + CAST(age AS INTEGER) AS seen, sex, caseid FROM patients")
    parsed_model = {**make_node({**FAST, "budget_key": "typed"}), "columns": {}}  # noqa: F841 - read by find_node
    out = dbt_dpsynth.synthesize(Dbt(), session, session.table("typed"))
    types = dict(zip(out.columns, [str(t) for t in out.types], strict=True))
    source = dict(session.execute("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = "
                                  "'typed' ORDER BY ordinal_position").fetchall())
    assert types == source, (types, source)


@pytest.fixture
def session(nass):
    con = duckdb.connect()
    small = nass.head(1500).rename(columns={"ageOFocc": "age"})[["sex", "dead", "age", "caseid"]]
    con.register("small_df", small)
    con.execute("CREATE TABLE patients AS SELECT * FROM small_df")
    return con


def ledger_rows(con) -> list[tuple]:
    loc = L.LedgerLocation("main", "memory")
    return con.execute(f"SELECT release_id, status, budget_key, epsilon, rows, error, spend_json IS NOT NULL "
                       f"FROM {loc.ledger} ORDER BY started_at").fetchall()


FAST = {"epsilon": 1.0, "generator": "mst", "rows": 300, "seed": 7, "options": {"iters": 30}}


def test_release_returns_the_synthetic_frame_and_a_released_ledger_row(session):
    df = run_model(session, make_node(FAST, caps={"patients": 5.0}))
    assert list(df.columns) == ["sex", "dead", "age", "caseid"] and len(df) == 300
    assert set(df["sex"].dropna()) <= {"f", "m"}   # (declared domain; see report on the `other` code)
    assert not set(df["caseid"]) & set(session.execute("SELECT caseid FROM patients").df()["caseid"])
    rows = ledger_rows(session)
    assert [(r[1], r[2], r[3], r[4], r[6]) for r in rows] == [("released", "patients", 1.0, 300, True)]


def test_over_the_cap_nothing_is_read_and_nothing_is_charged(session, monkeypatch):
    run_model(session, make_node(FAST, caps={"patients": 1.2}))
    before = ledger_rows(session)

    def must_not_run(*args, **kwargs):
        raise AssertionError("data was read although the budget was exhausted")

    monkeypatch.setattr(dpsynth_core.api, "synthesize_table", must_not_run)
    with pytest.raises(BudgetExceededError) as info:     # a new release (refresh: always) no longer fits the cap
        run_model(session, make_node({**FAST, "refresh": "always"}, caps={"patients": 1.2}))
    message = str(info.value)
    for part in ("'patients'", "spent epsilon=1", "requested epsilon=1", "cap epsilon=1.2"):
        assert part in message
    assert ledger_rows(session) == before


def test_caps_recorded_by_the_hook_for_this_invocation_win(session):
    from dbt_common.invocation import get_invocation_id

    loc = L.LedgerLocation("main", "memory")
    L.ensure_tables(session, loc)
    L.record_invocation(session, loc, get_invocation_id())        # what the on-run-start hook writes
    L.record_caps(session, loc, get_invocation_id(), {"patients": 0.5})
    with pytest.raises(BudgetExceededError, match="cap epsilon=0.5"):
        run_model(session, make_node(FAST, caps={"patients": 100.0}))
    assert ledger_rows(session) == []


def test_a_failed_release_stays_charged_with_its_error(session, monkeypatch):
    def crash(*args, **kwargs):
        raise RuntimeError("boom after reading")

    monkeypatch.setattr(dpsynth_core.api, "synthesize_table", crash)
    with pytest.raises(EngineError) as caught:       # scrubbed: type and step only, the message can quote data
        run_model(session, make_node(FAST, caps={"patients": 5.0}))
    assert "boom" not in str(caught.value) and caught.value.error_type == "RuntimeError"
    rows = ledger_rows(session)
    assert [(r[1], r[3]) for r in rows] == [("failed", 1.0)] and "boom" not in rows[0][5]
    assert "RuntimeError" in rows[0][5] and "withheld" in rows[0][5]


def test_config_and_spec_errors_come_before_any_charge(session):
    with pytest.raises(ConfigError, match="epsilonn"):
        run_model(session, make_node({**FAST, "epsilonn": 1}))
    node = make_node(FAST)
    node["columns"] = {"nope": {"name": "nope", "meta": {"dpsynth": {"kind": "integer"}}}}
    with pytest.raises(SpecError, match="nope"):
        run_model(session, node)
    exists = session.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'dpsynth_ledger'")
    assert exists.fetchall()[0][0] == 0


def test_a_pandas_frame_instead_of_the_relation_is_refused_with_the_fix(session):
    parsed_model = make_node(FAST)  # noqa: F841 - read from the stack by find_node
    with pytest.raises(InputError, match="dbt.ref"):
        dbt_dpsynth.synthesize(Dbt(), session, session.table("patients").df())


def test_keyword_overrides_win_over_the_model_config(session):
    df = run_model(session, make_node(FAST), rows=120, budget_key="other_key")
    assert len(df) == 120
    assert [(r[2], r[4]) for r in ledger_rows(session)] == [("other_key", 120)]


def test_a_deep_generator_without_the_deep_extra_is_refused_before_any_charge(session, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)   # as if torch were not installed
    with pytest.raises(ConfigError, match=r"dbt-dpsynth\[deep\]") as info:
        run_model(session, make_node({"epsilon": 1.0, "generator": "dp-tvae"}))
    assert "'dp-tvae'" in str(info.value) and "torch" in str(info.value)
    exists = session.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'dpsynth_ledger'")
    assert exists.fetchall()[0][0] == 0


def test_the_ledger_row_states_the_privacy_unit(session):
    """`privacy_unit` in the model config: the release bounds each case to k rows and the ledger's record says so."""
    run_model(session, make_node({**FAST, "privacy_unit": "caseid", "max_rows_per_unit": 2}))
    loc = L.LedgerLocation("main", "memory")
    (record_json,) = session.execute(f"SELECT record_json FROM {loc.ledger}").fetchone()
    record = json.loads(record_json)
    assert record["neighbouring"] == "add/remove one caseid (all its rows), at most 2 rows each"
    assert record["privacy_unit"]["column"] == "caseid" and record["privacy_unit"]["max_rows_per_unit"] == 2


def test_a_unit_setting_that_cannot_work_is_refused_before_any_charge(session):
    with pytest.raises(ConfigError, match="no privacy_unit"):
        run_model(session, make_node({**FAST, "max_rows_per_unit": 2}))
    with pytest.raises(SpecError, match="privacy_unit names column 'patient'"):
        run_model(session, make_node({**FAST, "privacy_unit": "patient"}))
    exists = session.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'dpsynth_ledger'")
    assert exists.fetchall()[0][0] == 0                        # refused before the ledger was even opened


def test_errors_raised_on_purpose_format_as_one_line_for_dbt(session):
    """dbt-duckdb prints `traceback.format_exception(err)` for a failed Python model: a ConfigError must come out as
    its one line (still a ConfigError for callers), a bug keeps its traceback."""
    import traceback

    with pytest.raises(ConfigError) as info:
        run_model(session, make_node({**FAST, "epsilonn": 1}))
    text = "".join(traceback.format_exception(info.value))
    assert text.startswith("dpsynth.ConfigError: ") and "epsilonn" in text and "Fix:" in text
    assert text.count("\n") == 1 and "Traceback" not in text
    assert "Traceback" in "".join(traceback.format_exception(*_raised(RuntimeError("a bug"))))


def _raised(err):
    try:
        raise err
    except BaseException as caught:  # noqa: BLE001
        return type(caught), caught, caught.__traceback__
CANARY = "CANARY_SECRET_42"


def test_an_evaluation_error_fails_the_release_scrubbed_instead_of_leaving_it_released(session, monkeypatch):
    """Hole 7: the evaluation ran after the ledger row was 'released', so its error left 'released' with no table and
    an unscrubbed message. Now it runs first: the row is 'failed' (charged), the message has no value."""
    import dbt_dpsynth.metrics

    def crash(*args, **kwargs):
        raise ValueError(f"could not convert {CANARY!r}")

    monkeypatch.setattr(dbt_dpsynth.metrics, "evaluate_release", crash)
    with pytest.raises(EngineError) as caught:
        run_model(session, make_node({**FAST, "holdout": 0.2}, caps={"patients": 5.0}))
    assert CANARY not in str(caught.value) and caught.value.step == "evaluation"
    rows = ledger_rows(session)
    assert [r[1] for r in rows] == ["failed"] and CANARY not in rows[0][5] and "evaluation" in rows[0][5]


def test_a_release_with_gates_records_that_the_gate_decision_is_not_dp(session):
    import json

    run_model(session, make_node({**FAST, "holdout": 0.2, "gates": {"options": {"n_attacks": 50}}},
                                 caps={"patients": 5.0}))
    record = json.loads(session.execute('SELECT record_json FROM "memory"."main".dpsynth_ledger').fetchall()[0][0])
    assert record["evaluation"]["differentially_private"] is False
    assert "NON-DP function of the data" in record["evaluation"]["statement"]
    assert record["evaluation"]["metrics_relation"] == '"memory"."main_dpsynth_private"."dpsynth_metrics"'
    n = session.execute('SELECT count(*) FROM "memory"."main_dpsynth_private".dpsynth_metrics').fetchall()[0][0]
    assert n >= 10
    assert not session.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main' AND "
                               "table_name = 'dpsynth_metrics'").fetchall()[0][0]     # not beside the tables


def test_epsilon_1e6_reserves_without_overflow(session):
    run_model(session, make_node({**FAST, "epsilon": 1e6}, caps={"patients": 2e6}))
    assert [r[1] for r in ledger_rows(session)] == ["released"]
