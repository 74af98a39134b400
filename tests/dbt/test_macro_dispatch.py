"""The adapter dispatches of the package's macros, rendered for each adapter name with a small stand-in for dbt's
Jinja context (`adapter.dispatch` searches `<adapter>__`, its parent adapter's, then `default__`, as dbt does;
`return()` ends a macro with a value). Each rendering is checked for what the SQL must do on that warehouse."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import duckdb
import jinja2
import pytest

from dbt_dpsynth.engines.snowpark import SnowparkDialect
from dbt_dpsynth.engines.spark import SparkDialect

ROOT = Path(__file__).resolve().parents[2]
# the macros rendered here and what they call (plain Jinja: no `{% test %}` or `{% materialization %}` blocks)
MACRO_FILES = [*sorted((ROOT / "macros" / "ledger").glob("*.sql")),
               *(ROOT / "macros" / "metadata" / f"{name}.sql"
                 for name in ("dpsynth_string_literal", "dpsynth_release_comment", "dpsynth_column_comments"))]
MACRO_TEXT = "\n".join(p.read_text() for p in MACRO_FILES)
PARENTS = {"databricks": ["spark"]}      # dbt-databricks declares dbt-spark as its parent adapter
ADAPTERS = ["duckdb", "postgres", "snowflake", "spark", "databricks"]


class _Return(Exception):
    def __init__(self, value):
        self.value = value


def _return(value):
    raise _Return(value)


class _Package:
    """`dbt_dpsynth.<macro>`: the macro, returning what it `return()`s, else its rendered text."""

    def __init__(self):
        self.module = None

    def __getattr__(self, name):
        macro = getattr(self.module, name)

        def call(*args, **kwargs):
            try:
                return str(macro(*args, **kwargs)).strip()
            except _Return as done:
                return done.value

        return call


class _Adapter:
    def __init__(self, kind: str, package: _Package):
        self.type, self.package = kind, package

    def dispatch(self, name: str, namespace: str):
        assert namespace == "dbt_dpsynth"
        for prefix in (self.type, *PARENTS.get(self.type, []), "default"):
            if hasattr(self.package.module, f"{prefix}__{name}"):
                return getattr(self.package, f"{prefix}__{name}")
        raise AssertionError(f"no implementation of {name}")

    def quote(self, name: str) -> str:
        return f"`{name}`" if self.type in ("spark", "databricks") else f'"{name}"'


def render_context(adapter: str):
    package = _Package()
    context = {"adapter": _Adapter(adapter, package), "dbt_dpsynth": package, "return": _return,
               "fromjson": json.loads, "tojson": json.dumps, "var": lambda name, default=None: default,
               "target": {"schema": "analytics", "database": "db"}, "execute": True,
               "dbt": type("dbt", (), {"current_timestamp": staticmethod(lambda: "current_timestamp")}),
               "api": type("api", (), {"Relation": type("R", (), {"create": staticmethod(
                   lambda database=None, schema=None, identifier=None: f"{database}.{schema}.{identifier}")})}),
               "exceptions": type("e", (), {"raise_compiler_error": staticmethod(_return)})}
    env = jinja2.Environment(extensions=["jinja2.ext.do"])
    package.module = env.from_string(MACRO_TEXT).make_module(context)
    return package


def decode_literal(body: str, adapter: str) -> str:
    """The string a warehouse reads from `'body'`: standard SQL doubles quotes; Snowflake also honours backslash
    escapes; Spark honours backslash escapes only."""
    if adapter in ("spark", "databricks"):
        return re.sub(r"\\(.)", r"\1", body)
    if adapter == "snowflake":
        return re.sub(r"\\(.)|''", lambda m: m.group(1) or "'", body)
    assert "'" not in body.replace("''", ""), body   # a lone quote would end the literal
    return body.replace("''", "'")


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize("text", ["plain", "o'neil", "C:\\reports\\x.html", "a\\'b", "''", "\\"])
def test_a_string_literal_reads_back_as_the_text_on_each_warehouse(adapter, text):
    body = render_context(adapter).dpsynth_string_literal(text)
    assert decode_literal(body, adapter) == text


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_the_release_comment_keeps_a_windows_report_path_intact(adapter):
    release = {"epsilon": 1.0, "delta": 1e-6, "generator": "mst", "release_id": "r1", "accountant": "zcdp",
               "rho": 0.1, "budget_key": "o'key", "rows": 10, "cumulative_epsilon": 1.0, "cap_epsilon": None,
               "report": "C:\\reports\\r1.html"}
    body = render_context(adapter).dpsynth_release_comment(release)
    text = decode_literal(body, adapter)
    assert text.startswith("dpsynth: epsilon=1.0 delta=1e-06 generator=mst release_id=r1")
    assert "budget_key=o'key" in text and text.endswith("report=C:\\reports\\r1.html")


@pytest.mark.parametrize("adapter,expected", [
    ("duckdb", {"string": "varchar", "timestamp": "timestamp"}),
    ("postgres", {"string": "varchar", "timestamp": "timestamp"}),
    ("snowflake", {"string": "varchar", "timestamp": "timestamp_ntz"}),
    ("spark", {"string": "string", "timestamp": "timestamp"}),
    ("databricks", {"string": "string", "timestamp": "timestamp"}),
])
def test_the_ledger_column_types_per_adapter(adapter, expected):
    package = render_context(adapter)
    types = {t: package.dpsynth_sql_type(t) for t in ("string", "double", "bigint", "boolean", "timestamp")}
    assert {k: types[k] for k in expected} == expected
    assert (types["double"], types["bigint"], types["boolean"]) == ("double", "bigint", "boolean")


def test_the_hook_and_the_python_dialects_agree_on_text_and_time_types():
    snow, spark = render_context("snowflake"), render_context("spark")
    assert snow.dpsynth_sql_type("timestamp").upper() == SnowparkDialect.sql_types["timestamp"]
    assert spark.dpsynth_sql_type("string").upper() == SparkDialect.sql_types["string"]
    assert spark.dpsynth_sql_type("timestamp").upper() == SparkDialect.sql_types["timestamp"]


@pytest.mark.parametrize("adapter,expected", [("duckdb", '"release_id"'), ("snowflake", "release_id"),
                                              ("spark", "`release_id`"), ("databricks", "`release_id`")])
def test_ledger_columns_are_unquoted_only_on_snowflake(adapter, expected):
    assert render_context(adapter).dpsynth_column_name("release_id") == expected


def test_the_duckdb_utc_now_is_utc_wall_clock():
    expression = render_context("duckdb").dpsynth_utc_now_sql()
    now = duckdb.connect().execute(f"select {expression}").fetchall()[0][0]
    utc = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    assert now.tzinfo is None and abs((now - utc).total_seconds()) < 60


@pytest.mark.parametrize("adapter,expected", [
    ("snowflake", "convert_timezone('UTC', current_timestamp())::timestamp_ntz"),
    ("spark", "to_utc_timestamp(current_timestamp(), current_timezone())"),
    ("databricks", "to_utc_timestamp(current_timestamp(), current_timezone())"),
    ("postgres", "cast(current_timestamp as timestamp)"),
])
def test_utc_now_converts_explicitly_where_current_timestamp_is_session_local(adapter, expected):
    assert render_context(adapter).dpsynth_utc_now_sql() == expected


@pytest.mark.parametrize("adapter,name,statement", [
    ("snowflake", 'a"b', 'comment on column t."a""b" is '),
    ("duckdb", 'a"b', 'comment on column t."a""b" is '),
    ("spark", "a`b", "alter table t alter column `a``b` comment "),
    ("databricks", "a`b", "alter table t alter column `a``b` comment "),
])
def test_column_comments_use_each_warehouse_syntax(adapter, name, statement):
    record = {"columns": {name: {"kind": "categorical", "domain": "public"}}}
    release = {"record_json": json.dumps(record), "generator": "mst", "epsilon": 1.0}
    sql = render_context(adapter).dpsynth_column_comments("t", release)
    assert sql.startswith(statement) and "kind=categorical domain=public" in sql


def test_postgres_gets_no_column_comments():
    release = {"record_json": json.dumps({"columns": {"a": {"kind": "categorical"}}}), "generator": "mst",
               "epsilon": 1.0}
    assert render_context("postgres").dpsynth_column_comments("t", release) == ""
