"""The bad-input matrix through dbt: one throwaway project, one `dbt run` of 18 Python models (~1-2 min).

Each model ends as `success` with a released ledger row, or `error` with a typed message naming the table and the
fix. Refused before reading: no ledger row. Failed after reading: one `failed` row that stays charged, with the
scrubbed message only. No canary value reaches the console, logs/dbt.log, run_results.json or the ledger.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import duckdb
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dbt"))

from badinput_cases import CANARIES  # noqa: E402

from it_project import DBT, make_project, run_dbt  # noqa: E402

pytestmark = pytest.mark.skipif(not DBT.exists(), reason="dbt is not installed in this environment")

SOURCES = {
    # text column `ssn` of numbers plus one private string; a quoted and a unicode column name
    # (the canaries are assembled in SQL: dbt logs the model's SQL text, which is code, not data)
    "bi_src_text": "select case when i = 150 then concat_ws('-', 'SSN', '123', '45', '6789') else "
                   "cast(10 + i % 80 as varchar) end as ssn, case when i % 2 = 0 then 'f' else 'm' end as "
                   "\"we\"\"ird\", (i % 7)::INTEGER as \"âge\" from range(300) t(i)",
    "bi_src_nested": "select [i, 1] as lst, (i % 3)::INTEGER as k from range(50) t(i)",
    "bi_src_empty": "select 1::INTEGER as a, 'x' as b where false",
    "bi_src_nan": "select case when i % 7 = 0 then 'nan'::DOUBLE when i % 11 = 0 then 'inf'::DOUBLE "
                  "else (i % 3)::DOUBLE end as score, (i % 2)::INTEGER as k from range(300) t(i)",
}
# a view that raises, quoting a private value, when its rows are read: a failure AFTER the reservation
BOOM = ("{{ config(materialized='view') }}\nselect case when i = 150 then error(concat('CANARY', '_SECRET_', '42')) "
        "else i % 5 end as v, (i % 2)::INTEGER as k from range(300) t(i)")

# model name -> (source, dpsynth settings as Python source, expected: 'released' | 'refused' | 'failed', says)
MODELS = {
    "bi_canary_continuous": ("bi_src_text", '{"epsilon": 1.0, "columns": {"ssn": {"kind": "continuous", '
                             '"lower": 0, "upper": 100}}}', "released", ()),
    "bi_empty_table": ("bi_src_empty", '{"epsilon": 1.0}', "released", ()),
    "bi_nan_categorical": ("bi_src_nan", '{"epsilon": 1.0, "columns": {"score": {"kind": "categorical"}}}',
                           "released", ()),
    "bi_epsilon_1e6": ("bi_src_text", '{"epsilon": 1e6}', "released", ()),
    "bi_string_categories_on_int": ("bi_src_text", '{"epsilon": 1.0, "columns": {"âge": {"kind": "categorical", '
                                    '"categories": ["young"]}}}', "refused", ("'young'", "column 'âge'")),
    "bi_nested_categorical": ("bi_src_nested", '{"epsilon": 1.0, "columns": {"lst": {"kind": "categorical"}}}',
                              "refused", ("column 'lst'", "cannot be read")),
    "bi_nested_no_kind": ("bi_src_nested", '{"epsilon": 1.0}', "refused", ("column 'lst'",)),
    "bi_rows_0": ("bi_src_text", '{"epsilon": 1.0, "rows": 0}', "refused", ("rows=0",)),
    # dbt.config takes literals only: NaN comes as a keyword override of synthesize()
    "bi_epsilon_nan": ("bi_src_text", '{"epsilon": 1.0}', "refused", ("epsilon=nan",)),
    "bi_delta_1": ("bi_src_text", '{"epsilon": 1.0, "delta": 1.0}', "refused", ("delta",)),
    "bi_unknown_generator": ("bi_src_text", '{"epsilon": 1.0, "generator": "gan9000"}', "refused", ("gan9000",)),
    "bi_spec_missing_column": ("bi_src_text", '{"epsilon": 1.0, "columns": {"salary": {"kind": "integer"}}}',
                               "refused", ("'salary'",)),
    "bi_bounds_inverted": ("bi_src_text", '{"epsilon": 1.0, "columns": {"âge": {"kind": "integer", "lower": 9, '
                           '"upper": 1}}}', "refused", ("lower",)),
    "bi_gates_without_holdout": ("bi_src_text", '{"epsilon": 1.0, "gates": {"thresholds": {"dcr_z": 3}}}',
                                 "refused", ("holdout",)),
    "bi_boom_after_read": ("bi_src_boom", '{"epsilon": 1.0}', "failed", ("withheld",)),
    # the DP gate alone (no raw-row evaluation): released, its decision in the private metrics table (threshold 1: a
    # mean TVD never exceeds it, so the noisy test passes unless its noise exceeds ~3 sigma)
    "bi_dp_gate": ("bi_src_text", '{"epsilon": 1.0, "holdout": 0.2, "gates": {"dp": {"threshold": 1.0, "share": 0.5}, '
                   '"evidence": False}}', "released", ()),
    "bi_gates_unknown_column": ("bi_src_text", '{"epsilon": 1.0, "holdout": 0.2, "gates": {"options": '
                                '{"sensitive": "nope"}}}', "refused", ("'nope'",)),
    "bi_target_unknown_column": ("bi_src_text", '{"epsilon": 1.0, "target": "nope"}', "refused", ("'nope'",)),
}

MODEL = '''import dbt_dpsynth


def model(dbt, session):
    dbt.config(materialized="table", tags=["badinput"], dpsynth={settings})
    return dbt_dpsynth.synthesize(dbt, session, dbt.ref("{source}"){overrides})
'''
OVERRIDES = {"bi_epsilon_nan": ', epsilon=float("nan")'}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    files = {f"models/sources/{name}.sql": sql for name, sql in SOURCES.items()}
    files["models/sources/bi_src_boom.sql"] = BOOM
    for name, (source, settings, _, _) in MODELS.items():
        files[f"models/{name}.py"] = (MODEL.replace("{settings}", settings).replace("{source}", source)
                                      .replace("{overrides}", OVERRIDES.get(name, "")))
    project = make_project(tmp_path_factory.mktemp("badinput"), "badinput", files,
                           "models:\n  badinput:\n    sources:\n      +materialized: table\n")
    proc = run_dbt(project, "run", timeout=900)
    results = {r["unique_id"].split(".")[-1]: r
               for r in json.loads((project / "target" / "run_results.json").read_text())["results"]}
    with duckdb.connect(str(project / "it.duckdb"), read_only=True) as con:
        ledger = con.execute("SELECT model, status, error, record_json FROM main.dpsynth_ledger").fetchall()
        comments = con.execute("SELECT column_name, comment FROM duckdb_columns() WHERE table_name = "
                               "'bi_canary_continuous'").fetchall()
        gate = con.execute("SELECT metric, kind, passed, rule FROM main_dpsynth_private.dpsynth_metrics WHERE model = "
                           "'bi_dp_gate'").fetchall()
    return project, proc, results, ledger, dict(comments), gate


def rows_of(ledger, model):
    return [r for r in ledger if r[0] and r[0].split(".")[-1] == model]


@pytest.mark.parametrize("model", list(MODELS))
def test_each_model_is_released_or_refused_or_failed_as_expected(built, model):
    _, proc, results, ledger, *_ = built
    _, _, expected, says = MODELS[model]
    result = results[model]
    rows = rows_of(ledger, model)
    if expected == "released":
        assert result["status"] == "success", result["message"]
        assert [r[1] for r in rows] == ["released"]
        return
    assert result["status"] == "error"
    message = result["message"]
    assert "[table '" in message and "Fix:" in message, message
    # dbt-duckdb prints a failed model's traceback: ours is one frame (the raise in synthesize), not the whole stack
    assert message.count('dbt_dpsynth/__init__.py"') <= 1 and 'dpsynth_core/' not in message, message
    for part in says:
        assert part in message, message
    if expected == "refused":
        assert rows == [], rows                       # refused before reading: nothing charged
    else:
        assert [r[1] for r in rows] == ["failed"], rows  # read, then failed: the charge stays
        assert "Fix:" in rows[0][2]


def test_no_private_value_reaches_any_output(built):
    project, proc, results, ledger, *_ = built
    texts = {"console": proc.stdout + proc.stderr, "dbt.log": (project / "logs" / "dbt.log").read_text(),
             "run_results": (project / "target" / "run_results.json").read_text(),
             "ledger": json.dumps([list(r) for r in ledger], default=str)}
    for where, text in texts.items():
        for canary in CANARIES:
            assert canary not in text, where
    boom = rows_of(ledger, "bi_boom_after_read")[0][2]
    assert "message withheld" in boom or "withheld because it can quote private values" in boom, boom


def test_a_quote_in_a_column_name_is_escaped_in_its_comment(built):
    *_, comments, _ = built
    assert set(comments) == {"ssn", 'we"ird', "âge"}
    assert all(c and c.startswith("dpsynth: synthetic") for c in comments.values()), comments


def test_the_dp_gate_alone_writes_its_decision_and_no_evidence(built):
    *_, ledger, _, gate = built
    assert gate == [("dp_marginal_tvd_2way", "utility", True, "DP noisy threshold test (charged to the release)")]
    record = json.loads(rows_of(ledger, "bi_dp_gate")[0][3])
    assert record["dp_gate"]["passed"] is True and record["evaluation"]["differentially_private"] is True
    assert any(node["label"] == "zcdp/dp_gate" for node in record["budget_tree"])
